"""Private receipt links: a random token handed to the participant, only its sha256 kept on disk.

All receipts of an app live in one append-only log, `recus.log`, in a folder
that is never published (the instance folder by default, not `data/`): one
JSON line per receipt, `[sha256(token), slug, kind, resource, [ids…], {more}]`
(`more`: the sent forms already applied and the texts as the participant
wrote them, see `Receipt`); a correction appends a newer line for the same
hash, and the last line wins.  Each line is written by a single `write()` under an
exclusive `flock` and fsynced before the participant sees the link, so every
gunicorn worker can resolve every token (the fsync itself waits outside the
lock, as the store's does).  Each worker keeps an index of the
log in memory and reads only what other workers appended since its last
look.  One fsync of an existing file per receipt: a file per token would
cost a directory fsync too (about 10 ms here, measured by bench/bench_form.py).

Every participant form carries a submission token (hidden field « envoi »,
`new_submission`); the receipt token of a new submission is derived from it
and from the form's content (`receipt_token`, an HMAC under SECRET_KEY), so
the same form sent twice — a double tap, a browser resending after a lost
answer — finds the receipt of the first, under `ReceiptBook.holding`; a
correction or a withdrawal notes its own in `Receipt.applied`.  A new kind of
form (a ballot) gets the same guarantee by rendering the macro
`submission_input` and saving through `webform.participant.save`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from pipeline import locks

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) produces
LOG = "recus.log"
LOCKS = "verrous"  # one lock file per stripe of keys (see ReceiptBook.holding)
STRIPES = 256
APPLIED_KEPT = 50  # the sent forms a receipt remembers (a replay comes seconds later)


@dataclass(frozen=True)
class Receipt:
    """What one submission saved: the atelier, the kind of form, the table and the row ids.

    `applied`: digests of the submission tokens (see `submission_digest`)
    already applied to this receipt, so that a resent correction or
    withdrawal is not applied twice.  `written`: (row id, `text_digest` of
    the text) as the participant last wrote it, so that the receipt can tell
    a text the team corrected since.
    """

    slug: str
    kind: str  # "emargement", "idee", "fiche"… the form that made it
    resource: str  # "participants" or "contributions"
    ids: tuple[str, ...]
    applied: tuple[str, ...] = ()
    written: tuple[tuple[str, str], ...] = ()

    def with_applied(self, submission: str) -> "Receipt":
        return replace(self, applied=(self.applied + (submission,))[-APPLIED_KEPT:])


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# ---- submission tokens: every participant form carries one, so a resent form is applied once ----

SUBMISSION = re.compile(r"[A-Za-z0-9_-]{22}")  # what secrets.token_urlsafe(16) produces
SUBMISSION_FIELD = "envoi"


def new_submission() -> str:
    """A fresh submission token for a form page (hidden field « envoi »)."""
    return secrets.token_urlsafe(16)


def submission_digest(submission: str) -> str:
    return hashlib.sha256(b"envoi\0" + submission.encode("ascii")).hexdigest()[:32]


def derived(key: str | bytes, *parts: str) -> bytes:
    """HMAC-SHA256 of `parts` under the app's secret key: what only this server can compute."""
    secret = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.digest(secret, "\0".join(parts).encode("utf-8"), "sha256")  # one C call


def receipt_token(key: str | bytes, slug: str, kind: str, submission: str) -> str:
    """The receipt token of a new submission: derived from its submission token, so a replay finds it.

    As secret as a random one (an HMAC under SECRET_KEY, 256 bits), and of
    the same shape: 43 URL-safe characters.
    """
    return base64.urlsafe_b64encode(derived(key, "recu", slug, kind, submission)).decode("ascii").rstrip("=")


class ReceiptBook:
    """The receipts log of one app, and this worker's index of it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOG
        self._index: dict[str, Receipt] = {}
        self._offset = 0
        self._inode: int | None = None
        self._mutex = threading.Lock()

    def _record(self, key: str, receipt: Receipt) -> None:
        fields: list[object] = [key, receipt.slug, receipt.kind, receipt.resource, list(receipt.ids)]
        more: dict[str, object] = {}
        if receipt.applied:
            more["envois"] = list(receipt.applied)
        if receipt.written:
            more["textes"] = dict(receipt.written)
        if more:
            fields.append(more)
        line = json.dumps(fields, ensure_ascii=False) + "\n"
        with locks.held(self.path, flags=os.O_APPEND, make_folder=True) as fd:  # the log is its own lock
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # a worker killed mid-line: never glue a record to its remains
            os.write(fd, line.encode("utf-8"))
            # The line is whole in the page cache, where every worker reads it: let the
            # next writer in before the fsync, so that concurrent receipts share a
            # journal commit instead of queueing one fsync each behind the lock.  The
            # fsync covers every byte of the file written so far, ours included, and
            # the token is handed out only after it returns.
            locks.release(fd)
            os.fsync(fd)
        with self._mutex:
            self._index[key] = receipt

    def _refresh(self) -> None:
        """Read the lines appended since this worker's last look (all of them after a rotation).

        The size is read inside the mutex: a size read before it may be older
        than what another thread has already indexed, and was once taken for a
        rotation, so the index was rebuilt from fewer lines and a token on disk
        answered « not valid » (issue 11, case 5).  A rotation (another file)
        builds a new index aside and swaps it in whole.
        """
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            return
        with f, self._mutex:
            st = os.fstat(f.fileno())
            if st.st_ino != self._inode:
                index: dict[str, Receipt] = {}
                offset = 0
            else:
                index, offset = self._index, self._offset
            if st.st_size > offset:
                f.seek(offset)
                chunk = f.read(st.st_size - offset)
                complete = chunk.rfind(b"\n") + 1  # a line still being written waits for the next look
                for raw in chunk[:complete].splitlines():
                    receipt = _parse(raw)
                    if receipt is not None:
                        index[receipt[0]] = receipt[1]
                offset += complete
            self._index, self._offset, self._inode = index, offset, st.st_ino

    def issue(self, receipt: Receipt, token: str | None = None) -> str:
        """Record `receipt` and return its secret token (shown once, never stored): `token`, or a new one."""
        token = token or secrets.token_urlsafe(32)
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
    def holding(self, token: str) -> Iterator[None]:
        """Hold the lock of one receipt token, for every worker and thread: a new submission
        checks and records its receipt under it, a correction or a withdrawal reads and
        writes the receipt and its rows under it.

        One `flock` on a file per stripe of keys (STRIPES files, made on first
        use): two requests for the same token always meet, two others rarely.
        """
        with locks.held(self.folder / LOCKS / digest(token)[:2], make_folder=True):
            yield


def _parse(raw: bytes) -> tuple[str, Receipt] | None:
    """One line of the log, or None for the remains of a worker killed mid-line."""
    try:
        key, slug, kind, resource, ids, *rest = json.loads(raw)
        more = rest[0] if rest and isinstance(rest[0], dict) else {}
        applied = tuple(more.get("envois", ()))
        written = tuple((str(k), str(v)) for k, v in dict(more.get("textes", {})).items())
        return key, Receipt(slug, kind, resource, tuple(ids), applied, written)
    except (ValueError, TypeError, AttributeError):
        return None
