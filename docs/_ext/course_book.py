"""The course website's own Sphinx extension.

* **Generated content.** A source file may hold marker comments that are replaced, when the page is
  read, by text generated from the repository, so the site never holds a copy that can drift:

  - ``<!-- course: section FILE "Heading" -->`` -- the ``## Heading`` section of ``FILE`` (a
    Markdown file, path from the repository root), its relative links rewritten for ``docs/``;
  - ``<!-- course: section? FILE "Heading" -->`` -- the same, but nothing when the section is absent;
  - either may end with ``"drop:TEXT"`` arguments: paragraphs holding TEXT are left out (notes
    for maintainers that a reader of the site does not need);
  - ``<!-- course: intro FILE -->`` -- the paragraphs between ``FILE``'s title and its first section;
  - ``<!-- course: ifexists FILE "text" -->`` -- ``text`` when ``FILE`` exists (a toctree entry for
    a page another change adds), else nothing;
  - ``<!-- course: quiz -->`` -- every question of the quiz bank (``recsys_course.quiz.bank``), its
    choices, and the answer with its explanation in a collapsed ``<details>`` block;
  - ``<!-- course: exercises -->`` -- one entry per ``exercises/ex*.ipynb`` with a download link;
  - ``<!-- course: bench-summary FILE -->`` -- the table ``make bench`` wrote (``FILE`` is
    ``benchmarks/results/summary.json``): when it was written and under what load, how many targets
    were met, then one table per group of issue 11's targets. A missing or malformed file stops the
    build; no half table is ever shown.

* **Alt text.** An image a notebook output holds gets an ``alt``: the text description that
  ``recsys_course.widgets.with_picture`` stores next to the picture, else the figure's title from
  the cell's code, else the cell's first comment or last line, with the notebook and cell named.

* **Offline.** MathJax 3, from the PyPI package ``django-static-mathjax`` (a plain copy of
  MathJax's browser build), is copied into ``_static/mathjax`` (``conf.py`` points ``mathjax_path``
  at it), so no page loads anything from another host. The site's root ``index.html`` forwards to the landing page.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

MARKER = re.compile(r"<!--\s*course:\s*(?P<kind>[a-z][a-z-]*\??)\s*(?P<args>.*?)\s*-->")
_LINK = re.compile(r"(?P<open>!?\[[^\]]*\]\()(?P<target>[^)\s]+)(?P<close>[^)]*\))")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|$~^&\"'])")


# ------------------------------------------------------------------------------ generated content
def markdown_section(path: Path, heading: str) -> str | None:
    """The ``## heading`` section of a Markdown file (heading line included), or None.

    A section runs to the next heading of level 1 or 2 outside a code fence. ``heading`` matches
    a heading's text case-insensitively at its start ("Course map" matches "## Course map: ...").
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    start = None
    fence = None
    out: list[str] = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            mark = stripped[:3]
            fence = None if fence == mark else (fence or mark)
        level2 = fence is None and re.match(r"^#{1,2}\s+(.*)$", line)
        if start is None:
            if level2 and level2.group(1).strip().lower().startswith(heading.lower()):
                start = True
                out.append(line)
            continue
        if level2 and not line.startswith("###"):
            break
        out.append(line)
    if start is None:
        return None
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def markdown_intro(path: Path) -> str:
    """The text of a Markdown file between its title (``# ...``) and its first ``## `` section."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    out = []
    for line in lines:
        if re.match(r"^#{1,2}\s", line):
            break
        out.append(line)
    return "\n".join(out).strip()


def rewrite_links(text: str, source: Path, repo: Path, page_dir: Path) -> str:
    """Rewrite the relative link and image targets of ``text`` (read from ``source``) for a page
    in ``page_dir``. A link to the exercises folder goes to the exercises page; a link to any other
    folder keeps its text only (a folder is not a page)."""

    def fix(match: re.Match) -> str:
        target = match.group("target")
        if _SCHEME.match(target) or target.startswith(("#", "/")):
            return match.group(0)
        path_part, _, anchor = target.partition("#")
        resolved = (source.parent / path_part).resolve()
        if resolved.is_dir():
            if resolved == (repo / "exercises").resolve():
                new = _relative(repo / "docs" / "exercises.md", page_dir)
            else:
                label = match.group("open")[:-2].lstrip("!")[1:]
                return label
        else:
            new = _relative(resolved, page_dir)
        if anchor:
            new = f"{new}#{anchor}"
        return f"{match.group('open')}{new}{match.group('close')}"

    return _LINK.sub(fix, text)


def _relative(path: Path, start: Path) -> str:
    import os

    return Path(os.path.relpath(path, start)).as_posix()


def escape_markdown(text: str) -> str:
    """Plain text made literal in MyST Markdown (no emphasis, no math, no HTML)."""
    return _PUNCTUATION.sub(r"\\\1", text)


def quiz_markdown() -> str:
    """The question bank as Markdown: every question, its choices, the answer in <details>."""
    from recsys_course.quiz.bank import load_bank

    _title, questions = load_bank()
    parts = []
    for number, question in enumerate(questions, start=1):
        kind = {"single": "one answer", "multiple": "select all that apply",
                "numeric": "answer with a number"}[question.type]
        parts.append(f"## Question {number}\n")
        parts.append(f"{escape_markdown(question.prompt)}\n")
        if kind not in question.prompt.lower():
            parts.append(f"*({kind})*\n")
        if question.choices:
            for index, choice in enumerate(question.choices):
                letter = "abcdefghijklmnopqrstuvwxyz"[index]
                parts.append(f"- **{letter})** {escape_markdown(choice)}")
            parts.append("")
        parts.append('<details class="quiz-answer">\n<summary>Answer</summary>\n')
        parts.append(f"**{escape_markdown(question.answer_text())}**\n")
        parts.append(f"{escape_markdown(question.explanation)}\n")
        parts.append("</details>\n")
    return "\n".join(parts)


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook (its file name if it has none)."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return path.stem
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                found = re.match(r"^#+\s+(.*)$", line)
                if found:
                    return found.group(1).strip()
    return path.stem


def exercises_markdown(repo: Path) -> str:
    rows = []
    for path in sorted((repo / "exercises").glob("ex*.ipynb")):
        title = escape_markdown(notebook_title(path))
        rows.append(f"- **{title}**: {{download}}`download {path.name} </exercises/{path.name}>`")
    if not rows:
        raise ValueError("no exercises/ex*.ipynb found for the exercises page")
    return "\n".join(rows) + "\n"


#: Issue 11's targets, by the ``targets`` key of a summary row (a key not listed here gets a plain title).
BENCH_GROUPS = {
    "1-3": "Targets 1-3: ALS per iteration, fit set-up and memory",
    "4": "Target 4: deterministic parallel BPR",
    "5": "Target 5: evaluation",
    "6": "Target 6: a learner never waits for the compiler",
    "7": "Target 7: Spark, for users who weigh moving to a cluster",
}
_STATUSES = ("met", "NOT met", "report", "missing")


def format_number(value: float) -> str:
    """``value`` to 3 significant figures: 0.0515, 1.00, 177, 1,230, 7.17M, 2.50G."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"format_number needs a number, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"format_number needs a finite number, got {value!r}")
    value = float(f"{value:.3g}")  # rounded first, so 999.7 reads 1,000 and 999,999 reads 1.00M
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:#.3g}".rstrip(".") + "G"
    if size >= 1e6:
        return f"{value / 1e6:#.3g}".rstrip(".") + "M"
    if size >= 1e3:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    return f"{value:#.3g}".rstrip(".")


def _with_unit(value: float, unit: str) -> str:
    """A measured value for a table cell: 3 significant figures and its unit. A share ("fraction of
    ...") shows as a percentage; a metric's name as unit (NDCG@10) is left to the measure's text."""
    if unit.startswith("fraction of"):
        return format_number(100 * value) + "%"
    if not unit or "@" in unit:
        return format_number(value)
    return f"{format_number(value)}\u00a0{unit}"  # no line break between a number and its unit


def _check_summary(data, name: str) -> list[dict]:
    """The rows of a parsed summary.json, every field a table cell needs checked first."""
    if not isinstance(data, dict):
        raise ValueError(f"{name} holds {type(data).__name__}, not an object with \"rows\"")
    for key in ("written", "quick", "load_average", "rows"):
        if key not in data:
            raise ValueError(f"{name} has no {key!r} field (found {sorted(data)}): was it written by `make bench`?")
    if not isinstance(data["written"], str) or not data["written"].strip():
        raise ValueError(f"{name}: 'written' is {data['written']!r}, not a time")
    if not isinstance(data["quick"], bool):
        raise ValueError(f"{name}: 'quick' is {data['quick']!r}, not true or false")
    load = data["load_average"]
    if (not isinstance(load, list) or len(load) != 3
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in load)):
        raise ValueError(f"{name}: 'load_average' is {load!r}, not three numbers (1, 5, 15 minutes)")
    rows = data["rows"]
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{name}: 'rows' is {rows!r}, not a non-empty list")
    for number, row in enumerate(rows, start=1):
        where = f"{name}, row {number}"
        if not isinstance(row, dict):
            raise ValueError(f"{where} is {row!r}, not an object")
        for key in ("targets", "measure", "status"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise ValueError(f"{where}: {key!r} is {row.get(key)!r}, not a non-empty string")
        if row["status"] not in _STATUSES:
            raise ValueError(f"{where}: status {row['status']!r} is none of {', '.join(_STATUSES)}")
        if row["status"] == "missing":
            continue
        for key in ("ours", "implicit", "ratio"):
            value = row.get(key)
            if key == "ours" and value is None:
                raise ValueError(f"{where} ({row['measure']}): 'ours' is missing")
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value != value or abs(value) == float("inf")):
                raise ValueError(f"{where} ({row['measure']}): {key!r} is {value!r}, not a finite number")
        versus = row.get("versus")
        if versus is not None and not (isinstance(versus, dict) and isinstance(versus.get("name"), str)
                                       and isinstance(versus.get("value"), (int, float))
                                       and not isinstance(versus.get("value"), bool)):
            raise ValueError(f"{where} ({row['measure']}): 'versus' is {versus!r}, not {{\"name\", \"value\"}}")
        if not isinstance(row.get("target"), str) or not row["target"].strip():
            raise ValueError(f"{where} ({row['measure']}): 'target' is {row.get('target')!r}, "
                             "not a string such as \"<= 0.5\" or \"report\"")
        if not isinstance(row.get("unit", ""), str):
            raise ValueError(f"{where} ({row['measure']}): 'unit' is {row.get('unit')!r}, not a string")
        if row["status"] != "report" and row["target"] == "report":
            raise ValueError(f"{where} ({row['measure']}): status {row['status']!r} for a row with no target")
    return rows


def _summary_cells(row: dict) -> list[str]:
    """One table row: measure, ours, theirs (implicit's, else the named contender's), ratio, target,
    result (Markdown-escaped)."""
    measure = escape_markdown(row["measure"])
    if row["status"] == "missing":
        reason = row.get("reason") or "no result"
        return [measure, "–", "–", "–", "–", f"**missing**: {escape_markdown(str(reason))}"]
    unit = row.get("unit") or ""
    ours = _with_unit(row["ours"], unit)
    versus = row.get("versus")
    if row.get("implicit") is not None:
        theirs = _with_unit(row["implicit"], unit)
    elif versus is not None:
        theirs = f"{versus['name']}: {_with_unit(versus['value'], unit)}"
    else:
        theirs = "–"
    ratio = "–" if row.get("ratio") is None else format_number(row["ratio"])
    target = row["target"].strip()
    if target == "report":
        target = "– (reported)"
    else:
        target = target.replace("<=", "≤").replace(">=", "≥")
        if row.get("ratio") is None and unit and "@" not in unit:
            target = f"{target}\u00a0{unit}"  # no ratio: the target is on our own figure
        target = target.replace("≤ ", "≤\u00a0").replace("≥ ", "≥\u00a0")
    result = {"met": "met", "NOT met": "**NOT\u00a0met**", "report": "report"}[row["status"]]
    return [measure, escape_markdown(ours), escape_markdown(theirs), escape_markdown(ratio),
            escape_markdown(target), result]


def bench_summary_markdown(path: Path) -> str:
    """The benchmark summary ``make bench`` writes (``benchmarks/results/summary.json``) as Markdown:
    when and under what load it was written, how many targets were met, then one table per group
    of issue 11's targets. Raises ValueError, naming the file and what is wrong, when the file is
    missing or malformed; the text is built whole before it is returned (never a half table)."""
    name = path.name
    if not path.is_file():
        raise ValueError(f"{path} is missing: run `make bench` to write it (the Performance page shows it)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{name} is not readable JSON ({error}): run `make bench` to write it again") from None
    rows = _check_summary(data, name)

    load = " / ".join(f"{x:.2f}" for x in data["load_average"])
    counted = [r for r in rows if r["status"] in ("met", "NOT met", "missing")]
    met = sum(r["status"] == "met" for r in counted)
    missing = sum(r["status"] == "missing" for r in counted)
    reported = sum(r["status"] == "report" for r in rows)
    kind = ("a **quick** run (`--quick`: small data, not the figures of issue 11)" if data["quick"]
            else "a full-size run")
    parts = [
        f"Written {escape_markdown(data['written'].strip())} by {kind}, with a load average of {load} "
        "(over 1, 5 and 15 minutes) when it finished.\n",
        f"**{met} of {len(counted)} targets met**, {len(counted) - met - missing} not met, "
        f"{missing} benchmark(s) missing; {reported} more figure(s) reported without a target.\n",
    ]
    header = ["Measure", "Ours", "implicit", "Ratio", "Target", "Result"]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["targets"], []).append(row)
    for key, members in groups.items():
        title = BENCH_GROUPS.get(key, f"Target {key}" if "-" not in key else f"Targets {key}")
        parts.append(f"## {escape_markdown(title)}\n")
        lines = [":::{container} bench-summary", "| " + " | ".join(header) + " |", "|" + "|".join([":---"] + ["---:"] * 4 + [":---"]) + "|"]
        for row in members:
            cells = [cell.replace("\n", " ") for cell in _summary_cells(row)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append(":::")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _parse_marker_args(args: str) -> list[str]:
    return [quoted or bare for quoted, bare in re.findall(r'"([^"]*)"|(\S+)', args)]


def fill_markers(app: Sphinx, docname: str, source: list[str]) -> None:
    if not docname.startswith("docs/"):
        return
    repo = Path(app.srcdir)
    page_dir = (repo / docname).parent

    def replace(match: re.Match) -> str:
        kind = match.group("kind")
        args = _parse_marker_args(match.group("args"))
        if kind in ("section", "section?"):
            drops = [a for a in args[2:] if a.startswith("drop:")]
            if len(args) - len(drops) != 2:
                raise ValueError(f"{docname}: course marker {match.group(0)!r} needs FILE and \"Heading\" "
                                 "(then optionally \"drop:TEXT\" to leave out the paragraphs holding TEXT)")
            path = repo / args[0]
            text = markdown_section(path, args[1]) if path.is_file() else None
            if text is None:
                if kind == "section?":
                    return ""
                raise ValueError(f"{docname}: {args[0]} has no section {args[1]!r} (marker {match.group(0)!r})")
            for drop in drops:
                paragraphs = re.split(r"\n\s*\n", text)
                text = "\n\n".join(p for p in paragraphs if drop[len("drop:"):] not in p)
            return rewrite_links(text, path, repo, page_dir)
        if kind == "intro":
            if len(args) != 1:
                raise ValueError(f"{docname}: course marker {match.group(0)!r} needs FILE")
            path = repo / args[0]
            return rewrite_links(markdown_intro(path), path, repo, page_dir)
        if kind == "ifexists":
            if len(args) != 2:
                raise ValueError(f"{docname}: course marker {match.group(0)!r} needs FILE and \"text\"")
            return args[1] if (repo / args[0]).exists() else ""
        if kind == "quiz":
            return quiz_markdown()
        if kind == "exercises":
            return exercises_markdown(repo)
        if kind == "bench-summary":
            if len(args) != 1:
                raise ValueError(f"{docname}: course marker {match.group(0)!r} needs FILE "
                                 "(benchmarks/results/summary.json)")
            path = repo / args[0]
            env = getattr(app, "env", None)
            if env is not None:
                env.note_dependency(str(path))  # a new summary.json re-reads the page
            try:
                return bench_summary_markdown(path)
            except ValueError as error:
                raise ValueError(f"{docname}: {error} (marker {match.group(0)!r})") from None
        raise ValueError(f"{docname}: unknown course marker {kind!r}; known: section, section?, intro, ifexists, "
                         "quiz, exercises, bench-summary")

    source[0] = MARKER.sub(replace, source[0])


# ------------------------------------------------------------------------------------- alt text
_TITLE = re.compile(r"""(?:set_title|suptitle|\btitle)\s*[=(]\s*[rf]?(["'])(.+?)\1""")
_BORING = re.compile(r"^\s*(<Figure|<matplotlib|<Axes|VBox\(|HBox\(|Output\(|\[<matplotlib|$)")


_PLOT_CALL = re.compile(r"\bplots\.\w+\(|\.(?:plot|hist|bar|barh|scatter|imshow|errorbar|matshow|pcolormesh|fill_between)\(")


def _cell_alt(cell_source: str) -> str:
    """What a figure shows, from the code that drew it: its title, else the plotting call."""
    titles = [re.sub(r"\{[^}]*\}", "…", found[1]) for found in _TITLE.findall(cell_source)]
    if titles:
        return "; ".join(dict.fromkeys(titles))
    lines = [line.strip() for line in cell_source.splitlines() if line.strip()]
    code = [line for line in lines if not line.startswith(("#", "%"))]
    calls = [line for line in code if _PLOT_CALL.search(line)]
    if calls:
        call = calls[0]
        return f"drawn by {call[:117] + '...' if len(call) > 120 else call}"
    comments = [line.lstrip("# ").strip() for line in lines if line.startswith("#") and not line.startswith("#!")
                and "NBVAL" not in line and "raises-exception" not in line]
    if comments:
        return comments[0]
    return f"the output of {code[-1]}" if code else ""


def _section_of(cells: list[dict], cell_index: int) -> str:
    """The text of the last Markdown heading before cell ``cell_index``."""
    for cell in reversed(cells[:cell_index]):
        if cell.get("cell_type") != "markdown":
            continue
        headings = re.findall(r"^#+\s+(.*)$", "".join(cell.get("source", "")), flags=re.M)
        if headings:
            return re.sub(r"[*_`]", "", headings[-1]).strip()
    return ""


_RAW_ANCHOR = re.compile(r"""<a\s+(?:id|name)\s*=\s*["']([^"']+)["']""")


def jupyterlab_anchor(title: str) -> str:
    """The id JupyterLab (and nbviewer) gives a Markdown heading: its text, spaces made dashes."""
    return title.strip().replace(" ", "-")


def register_anchors(app: Sphinx, doctree: nodes.document) -> None:
    """Make the anchors a notebook's links use in JupyterLab work on the site too.

    * ``<a id="x"></a>`` in Markdown (what JupyterLab and GitHub understand) becomes a target MyST
      knows, so ``page.ipynb#x`` / ``page.md#x`` resolves without a warning;
    * a heading's JupyterLab id (``#4.-How-we-measure``) resolves to that section, and the section
      carries the id as well, so the same fragment typed into an address works.
    """
    slugs = app.env.metadata[app.env.docname].setdefault("myst_slugs", {})
    for raw in doctree.findall(nodes.raw):
        if "html" not in raw.get("format", ""):
            continue
        for anchor in _RAW_ANCHOR.findall(raw.astext()):
            if anchor not in slugs:
                section = next((n for n in raw.traverse(include_self=False, ascend=True, descend=False)
                                if isinstance(n, nodes.section)), None)
                title = section[0].astext() if section is not None and len(section) else anchor
                slugs[anchor] = (0, anchor, title)
    for section in doctree.findall(nodes.section):
        if not section.children or not isinstance(section[0], nodes.title) or not section["ids"]:
            continue
        title = section[0].astext()
        anchor = jupyterlab_anchor(title)
        if anchor and anchor not in slugs:
            slugs[anchor] = (0, section["ids"][0], title)
        if anchor and anchor not in section["ids"]:
            section["ids"].append(anchor)


def add_alt_text(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not docname.startswith("notebooks/"):
        return
    path = Path(app.env.doc2path(docname))
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        cells = []
    number = Path(docname).name.split("_", 1)[0]
    for image in doctree.findall(nodes.image):
        if image.get("alt"):
            continue
        cell_index = None
        description = ""
        parent = image.parent
        while parent is not None:
            if parent.get("nb_element") == "mime_bundle" and not description:
                for sibling in parent.children:
                    if sibling.get("mime_type") == "text/plain":
                        text = sibling.astext().strip()
                        if text and not _BORING.match(text):
                            description = text
            if parent.get("nb_element") == "cell_code":
                cell_index = parent.get("cell_index")
                break
            parent = parent.parent
        where = f"notebook {number}"
        if cell_index is not None and cell_index < len(cells):
            section = _section_of(cells, cell_index)
            if section:
                where += f", section “{section}”"
            where += f", cell {cell_index + 1}"
            if not description:
                description = _cell_alt("".join(cells[cell_index].get("source", "")))
        image["alt"] = f"Figure from {where}: {description}" if description else f"Figure output of {where}"


# --------------------------------------------------------------------------------------- offline
#: Top-level MathJax bundles the site does not load (it uses tex-chtml-full.js).
_UNUSED_BUNDLES = ("tex-svg*.js", "tex-mml-*.js", "mml-*.js", "tex-chtml.js", "tex-chtml-full-speech.js",
                   "node-main.js", "latest.js")


def mathjax_source() -> Path:
    """MathJax 3's browser build, as the PyPI package django-static-mathjax ships it."""
    try:
        import mathjax
    except ImportError:
        raise ImportError("the course website needs MathJax from the PyPI package django-static-mathjax: "
                          "`make book` installs it (the book extra)") from None
    folder = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (folder / "tex-chtml-full.js").is_file():
        raise FileNotFoundError(f"tex-chtml-full.js is not in {folder}: reinstall django-static-mathjax")
    return folder


def finish(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    shutil.copytree(mathjax_source(), outdir / "_static" / "mathjax", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*_UNUSED_BUNDLES))
    root = app.config.root_doc
    if root != "index":
        target = html.escape(app.builder.get_target_uri(root))
        (outdir / "index.html").write_text(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f"<title>{html.escape(app.config.project)}</title>\n"
            f"<meta http-equiv=\"refresh\" content=\"0; url={target}\">\n"
            f"<link rel=\"canonical\" href=\"{target}\">\n</head>\n"
            f"<body><p><a href=\"{target}\">{html.escape(app.config.project)}</a></p></body></html>\n",
            encoding="utf-8",
        )


def point_quiz_notebook_to_quiz_page(app: Sphinx, doctree: nodes.document) -> None:
    """On the quiz notebook's page, say where the quiz can be answered without a kernel."""
    docname = app.env.docname
    if not (docname.startswith("notebooks/") and docname.endswith("_quiz")):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    note = nodes.note()
    paragraph = nodes.paragraph()
    paragraph += nodes.Text("On this website the quiz below is a picture: its buttons need a running notebook. "
                            "The same questions, with answers to open one by one, are on the ")
    link = nodes.reference("", "", internal=True, refuri=_relative(Path("docs/quiz.html"), Path(docname).parent))
    link += nodes.Text("quiz page")
    paragraph += link
    paragraph += nodes.Text(".")
    note += paragraph
    section.insert(1, note)


def drop_source_download(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """The site's own pages are generated: their source (marker comments) is no use to a reader.
    Notebook pages keep their .ipynb download; every page keeps print-to-PDF."""
    if not pagename.startswith("docs/"):
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"] = [b for b in button["buttons"] if b.get("label") != "download-source-button"]


def setup(app: Sphinx) -> dict:
    mathjax_source()  # fail early, with the fix, when the package is missing
    app.connect("source-read", fill_markers)
    app.connect("doctree-read", register_anchors)
    app.connect("doctree-read", add_alt_text)
    app.connect("doctree-read", point_quiz_notebook_to_quiz_page)
    app.connect("html-page-context", drop_source_download, priority=600)  # after the theme's buttons
    app.connect("build-finished", finish)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
