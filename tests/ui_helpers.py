"""Helpers for the browser test: a throw-away JupyterLab and a chromium page driving it.

JupyterLab runs on 127.0.0.1 with a free port, no token, from a temporary copy of the
notebooks (so nothing the browser does reaches the committed files), with its own
settings, workspace, config and runtime folders (so no state leaks in or out), news,
update checks and autosave off, and every cell of a notebook kept in the page
(``windowingMode: none``) so the test can see them all.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts" / "ui"

# Debian's chromium, with what keeps it off the (closed) network and quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--metrics-recording-only",
]

# User settings for the throw-away lab: plugin id -> settings.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/themes": {"adaptive-theme": False, "theme": "JupyterLab Light"},
}


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server on a temporary copy of notebooks/ and exercises/; a context manager.

    ``notebooks`` names extra notebook files to copy into the served notebooks/ folder.
    """

    def __init__(self, workdir: Path, notebooks: list[str | Path] | None = None, timeout: float = 120.0):
        self.workdir = Path(workdir)
        self.root = self.workdir / "root"
        self.notebooks = notebooks
        self.timeout = timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    def _prepare(self) -> dict:
        self.root.mkdir(parents=True)
        # the course layout, so a notebook's relative paths (../exercises) still resolve
        shutil.copytree(REPO / "notebooks", self.root / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        if (REPO / "exercises").is_dir():
            shutil.copytree(REPO / "exercises", self.root / "exercises",
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for name in self.notebooks or []:  # extra notebooks from elsewhere (development)
            shutil.copy2(name, self.root / "notebooks" / Path(name).name)
        settings = self.workdir / "settings"
        for plugin, values in LAB_SETTINGS.items():
            package, _, name = plugin.rpartition("/")
            folder = settings / package
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
        env = dict(os.environ)
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.workdir / "workspaces"),
            JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
            JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
            PYTHONHASHSEED="0",
            MPLBACKEND="module://matplotlib_inline.backend_inline",
        )
        return env

    def __enter__(self) -> "Lab":
        env = self._prepare()
        command = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={self.port}", "--port-retries=0",
            "--IdentityProvider.token=", "--ServerApp.password=",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early; log:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"jupyter lab did not answer within {self.timeout:.0f} s; log:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            # shut the kernels down with the server
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "_log", None) is not None:
            self._log.close()


# ------------------------------------------------------------------ page actions
def open_notebook(page, lab: Lab, name: str) -> None:
    """Open ``name`` in a fresh page and wait for its kernel to be idle."""
    if not (lab.root / "notebooks" / name).exists():
        raise FileNotFoundError(f"notebooks/{name} does not exist (the lab serves a copy of notebooks/)")
    page.goto(f"{lab.url}/lab/tree/notebooks/{name}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    wait_for_kernel_idle(page)


def wait_for_kernel_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the notebook is rendered and its kernel is connected and idle."""
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            if (!panel || !panel.querySelector('.jp-Notebook .jp-Cell')) return false;
            if (panel.querySelector('.jp-Spinner')) return false;
            const bar = document.querySelector('#jp-main-statusbar');
            return !!bar && /\\|\\s*Idle/.test(bar.textContent);
        }""",
        timeout=timeout_ms,
    )


def run_menu_command(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def run_all_cells(page, timeout_ms: int = 240_000) -> None:
    """Run > Run All Cells, then wait until every code cell shows an execution count."""
    run_menu_command(page, "Run", "Run All Cells")
    page.wait_for_function(
        """() => {
            const cells = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell');
            if (!cells.length) return false;
            for (const cell of cells) {
                const prompt = cell.querySelector('.jp-InputArea-prompt');
                const text = prompt ? prompt.textContent : '';
                if (!/\\[\\d+\\]/.test(text)) return false;
            }
            return true;
        }""",
        timeout=timeout_ms,
    )
    wait_for_kernel_idle(page, timeout_ms)


def error_outputs(page, lab: Lab, name: str) -> list[str]:
    """Tracebacks and stderr shown in the open notebook, except in cells tagged ``raises-exception``.

    The tags come from the notebook file (JupyterLab does not put them in the page).
    """
    cells = json.loads((lab.root / "notebooks" / name).read_text())["cells"]
    allowed = {i for i, cell in enumerate(cells) if "raises-exception" in cell.get("metadata", {}).get("tags", [])}
    shown = page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell",
        """cells => cells.map((cell, i) => [i, Array.from(cell.querySelectorAll(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"))
            .map(n => n.textContent.slice(0, 2000))])""",
    )
    if len(shown) != len(cells):
        return [f"the page shows {len(shown)} cells but {name} has {len(cells)}"]
    return [f"cell {i}: {text}" for i, texts in shown if i not in allowed for text in texts]


def image_sources(locator) -> list[str]:
    return locator.locator("img").evaluate_all("nodes => nodes.map(n => n.getAttribute('src') || '')")


# ------------------------------------------------------------------ README course map
#: notebook -> (text that identifies the key figure's cell, run the notebook first?, output file)
COURSE_MAP = {
    "01_explicit_vs_implicit.ipynb": ("plots.zero_reasons_bar", False, "01_missing_data.png"),
    "02_preference_and_confidence.ipynb": ("widgets.alpha_explorer(", True, "02_alpha_explorer.png"),
    "03_implicit_als_with_numba.ipynb": ("plots.weighting_comparison", False, "03_confidence_weighting.png"),
    "04_bpr_and_negative_sampling.ipynb": ("comparison_bars(comparison, metric=metric", False, "04_als_vs_bpr.png"),
    "05_choosing_and_blending.ipynb": ("plots.metric_panels(results", False, "05_explicit_vs_implicit_blends.png"),
    "06_quiz.ipynb": ("quiz.show()", True, "06_quiz.png"),
    "07_scaling_out_with_spark.ipynb": ("plots.metric_panels(table", False, "07_numba_vs_spark.png"),
    "08_reproducing_published_results.ipynb": ("sampled_vs_full(comparison", False, "08_sampled_vs_full.png"),
}


def output_of_cell(page, source_text: str):
    """The output area of the first code cell whose source contains ``source_text``."""
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell",
                        has=page.locator(".jp-InputArea-editor", has_text=source_text)).first
    return cell.locator(".jp-OutputArea").first


def shrink_png(path: Path, max_width: int = 1100, max_height: int | None = None, colours: int = 128) -> None:
    """Crop to ``max_height``, downscale to ``max_width``, quantise to a palette (images stay < 200 KB)."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    if max_height is not None and image.height > max_height:
        image = image.crop((0, 0, image.width, max_height))
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)), Image.LANCZOS)
    image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def capture_course_map(out_dir: Path, max_height: int = 640) -> list[Path]:
    """Screenshot each notebook's key figure as JupyterLab shows it (widgets live) into ``out_dir``."""
    from playwright.sync_api import sync_playwright

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, Lab(Path(tmp)) as lab, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        for name, (source_text, run_first, filename) in COURSE_MAP.items():
            page = browser.new_page(viewport={"width": 1280, "height": 1600}, device_scale_factor=2)
            open_notebook(page, lab, name)
            if run_first:
                run_all_cells(page)
            output = output_of_cell(page, source_text)
            shown = output.locator(".jupyter-widgets" if run_first else "img").first
            shown.wait_for(state="attached", timeout=60_000)
            shown.scroll_into_view_if_needed()
            page.wait_for_timeout(1000)
            if not run_first:  # just the figure, not the printed lines around it
                output = output.locator(".jp-OutputArea-child", has=page.locator("img")).first
            # top of the output at the top of the notebook's scroll area, then clip what is visible
            output.evaluate("node => node.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(300)
            box = output.bounding_box()
            height = min(box["height"], max_height, 1600 - box["y"])
            path = out_dir / filename
            page.screenshot(path=str(path), clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": height})
            shrink_png(path)
            written.append(path)
            page.close()
        browser.close()
    return written


if __name__ == "__main__":  # python tests/ui_helpers.py docs/img
    for written_path in capture_course_map(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs" / "img")):
        print(written_path, f"{written_path.stat().st_size / 1024:.0f} KB")
