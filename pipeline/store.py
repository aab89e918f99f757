"""The safe store of an atelier's CSV files: checked rows, locked all-or-nothing appends and rewrites."""

# Where things are: this module holds the operations (append_rows, update_rows,
# read_table, read_bytes, locked…); `pipeline.rowcheck` compiles the Table
# Schemas into the checks of one row; `pipeline.journal` holds the mechanics
# below (the lock and its intent, records found in bytes, the index of ids).

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

import os
import re
import secrets
from pathlib import Path
from typing import Any

from pipeline import durable, journal, rowcheck, textrules
# The store is the one door to the tables: callers lock a folder and catch refusals through it
# (store.locked, store.StoreError…); journal and rowcheck are its inside.
from pipeline.journal import LOCK_FILE, TORN_FILE, locked  # noqa: F401  (the store's public names)
from pipeline.rowcheck import RESOURCES, SIBLINGS, DuplicateKey, StoreError  # noqa: F401  (the store's public names)
from pipeline.workshop import TABLE_FILES, WORKSHOP_FILE, AtelierError, Workshop, read_workshop_yaml, workshop_from_data

_ID_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,46}")  # + "-" + 16 hex ≤ 64 characters


def _known_keys(folder: Path, resource: str) -> set[str]:
    """Ids of another table of the folder (for a foreign key), under the lock already held."""
    table = rowcheck.table(resource)
    try:
        fd = os.open(folder / table.file, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return set()
    try:
        return journal.refresh(fd, folder / table.file, table, repair=False).keys
    finally:
        os.close(fd)


def _check_references(
    table: rowcheck.Table,
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
                f"{where}, champ {textrules.quote(ref.field)} : "
                + textrules.reference_violation(ref.field, value, TABLE_FILES[ref.resource], ref.target).message,
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


def _check_columns(folder: Path, table: "rowcheck.Table", cells: list[dict[str, str]], where: str) -> None:
    """A point goes only in a column atelier.yaml declares (question, phase, group, rubric)."""
    workshop = _workshop(folder) if table.resource == "contributions" else None
    if workshop is None:
        return
    for i, row in enumerate(cells, 1):
        found = workshop.column_problem(row["question"], row["phase"], row["group"], row["section"])
        if found:
            field_name, reason = found
            raise StoreError(
                f"{where.format(i)}, champ {textrules.quote(field_name)} : {reason}", field=field_name, value=row[field_name], row=i
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
    table = rowcheck.table_of(resource)
    folder = Path(folder)
    where = f"{table.file}: ligne {{}} de l'envoi"
    cells, batch = _checked_batch(folder, table, rows, where)
    if not cells:
        return []
    ranked = after_siblings and table.order is not None  # ranks decided under the lock, then encoded
    payload = b"" if ranked else table.encode(cells)
    path = folder / table.file
    with journal.lock(folder, shared=False) as lock_fd:
        assert lock_fd is not None  # the exclusive lock always has its file
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            index = journal.refresh(fd, path, table, repair=True)
            _check_keys(folder, table, cells, batch, index, where)
            if ranked:
                payload = table.encode(_after_siblings(table, cells, batch, index, where))
            before = index.end  # the file ends there: journal.refresh repaired any torn end
            journal.append(fd, lock_fd, path, table, index, payload if before else table.header + payload)
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


def _checked_batch(
    folder: Path, table: rowcheck.Table, rows: list[dict[str, Any]], where: str
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """The batch's rows as checked cells, and their ids → position in the batch (StoreError on a refusal)."""
    cells = [table.cells(row, where.format(i), i) for i, row in enumerate(rows, 1)]
    _check_columns(folder, table, cells, where)
    batch: dict[str, int] = {}
    for i, row in enumerate(cells, 1):
        key = row[table.key]
        if key in batch:
            raise StoreError(
                f"{where.format(i)}, champ {textrules.quote(table.key)} : l'identifiant {textrules.quote(key)} "
                f"figure déjà à la ligne {batch[key]} de l'envoi.",
                field=table.key,
                value=key,
                row=i,
            )
        batch[key] = i
    return cells, batch


def _check_keys(
    folder: Path,
    table: rowcheck.Table,
    cells: list[dict[str, str]],
    batch: dict[str, int],
    index: journal.Index,
    where: str,
) -> None:
    """Under the lock: no id of the batch is in the file yet (DuplicateKey), every reference resolves."""
    keys: dict[str, Any] = {table.resource: (index.keys, batch)}
    for i, row in enumerate(cells, 1):
        if row[table.key] in index.keys:
            raise DuplicateKey(
                f"{where.format(i)}, champ {textrules.quote(table.key)} : l'identifiant "
                f"{textrules.quote(row[table.key])} est déjà utilisé dans {table.file}.",
                field=table.key,
                value=row[table.key],
                row=i,
            )
        _check_references(table, folder, row, keys, where.format(i), i)


def _after_siblings(
    table: rowcheck.Table, cells: list[dict[str, str]], batch: dict[str, int], index: journal.Index, where: str
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
    table = rowcheck.table_of(resource)
    path = Path(folder) / table.file
    with journal.lock(Path(folder), shared=True):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return {}
        try:
            return dict(journal.refresh(fd, path, table, repair=False).last)
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
    table = rowcheck.table_of(resource)
    folder = Path(folder)
    path = folder / table.file
    if not changes:
        return
    with journal.lock(folder, shared=False) as lock_fd:
        assert lock_fd is not None
        for leftover in folder.glob(durable.TMP_PREFIX + "*"):
            leftover.unlink()  # a rewrite that crashed; only rewrites (under this lock) make them
        data, index = _read_whole(path, table)
        rows = journal.find_records(data, table.file)[0][1:]
        position = table.names.index(table.key)
        by_id = {r.fields[position]: n for n, r in enumerate(rows) if len(r.fields) > position}
        replaced: dict[int, bytes] = {}
        for row_id, change in changes.items():
            if row_id not in by_id:
                raise StoreError(
                    f"{table.file} : l'identifiant {textrules.quote(row_id)} est introuvable ; rien n'a été modifié.",
                    row=row_id,
                )
            record = rows[by_id[row_id]]
            new = table.encode([_changed(folder, table, record, row_id, change, by_id)])
            if new != data[record.start : record.end]:
                replaced[by_id[row_id]] = new
        if replaced:
            journal.rewrite(lock_fd, path, table, index, data, rows, replaced)


def _read_whole(path: Path, table: rowcheck.Table) -> tuple[bytes, journal.Index]:
    """Under the exclusive lock: the file's bytes (a torn end repaired first) and its index; b"" when missing."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    except FileNotFoundError:
        return b"", journal.Index(0, 0)
    try:
        index = journal.refresh(fd, path, table, repair=True)
        return journal.pread_all(fd, index.end, 0), index
    finally:
        os.close(fd)


def _changed(
    folder: Path,
    table: rowcheck.Table,
    record: journal.Record,
    row_id: str,
    change: dict[str, Any],
    by_id: dict[str, int],
) -> dict[str, str]:
    """The cells of row `row_id` with `change` applied and checked (StoreError, nothing written, on a refusal)."""
    where = f"{table.file}: identifiant {textrules.quote(row_id)}"
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
                f"{where}, champ {textrules.quote(name)} : champ inconnu ; les champs sont {', '.join(table.names)}.",
                field=str(name),
                value=value,
                row=row_id,
            )
        # Only changed cells are checked: the others were accepted when written,
        # and an old hand-made quirk must not block a moderation decision.
        current[name] = table.cell(name, value, where, row_id)
    if current[table.key] != row_id:
        raise StoreError(
            f"{where}, champ {textrules.quote(table.key)} : un identifiant ne change jamais "
            f"({textrules.quote(current[table.key])} demandé).",
            field=table.key,
            value=current[table.key],
            row=row_id,
        )
    if any(ref.field in change for ref in table.references):
        _check_references(table, folder, current, {table.resource: (by_id,)}, where, row_id)
    return current


def _committed(folder: Path, resource: str) -> tuple[bytes, list[list[str]]]:
    table = rowcheck.table_of(resource)
    folder = Path(folder)
    with journal.lock(folder, shared=True) as lock_fd:
        try:
            data = (folder / table.file).read_bytes()
        except FileNotFoundError:
            return b"", []
        if lock_fd is not None:
            intent, _ = journal.read_intent(lock_fd)
            if intent is not None and intent.resource == resource:
                cut = journal.intent_cut(folder, intent)
                if cut is not None:
                    data = data[:cut]
    rows, complete = journal.parse_rows(data, table.file)
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
