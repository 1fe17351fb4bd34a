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
  - ``<!-- course: exercises -->`` -- one entry per ``exercises/ex*.ipynb`` with a download link.

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

MARKER = re.compile(r"<!--\s*course:\s*(?P<kind>[a-z]+\??)\s*(?P<args>.*?)\s*-->")
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
        raise ValueError(f"{docname}: unknown course marker {kind!r}; known: section, section?, intro, ifexists, quiz, exercises")

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
