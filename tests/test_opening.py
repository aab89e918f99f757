"""Opening and closing an atelier's form: one line of atelier.yaml changes, comments and bytes elsewhere kept."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from pipeline.opening import set_status, with_status
from pipeline.scaffold import new_atelier
from pipeline.validate import validate_atelier
from pipeline.workshop import AtelierError, load_atelier
from pipeline.french import fr

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.fixture
def folder(tmp_path):
    """A scaffolded atelier: atelier.yaml full of the organisers' comments."""
    return new_atelier(tmp_path / "data", "essai", dt.date(2026, 11, 20))


def test_closing_changes_only_the_status_line(folder):
    path = folder / "atelier.yaml"
    before = path.read_bytes()
    assert b"\n# " in before  # the template is commented: the comments must survive
    assert set_status(folder, "closed") is True
    after = path.read_bytes()
    old, new = before.split(b"\n"), after.split(b"\n")
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert changed == [(b"status: open", b"status: closed")]
    assert load_atelier(folder).workshop.status == "closed"
    assert validate_atelier(folder) == []
    assert set_status(folder, "open") is True
    assert path.read_bytes() == before


def test_a_comment_on_the_line_quotes_and_crlf_are_kept(folder):
    path = folder / "atelier.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.replace("status: open", "status: 'open'   # ouvert le matin").replace("\n", "\r\n").encode())
    before = path.read_bytes()
    set_status(folder, "closed")
    assert path.read_bytes() == before.replace(b"status: 'open'   #", b"status: 'closed'   #")
    assert load_atelier(folder).workshop.status == "closed"


def test_the_file_is_replaced_not_rewritten_in_place_and_nothing_is_left_behind(folder):
    inode = os.stat(folder / "atelier.yaml").st_ino
    mode = os.stat(folder / "atelier.yaml").st_mode
    set_status(folder, "closed")
    st = os.stat(folder / "atelier.yaml")
    assert st.st_ino != inode  # a new inode: every worker's cache sees the change
    assert st.st_mode == mode
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".atelier.tmp")) == []


def test_the_same_status_again_writes_nothing(folder):
    inode = os.stat(folder / "atelier.yaml").st_ino
    assert set_status(folder, "open") is False
    assert os.stat(folder / "atelier.yaml").st_ino == inode


@pytest.mark.parametrize(
    "status, message",
    [
        ("ferme", f"atelier.yaml{NNBSP}: «{NBSP}ferme{NBSP}» n'est pas un statut permis (open ou closed){NNBSP}; le fichier n'a pas été modifié."),
        ("", f"atelier.yaml{NNBSP}: «{NBSP}{NBSP}» n'est pas un statut permis (open ou closed){NNBSP}; le fichier n'a pas été modifié."),
        ("open\nmoderation: pre", None),
    ],
)
def test_a_status_the_schema_does_not_allow_is_never_written(folder, status, message):
    before = (folder / "atelier.yaml").read_bytes()
    with pytest.raises(AtelierError) as caught:
        set_status(folder, status)
    if message:
        assert str(caught.value) == message
    assert (folder / "atelier.yaml").read_bytes() == before


def test_a_result_that_would_not_be_valid_is_not_written(folder):
    path = folder / "atelier.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("place:", "lieu:"), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(AtelierError) as caught:
        set_status(folder, "closed")
    assert "Le fichier ne serait pas valide" in str(caught.value)
    assert str(caught.value).startswith(f"atelier.yaml{NNBSP}: «{NBSP}racine{NBSP}»{NNBSP}: ")
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "text, problem",
    [
        ("title: x\n", "aucune ligne «\u00a0status:\u00a0»"),
        ("status: open\nstatus: closed\n", "2 lignes «\u00a0status:\u00a0»"),
        ("title: x\n  status: open\n", "aucune ligne «\u00a0status:\u00a0»"),  # not a top-level key
    ],
)
def test_the_status_line_must_be_one_top_level_key(text, problem):
    with pytest.raises(AtelierError) as caught:
        with_status(text, "closed")
    assert str(caught.value) == (
        f"atelier.yaml{NNBSP}: {problem} au premier niveau{NNBSP}; il en faut une seule, par exemple "
        f"«{NBSP}status: open{NBSP}». Le fichier n'a pas été modifié."
    )


def test_a_line_that_only_looks_like_the_key_is_refused():
    """A `status:` at the start of a line inside a flow list is not the top-level key: never rewritten."""
    text = 'title: x\nkeywords: ["a",\nstatus: open]\n'
    with pytest.raises(AtelierError):
        with_status(text, "closed")


def test_atelier_open_and_close_commands(folder):
    from click.testing import CliRunner

    from pipeline.cli import main

    runner = CliRunner()
    before = (folder / "atelier.yaml").read_bytes()
    closed = runner.invoke(main, ["close", str(folder)])
    assert (closed.exit_code, closed.output) == (0, fr(f"{folder} : formulaire clos.\n"))
    again = runner.invoke(main, ["close", str(folder)])
    assert again.output == fr(f"{folder} : le formulaire était déjà clos.\n")
    opened = runner.invoke(main, ["open", str(folder)])
    assert (opened.exit_code, opened.output) == (0, fr(f"{folder} : formulaire ouvert.\n"))
    assert (folder / "atelier.yaml").read_bytes() == before
    (folder / "atelier.yaml").write_text("title: x\n", encoding="utf-8")
    broken = runner.invoke(main, ["close", str(folder)])
    assert broken.exit_code == 1 and fr("aucune ligne «\u00a0status:\u00a0» au premier niveau") in broken.output
