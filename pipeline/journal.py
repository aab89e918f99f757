"""The store's journal mechanics: the folder's lock and the intent it carries, complete records, the index of ids.

How `pipeline.store` keeps its promises (listed at the top of store.py):
the exclusive and shared `flock` on `<folder>/.atelier.lock` (re-entrant per
thread), the intent of an append written into that lock file and undone by
the next writer if its writer died, the records found in raw bytes (where
each ends, a torn last one repaired or moved aside), and the per-process
index of ids and sibling ranks that lets an append read only what others
added since.  Nothing here knows a table's meaning beyond its compiled
schema (`pipeline.rowcheck.Table`).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from pipeline import clock, durable, locks, rowcheck, tables
from pipeline.workshop import TABLE_FILES

log = logging.getLogger("pipeline.store")  # what the store did, under the name its users know

LOCK_FILE = ".atelier.lock"
TORN_FILE = ".atelier.torn"  # bytes cut from a torn file, kept for a human to look at


# --- Records: complete CSV rows and where they end ---------------------------------------


@dataclass(frozen=True)
class Record:
    fields: list[str]
    start: int
    end: int


def find_records(data: bytes, file: str) -> tuple[list[Record], int]:
    """The complete records of `data`, and the offset where the complete part ends.

    csv.reader asks for the next line only while a record is unfinished (a
    quoted field spanning lines), so after each record `lines.pos` is exactly
    its end.  A record it flushes after the lines ran out was not terminated.
    """
    lines = tables.ByteLines(data)
    records: list[Record] = []
    start = 0
    try:
        for fields in csv.reader(lines, tables.Dialect):
            if lines.exhausted:
                break
            records.append(Record(fields, start, lines.pos))
            start = lines.pos
    except UnicodeDecodeError as e:
        raise rowcheck.StoreError(f"{file} : le fichier n'est pas en UTF-8 (octet {start + e.start}).") from None
    except csv.Error as e:
        raise rowcheck.StoreError(f"{file} : fichier CSV illisible après l'octet {start} ({e}).") from None
    return records, start


def parse_rows(data: bytes, file: str) -> tuple[list[list[str]], int]:
    """The complete records of `data` (their fields) and where the complete part ends.

    The usual case, a file ending with a newline outside any quote, is parsed
    at C speed in one go (strict, so an end inside a quoted field raises
    instead of passing for a record); a torn or hand-made end takes the
    exact, line-by-line way of `records`.
    """
    if data.endswith(b"\n"):
        with contextlib.suppress(csv.Error, UnicodeDecodeError):
            return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), tables.Dialect, strict=True)), len(data)
    records, end = find_records(data, file)
    return [r.fields for r in records], end


def check_header(table: rowcheck.Table, fields: list[str], folder: Path) -> None:
    """The header must be the schema's, as `pipeline.tables` reads it everywhere (same sentence)."""
    header = list(fields)
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    try:
        tables.check_header(tuple(header), table.names, table.file, str(folder))
    except tables.TableError as e:
        raise rowcheck.StoreError(f"{e} Rien n'a été écrit.") from None


# --- The lock, and the intent it carries -----------------------------------------------

_held = threading.local()


def _open_lock(folder: Path, shared: bool) -> int | None:
    path = folder / LOCK_FILE
    try:
        return locks.open_lock(path, mode=0o644)
    except FileNotFoundError:
        raise rowcheck.StoreError(f"{folder} : ce dossier n'existe pas.") from None
    except OSError as e:
        if not shared or e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise rowcheck.StoreError(f"{path} : verrou impossible à ouvrir ({e.strerror}).") from None
    # A reader in a folder it may not write to (a read-only checkout): nobody can be
    # writing there through the store, so it reads without the lock if it must.
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


@contextlib.contextmanager
def lock(folder: Path, shared: bool) -> Iterator[int | None]:
    key = os.path.abspath(folder)
    held: dict[str, list[Any]] = _held.__dict__.setdefault("locks", {})
    if key in held:  # re-entered by the same thread: the lock is already ours
        if held[key][0] and not shared:
            raise RuntimeError(f"{folder}: cannot take the exclusive lock while holding the shared one")
        held[key][2] += 1
        try:
            yield held[key][1]
        finally:
            held[key][2] -= 1
        return
    fd = _open_lock(folder, shared)
    try:
        if fd is not None:
            locks.acquire(fd, shared=shared)
        held[key] = [shared, fd, 1]
        if not shared and fd is not None:
            _recover(folder, fd)
        yield fd
    finally:
        held.pop(key, None)
        if fd is not None:
            os.close(fd)  # releases the flock


@contextlib.contextmanager
def locked(folder: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the atelier folder's lock: `flock` on `folder/.atelier.lock` (created if missing).

    Exclusive by default: no append or rewrite of the folder's CSV files
    happens meanwhile, and an append interrupted by a crash has been undone,
    so the files hold only whole, committed batches (what `atelier sync` must
    commit).  `shared=True` lets other readers in but no writer.

    Re-entrant within one thread: `append_rows`, `update_rows` and
    `read_table` called inside `with locked(folder):` use the lock already
    held instead of deadlocking on a second one.  Asking for the exclusive
    lock inside a shared one raises RuntimeError.  Two threads, or two
    processes, exclude each other as expected (each `locked` opens its own
    descriptor).  Not for NFS, where flock is not reliable.
    """
    with lock(Path(folder), shared):
        yield


@dataclass(frozen=True)
class Intent:
    """An append in progress: which file, where it starts, what it writes, what precedes it."""

    resource: str
    device: int
    inode: int
    before: int
    length: int
    digest: str  # sha256 of the bytes appended
    anchor: int  # how many bytes before `before` `anchor_digest` covers
    anchor_digest: str

    def line(self) -> bytes:
        body = " ".join(str(v) for v in self.__dict__.values())
        return f"{body} {_checksum(body)}\n".encode()

    @classmethod
    def parse(cls, raw: bytes) -> "Intent | None":
        try:
            *body, check = raw.decode().split("\n", 1)[0].split(" ")
            resource, device, inode, before, length, digest, anchor, anchor_digest = body
            if check != _checksum(" ".join(body)) or resource not in TABLE_FILES:
                return None
            return cls(resource, int(device), int(inode), int(before), int(length), digest, int(anchor), anchor_digest)
        except ValueError:
            return None


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_intent(lock_fd: int) -> tuple[Intent | None, bool]:
    raw = os.pread(lock_fd, 512, 0)
    return (Intent.parse(raw) if raw else None), bool(raw)


def intent_cut(folder: Path, intent: Intent) -> int | None:
    """Where to cut the file an interrupted append left unfinished, or None to keep it whole."""
    path = folder / TABLE_FILES[intent.resource]
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if (st.st_dev, st.st_ino) != (intent.device, intent.inode) or st.st_size <= intent.before:
        return None  # replaced since, or nothing of the batch reached the file
    with open(path, "rb") as f:
        f.seek(intent.before - intent.anchor)
        if hashlib.sha256(f.read(intent.anchor)).hexdigest() != intent.anchor_digest:
            return None  # another file under a reused inode number: not ours to cut
        if st.st_size >= intent.before + intent.length:
            if hashlib.sha256(f.read(intent.length)).hexdigest() == intent.digest:
                return None  # the whole batch is there: it may have been acknowledged, keep it
    return intent.before


def _recover(folder: Path, lock_fd: int) -> None:
    """Undo the append of a writer that died holding the lock (we now hold it exclusively)."""
    intent, present = read_intent(lock_fd)
    if not present:
        return
    if intent is not None:
        cut = intent_cut(folder, intent)
        if cut is not None:
            path = folder / TABLE_FILES[intent.resource]
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            try:
                size = os.fstat(fd).st_size
                os.ftruncate(fd, cut)
                os.fsync(fd)
            finally:
                os.close(fd)
            log.warning(
                "%s : envoi interrompu annulé (%d octets non confirmés retirés après l'octet %d).",
                path,
                size - cut,
                cut,
            )
            clear_intent(lock_fd, durable=True)
            return
    clear_intent(lock_fd, durable=False)


def clear_intent(lock_fd: int, durable: bool) -> None:
    os.ftruncate(lock_fd, 0)
    if durable:
        os.fsync(lock_fd)


def append(fd: int, lock_fd: int, path: Path, table: rowcheck.Table, index: "Index", data: bytes) -> None:
    """Append `data` at the end of the file open on `fd` (at `index.end`), all or nothing; the exclusive lock is held.

    The intent (file, inode, size before, length, digests of the bytes and of
    those before them) is written into the lock file first; then the bytes;
    then the intent is cleared and the index moved past them.  A failed write
    takes back what reached the file (StoreError for a disk error); a writer
    killed half-way is undone by the next one (`_recover`).  Not fsynced: the
    caller does it once the lock is released.
    """
    before = index.end
    intent = Intent(
        table.resource,
        index.device,
        index.inode,
        before,
        len(data),
        hashlib.sha256(data).hexdigest(),
        len(index.anchor),
        hashlib.sha256(index.anchor).hexdigest(),
    )
    os.pwrite(lock_fd, intent.line(), 0)
    try:
        durable.write_all(fd, data)
    except BaseException as e:
        # Take back what reached the file; if even that fails, the intent stays
        # and the next writer does it.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, before)
            os.fsync(fd)
            clear_intent(lock_fd, durable=True)
        indexes.pop(os.path.abspath(path), None)
        if isinstance(e, OSError):
            raise rowcheck.StoreError(
                f"{table.file} : écriture impossible ({e.strerror}) ; rien n'a été enregistré."
            ) from e
        raise
    clear_intent(lock_fd, durable=False)
    index.advance(data)


def rewrite(
    lock_fd: int,
    path: Path,
    table: rowcheck.Table,
    index: "Index",
    data: bytes,
    rows: list[Record],
    replaced: dict[int, bytes],
) -> None:
    """Replace the file `data` was read from by the same bytes with the records `replaced` (by row number);
    the exclusive lock is held.

    A durable replace (pipeline.durable); any intent is cleared durably first,
    so none can outlive the old file's offsets (see the top of store.py).  The
    index of the new file is built from what was written, not read again.
    """
    out = data[: rows[0].start] + b"".join(replaced.get(n, data[r.start : r.end]) for n, r in enumerate(rows))
    tmp = durable.stage(path, out, label=table.resource)
    try:
        st = os.stat(tmp)
        clear_intent(lock_fd, durable=True)
        durable.commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fresh = Index(st.st_dev, st.st_ino, len(out), set(index.keys), out[-ANCHOR:])
    fresh.rank(table, [decoded(replaced.get(n), r.fields) for n, r in enumerate(rows)])
    indexes[os.path.abspath(path)] = fresh


# --- The per-process index of ids --------------------------------------------------------


ANCHOR = 256  # bytes of the file the index checks before trusting what it read


@dataclass
class Index:
    device: int
    inode: int
    end: int = 0  # bytes read so far, always at a record boundary
    keys: set[str] = field(default_factory=set)
    anchor: bytes = b""  # the last bytes before `end`, as read
    last: dict[tuple[str, ...], int] = field(default_factory=dict)  # sibling group → its highest rank

    def rank(self, table: "rowcheck.Table", records: list[list[str]]) -> None:
        """Note the ranks of `records` (fields in the table's column order) in their sibling groups."""
        order = table.order
        if order is None:
            return
        columns, rank = order
        for record in records:
            if len(record) != len(table.names):
                continue
            group = tuple(record[i] for i in columns)
            with contextlib.suppress(ValueError):
                value = int(record[rank])
                if value > self.last.get(group, 0):
                    self.last[group] = value

    def advance(self, data: bytes) -> None:
        self.end += len(data)
        self.anchor = (self.anchor + data)[-ANCHOR:]


indexes: dict[str, Index] = {}


def refresh(fd: int, path: Path, table: rowcheck.Table, *, repair: bool) -> Index:
    """Bring the index of ids of the file open on `fd` up to date; the folder lock is held.

    With `repair`, a torn end is repaired so that the file ends at
    `index.end`; without, it is left alone and not indexed.
    """
    st = os.fstat(fd)
    key = os.path.abspath(path)
    index = indexes.get(key)
    if (
        index is None
        or (index.device, index.inode) != (st.st_dev, st.st_ino)
        or st.st_size < index.end
        # ext4 hands a freed inode number to the next new file at once: a file
        # rewritten twice, or replaced by git, can come back with the same
        # (device, inode) and its rows at other offsets.  Reading on from `end`
        # there could start inside a quoted text and take good rows for a torn end.
        or pread_all(fd, len(index.anchor), index.end - len(index.anchor)) != index.anchor
    ):
        index = Index(st.st_dev, st.st_ino)
        indexes.pop(key, None)
    if st.st_size > index.end:
        data = pread_all(fd, st.st_size - index.end, index.end)
        rows, complete = parse_rows(data, table.file)
        if index.end == 0 and rows:
            check_header(table, rows[0], path.parent)
            rows = rows[1:]
        position = table.names.index(table.key)
        index.keys.update(r[position] for r in rows if len(r) > position)
        index.rank(table, rows)
        index.advance(data[:complete])
        if complete < len(data) and repair:
            _repair_tail(fd, path, table, index, data[complete:])
    indexes[key] = index
    return index


def _repair_tail(fd: int, path: Path, table: rowcheck.Table, index: Index, tail: bytes) -> None:
    """The file ends in an unterminated record and no append is pending: finish or move it aside."""
    fields: list[str] | None = None
    with contextlib.suppress(csv.Error, UnicodeDecodeError):
        rows = list(csv.reader(io.StringIO(tail.decode("utf-8"), newline=""), tables.Dialect, strict=True))
        fields = rows[0] if len(rows) == 1 else None
    complete = False
    if fields is not None and index.end == 0:
        complete = tuple(fields) == table.names
    elif fields is not None and len(fields) == len(table.names):
        with contextlib.suppress(rowcheck.StoreError):
            for name, cell in zip(table.names, fields):
                table.cell(name, cell, "", 0)
            complete = True
    if complete:
        durable.write_all(fd, b"\n")  # an editor saved it without the final newline
        os.fsync(fd)
        if index.end > 0:
            index.keys.add(fields[table.names.index(table.key)])  # type: ignore[index]
            index.rank(table, [fields])  # type: ignore[list-item]
        index.advance(tail + b"\n")
        log.warning("%s : fin de ligne ajoutée à la dernière ligne, complète et valide.", path)
        return
    note = f"# {clock.stamp()} {path.name} : octets {index.end}-{index.end + len(tail)} retirés\n".encode()
    torn = os.open(path.parent / TORN_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        durable.write_all(torn, note + tail + b"\n")
        os.fsync(torn)
    finally:
        os.close(torn)
    os.ftruncate(fd, index.end)
    os.fsync(fd)
    log.warning(
        "%s : dernière ligne incomplète (%d octets) retirée et conservée dans %s.", path, len(tail), TORN_FILE
    )


def decoded(record: bytes | None, fields: list[str]) -> list[str]:
    """The fields of a rewritten record (or the unchanged ones)."""
    if record is None:
        return fields
    return next(csv.reader(io.StringIO(record.decode("utf-8"), newline=""), tables.Dialect), [])


def pread_all(fd: int, length: int, offset: int) -> bytes:
    chunks = []
    while length > 0:
        chunk = os.pread(fd, length, offset)
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)
