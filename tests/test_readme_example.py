"""The README's Python example runs as printed and reports a sensible NDCG@10."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.data
def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "the README has no ```python block"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(blocks[0], "README.md", "exec"), {})
    match = re.search(r"NDCG@10 (\d\.\d+)", printed.getvalue())
    assert match, printed.getvalue()
    assert 0.05 < float(match.group(1)) < 0.5
