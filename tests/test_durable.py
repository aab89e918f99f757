"""The one durable write (pipeline.durable): temporary file beside, fsync, rename, folder fsync."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline import durable

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fsynced(monkeypatch):
    """The paths fsynced in the test, in order (the real fsync still runs)."""
    seen: list[str] = []
    real = os.fsync

    def record(fd: int) -> None:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", record)
    return seen


def test_replace_file_fsyncs_the_file_then_its_folder(tmp_path, fsynced):
    target = tmp_path / "releases.json"
    durable.replace_file(target, b"{}\n")
    assert target.read_bytes() == b"{}\n"
    assert len(fsynced) == 2
    assert Path(fsynced[0]).name.startswith(durable.TMP_PREFIX + "releases.json-")
    assert fsynced[1] == str(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["releases.json"]


def test_a_new_file_gets_the_umask_mode_and_a_replaced_one_keeps_its_own(tmp_path):
    umask = os.umask(0o022)
    try:
        new = durable.stage(tmp_path / "CHANGELOG.md", b"# Versions\n")
    finally:
        os.umask(umask)
    assert new.stat().st_mode & 0o777 == 0o644
    kept = tmp_path / "atelier.yaml"
    kept.write_text("status: open\n", encoding="utf-8")
    kept.chmod(0o640)
    durable.replace_file(kept, b"status: closed\n")
    assert kept.stat().st_mode & 0o777 == 0o640


def test_replacing_renames_only_a_finished_file(tmp_path, fsynced):
    out = tmp_path / "compte-rendu.pdf"
    out.write_bytes(b"version 1")
    with pytest.raises(RuntimeError):
        with durable.replacing(out) as partial:
            partial.write_bytes(b"moit")
            raise RuntimeError("le rendu a échoué")
    assert out.read_bytes() == b"version 1"
    assert [p.name for p in tmp_path.iterdir()] == ["compte-rendu.pdf"]
    with durable.replacing(out) as partial:
        partial.write_bytes(b"version 2")
    assert out.read_bytes() == b"version 2"
    assert fsynced[-1] == str(tmp_path)  # the rename itself is durable
    assert [p.name for p in tmp_path.iterdir()] == ["compte-rendu.pdf"]


def test_the_preview_job_is_written_durably(tmp_path, fsynced):
    """The preview's job.json was renamed without fsync: a power loss could leave it empty."""
    from webform import preview

    job = preview.Job("running", "abc", "2016-06-30T09:00:00Z", 1234)
    preview._write_job(tmp_path, job)
    assert preview._read_job(tmp_path) == job
    assert fsynced == [fsynced[0], str(tmp_path)]


def test_every_whole_file_write_goes_through_durable():
    """One durable write: no other module renames files into place (issue 10)."""
    users = sorted(
        str(path.relative_to(ROOT))
        for folder in ("pipeline", "webform")
        for path in (ROOT / folder).rglob("*.py")
        if "os.replace(" in path.read_text(encoding="utf-8") or ".rename(" in path.read_text(encoding="utf-8")
    )
    assert users == ["pipeline/durable.py"]



def test_a_refused_write_names_the_file_asked_for_not_the_temporary_one(tmp_path):
    """« atelier build -o /dossier/absent/cr.pdf »: the message names cr.pdf, not .atelier.tmp-cr.pdf-1234 (a tester's finding)."""
    target = tmp_path / "absent" / "cr.pdf"
    with pytest.raises(OSError) as refused:
        durable.replace_file(target, b"x")
    assert refused.value.filename == str(target)
    with pytest.raises(OSError) as refused:
        with durable.replacing(target) as tmp:
            tmp.write_bytes(b"x")
    assert refused.value.filename == str(target)
    assert not (tmp_path / "absent").exists()
