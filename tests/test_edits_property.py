"""Property: for random edits of the example's files, `atelier validate` says « valide » ⇒ `atelier build` succeeds.

And when validate refuses, build refuses too, with validate's first line and
without a traceback.  Few examples (a build of the example takes about 2 s),
drawn from edits organisers make by hand or by spreadsheet: a character typed
anywhere, a line deleted, doubled or swapped, a byte-order mark, CR LF, « ; ».
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.validate import validate_atelier
from pipeline.french import fr

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("ATELIER_EDIT_EXAMPLES", "6"))  # a few hundred for an exploratory run
FILES = ("atelier.yaml", "contributions.csv", "participants.csv")
TYPED = [",", ";", '"', "\n", "\r\n", "\t", " ", "x", "0", "9", "-", ":", "é", "«", "#", "'", "\ufeff"]


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, str, int, int, str]]:
    """1 to 3 edits: (file, kind, position, length, text)."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        out.append(
            (
                draw(st.sampled_from(FILES)),
                draw(st.sampled_from(("type", "delete", "double-line", "swap-lines", "bom", "crlf", "semicolons"))),
                draw(st.integers(0, 10**6)),
                draw(st.integers(1, 40)),
                draw(st.sampled_from(TYPED)),
            )
        )
    return out


def apply(folder: Path, edit: tuple[str, str, int, int, str]) -> None:
    name, kind, position, length, text = edit
    path = folder / name
    data = path.read_bytes()
    lines = data.split(b"\n")
    at = position % (len(data) + 1)
    line = position % len(lines)
    if kind == "type":
        data = data[:at] + text.encode("utf-8") + data[at:]
    elif kind == "delete":
        data = data[:at] + data[at + length:]
    elif kind == "double-line":
        data = b"\n".join(lines[: line + 1] + lines[line:])
    elif kind == "swap-lines":
        other = (line + length) % len(lines)
        lines[line], lines[other] = lines[other], lines[line]
        data = b"\n".join(lines)
    elif kind == "bom":
        data = b"\xef\xbb\xbf" + data
    elif kind == "crlf":
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    elif kind == "semicolons":
        lines[line] = lines[line].replace(b",", b";")
        data = b"\n".join(lines)
    path.write_bytes(data)


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits())
def test_valid_means_the_build_succeeds(changes):
    with tempfile.TemporaryDirectory(prefix="atelier-edit-") as tmp:
        folder = Path(tmp) / "moulins-2016"
        shutil.copytree(EXAMPLE, folder)
        for edit in changes:
            apply(folder, edit)
        problems = validate_atelier(folder)
        out = Path(tmp) / "cr.pdf"
        built = CliRunner().invoke(main, ["build", str(folder), "-o", str(out)])
        assert built.exception is None or isinstance(built.exception, SystemExit), built.exception
        if not problems:
            assert built.exit_code == 0, built.output
            assert out.read_bytes().startswith(b"%PDF-")
        else:
            assert built.exit_code == 1 and not out.exists()
            assert fr(str(problems[0])) in built.output
