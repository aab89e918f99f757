"""Private receipt links: a random token handed to the participant, only its sha256 kept on disk.

All receipts of an app live in one append-only log, `recus.log`, in a folder
that is never published (the instance folder by default, not `data/`): one
JSON line per receipt, `[sha256(token), slug, kind, resource, [ids…]]`; a
correction that adds points appends a newer line for the same hash, and the
last line wins.  Each line is written by a single `write()` under an
exclusive `flock` and fsynced before the participant sees the link, so every
gunicorn worker can resolve every token (the fsync itself waits outside the
lock, as the store's does).  Each worker keeps an index of the
log in memory and reads only what other workers appended since its last
look.  One fsync of an existing file per receipt: a file per token would
cost a directory fsync too (about 10 ms here, measured by bench/bench_form.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) produces
LOG = "recus.log"


@dataclass(frozen=True)
class Receipt:
    """What one submission saved: the atelier, the kind of form, the table and the row ids."""

    slug: str
    kind: str  # "emargement", "idee" or "fiche"
    resource: str  # "participants" or "contributions"
    ids: tuple[str, ...]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class ReceiptBook:
    """The receipts log of one app, and this worker's index of it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOG
        self._index: dict[str, Receipt] = {}
        self._offset = 0
        self._inode: int | None = None
        self._mutex = threading.Lock()

    def _open_log(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)  # the first receipt of this folder
            return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def _record(self, key: str, receipt: Receipt) -> None:
        line = json.dumps([key, receipt.slug, receipt.kind, receipt.resource, list(receipt.ids)]) + "\n"
        fd = self._open_log()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # a worker killed mid-line: never glue a record to its remains
            os.write(fd, line.encode("utf-8"))
            # The line is whole in the page cache, where every worker reads it: let the
            # next writer in before the fsync, so that concurrent receipts share a
            # journal commit instead of queueing one fsync each behind the lock.  The
            # fsync covers every byte of the file written so far, ours included, and
            # the token is handed out only after it returns.
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the flock if still held
        with self._mutex:
            self._index[key] = receipt

    def _refresh(self) -> None:
        """Read the lines appended since this worker's last look (all of them after a rotation)."""
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                with self._mutex:
                    if st.st_ino != self._inode or st.st_size < self._offset:
                        self._index, self._offset, self._inode = {}, 0, st.st_ino
                    f.seek(self._offset)
                    chunk = f.read(st.st_size - self._offset)
                    complete = chunk.rfind(b"\n") + 1  # a line still being written waits for the next look
                    for raw in chunk[:complete].splitlines():
                        try:
                            key, slug, kind, resource, ids = json.loads(raw)
                        except ValueError:
                            continue  # the remains of a worker killed mid-line
                        self._index[key] = Receipt(slug, kind, resource, tuple(ids))
                    self._offset += complete
        except FileNotFoundError:
            return

    def issue(self, receipt: Receipt) -> str:
        """Record `receipt` and return the new secret token (shown once, never stored)."""
        token = secrets.token_urlsafe(32)
        self._record(digest(token), receipt)
        return token

    def find(self, token: str) -> Receipt | None:
        """The receipt of `token`, or None for an unknown or malformed token."""
        if not TOKEN.fullmatch(token):
            return None
        self._refresh()  # another worker may have recorded it, or a newer line for it
        return self._index.get(digest(token))

    def replace(self, token: str, receipt: Receipt) -> None:
        """Record a newer receipt for an existing token (after a correction added points)."""
        self._record(digest(token), receipt)

    @contextlib.contextmanager
    def editing(self) -> Iterator[None]:
        """Hold a lock while a correction reads, changes and re-records a receipt."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".corrections.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
