"""The one durable write of atelier: a whole file replaced through a temporary file beside it, fsync, rename, folder fsync.

Readers see the old file or the new one, never a mix, and once a function
here returns the new file survives a power loss.  Used for every file
written whole: the store's rewrites and atelier.yaml, the release's PDF,
releases.json and CHANGELOG.md, the rendered PDFs and kits, the generated
fonts.conf, the preview's job.json and PDF.  (Appends to a journal — the
store's CSV files, the receipts log — are the store's and the receipts' own
business: they fsync the file, not a rename.)

Temporary files are named `.atelier.tmp-<name>-<random>` in the same folder
(the same file system, so the rename is atomic); `.gitignore` ignores them
and the store sweeps those a crash left in an atelier folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Iterator

TMP_PREFIX = ".atelier.tmp-"


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` to `fd` (a short write returns what it wrote; write the rest)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_dir(folder: Path) -> None:
    """Make the folder's entries (a new or renamed file) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _existing_mode(path: Path) -> int | None:
    """The permission bits of the file `path` replaces, None when there is none.

    A new file gets what `open()` gives (0o666 less the umask: published files
    are read by everyone, as any file git checks out); the umask is never
    changed, since threads of a worker share it."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return None


def temporary_path(path: Path, label: str | None = None) -> Path:
    """A fresh temporary name beside `path` (`label` instead of its name, for the store's rewrites)."""
    return path.parent / f"{TMP_PREFIX}{label or path.name}-{secrets.token_hex(4)}"


def _as_target(error: OSError, tmp: Path, path: Path) -> OSError:
    """The error says the file the person asked for, not our temporary name beside it."""
    if error.filename is not None and str(error.filename) == str(tmp):
        error.filename = str(path)
    return error


def stage(path: Path, data: bytes, *, label: str | None = None) -> Path:
    """Write `data` to a new temporary file beside `path`, fsynced, with the mode `path` has or would get.

    Returns the temporary path: the caller renames it (`commit`) or removes
    it.  For writes that must land together (a release's files): stage them
    all, then commit them all.
    """
    tmp = temporary_path(path, label)
    mode = _existing_mode(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except OSError as e:
        raise _as_target(e, tmp, path) from None
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def commit(tmp: Path, path: Path, *, sync_folder: bool = True) -> None:
    """Rename the staged `tmp` over `path`, then fsync the folder (unless the caller does it once for many)."""
    os.replace(tmp, path)
    if sync_folder:
        fsync_dir(path.parent)


def replace_file(path: Path, data: bytes) -> None:
    """Replace `path` with `data` durably: a temporary file beside it (same mode), fsync,
    `os.replace`, fsync the folder.  Readers see the old file or the new one, never a mix.

    Call it under `store.locked(path.parent)` when other writers may touch the file.
    Raises OSError (nothing changed, no temporary file left) when the disk refuses.
    """
    path = Path(path)
    tmp = stage(path, data)
    try:
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """For writers that want a file name (WeasyPrint's `write_pdf`): yields a temporary path beside
    `path`; when the block ends normally the file written there is fsynced and renamed over `path`,
    and the folder fsynced.  When the block raises, the temporary file is removed and `path` untouched.
    """
    path = Path(path)
    tmp = temporary_path(path)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        mode = _existing_mode(path)
        if mode is not None:
            os.chmod(tmp, mode)
        commit(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise _as_target(e, tmp, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
