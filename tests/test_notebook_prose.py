"""Prose that cannot drift: numbers quoted in a notebook's text must come from that notebook.

Every number written with two or more decimals (``0.254``), and every percentage written with
a decimal (``17.1%``), in a markdown cell must appear verbatim in the same notebook: in a text
output (stream, text/plain, text/html, text/markdown) or in a code cell's source (settings such
as ``alpha=0.01``). The one exception is a figure from the literature, whose sentence carries the
citation: a capitalised surname followed within a few words by a year, e.g. "(Hu et al. 2008)",
"(Hu, Koren & Volinsky 2008)", "Rendle et al. (2022)", "He et al., WWW 2017".

"Verbatim" means the same digits as a number of its own: prose ``0.25`` is not backed by an
output ``0.254`` or ``10.25``. Numbers in LaTeX count like any other. Links, DOIs and arXiv ids
are not numbers and are skipped.

The citations themselves are checked too: an author-year citation in a notebook names an author
and year of an entry in docs/references.md, and that file and docs/references.bib list the same keys.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb"))
REFERENCES_MD = ROOT / "docs" / "references.md"
REFERENCES_BIB = ROOT / "docs" / "references.bib"

# A number with two or more decimals, or any decimal number followed by a percent sign. Not part of
# a longer number or a dotted version string (3.11.2), not the tail of an identifier (v1.25).
NUMBER = re.compile(r"(?<![\w.])(\d+\.\d{2,}|\d+\.\d+(?=\s?%))(?!\d|\.\d)")
# Not numbers: web links, markdown link targets, DOIs and arXiv identifiers.
NOT_PROSE = re.compile(r"https?://\S+|\]\([^)]*\)|\bdoi:\s*\S+|\barXiv:\s*\S+|<img[^>]*>", re.I)
# A capitalised surname followed within a few words by a year (the literature exception).
WORDS_THAT_ARE_NOT_SURNAMES = {
    "In", "The", "Since", "By", "Until", "From", "Before", "After", "Of", "On", "At", "As", "And",
    "Between", "Around", "During", "Early", "Late", "Up", "To", "This", "That", "Until", "Through",
}
CITATION = re.compile(r"\b([A-Z][^\W\d_]+(?:-[A-Z][^\W\d_]+)?)\b(?:[^\w\n]+[\w.&'-]+){0,5}?[^\w\n]+\(?((?:19|20)\d\d)\b")
ABBREVIATIONS = ("et al.", "e.g.", "i.e.", "vs.", "cf.", "Fig.", "fig.", "pp.", "No.", "Eq.", "eq.", "approx.", "etc.")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _output_texts(nb) -> list[str]:
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts.append(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output.get("text", ""))
            for mime in TEXT_MIMES:
                value = output.get("data", {}).get(mime)
                if value is not None:
                    texts.append(value if isinstance(value, str) else "".join(value))
    return texts


def _appears(number: str, haystack: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", haystack) is not None


def _units(text: str) -> list[str]:
    """Split markdown into sentences: paragraphs, list items, table rows and headings first."""
    blocks, current = [], []
    for line in text.splitlines():
        stripped = line.strip()
        starts_new = (not stripped or stripped.startswith(("|", "#", "- ", "* ", "> ", "<details", "<summary"))
                      or re.match(r"\d+\.\s", stripped))
        if starts_new and current:
            blocks.append(" ".join(current))
            current = []
        if stripped:
            current.append(stripped)
        if stripped.startswith(("|", "#")):
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    sentences = []
    for block in blocks:
        pieces = re.split(r"(?<=[.!?])\s+(?=[A-Z(*\[$`\"'])", block)
        merged: list[str] = []
        for piece in pieces:
            if merged and merged[-1].endswith(ABBREVIATIONS):
                merged[-1] += " " + piece
            else:
                merged.append(piece)
        sentences.extend(merged)
    return sentences


def _cites_literature(sentence: str) -> bool:
    return any(m.group(1) not in WORDS_THAT_ARE_NOT_SURNAMES for m in CITATION.finditer(sentence))


def unbacked_numbers(nb) -> list[tuple[int, str, str]]:
    """(cell index, number, sentence) for every quoted number that nothing in the notebook backs."""
    haystack = "\n".join(_output_texts(nb))
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for sentence in _units(NOT_PROSE.sub(" ", cell.source)):
            for match in NUMBER.finditer(sentence):
                number = match.group(1)
                if not _appears(number, haystack) and not _cites_literature(sentence):
                    found.append((index, number, sentence))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_number_in_the_prose_is_printed_by_the_notebook_or_cited(path):
    problems = unbacked_numbers(_read(path))
    lines = [f"  cell {index}: {number!r} in: {sentence[:240]}" for index, number, sentence in problems]
    assert not problems, (
        f"{path.parent.name}/{path.name}: {len(problems)} number(s) in the prose appear in no output or "
        "code cell of this notebook and their sentence cites no literature (print the number, or "
        "cite its source as '(Author et al. YYYY)'):\n" + "\n".join(lines)
    )


# --- the rule itself, on small made-up notebooks: it must be able to fail -----------------------


def _notebook(markdown: str, output: str = "", source: str = "print()"):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell(source)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), code]
    return nb


@pytest.mark.parametrize(
    "markdown, output, source",
    [
        ("NDCG@10 reaches 0.254 here.", "ndcg 0.254\n", "print()"),
        ("We use alpha = 0.01.", "", "model = BPR(learning_rate=0.01)"),
        ("Hu et al. (2008) report 0.875 on their TV data.", "", "print()"),
        ("Their AUC was 0.931 (Rendle et al. 2009).", "", "print()"),
        ("The paper reports 0.68 (Hu, Koren & Volinsky 2008).", "", "print()"),
        ("He et al., WWW 2017, report a hit rate of 0.69.", "", "print()"),
        ("18.4% of zeros were liked.", "share 18.4%\n", "print()"),
        ("Python 3.11.2 or newer, see https://example.org/v1.234 and doi:10.1145/2827872.", "", "print()"),
        ("One decimal is not a quoted figure: 0.5 and 12.5 stay free.", "", "print()"),
        ("| model | NDCG |\n|---|---|\n| ALS | 0.312 |", "<td>0.312</td>", "print()"),
    ],
)
def test_backed_or_cited_numbers_pass(markdown, output, source):
    assert unbacked_numbers(_notebook(markdown, output, source)) == []


@pytest.mark.parametrize(
    "markdown, output",
    [
        ("NDCG@10 reaches 0.254 here.", "ndcg 0.2541\n"),  # more digits printed: not the same number
        ("NDCG@10 reaches 0.25 here.", "ndcg 10.25\n"),  # a longer number that ends the same way
        ("An AUC of about 0.85 on MovieLens.", "auc 0.84\n"),
        ("17.1% of zeros were liked.", "share 18.4%\n"),
        ("Our figure 0.85 is good. Hu et al. (2008) agree.", ""),  # the citation is another sentence
        ("In 2008 the score was 0.85.", ""),  # a year alone is not a citation
        ("$\\lambda = 0.05$ in the formula.", ""),  # LaTeX counts like any other text
        ("- first item 0.33\n- second item (Hu et al. 2008)", ""),  # list items are separate sentences
    ],
)
def test_unbacked_numbers_fail(markdown, output):
    problems = unbacked_numbers(_notebook(markdown, output))
    assert problems, f"{markdown!r} should have been reported"
    assert all(index == 0 for index, _, _ in problems)


# --- the reference list --------------------------------------------------------------------------


def _reference_entries() -> dict[str, tuple[set[str], str]]:
    """key -> (author surnames, year) from docs/references.md."""
    entries = {}
    for line in REFERENCES_MD.read_text(encoding="utf-8").splitlines():
        match = re.match(r"- (?:<a id=\"[^\"]+\"></a>)?`\[(\w+)\]` (.+?)\. \*", line)
        if not match:
            continue
        key, authors = match.groups()
        surnames = {name.split()[-1] for name in authors.split(", ") if name.strip()}
        year = re.search(r"((?:19|20)\d\d)\D*$", key)
        entries[key] = (surnames, year.group(1) if year else "")
    return entries


def test_reference_list_and_bibtex_hold_the_same_keys():
    md_keys = set(_reference_entries())
    bib_keys = set(re.findall(r"^@\w+\{([^,\s]+),", REFERENCES_BIB.read_text(encoding="utf-8"), re.M))
    assert len(md_keys) >= 15, f"docs/references.md lists only {sorted(md_keys)}"
    assert md_keys == bib_keys, (
        f"only in references.md: {sorted(md_keys - bib_keys)}; only in references.bib: {sorted(bib_keys - md_keys)}"
    )


NAMED_CITATION = re.compile(
    r"\b([A-Z][^\W\d_]+(?:-[A-Z][^\W\d_]+)?)"
    r"(?:\s+et\s+al\.?|\s*(?:,|&|and)\s*[A-Z][^\W\d_]+(?:-[A-Z][^\W\d_]+)?(?:\s*(?:,|&|and)\s*[A-Z][^\W\d_]+)*)"
    r",?\s*(?:[A-Z][A-Za-z]*,?\s+)?\(?((?:19|20)\d\d)\b"
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_author_year_citations_are_in_the_reference_list(path):
    entries = _reference_entries()
    known = {(surname, year) for surnames, year in entries.values() for surname in surnames}
    missing = []
    for index, cell in enumerate(_read(path).cells):
        if cell.cell_type != "markdown":
            continue
        for match in NAMED_CITATION.finditer(cell.source):
            surname, year = match.groups()
            if surname not in WORDS_THAT_ARE_NOT_SURNAMES and (surname, year) not in known:
                missing.append(f"  cell {index}: {match.group(0)!r}")
    assert not missing, (
        f"{path.parent.name}/{path.name} cites works that docs/references.md does not list "
        "(add an entry there and to references.bib):\n" + "\n".join(missing)
    )
