"""The one file lock of atelier: `flock` on a lock file, as every process and thread of a server sees it.

Used by the store (`<folder>/.atelier.lock`, shared and exclusive), the
receipts (the log and its striped lock files), the rate limiter and the
guess delay (one file per client address), and the preview jobs (`job.lock`,
and `run.lock`, which the render process inherits and holds for its life).

Why our own twenty lines rather than the `filelock` library (4.3.1 was a
declared dependency that nothing imported; it is dropped): the guarantees
the code relies on are those of a bare `flock(2)` on a descriptor we own,
and `filelock` hides that descriptor or changes them:
* the store writes the intent of an append *into* its lock file through the
  lock's descriptor, and the preview passes `run.lock`'s descriptor to the
  render process (`pass_fds`) so that the kernel releases it when that
  process dies, even by SIGKILL; `filelock` keeps its descriptor private;
* shared readers: `filelock.ReadWriteLock` is built on SQLite, not on a
  shared `flock`, so the store's writers and readers would not meet;
* each `with` opens its own descriptor, so two threads of one gunicorn worker
  exclude each other like two processes do; `FileLock` is thread-local and
  re-entrant per instance by default, which is another semantics to reason
  about (the store's re-entrance is per thread and explicit, in `journal.lock`).
`flock` is not reliable on NFS: keep atelier folders on a local disk.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator


def open_lock(path: Path | str, *, mode: int = 0o600, flags: int = 0, make_folder: bool = False) -> int:
    """A descriptor on the lock file `path`, created (with `mode`) if missing.

    `flags` are added to O_RDWR | O_CREAT | O_CLOEXEC (O_APPEND for a log that
    is its own lock).  `make_folder` creates the missing folder on first use;
    otherwise a missing folder raises FileNotFoundError.
    """
    flags |= os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
    try:
        return os.open(path, flags, mode)
    except FileNotFoundError:
        if not make_folder:
            raise
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, flags, mode)


def acquire(fd: int, *, shared: bool = False, wait: bool = True) -> bool:
    """Take the `flock` of `fd` (exclusive, or `shared`); without `wait`, False when another holds it."""
    operation = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        fcntl.flock(fd, operation if wait else operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def release(fd: int) -> None:
    """Let the next holder in before closing `fd` (closing the descriptor releases it too)."""
    fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def held(
    path: Path | str, *, shared: bool = False, mode: int = 0o600, flags: int = 0, make_folder: bool = False
) -> Iterator[int]:
    """Hold the lock of `path` for the block (waiting for it); yields the descriptor, closed after.

    The kernel releases the lock when the descriptor is closed, or when the
    process dies however it dies: no stale lock is ever left behind.
    """
    fd = open_lock(path, mode=mode, flags=flags, make_folder=make_folder)
    try:
        acquire(fd, shared=shared)
        yield fd
    finally:
        os.close(fd)  # releases the flock


def is_held(path: Path | str) -> bool:
    """Does some process hold the lock of `path` now?  (Tries it without waiting, and lets go.)"""
    fd = open_lock(path)
    try:
        return not acquire(fd, wait=False)
    finally:
        os.close(fd)
