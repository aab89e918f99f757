"""Private receipt links: a random token handed to the participant, only its sha256 kept on disk.

One small JSON file per token, named by the token's hash, in a folder that is
never published (the instance folder by default, not `data/`).  Files are
written to a temporary name, fsynced, then renamed, so every gunicorn worker
sees either the old or the new record; corrections take a lock on the folder
so that two corrections with the same link cannot interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) produces


@dataclass(frozen=True)
class Receipt:
    """What one submission saved: the atelier, the kind of form, the table and the row ids."""

    slug: str
    kind: str  # "emargement", "idee" or "fiche"
    resource: str  # "participants" or "contributions"
    ids: tuple[str, ...]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReceiptBook:
    """The folder of receipt records."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, token: str) -> Path:
        return self.folder / f"{_digest(token)}.json"

    def _write(self, token: str, receipt: Receipt) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(
            {"slug": receipt.slug, "kind": receipt.kind, "resource": receipt.resource, "ids": list(receipt.ids)}
        )
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path(token))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.folder)

    def issue(self, receipt: Receipt) -> str:
        """Record `receipt` and return the new secret token (shown once, never stored)."""
        token = secrets.token_urlsafe(32)
        self._write(token, receipt)
        return token

    def find(self, token: str) -> Receipt | None:
        """The receipt of `token`, or None for an unknown or malformed token."""
        if not TOKEN.fullmatch(token):
            return None
        try:
            data = json.loads(self._path(token).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return Receipt(data["slug"], data["kind"], data["resource"], tuple(data["ids"]))

    @contextlib.contextmanager
    def editing(self) -> Iterator[None]:
        """Hold the folder's lock while a correction reads, changes and re-records a receipt."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def replace(self, token: str, receipt: Receipt) -> None:
        """Re-record the receipt of an existing token (after a correction added points)."""
        self._write(token, receipt)
