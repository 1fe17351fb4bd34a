"""The course website (``make book``) in a real browser, with the network closed.

Builds the site once (the same ``sphinx-build`` command as ``make book``, into a temporary
folder), serves it from 127.0.0.1 with a threaded ``http.server``, and walks it in Debian's
headless chromium with every request to another host aborted and recorded. Checks:

* the build prints no warning (a broken cross-reference, a missing image, a bad marker);
* every page reached from the landing page loads with no console error, every internal link,
  anchor and image resolves, and every image has alt text;
* math is typeset by the bundled MathJax on notebook 02's page (no raw TeX left);
* no page shows a widget's text repr (``VBox(children=...``) instead of its picture;
* the static quiz shows the "streamed a song 12 times" question with its answer collapsed;
* the Performance page shows every row of ``benchmarks/results/summary.json`` (``make bench``'s
  table) as a table row, and a missing or malformed file stops the build;
* the built-in search answers offline;
* no request tried to leave the machine.

Screenshots go to ``artifacts/book/`` (git-ignored). Without chromium the browser tests skip
on a developer machine and fail under CI (env ``CI`` set), like the JupyterLab browser test.
"""

from __future__ import annotations

import functools
import os
import re
import runpy
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ui_helpers import REPO

pytestmark = pytest.mark.book

ARTIFACTS = REPO / "artifacts" / "book"
NOTEBOOK_02 = "notebooks/02_preference_and_confidence.html"
QUIZ = "docs/quiz.html"
PERFORMANCE = "docs/performance.html"
SUMMARY = REPO / "benchmarks" / "results" / "summary.json"
# The text a widget shows where no widget manager runs: what a static page must never show.
WIDGET_REPR = re.compile(
    r"\b(?:VBox|HBox|Box|GridBox|Tab|Accordion|interactive)\(children=|"
    r"\b(?:FloatSlider|IntSlider|FloatLogSlider|Dropdown|RadioButtons|Checkbox|Button|Output|Image|HTML)\((?:value|layout|description|outputs)="
)
# Raw TeX left in a page after MathJax ran: \( \) \[ \] delimiters, or $...$ holding a TeX command.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$[^$\n]{0,200}\\[A-Za-z]+[^$\n]{0,200}\$")


def build_command(out: Path, doctrees: Path) -> list[str]:
    """The command ``make book`` runs (kept in step with the Makefile's ``book`` target)."""
    return [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-c", "docs", "-d", str(doctrees), "-q",
            ".", str(out)]


def test_make_book_runs_the_same_command():
    makefile = (REPO / "Makefile").read_text()
    assert "-m sphinx -b html -E -c docs -d $(BOOK_DIR)/doctrees -q . $(BOOK_DIR)/html" in makefile


def _need_book_extra() -> None:
    try:
        import myst_nb  # noqa: F401
    except ImportError:
        reason = "myst-nb is not installed: the book extra installs it (make book / make test)"
        if os.environ.get("CI"):
            pytest.fail(reason + " -- and CI is set, so the website test must run", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    _need_book_extra()
    root = tmp_path_factory.mktemp("book")
    out = root / "html"
    env = dict(os.environ, PYTHONHASHSEED="0", COURSE_REPOSITORY_URL="")
    result = subprocess.run(build_command(out, root / "doctrees"), cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    out.joinpath(".build-log").write_text(result.stderr)
    return out


def test_build_prints_no_warning(site):
    log = (site / ".build-log").read_text().strip()
    if log:
        pytest.fail(f"sphinx-build warned:\n{log[-5000:]}", pytrace=False)


def test_site_has_every_page(site):
    """A page per notebook (NN_ names kept), the landing page at the root, quiz, exercises,
    references, search; the exercise notebooks downloadable."""
    notebooks = sorted(p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 7
    for stem in notebooks:
        assert (site / "notebooks" / f"{stem}.html").is_file(), f"no page for notebooks/{stem}.ipynb"
    for page in ("index.html", "docs/index.html", QUIZ, "docs/exercises.html", "docs/references.html",
                 PERFORMANCE, "search.html", "searchindex.js", "_static/mathjax/tex-chtml-full.js"):
        assert (site / page).is_file(), f"the site has no {page}"
    downloads = {p.name for p in site.glob("_downloads/*/*.ipynb")}
    exercises = {p.name for p in (REPO / "exercises").glob("ex*.ipynb")}
    assert exercises and exercises <= downloads, f"exercise notebooks not downloadable: {exercises - downloads}"
    # no repository address set: no launch button anywhere (a button that leads to a 404 helps nobody)
    launch = [p.relative_to(site).as_posix() for p in site.rglob("*.html")
              if re.search(r"mybinder\.org|colab\.research\.google\.com", p.read_text(encoding="utf-8"))]
    assert not launch, f"launch buttons without COURSE_REPOSITORY_URL on {launch}"


def _table_rows(page: str) -> list[list[str]]:
    """The cells of every table row of an HTML page, as text with whitespace collapsed."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(" ".join("".join(self.cell).split()))
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    parser = Rows()
    parser.feed(page)
    return parser.rows


def test_performance_page_shows_the_benchmark_summary(site):
    """The Performance page holds every row of benchmarks/results/summary.json (what ``make bench``
    wrote) as a table row: its measure, our figure to 3 significant figures, and met / NOT met /
    report as the file says; and when the file was written and how many targets were met."""
    import json

    summary = json.loads(SUMMARY.read_text(encoding="utf-8"))
    page = (site / PERFORMANCE).read_text(encoding="utf-8")
    assert page.count("<table") >= len({row["targets"] for row in summary["rows"]}), "one table per target group"
    straight = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})  # Sphinx's smart quotes undone
    by_measure = {row[0].translate(straight): row for row in _table_rows(page) if row}
    checked_numbers = 0
    for row in summary["rows"]:
        measure = " ".join(row["measure"].split())
        assert measure in by_measure, f"the Performance page has no row for {measure!r}"
        cells = by_measure[measure]
        assert len(cells) == 6, cells
        if row["status"] == "missing":
            assert cells[-1].startswith("missing"), cells
            continue
        assert cells[-1] == row["status"], f"{measure}: shows {cells[-1]!r}, the file says {row['status']!r}"
        value, unit = row["ours"], row.get("unit") or ""
        if 1e-3 <= abs(value) < 1e3 and not unit.startswith("fraction"):
            expected = f"{value:#.3g}".rstrip(".")
            assert cells[1].split()[0] == expected, f"{measure}: ours shows {cells[1]!r}, expected {expected}"
            if unit and "@" not in unit:
                assert cells[1] == f"{expected} {unit}", cells[1]
            checked_numbers += 1
    assert checked_numbers >= 5
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert summary["written"] in text, "the page should say when the figures were written"
    counted = [r for r in summary["rows"] if r["status"] != "report"]
    met = sum(r["status"] == "met" for r in counted)
    assert f"{met} of {len(counted)} targets met" in text
    assert "not a promise" in text and "make bench" in text


def test_bench_summary_refuses_a_missing_or_malformed_file(course_book, tmp_path):
    """A missing or malformed summary.json stops the build with a message naming the file and the
    fault; nothing of the table is returned."""
    import json

    class App:
        srcdir = str(tmp_path)

    marker = "<!-- course: bench-summary results/summary.json -->"
    with pytest.raises(ValueError, match=r"docs/performance: .*summary\.json is missing: run `make bench`"):
        course_book.fill_markers(App(), "docs/performance", [marker])
    path = tmp_path / "results" / "summary.json"
    path.parent.mkdir()
    path.write_text('{"rows": [', encoding="utf-8")
    with pytest.raises(ValueError, match=r"summary\.json is not readable JSON"):
        course_book.fill_markers(App(), "docs/performance", [marker])

    good = json.loads(SUMMARY.read_text(encoding="utf-8"))
    cases = [
        (lambda d: d.pop("written"), r"has no 'written' field"),
        (lambda d: d.update(rows=[]), r"'rows' is \[\], not a non-empty list"),
        (lambda d: d.update(load_average="high"), r"'load_average' is 'high'"),
        (lambda d: d["rows"][-1].update(ours="fast"), rf"row {len(good['rows'])} .*'ours' is 'fast', not a finite number"),
        (lambda d: d["rows"][0].update(ours=float("nan")), r"row 1 .*'ours' is nan"),
        (lambda d: d["rows"][0].update(status="nearly"), r"row 1: status 'nearly' is none of met, NOT met, report, missing"),
        (lambda d: d["rows"][0].pop("measure"), r"row 1: 'measure' is None"),
    ]
    for spoil, message in cases:
        data = json.loads(json.dumps(good))
        spoil(data)
        path.write_text(json.dumps(data), encoding="utf-8")
        source = [f"before\n{marker}\nafter"]
        with pytest.raises(ValueError, match=message):
            course_book.fill_markers(App(), "docs/performance", source)
        assert source == [f"before\n{marker}\nafter"], "a refused file must leave the page untouched"
    path.write_text(json.dumps(good), encoding="utf-8")
    source = [marker]
    course_book.fill_markers(App(), "docs/performance", source)
    assert source[0].count(":::{container} bench-summary") == len({row["targets"] for row in good["rows"]})
    with pytest.raises(ValueError, match="needs FILE"):
        course_book.fill_markers(App(), "docs/performance", ["<!-- course: bench-summary -->"])


def test_benchmark_figures_have_three_significant_figures(course_book):
    cases = {0.051457: "0.0515", 1.0000217: "1.00", 0.4: "0.400", 177.43: "177", 1234.5: "1,230",
             999.7: "1,000", 3440656.9: "3.44M", 13234292.4: "13.2M", 2.5e9: "2.50G", 0: "0", -2.345: "-2.35"}
    assert {value: course_book.format_number(value) for value in cases} == cases
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number"):
            course_book.format_number(bad)
    with pytest.raises(TypeError, match="needs a number, got True"):
        course_book.format_number(True)


def test_widget_output_shows_its_picture(tmp_path):
    """With the site's configuration, an output of ``widgets.with_picture`` becomes its PNG with
    the description as alt text; neither the widget view nor ``VBox(children=...`` reaches the page.
    (A two-page site of its own, so this holds whatever the course notebooks hold today.)"""
    _need_book_extra()
    import base64
    import io

    import ipywidgets
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    from recsys_course.widgets import with_picture

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    png = buffer.getvalue()
    box = ipywidgets.VBox([ipywidgets.FloatSlider(value=3.0), ipywidgets.Image(value=png, format="png")])
    bundle = with_picture(box, alt="A slider over a line drawn from top left to bottom right")._repr_mimebundle_()
    assert {"application/vnd.jupyter.widget-view+json", "image/png", "text/plain"} <= set(bundle)

    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}})
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# 01 · Widget page"),
        nbformat.v4.new_code_cell("explorer", execution_count=1, outputs=[
            nbformat.v4.new_output("display_data", data=bundle)]),
        nbformat.v4.new_code_cell("print(repr(box))", execution_count=2, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="plain output\n")]),
    ]
    (tmp_path / "src" / "notebooks").mkdir(parents=True)
    (tmp_path / "src" / "docs").mkdir()
    nbformat.write(notebook, tmp_path / "src" / "notebooks" / "01_widget.ipynb")
    (tmp_path / "src" / "docs" / "index.md").write_text("# Index\n\n```{toctree}\n/notebooks/01_widget\n```\n")
    command = build_command(tmp_path / "html", tmp_path / "doctrees")
    command[command.index("docs")] = str(REPO / "docs")
    command[-2] = str(tmp_path / "src")
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, COURSE_REPOSITORY_URL=""))
    assert result.returncode == 0, result.stderr[-3000:]
    page = (tmp_path / "html" / "notebooks" / "01_widget.html").read_text()
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 1, images
    assert 'alt="Figure from notebook 01, section “01 · Widget page”, cell 2: A slider over a line drawn from top left to bottom right"' in images[0]
    source = re.search(r'src="([^"]+)"', images[0]).group(1)
    assert (tmp_path / "html" / "notebooks" / source).read_bytes() == png
    assert "VBox(children=" not in page and "widget-view+json" not in page.replace("widget-state+json", "")
    assert "cdn.jsdelivr" not in page and "cdnjs" not in page and "unpkg" not in page


def test_launch_buttons_only_with_a_repository(monkeypatch):
    monkeypatch.setenv("COURSE_REPOSITORY_URL", "")
    assert "launch_buttons" not in runpy.run_path(str(REPO / "docs" / "conf.py"))["html_theme_options"]
    monkeypatch.setenv("COURSE_REPOSITORY_URL", "https://github.com/someone/recsys-course/")
    options = runpy.run_path(str(REPO / "docs" / "conf.py"))["html_theme_options"]
    assert options["repository_url"] == "https://github.com/someone/recsys-course"
    assert options["launch_buttons"]["binderhub_url"] and options["launch_buttons"]["colab_url"]


# ------------------------------------------------------------------------------ browser fixtures
class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files only, as a static host does: a folder without index.html is a 404."""

    def log_message(self, *args) -> None:  # no request log on stderr
        pass

    def list_directory(self, path):
        self.send_error(404, "no folder listings on a static host")
        return None


@pytest.fixture(scope="session")
def server(site):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# chromium_path and browser: one session-wide browser, in tests/conftest.py


class OfflineContext:
    """A browser context in which every request not to the local server is aborted and noted,
    and console errors of every page are collected."""

    def __init__(self, browser, origin: str):
        self.origin = origin
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def new_page(self, label: str):
        page = self.context.new_page()
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"{label}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"{label}: uncaught {e}"))
        page.on("requestfailed", lambda r: r.url.startswith(self.origin) and self.failed.append(f"{label}: {r.url}"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{label}: {r.status} {r.url}"))
        return page

    def close(self) -> None:
        self.context.close()


def wait_for_mathjax(page) -> None:
    """Wait until MathJax (if the page loads it) has typeset the page."""
    page.wait_for_function("() => document.readyState === 'complete'")
    if page.evaluate("() => !!document.querySelector('script[src*=\"mathjax/\"]')"):
        page.wait_for_function("() => !!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)",
                               timeout=30_000)
        page.evaluate("() => MathJax.startup.promise.then(() => true)")


def _local_path(url: str, origin: str) -> str | None:
    """The path of a same-site URL (no query, no fragment), else None."""
    if not url.startswith(origin + "/"):
        return None
    return urllib.parse.urlsplit(url).path


def _resolves(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.fixture(scope="session")
def crawl(browser, server):
    """Every page reached from the landing page, visited once: what each showed and linked."""
    offline = OfflineContext(browser, server)
    pages: dict[str, dict] = {}
    queue = ["/"]
    other_files: set[str] = set()
    while queue:
        path = queue.pop(0)
        if path in pages:
            continue
        page = offline.new_page(path)
        page.goto(server + path, wait_until="load")
        if path == "/":  # the site's root forwards to the landing page
            page.wait_for_url(re.compile(r".*/docs/index\.html$"), timeout=15_000)
            page.wait_for_load_state("load")
        wait_for_mathjax(page)
        info = page.evaluate(
            """() => ({
                final: location.pathname,
                // what the page says outside code listings: prose and cell outputs
                shown: (() => {
                    const main = (document.querySelector('main') || document.body).cloneNode(true);
                    main.querySelectorAll('.cell_input, script, style, mjx-container, mjx-assistive-mml')
                        .forEach(n => n.remove());
                    return main.textContent;
                })(),
                prose: (() => {
                    const main = (document.querySelector('main') || document.body).cloneNode(true);
                    main.querySelectorAll('pre, code, .highlight, .cell_input, .cell_output, script, style, mjx-container')
                        .forEach(n => n.remove());
                    return main.textContent;
                })(),
                ids: Array.from(document.querySelectorAll('[id]')).map(n => n.id)
                      .concat(Array.from(document.querySelectorAll('a[name]')).map(n => n.name)),
                links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
                images: Array.from(document.querySelectorAll('img')).map(img => ({
                    src: img.currentSrc || img.src, alt: (img.getAttribute('alt') || '').trim(),
                    ok: img.complete && img.naturalWidth > 0})),
                mathjax: document.querySelectorAll('mjx-container').length,
                mathErrors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
            })"""
        )
        pages[path] = info
        if info["final"] != path:
            pages.setdefault(info["final"], info)
        for link in info["links"]:
            target = _local_path(link, server)
            if target is None:
                continue
            if target.endswith(".html") or target.endswith("/"):
                if target not in pages and target not in queue:
                    queue.append(target)
            else:
                other_files.add(target)
        page.close()
    yield {"pages": pages, "files": other_files, "offline": offline, "origin": server}
    offline.close()


# ---------------------------------------------------------------------------------- browser tests
def test_every_page_loads_cleanly_offline(crawl):
    pages, offline = crawl["pages"], crawl["offline"]
    notebook_pages = [p for p in pages if p.startswith("/notebooks/")]
    assert len(notebook_pages) >= 7, f"the landing page leads to only {sorted(notebook_pages)}"
    for needed in ("/docs/index.html", "/" + QUIZ, "/docs/exercises.html", "/docs/references.html", "/" + PERFORMANCE):
        assert needed in pages, f"{needed} is not reached from the landing page"
    assert not offline.failed, "requests that failed on the local server:\n" + "\n".join(offline.failed)
    assert not offline.errors, "console errors:\n" + "\n".join(offline.errors)
    assert not offline.outside, "requests to other hosts (the site must work offline):\n" + "\n".join(
        sorted(set(offline.outside)))


def test_links_anchors_and_images_resolve(crawl):
    pages, origin = crawl["pages"], crawl["origin"]
    problems = []
    for path, info in pages.items():
        for link in info["links"]:
            target = _local_path(link, origin)
            if target is None:
                continue
            fragment = urllib.parse.urlsplit(link).fragment
            if target in pages:
                if fragment and urllib.parse.unquote(fragment) not in pages[target]["ids"]:
                    problems.append(f"{path}: link to {target}#{fragment}: no such anchor")
            elif _resolves(origin + target) != 200:
                problems.append(f"{path}: link to {target} does not resolve")
        for image in info["images"]:
            if not image["ok"]:
                problems.append(f"{path}: image {image['src'][:120]} did not load")
            if not image["alt"]:
                problems.append(f"{path}: image {image['src'][:120]} has no alt text")
    assert not problems, "\n".join(problems)


def test_no_page_shows_a_widget_repr(crawl):
    shown = {path: WIDGET_REPR.search(info["shown"]).group(0)
             for path, info in crawl["pages"].items() if WIDGET_REPR.search(info["shown"])}
    assert not shown, f"pages show a widget's text instead of its picture: {shown}"


def test_math_is_typeset_on_notebook_02(crawl):
    info = crawl["pages"].get("/" + NOTEBOOK_02)
    assert info is not None, f"{NOTEBOOK_02} is not reached from the landing page"
    assert info["mathjax"] > 0, "no MathJax output on notebook 02's page (no math, or MathJax did not run)"
    assert info["mathErrors"] == 0, "MathJax reported TeX errors on notebook 02's page"
    for path, page in crawl["pages"].items():
        raw = RAW_TEX.search(page["prose"])
        assert raw is None, f"{path} shows raw TeX: {raw.group(0)!r}"


def test_screenshots_and_quiz_answer_collapsed(crawl, browser):
    """Landing page, notebook 02 and the quiz as a learner sees them; quiz question 1 readable,
    its answer hidden until opened."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    offline = OfflineContext(browser, crawl["origin"])
    try:
        page = offline.new_page("screenshots")
        for path, name in (("/docs/index.html", "landing.png"), ("/" + NOTEBOOK_02, "notebook_02.png"), ("/" + QUIZ, "quiz.png"),
                           ("/" + PERFORMANCE, "performance.png")):
            page.goto(crawl["origin"] + path, wait_until="load")
            wait_for_mathjax(page)
            page.screenshot(path=str(ARTIFACTS / name))
        page.goto(crawl["origin"] + "/" + QUIZ, wait_until="load")
        from recsys_course.quiz.bank import load_bank

        _title, bank = load_bank()
        assert page.locator("details.quiz-answer").count() == len(bank), "the quiz page should hold every question"
        question = page.locator("section", has=page.get_by_text("streamed a song 12 times")).last
        question.get_by_text("streamed a song 12 times").wait_for(state="visible")
        answer = question.locator("details.quiz-answer")
        assert answer.count() == 1
        assert answer.evaluate("node => !node.open"), "the answer should start collapsed"
        assert not answer.get_by_text("481").first.is_visible()
        answer.locator("summary").click()
        answer.get_by_text("481").first.wait_for(state="visible")
        question.screenshot(path=str(ARTIFACTS / "quiz_question_open.png"))
        # the built-in search works offline
        page.goto(crawl["origin"] + "/search.html?q=confidence", wait_until="load")
        page.locator("#search-results li").first.wait_for(state="attached", timeout=30_000)
        assert page.locator("#search-results li").count() >= 3
    finally:
        offline.close()
    assert not offline.errors, "console errors:\n" + "\n".join(offline.errors)
    assert not offline.outside, "requests to other hosts:\n" + "\n".join(sorted(set(offline.outside)))


# ------------------------------------------------------------------ the site's extension, unit by unit
@pytest.fixture(scope="module")
def course_book():
    _need_book_extra()
    sys.path.insert(0, str(REPO / "docs" / "_ext"))
    try:
        import course_book as module
    finally:
        sys.path.remove(str(REPO / "docs" / "_ext"))
    return module


def test_markdown_section_stops_at_the_next_section_outside_code(course_book, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\n## Course map: the path\n\nrow\n\n```bash\n## not a heading\n```\n\n"
                      "### Sub\n\nkept\n\n## Next\n\ngone\n")
    section = course_book.markdown_section(readme, "course map")
    assert section.startswith("## Course map: the path")
    assert "## not a heading" in section and "### Sub" in section and "kept" in section
    assert "Next" not in section and "gone" not in section
    assert course_book.markdown_section(readme, "Prerequisites") is None
    readme.write_text("# Title\n\nFirst paragraph.\n\nSecond.\n\n## Two commands\n\nmake lab\n")
    assert course_book.markdown_intro(readme) == "First paragraph.\n\nSecond."


def test_rewrite_links_for_a_page_in_docs(course_book):
    text = ("[01](notebooks/01_x.ipynb#4.-How) ![fig](docs/img/a.png) [ex](exercises/) [bench](benchmarks/) "
            "[web](https://example.org/a) [here](#top)")
    out = course_book.rewrite_links(text, REPO / "README.md", REPO, REPO / "docs")
    assert "[01](../notebooks/01_x.ipynb#4.-How)" in out
    assert "![fig](img/a.png)" in out
    assert "[ex](exercises.md)" in out
    assert "[bench]" not in out and "bench" in out  # a folder is not a page: its text stays, unlinked
    assert "[web](https://example.org/a)" in out and "[here](#top)" in out


def test_escaped_text_reads_back_verbatim(course_book):
    from markdown_it import MarkdownIt

    text = "c_ui = 1 + alpha * r_ui; costs $5 or $10; <b>not bold</b> [not a link](x) # no heading"
    rendered = MarkdownIt("commonmark").render(course_book.escape_markdown(text))
    import html as html_module

    assert html_module.unescape(re.sub(r"</?p>", "", rendered)).strip() == text


def test_alt_text_from_the_code_that_drew_the_figure(course_book):
    assert course_book._cell_alt('fig, ax = plt.subplots()\nax.set_title(f"NDCG at k={k}")\n') == "NDCG at k=…"
    assert course_book._cell_alt("ax = plots.zero_reasons_bar(reasons)\nfig.tight_layout()") == \
        "drawn by ax = plots.zero_reasons_bar(reasons)"
    assert course_book._cell_alt("# NBVAL_IGNORE_OUTPUT\nexplorer") == "the output of explorer"
    cells = [{"cell_type": "markdown", "source": "## 2. Linear or *log*?\n\ntext"},
             {"cell_type": "code", "source": "plot()"}]
    assert course_book._section_of(cells, 1) == "2. Linear or log?"


def test_a_bad_marker_stops_the_build(course_book, tmp_path):
    class App:
        srcdir = str(REPO)

    with pytest.raises(ValueError, match="unknown course marker 'quizz'"):
        course_book.fill_markers(App(), "docs/x", ["<!-- course: quizz -->"])
    with pytest.raises(ValueError, match="has no section 'No such heading'"):
        course_book.fill_markers(App(), "docs/x", ['<!-- course: section README.md "No such heading" -->'])
    source = ['<!-- course: section? README.md "No such heading" -->']
    course_book.fill_markers(App(), "docs/x", source)
    assert source == [""]
