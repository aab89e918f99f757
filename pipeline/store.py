"""The safe store of an atelier's CSV files: checked rows, locked all-or-nothing appends and rewrites."""

# What the store promises, and how.
#
# * A row is checked against its Table Schema (schemas/*.json, compiled once
#   per process) and against the primary and foreign keys before anything is
#   written; a refused batch writes nothing.
# * Writers take an exclusive `flock` on `<folder>/.atelier.lock`.  An append
#   opens the CSV only after taking the lock, so it can never write into a
#   file that `update_rows` has just replaced.
# * One batch is one `os.write` loop on an O_APPEND descriptor, then `fsync`
#   once the lock is released (so concurrent fsyncs share a journal commit).
#   `append_rows` returns only after the fsync: a participant is told
#   « enregistré » only for bytes that are on disk.
# * All-or-nothing: before writing, the appender records its intent (file,
#   inode, size before, length, sha256 of the bytes and of the 256 bytes
#   before them) in the lock file.  If it dies (kill -9) half-way, the next
#   process to take the exclusive lock cuts the file back to the size before,
#   and readers (shared lock) ignore the bytes after it until then.  A batch found complete is kept even if its
#   writer died before clearing the intent: it may have been acknowledged.
#   The intent is not fsynced (that would double the cost of an append): a
#   kill -9 leaves the page cache intact, which is what it must survive.  After
#   a power loss an unacknowledged batch may survive in part, as whole rows; a
#   torn last record is repaired as below.  An acknowledged batch is never cut:
#   its bytes match the recorded digest, and the lock file is cleared durably
#   before any cut or rewrite, so a stale intent cannot cut later rows.
# * A file that does not end at a record boundary without a pending intent
#   (power loss, or an editor that saved without the final newline) is
#   repaired on the next write under the lock: a complete, valid last row only
#   lacking its newline gets it; anything else is moved to `.atelier.torn`
#   (never silently deleted) and cut off.  `read_table` ignores such a tail.
#   Records are found with the csv module itself, so a newline inside a quoted
#   text is never mistaken for the end of a row.
# * Primary and foreign keys are checked against a per-process index of the
#   ids in each file: the byte offset read so far, the ids before it, and the
#   last 256 bytes before it.  An append reads only the bytes other processes
#   added since; a file that is another inode, shorter, or no longer holds
#   those 256 bytes at that offset (rewritten, replaced by git, an inode number
#   reused) is read again from the start.  Ids never change and rows are never
#   removed by the store, so a hand edit that keeps the end of the file as it
#   was can only leave an id the index still believes in; frictionless in CI
#   has the last word on such a file.
# * Text is stored exactly as typed, with one exception: CR LF becomes LF.
#   Browsers send every line break of a textarea as CR LF (HTML form
#   submission normalises them); what the person typed is a line break, which
#   the textarea's own value holds as LF.  Keeping CR would also put `^M` in
#   every diff a reviewer reads.  A lone CR is refused like other controls.

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import hashlib
import io
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from pipeline import clock, durable, locks, schemas, tables, textrules
from pipeline.durable import replace_file  # noqa: F401  (re-exported: callers know it as store.replace_file)
from pipeline.workshop import (
    TABLE_FILES,
    WORKSHOP_FILE,
    AtelierError,
    Workshop,
    format_datetime,
    parse_datetime,
    read_workshop_yaml,
    workshop_from_data,
)

log = logging.getLogger(__name__)

LOCK_FILE = ".atelier.lock"
TORN_FILE = ".atelier.torn"  # bytes cut from a torn file, kept for a human to look at
TMP_PREFIX = durable.TMP_PREFIX  # rewrites in progress; leftovers of a crash are removed by the next one
RESOURCES = tuple(TABLE_FILES)

# C0 controls but tab and line feed, DEL and C1 controls: invisible, never typed, and
# they break terminals, spreadsheets and the PDF.  Surrogates cannot be encoded in UTF-8.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_ID_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,46}")  # + "-" + 16 hex ≤ 64 characters


# Arrival order: a table whose rows are ordered among their siblings names the columns that make
# two rows siblings and the column that ranks them.  The index keeps each sibling group's last rank,
# so `append_rows(..., after_siblings=True)` puts what arrives after what is there without reading
# the table (README: « l'ordre d'arrivée »).
SIBLINGS = {"contributions": (("question", "phase", "group", "section", "parent"), "position")}


class StoreError(AtelierError):
    """A row was refused or could not be written; the message is a French sentence.

    `field`, `value` and `row` (1-based position in the batch, or the row's
    id for an update) say where, so a form can put the message beside its input.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        row: int | str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.row = row


def _q(value: Any, limit: int = 50) -> str:
    """« value » for a message: short, and without the invisible characters it may be refused for."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("\ufffd", text))
    return f"« {text} »"


def _or(values: list[Any]) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " ou " + words[-1]


# --- The table schemas, compiled into checks --------------------------------------------


class DuplicateKey(StoreError):
    """A row's id is already in the file: the batch (all or nothing) was written before."""


class _Refusal(Exception):
    """One cell is refused; the argument is the French reason."""


@dataclass(frozen=True)
class _Field:
    name: str
    required: bool
    to_cell: Callable[[Any], str]  # Python value → cell text, or _Refusal
    checks: tuple[Callable[[str], str | None], ...]  # on a non-empty cell: the problem, or None
    multiline: bool | None  # a text column: may it span lines (pipeline.textrules); None for other types


@dataclass(frozen=True)
class _Reference:
    field: str
    resource: str
    target: str  # the referenced field, always the primary key of `resource`


@dataclass(frozen=True)
class _Table:
    resource: str
    file: str
    names: tuple[str, ...]
    fields: dict[str, _Field]
    key: str
    references: tuple[_Reference, ...]
    header: bytes
    order: tuple[tuple[int, ...], int] | None = None  # SIBLINGS as column indexes

    def cells(self, row: Mapping[str, Any], where: str, position: int | str) -> dict[str, str]:
        """Check one row given as Python values; return its cells in column order."""
        if not isinstance(row, Mapping):
            raise TypeError(f"a row is a mapping of field names to values, not {type(row).__name__}")
        for name in row:
            if name not in self.fields:
                raise StoreError(
                    f"{where}, champ {_q(name)} : champ inconnu ; les champs sont {', '.join(self.names)}.",
                    field=str(name),
                    value=row[name],
                    row=position,
                )
        return {name: self.cell(name, row.get(name), where, position) for name in self.names}

    def cell(self, name: str, value: Any, where: str, position: int | str) -> str:
        spec = self.fields[name]
        try:
            # "" is the schema's missing value whatever the type (an empty form input).
            text = "" if value is None or value == "" else spec.to_cell(value)
            if text:
                _check_characters(spec, text)
            if text == "":
                if spec.required:
                    raise _Refusal("valeur obligatoire manquante.")
            else:
                for check in spec.checks:
                    problem = check(text)
                    if problem:
                        raise _Refusal(problem)
        except _Refusal as refusal:
            raise StoreError(
                f"{where}, champ {_q(name)} : {refusal}", field=name, value=value, row=position
            ) from None
        return text

    def encode(self, rows: list[dict[str, str]]) -> bytes:
        return tables.encode_rows([row[name] for name in self.names] for row in rows)


def _check_characters(spec: _Field, text: str) -> None:
    """The text rules of pipeline.textrules (the form's and `atelier validate`'s too), then UTF-8.

    Numbers, booleans and dates are written by `to_cell` from checked values:
    only text columns can hold what the rules forbid."""
    if spec.multiline is not None:
        violation = textrules.check_text(text, multiline=spec.multiline)
        if violation is not None:
            raise _Refusal(violation.message)
    found = _SURROGATE.search(text)
    if found:
        raise _Refusal(
            f"caractère invalide U+{ord(found.group()):04X} interdit (position {found.start() + 1}) dans {_q(text)}."
        )


def _string_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    def to_cell(value: Any) -> str:
        if not isinstance(value, str):
            raise _Refusal(f"{_q(value)} n'est pas un texte.")
        return value.replace("\r\n", "\n")  # see « CR LF » at the top of the module

    return to_cell, str


def _integer_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    def to_cell(value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return str(int(value))
        raise _Refusal(f"{_q(value)} n'est pas un nombre entier.")

    return to_cell, int


def _boolean_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    # Frictionless' defaults when the schema does not list the values.
    true_values = desc.get("trueValues", ["true", "True", "TRUE", "1"])
    false_values = desc.get("falseValues", ["false", "False", "FALSE", "0"])

    def to_cell(value: Any) -> str:
        if isinstance(value, bool):
            return true_values[0] if value else false_values[0]
        if isinstance(value, str) and value in true_values + false_values:
            return value
        raise _Refusal(f"{_q(value)} n'est pas une valeur booléenne ({_or(true_values + false_values)}).")

    return to_cell, lambda cell: cell in true_values


def _datetime_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    if desc.get("format", "default") != "default":
        raise NotImplementedError(f"datetime format {desc['format']!r} in field {desc['name']!r}")
    example = "2016-06-30T09:00:00Z"

    def to_cell(value: Any) -> str:
        if isinstance(value, dt.datetime):
            # Naive values are UTC, as in pipeline.workshop.parse_datetime.
            return format_datetime(value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc))
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                if format_datetime(parse_datetime(value)) == value:
                    return value
        raise _Refusal(f"{_q(value)} n'est pas une date et heure UTC au format {example}.")

    return to_cell, parse_datetime


def _date_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    def to_cell(value: Any) -> str:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                if dt.date.fromisoformat(value).isoformat() == value:
                    return value
        raise _Refusal(f"{_q(value)} n'est pas une date au format AAAA-MM-JJ (2016-06-30).")

    return to_cell, dt.date.fromisoformat


_TYPES = {
    "date": _date_type,
    "string": _string_type,
    "integer": _integer_type,
    "boolean": _boolean_type,
    "datetime": _datetime_type,
}
_FIELD_KEYS = {"name", "type", "title", "description", "constraints", "trueValues", "falseValues", "format"}
_SCHEMA_KEYS = {"title", "description", "fields", "missingValues", "primaryKey", "foreignKeys"}


def _constraint_checks(
    desc: dict[str, Any], parse: Callable[[str], Any]
) -> tuple[bool, list[Callable[[str], str | None]]]:
    """Turn a field's constraints into checks on its cell text; refuse what we do not know."""
    constraints = dict(desc.get("constraints", {}))
    required = bool(constraints.pop("required", False))
    constraints.pop("unique", None)  # only on primary keys, which the store checks itself
    return required, [_constraint(desc["name"], name, value, parse) for name, value in constraints.items()]


def _constraint(field: str, name: str, value: Any, parse: Callable[[str], Any]) -> Callable[[str], str | None]:
    """One constraint of a Table Schema as a check: the cell's problem in French, or None."""

    def bound() -> Any:
        return parse(value) if isinstance(value, str) else value

    if name == "pattern":
        regex = re.compile(value)
        return lambda cell: None if regex.fullmatch(cell) else f"{_q(cell)} ne respecte pas le format attendu ({value})."
    if name == "minLength":
        return lambda cell: (
            None if len(cell) >= value else f"{_q(cell)} est trop court ({len(cell)} caractères, au moins {value})."
        )
    if name == "maxLength":
        return lambda cell: (
            None if len(cell) <= value else f"{_q(cell)} est trop long ({len(cell)} caractères, au plus {value})."
        )
    if name == "enum":
        allowed = [parse(v) if isinstance(v, str) else v for v in value]
        return lambda cell: None if parse(cell) in allowed else f"{_q(cell)} n'est pas une valeur permise ({_or(value)})."
    limit = bound() if name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") else None
    if name == "minimum":
        return lambda cell: None if parse(cell) >= limit else f"{_q(cell)} est inférieur au minimum {value}."
    if name == "maximum":
        return lambda cell: None if parse(cell) <= limit else f"{_q(cell)} est supérieur au maximum {value}."
    if name == "exclusiveMinimum":
        return lambda cell: None if parse(cell) > limit else f"{_q(cell)} doit être strictement supérieur à {value}."
    if name == "exclusiveMaximum":
        return lambda cell: None if parse(cell) < limit else f"{_q(cell)} doit être strictement inférieur à {value}."
    # A rule the store does not know would silently not be enforced: fail loudly instead.
    raise NotImplementedError(f"constraint {name!r} of field {field!r}")


@cache
def _table(resource: str) -> _Table:
    """The compiled schema of a resource (once per process)."""
    schema = schemas.table_schema(resource)
    if set(schema) - _SCHEMA_KEYS:
        raise NotImplementedError(f"{resource} schema keys {sorted(set(schema) - _SCHEMA_KEYS)}")
    if schema.get("missingValues", [""]) != [""]:
        raise NotImplementedError(f"{resource} missingValues other than [\"\"]")
    key = schema["primaryKey"]
    key = key[0] if isinstance(key, list) and len(key) == 1 else key
    if not isinstance(key, str):
        raise NotImplementedError(f"{resource} composite primary key {key!r}")
    fields: dict[str, _Field] = {}
    for desc in schema["fields"]:
        if set(desc) - _FIELD_KEYS or desc["type"] not in _TYPES:
            raise NotImplementedError(f"{resource}.{desc['name']}: {desc}")
        if desc.get("constraints", {}).get("unique") and desc["name"] != key:
            raise NotImplementedError(f"unique constraint on {resource}.{desc['name']}, not the primary key")
        to_cell, parse = _TYPES[desc["type"]](desc)
        required, checks = _constraint_checks(desc, parse)
        text = desc["type"] == "string"
        multiline = (resource, desc["name"]) in textrules.MULTILINE_FIELDS if text else None
        fields[desc["name"]] = _Field(desc["name"], required, to_cell, tuple(checks), multiline)
    references = []
    for fk in schema.get("foreignKeys", ()):
        source, target = fk["fields"], fk["reference"]["fields"]
        source = source[0] if isinstance(source, list) and len(source) == 1 else source
        target = target[0] if isinstance(target, list) and len(target) == 1 else target
        other = fk["reference"]["resource"] or resource
        if other not in TABLE_FILES or not isinstance(source, str) or target != _primary_key(other, resource, key):
            raise NotImplementedError(f"{resource} foreign key {fk}")
        references.append(_Reference(source, other, target))
    names = tuple(fields)
    order = None
    if resource in SIBLINGS:
        columns, rank = SIBLINGS[resource]
        order = (tuple(names.index(c) for c in columns), names.index(rank))
    return _Table(
        resource, TABLE_FILES[resource], names, fields, key, tuple(references), tables.encode_rows([names]), order
    )


def _primary_key(resource: str, current: str, current_key: str) -> str:
    if resource == current:
        return current_key
    key = schemas.table_schema(resource)["primaryKey"]
    return key[0] if isinstance(key, list) else key


def _table_of(resource: str) -> _Table:
    if resource not in TABLE_FILES:
        raise StoreError(f"ressource {_q(resource)} inconnue ; les ressources sont {', '.join(RESOURCES)}.")
    return _table(resource)


# --- Records: complete CSV rows and where they end ---------------------------------------


@dataclass(frozen=True)
class _Record:
    fields: list[str]
    start: int
    end: int


def _records(data: bytes, file: str) -> tuple[list[_Record], int]:
    """The complete records of `data`, and the offset where the complete part ends.

    csv.reader asks for the next line only while a record is unfinished (a
    quoted field spanning lines), so after each record `lines.pos` is exactly
    its end.  A record it flushes after the lines ran out was not terminated.
    """
    lines = tables.ByteLines(data)
    records: list[_Record] = []
    start = 0
    try:
        for fields in csv.reader(lines, tables.Dialect):
            if lines.exhausted:
                break
            records.append(_Record(fields, start, lines.pos))
            start = lines.pos
    except UnicodeDecodeError as e:
        raise StoreError(f"{file} : le fichier n'est pas en UTF-8 (octet {start + e.start}).") from None
    except csv.Error as e:
        raise StoreError(f"{file} : fichier CSV illisible après l'octet {start} ({e}).") from None
    return records, start


def _rows(data: bytes, file: str) -> tuple[list[list[str]], int]:
    """The complete records of `data` (their fields) and where the complete part ends.

    The usual case, a file ending with a newline outside any quote, is parsed
    at C speed in one go (strict, so an end inside a quoted field raises
    instead of passing for a record); a torn or hand-made end takes the
    exact, line-by-line way of `_records`.
    """
    if data.endswith(b"\n"):
        with contextlib.suppress(csv.Error, UnicodeDecodeError):
            return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), tables.Dialect, strict=True)), len(data)
    records, end = _records(data, file)
    return [r.fields for r in records], end


def _check_header(table: _Table, fields: list[str], folder: Path) -> None:
    """The header must be the schema's, as `pipeline.tables` reads it everywhere (same sentence)."""
    header = list(fields)
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    try:
        tables.check_header(tuple(header), table.names, table.file, str(folder))
    except tables.TableError as e:
        raise StoreError(f"{e} Rien n'a été écrit.") from None


# --- The lock, and the intent it carries -----------------------------------------------

_held = threading.local()


def _open_lock(folder: Path, shared: bool) -> int | None:
    path = folder / LOCK_FILE
    try:
        return locks.open_lock(path, mode=0o644)
    except FileNotFoundError:
        raise StoreError(f"{folder} : ce dossier n'existe pas.") from None
    except OSError as e:
        if not shared or e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise StoreError(f"{path} : verrou impossible à ouvrir ({e.strerror}).") from None
    # A reader in a folder it may not write to (a read-only checkout): nobody can be
    # writing there through the store, so it reads without the lock if it must.
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


@contextlib.contextmanager
def _lock(folder: Path, shared: bool) -> Iterator[int | None]:
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
    with _lock(Path(folder), shared):
        yield


@dataclass(frozen=True)
class _Intent:
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
    def parse(cls, raw: bytes) -> "_Intent | None":
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


def _read_intent(lock_fd: int) -> tuple[_Intent | None, bool]:
    raw = os.pread(lock_fd, 512, 0)
    return (_Intent.parse(raw) if raw else None), bool(raw)


def _intent_cut(folder: Path, intent: _Intent) -> int | None:
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
    intent, present = _read_intent(lock_fd)
    if not present:
        return
    if intent is not None:
        cut = _intent_cut(folder, intent)
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
            _clear_intent(lock_fd, durable=True)
            return
    _clear_intent(lock_fd, durable=False)


def _clear_intent(lock_fd: int, durable: bool) -> None:
    os.ftruncate(lock_fd, 0)
    if durable:
        os.fsync(lock_fd)


# --- The per-process index of ids --------------------------------------------------------


ANCHOR = 256  # bytes of the file the index checks before trusting what it read


@dataclass
class _Index:
    device: int
    inode: int
    end: int = 0  # bytes read so far, always at a record boundary
    keys: set[str] = field(default_factory=set)
    anchor: bytes = b""  # the last bytes before `end`, as read
    last: dict[tuple[str, ...], int] = field(default_factory=dict)  # sibling group → its highest rank

    def rank(self, table: "_Table", records: list[list[str]]) -> None:
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


_indexes: dict[str, _Index] = {}


def _refresh(fd: int, path: Path, table: _Table, *, repair: bool) -> _Index:
    """Bring the index of ids of the file open on `fd` up to date; the folder lock is held.

    With `repair`, a torn end is repaired so that the file ends at
    `index.end`; without, it is left alone and not indexed.
    """
    st = os.fstat(fd)
    key = os.path.abspath(path)
    index = _indexes.get(key)
    if (
        index is None
        or (index.device, index.inode) != (st.st_dev, st.st_ino)
        or st.st_size < index.end
        # ext4 hands a freed inode number to the next new file at once: a file
        # rewritten twice, or replaced by git, can come back with the same
        # (device, inode) and its rows at other offsets.  Reading on from `end`
        # there could start inside a quoted text and take good rows for a torn end.
        or _pread_all(fd, len(index.anchor), index.end - len(index.anchor)) != index.anchor
    ):
        index = _Index(st.st_dev, st.st_ino)
        _indexes.pop(key, None)
    if st.st_size > index.end:
        data = _pread_all(fd, st.st_size - index.end, index.end)
        rows, complete = _rows(data, table.file)
        if index.end == 0 and rows:
            _check_header(table, rows[0], path.parent)
            rows = rows[1:]
        position = table.names.index(table.key)
        index.keys.update(r[position] for r in rows if len(r) > position)
        index.rank(table, rows)
        index.advance(data[:complete])
        if complete < len(data) and repair:
            _repair_tail(fd, path, table, index, data[complete:])
    _indexes[key] = index
    return index


def _repair_tail(fd: int, path: Path, table: _Table, index: _Index, tail: bytes) -> None:
    """The file ends in an unterminated record and no append is pending: finish or move it aside."""
    fields: list[str] | None = None
    with contextlib.suppress(csv.Error, UnicodeDecodeError):
        rows = list(csv.reader(io.StringIO(tail.decode("utf-8"), newline=""), tables.Dialect, strict=True))
        fields = rows[0] if len(rows) == 1 else None
    complete = False
    if fields is not None and index.end == 0:
        complete = tuple(fields) == table.names
    elif fields is not None and len(fields) == len(table.names):
        with contextlib.suppress(StoreError):
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


def _decoded(record: bytes | None, fields: list[str]) -> list[str]:
    """The fields of a rewritten record (or the unchanged ones)."""
    if record is None:
        return fields
    return next(csv.reader(io.StringIO(record.decode("utf-8"), newline=""), tables.Dialect), [])


def _pread_all(fd: int, length: int, offset: int) -> bytes:
    chunks = []
    while length > 0:
        chunk = os.pread(fd, length, offset)
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _known_keys(folder: Path, resource: str) -> set[str]:
    """Ids of another table of the folder (for a foreign key), under the lock already held."""
    table = _table(resource)
    try:
        fd = os.open(folder / table.file, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return set()
    try:
        return _refresh(fd, folder / table.file, table, repair=False).keys
    finally:
        os.close(fd)


def _check_references(
    table: _Table,
    folder: Path,
    cells: dict[str, str],
    keys: dict[str, Any],
    where: str,
    position: int | str,
) -> None:
    """Check the row's foreign keys.  `keys` holds the ids of the row's own table (a set,
    or the rows of the batch) and gets those of other tables the first time one is needed."""
    for ref in table.references:
        value = cells[ref.field]
        if not value:
            continue
        if ref.resource == table.resource:
            found = any(value in known for known in keys[table.resource])
        else:
            if ref.resource not in keys:
                keys[ref.resource] = (_known_keys(folder, ref.resource),)
            found = value in keys[ref.resource][0]
        if not found:
            raise StoreError(
                f"{where}, champ {_q(ref.field)} : {_q(value)} ne correspond à aucun "
                f"{_q(ref.target)} de {TABLE_FILES[ref.resource]}.",
                field=ref.field,
                value=value,
                row=position,
            )


# --- The public operations ---------------------------------------------------------------


def new_id(prefix: str) -> str:
    """A fresh row id: `new_id("c")` → `c-3f9a0c5e1b2d4a67` (64 random bits, hex).

    Unguessable enough that a collision never happens in practice and ids
    cannot be enumerated; URL-safe, and valid for the schemas' id pattern.
    """
    if not _ID_PREFIX.fullmatch(prefix):
        raise ValueError(f"id prefix {prefix!r} must match {_ID_PREFIX.pattern}")
    return f"{prefix}-{secrets.token_hex(8)}"


_workshops: dict[str, tuple[tuple[int, int, int], Workshop | None]] = {}


def _workshop(folder: Path) -> Workshop | None:
    """The folder's atelier.yaml as read now (kept while its inode, size and date stay), or None."""
    path = folder / WORKSHOP_FILE
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    key = os.path.abspath(path)
    cached = _workshops.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        workshop: Workshop | None = workshop_from_data(folder.name, read_workshop_yaml(path))
    except (AtelierError, KeyError, TypeError, ValueError):
        workshop = None  # `atelier validate` says why; the tables' own rules still apply
    _workshops[key] = (stamp, workshop)
    return workshop


def folder_workshop(folder: Path) -> Workshop | None:
    """The folder's atelier.yaml as the store reads it (cached while the file stays), None when unreadable."""
    return _workshop(Path(folder))


def _check_columns(folder: Path, table: "_Table", cells: list[dict[str, str]], where: str) -> None:
    """A point goes only in a column atelier.yaml declares (question, phase, group, rubric)."""
    workshop = _workshop(folder) if table.resource == "contributions" else None
    if workshop is None:
        return
    for i, row in enumerate(cells, 1):
        found = workshop.column_problem(row["question"], row["phase"], row["group"], row["section"])
        if found:
            field_name, reason = found
            raise StoreError(
                f"{where.format(i)}, champ {_q(field_name)} : {reason}", field=field_name, value=row[field_name], row=i
            )


def append_rows(
    folder: Path, resource: str, rows: list[dict[str, Any]], *, after_siblings: bool = False
) -> list[dict[str, str]]:
    """Append a batch of rows to `folder/<resource>.csv`, all or nothing; return them as stored.

    `rows` hold Python values (str, int, bool, datetime, None) by field name;
    a missing optional field is empty.  Every row is checked against the
    schema, the primary key and the foreign keys (a reference may point to a
    row of the same batch) before anything is written; a refusal raises
    StoreError and writes nothing.  Returns after the batch is on disk
    (fsync).  An idea with its précisions is one batch.

    `after_siblings` (a table of SIBLINGS): a row whose parent is not in the
    batch gets, in place of its rank N, the rank of the last row already in
    its sibling group plus N, decided under the lock: what arrives goes after
    what is there, and one batch's rows stay together.  An id already in the
    file raises DuplicateKey (a StoreError): the batch was written before.
    """
    table = _table_of(resource)
    folder = Path(folder)
    where = f"{table.file}: ligne {{}} de l'envoi"
    cells = [table.cells(row, where.format(i), i) for i, row in enumerate(rows, 1)]
    if not cells:
        return []
    _check_columns(Path(folder), table, cells, where)
    batch: dict[str, int] = {}
    for i, row in enumerate(cells, 1):
        key = row[table.key]
        if key in batch:
            raise StoreError(
                f"{where.format(i)}, champ {_q(table.key)} : l'identifiant {_q(key)} "
                f"figure déjà à la ligne {batch[key]} de l'envoi.",
                field=table.key,
                value=key,
                row=i,
            )
        batch[key] = i
    ranked = after_siblings and table.order is not None  # ranks decided under the lock, then encoded
    payload = b"" if ranked else table.encode(cells)
    path = folder / table.file
    with _lock(folder, shared=False) as lock_fd:
        assert lock_fd is not None  # the exclusive lock always has its file
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            index = _refresh(fd, path, table, repair=True)
            keys: dict[str, Any] = {resource: (index.keys, batch)}
            for i, row in enumerate(cells, 1):
                if row[table.key] in index.keys:
                    raise DuplicateKey(
                        f"{where.format(i)}, champ {_q(table.key)} : l'identifiant "
                        f"{_q(row[table.key])} est déjà utilisé dans {table.file}.",
                        field=table.key,
                        value=row[table.key],
                        row=i,
                    )
                _check_references(table, folder, row, keys, where.format(i), i)
            if ranked:
                payload = table.encode(_after_siblings(table, cells, batch, index, where))
            data = payload if index.end else table.header + payload
            before = index.end  # the file ends there: _refresh repaired any torn end
            intent = _Intent(
                resource,
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
                    _clear_intent(lock_fd, durable=True)
                _indexes.pop(os.path.abspath(path), None)
                if isinstance(e, OSError):
                    raise StoreError(
                        f"{table.file} : écriture impossible ({e.strerror}) ; rien n'a été enregistré."
                    ) from e
                raise
            _clear_intent(lock_fd, durable=False)
            index.advance(data)
            index.keys.update(batch)
            index.rank(table, [[row[name] for name in table.names] for row in cells])
        except BaseException:
            os.close(fd)
            raise
    # The fsync comes after the lock is released: the batch is whole in the page cache
    # (what readers and a kill -9 see), and writers that fsync at the same time share
    # one journal commit instead of queueing behind the lock (bench/bench_store.py: 2
    # to 3 times the appends per second with 4 processes, and a quarter of the p99).
    # The caller still hears « enregistré » only once its bytes are on disk.
    try:
        os.fsync(fd)
        if before == 0:
            durable.fsync_dir(folder)  # the file may be new: make its directory entry durable too
    except OSError as e:
        raise StoreError(
            f"{table.file} : enregistrement non confirmé par le disque ({e.strerror}) ; "
            "les lignes peuvent figurer dans le fichier."
        ) from e
    finally:
        os.close(fd)
    return cells


def _after_siblings(
    table: _Table, cells: list[dict[str, str]], batch: dict[str, int], index: _Index, where: str
) -> list[dict[str, str]]:
    """The batch's rows, those whose parent is not in the batch ranked after their sibling group's last."""
    assert table.order is not None
    columns, rank = table.order
    names = [table.names[i] for i in columns]
    rank_name = table.names[rank]
    parent = next(ref.field for ref in table.references if ref.resource == table.resource)
    for i, row in enumerate(cells, 1):
        if row[parent] in batch:
            continue
        shifted = index.last.get(tuple(row[n] for n in names), 0) + int(row[rank_name])
        row[rank_name] = table.cell(rank_name, shifted, where.format(i), i)
    return cells


def last_ranks(folder: Path, resource: str) -> dict[tuple[str, ...], int]:
    """Each sibling group's highest rank (SIBLINGS), from the index; call it under `locked(folder)`."""
    table = _table_of(resource)
    path = Path(folder) / table.file
    with _lock(Path(folder), shared=True):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return {}
        try:
            return dict(_refresh(fd, path, table, repair=False).last)
        finally:
            os.close(fd)


def update_rows(folder: Path, resource: str, changes: dict[str, dict[str, Any]]) -> None:
    """Change fields of existing rows, by id (corrections, withdrawals, moderation).

    Under the exclusive lock: read the file, apply and check the changes (an
    unknown id, a refused value or a change of id raises StoreError and
    nothing is written), write the whole file to a temporary file in the same
    folder, fsync, `os.replace`, fsync the folder.  Rows not changed keep
    their exact bytes, so a review diff shows only what changed.  The caller
    sets `updated_at` when the change is a correction.
    """
    table = _table_of(resource)
    folder = Path(folder)
    path = folder / table.file
    if not changes:
        return
    with _lock(folder, shared=False) as lock_fd:
        assert lock_fd is not None
        for leftover in folder.glob(TMP_PREFIX + "*"):
            leftover.unlink()  # a rewrite that crashed; only rewrites (under this lock) make them
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = None
        if fd is None:
            data = b""
            index = _Index(0, 0)
        else:
            try:
                index = _refresh(fd, path, table, repair=True)
                data = _pread_all(fd, index.end, 0)
            finally:
                os.close(fd)
        records, _ = _records(data, table.file)
        rows = records[1:]
        position = table.names.index(table.key)
        by_id = {r.fields[position]: n for n, r in enumerate(rows) if len(r.fields) > position}
        replaced: dict[int, bytes] = {}
        for row_id, change in changes.items():
            where = f"{table.file}: identifiant {_q(row_id)}"
            if row_id not in by_id:
                raise StoreError(f"{table.file} : l'identifiant {_q(row_id)} est introuvable ; rien n'a été modifié.", row=row_id)
            record = rows[by_id[row_id]]
            if len(record.fields) != len(table.names):
                raise StoreError(
                    f"{where} : la ligne a {len(record.fields)} champs au lieu de {len(table.names)}"
                    f" ; rien n'a été modifié.",
                    row=row_id,
                )
            current = dict(zip(table.names, record.fields))
            for name, value in change.items():
                if name not in table.fields:
                    raise StoreError(
                        f"{where}, champ {_q(name)} : champ inconnu ; les champs sont {', '.join(table.names)}.",
                        field=str(name),
                        value=value,
                        row=row_id,
                    )
                # Only changed cells are checked: the others were accepted when written,
                # and an old hand-made quirk must not block a moderation decision.
                current[name] = table.cell(name, value, where, row_id)
            if current[table.key] != row_id:
                raise StoreError(
                    f"{where}, champ {_q(table.key)} : un identifiant ne change jamais "
                    f"({_q(current[table.key])} demandé).",
                    field=table.key,
                    value=current[table.key],
                    row=row_id,
                )
            if any(ref.field in change for ref in table.references):
                _check_references(table, folder, current, {resource: (by_id,)}, where, row_id)
            new = table.encode([current])
            if new != data[record.start : record.end]:
                replaced[by_id[row_id]] = new
        if not replaced:
            return
        out = data[: rows[0].start] + b"".join(
            replaced.get(n, data[r.start : r.end]) for n, r in enumerate(rows)
        )
        tmp = durable.stage(path, out, label=resource)
        try:
            st = os.stat(tmp)
            # No stale intent may outlive the old file's offsets (see the top of the module).
            _clear_intent(lock_fd, durable=True)
            durable.commit(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fresh = _Index(st.st_dev, st.st_ino, len(out), set(index.keys), out[-ANCHOR:])
        fresh.rank(table, [_decoded(replaced.get(n), r.fields) for n, r in enumerate(rows)])
        _indexes[os.path.abspath(path)] = fresh


def _committed(folder: Path, resource: str) -> tuple[bytes, list[list[str]]]:
    table = _table_of(resource)
    folder = Path(folder)
    with _lock(folder, shared=True) as lock_fd:
        try:
            data = (folder / table.file).read_bytes()
        except FileNotFoundError:
            return b"", []
        if lock_fd is not None:
            intent, _ = _read_intent(lock_fd)
            if intent is not None and intent.resource == resource:
                cut = _intent_cut(folder, intent)
                if cut is not None:
                    data = data[:cut]
    rows, complete = _rows(data, table.file)
    return data[:complete], rows


def read_bytes(folder: Path, resource: str) -> bytes:
    """The committed bytes of a table: whole batches only (empty if the file is missing).

    Taken under the shared lock, so no append is half-way; the bytes of an
    append whose writer died, and a torn last record, are left out.  Readers
    take the lock (rather than trust O_APPEND) because one batch may take
    several write calls, and a reader must see all of it or none.
    """
    return _committed(folder, resource)[0]


def read_table(folder: Path, resource: str) -> list[dict[str, str]]:
    """The committed rows of a table, as text keyed by the file's header, as csv.DictReader gives them."""
    _, rows = _committed(folder, resource)
    if not rows:
        return []
    header = list(rows[0])
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    table: list[dict[Any, Any]] = []
    for row in rows[1:]:
        if not row:
            continue  # a blank line, which DictReader skips too
        entry: dict[Any, Any] = dict(zip(header, row))
        if len(row) > len(header):
            entry[None] = row[len(header) :]
        for name in header[len(row) :]:
            entry[name] = None
        table.append(entry)
    return table
