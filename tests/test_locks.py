"""The one file lock (pipeline.locks): what the store, the receipts, the rate limiter and the preview rely on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pipeline import locks

ROOT = Path(__file__).resolve().parent.parent

# A child process that takes the lock of argv[1] (shared when argv[2] == "shared"), says so, and waits.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pipeline import locks
    with locks.held(sys.argv[1], shared=sys.argv[2] == "shared"):
        print("held", flush=True)
        time.sleep(60)
    """
)


def _holder(path: Path, shared: bool) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "shared" if shared else "exclusive"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "held\n"
    return process


def _try(path: Path, *, shared: bool) -> bool:
    fd = locks.open_lock(path)
    try:
        return locks.acquire(fd, shared=shared, wait=False)
    finally:
        os.close(fd)


def test_shared_holders_meet_and_an_exclusive_one_waits(tmp_path):
    path = tmp_path / "verrou"
    reader = _holder(path, shared=True)
    try:
        assert _try(path, shared=True)  # readers share it
        assert not _try(path, shared=False)  # a writer must wait
        assert locks.is_held(path)
    finally:
        reader.kill()
        reader.wait()


def test_the_kernel_releases_the_lock_of_a_killed_holder(tmp_path):
    path = tmp_path / "verrou"
    holder = _holder(path, shared=False)
    assert locks.is_held(path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert not locks.is_held(path)
    with locks.held(path):  # and it can be taken at once
        pass


def test_two_threads_of_one_process_exclude_each_other(tmp_path):
    """Each `held` opens its own descriptor: threads of a gunicorn worker meet like processes."""
    path = tmp_path / "verrou"
    inside: list[int] = []
    overlaps: list[int] = []

    def work() -> None:
        for _ in range(20):
            with locks.held(path):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(len(inside))
                time.sleep(0.001)
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []


def test_a_missing_folder_is_made_only_when_asked(tmp_path):
    path = tmp_path / "premier" / "verrou"
    with pytest.raises(FileNotFoundError):
        locks.open_lock(path)
    with locks.held(path, make_folder=True) as fd:
        assert os.fstat(fd).st_mode & 0o777 == 0o600  # lock files hold nothing for others
    assert path.is_file()


def test_release_lets_the_next_holder_in_before_the_descriptor_is_closed(tmp_path):
    path = tmp_path / "verrou"
    with locks.held(path) as fd:
        assert not _try(path, shared=False)
        locks.release(fd)
        assert _try(path, shared=False)


def test_every_file_lock_of_the_code_is_this_one():
    """One lock helper: no other module calls flock (issue 10)."""
    users = sorted(
        str(path.relative_to(ROOT))
        for folder in ("pipeline", "webform")
        for path in (ROOT / folder).rglob("*.py")
        if "fcntl" in path.read_text(encoding="utf-8")
    )
    assert users == ["pipeline/locks.py"]
