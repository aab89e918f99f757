"""Read an atelier's CSV tables the one way every step reads them: validate, review, build, release, the form.

What a spreadsheet writes, decided once here:

* a UTF-8 byte-order mark (« CSV UTF-8 » of Excel and LibreOffice) is read as
  nothing: the file is UTF-8 and its header is the header;
* CR LF line ends (Windows) are read like LF;
* quoting as RFC 4180 says (`"` around a cell, `""` inside it);
* any other separator than `,` (`;` of a French spreadsheet, tab), any other
  encoding than UTF-8 (Windows-1252 of « CSV (séparateur: point-virgule) »),
  an empty file or a header other than the schema's are refused, with the
  file, the line and the fix: `atelier normalize DOSSIER` rewrites such a
  file as `atelier` writes it.  The store appends with `,` and the official
  `frictionless validate` reads the package with `,`: a file in another
  dialect cannot be both accepted here and safe there.

And how atelier writes them, decided once here too: `Dialect` (`,`, quotes
only where needed, `""` inside, LF) and `encode_rows`, used by the store's
appends and rewrites, `atelier new`, `atelier normalize`, the exports and the
published files; `ByteLines` is how the store and the receipt page find
records in raw bytes (where each one ends, and a torn end).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Iterable, Iterator

from pipeline import schemas
from pipeline.workshop import CSV_FILES, TABLE_FILES, AtelierError, Workshop, phase_tables

BOM = b"\xef\xbb\xbf"


class Dialect(csv.Dialect):
    """How atelier writes its tables (and reads them back): `,` between cells, `"` around a cell only
    when it holds `,`, `"` or a line break, `""` for a quote inside (RFC 4180), LF after each row."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    escapechar = None
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = False  # readers that must refuse a stray quote pass strict=True


def encode_rows(rows: Iterable[Iterable[str]]) -> bytes:
    """The UTF-8 bytes of `rows` (cells as text, in column order) as atelier writes them (`Dialect`)."""
    buffer = io.StringIO()
    csv.writer(buffer, Dialect).writerows(rows)
    return buffer.getvalue().encode("utf-8")


class ByteLines:
    """The lines of `data` from byte `pos` on, decoded one at a time, for `csv.reader`.

    `pos` follows what was read: csv.reader asks for the next line only while
    a record is unfinished (a quoted text spanning lines), so after each
    record `pos` is exactly where it ends in the bytes.  An unterminated last
    line is given only with `unterminated=True`; otherwise iteration stops
    before it and `exhausted` is set (the store: a torn end is not a record).
    """

    __slots__ = ("data", "pos", "exhausted", "unterminated")

    def __init__(self, data: bytes, pos: int = 0, *, unterminated: bool = False) -> None:
        self.data, self.pos, self.exhausted, self.unterminated = data, pos, False, unterminated

    def __iter__(self) -> "ByteLines":
        return self

    def __next__(self) -> str:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            if not self.unterminated or self.pos >= len(self.data):
                self.exhausted = True
                raise StopIteration
            end = len(self.data) - 1
        line = self.data[self.pos : end + 1]
        self.pos = end + 1
        return line.decode("utf-8")
OTHER_SEPARATORS = {";": "« ; » (point-virgule)", "\t": "des tabulations", "|": "« | »"}


def located(file: str, line: int | None, field: str | None, message: str) -> str:
    """`file: ligne 4, champ « group » : message` — how every problem is written."""
    where = [f"ligne {line}"] if line else []
    if field:
        where.append(f"champ « {field} »")
    return f"{file}: {', '.join(where)} : {message}" if where else f"{file} : {message}"


class TableError(AtelierError):
    """A table cannot be read; `file`, `line` and `field` say where, the message says the fix in French."""

    def __init__(self, file: str, message: str, *, line: int | None = None, field: str | None = None) -> None:
        super().__init__(located(file, line, field, message))
        self.file, self.line, self.field, self.message = file, line, field, message


@dataclass(frozen=True)
class Table:
    """One CSV file, read as every step reads it: its header checked, every record found.

    `starts` holds the starting line of every record, header and blank ones
    included, as frictionless numbers rows (a text with line breaks spans
    several lines).  The rows themselves are parsed again when asked for
    (`rows()`), one at a time: a table of 100,000 rows is not held as
    dictionaries while frictionless validates it.
    """

    file: str
    header: tuple[str, ...]
    starts: tuple[int, ...]
    data: bytes = field(repr=False, compare=False)  # UTF-8, without its BOM

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(starting line, cells by column name) of each record that is not blank, in file order."""
        reader = csv.reader(_text(self.data), strict=True)
        next(reader)  # the header
        for line, record in zip(self.starts[1:], reader):
            if record:
                yield line, dict(zip(self.header, record))

    def records(self) -> list[dict[str, str]]:
        return [cells for _line, cells in self.rows()]


def _fix(folder: str) -> str:
    return f"lancez « atelier normalize {folder} » pour le réenregistrer comme atelier l'écrit"


def parse_table(data: bytes, resource: str, file: str, folder: str = "DOSSIER") -> Table:
    """Read the bytes of table `resource` (`participants` or `contributions`).

    `file` names it in messages, `folder` is put in the suggested command.
    Raises TableError (French, with line and fix) for an empty file, a file
    that is not UTF-8, another separator than `,`, a broken quote or a header
    other than the schema's.
    """
    expected = tuple(schemas.field_names(resource))
    if data.startswith(BOM):
        data = data[len(BOM):]
    if not data.strip():
        raise TableError(
            file,
            f"le fichier est vide ; sa première ligne doit être l'en-tête « {','.join(expected)} » "
            f"({_fix(folder)}).",
        )
    reader = csv.reader(_text(data), strict=True)
    starts: list[int] = []
    header: tuple[str, ...] | None = None
    line = 1
    try:
        for record in reader:  # the whole file once, keeping only where each record starts
            starts.append(line)
            if header is None:
                header = tuple(record)
                check_header(header, expected, file, folder)
            line = reader.line_num + 1
    except UnicodeDecodeError:
        try:
            data.decode("utf-8")  # where exactly: the stream decodes by blocks
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
        raise TableError(
            file,
            "le fichier n'est pas en UTF-8 (un tableur l'a peut-être enregistré en Windows-1252) ; "
            f"enregistrez-le au format « CSV UTF-8 », ou {_fix(folder)}.",
            line=line,
        ) from None
    except csv.Error as e:
        raise TableError(file, _csv_message(str(e)), line=line) from None
    assert header is not None  # data.strip() is not empty, so there is a first record
    return Table(file, header, tuple(starts), data)


def _text(data: bytes) -> io.TextIOWrapper:
    """The file's text, decoded as it is read (a table is never held twice in memory)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")


def check_header(header: tuple[str, ...], expected: tuple[str, ...], file: str, folder: str) -> None:
    """Refuse (TableError, line 1) a header other than the schema's, naming the column and the fix."""
    if header == expected:
        return
    wanted = f"l'en-tête attendu est « {','.join(expected)} »"
    if len(header) == 1:
        for separator, name in OTHER_SEPARATORS.items():
            if separator in header[0]:
                raise TableError(
                    file,
                    f"les colonnes sont séparées par {name} ; atelier lit des fichiers séparés par des virgules : "
                    "dans le tableur, enregistrez en « CSV » avec le séparateur « , », "
                    f"ou {_fix(folder)}.",
                    line=1,
                )
    extra = [name for name in header if name not in expected]
    missing = [name for name in expected if name not in header]
    if len(extra) == 1 and len(missing) == 1:
        column = header.index(extra[0]) + 1
        message = f"la colonne {column} s'appelle « {extra[0]} » au lieu de « {missing[0]} » ; renommez-la : {wanted}."
    elif extra and not missing:
        names = ", ".join(f"« {n} »" for n in extra)
        message = f"colonne(s) en trop : {names} ; supprimez-les : {wanted}."
    elif missing and not extra:
        names = ", ".join(f"« {n} »" for n in missing)
        message = f"colonne(s) manquante(s) : {names} ; {wanted}."
    elif not extra and not missing and len(header) == len(expected):
        message = f"les colonnes ne sont pas dans l'ordre ; {wanted}."
    else:
        message = f"en-tête incorrect « {','.join(header)} » ; {wanted}."
    raise TableError(file, message, line=1)


def _records(text: str, separator: str, file: str) -> Iterator[tuple[int, list[str]]]:
    """(line where it starts, cells) of each record of a spreadsheet's text, read strictly.

    TableError (the line, `_csv_message`'s words) for a quote opened and
    never closed or misplaced: what `atelier validate` calls unreadable is
    never « repaired » by swallowing the next rows into one cell.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    line = 1
    try:
        for record in reader:
            yield line, record
            line = reader.line_num + 1
    except csv.Error as e:
        raise TableError(file, _csv_message(str(e)), line=line) from None


def _line_breaks(cell: str) -> str:
    """A cell's line breaks as atelier writes them: LF, whether the spreadsheet wrote CR LF or a lone CR (old Mac)."""
    return cell.replace("\r\n", "\n").replace("\r", "\n")


def missing_cells_message(header: tuple[str, ...] | list[str], record: list[str]) -> str:
    """A record with fewer cells than the header: what `atelier validate` and `atelier normalize` say."""
    names = ", ".join(f"« {n} »" for n in header[len(record):])
    return (
        f"la ligne a {len(record)} colonnes au lieu de {len(header)} : "
        f"il manque {names} (une virgule manquante ou une ligne coupée ?)."
    )


def extra_cell_message(cell: str) -> str:
    """A record with more cells than the header: what `atelier validate` and `atelier normalize` say."""
    return (
        f"cellule en trop « {cell} » : la ligne a plus de colonnes que l'en-tête "
        "(une virgule dans un texte non entouré de guillemets ?)."
    )


def _csv_message(error: str) -> str:
    if "NUL" in error:
        return "le fichier contient un caractère nul (octet 0) ; enregistrez-le en « CSV UTF-8 » depuis le tableur."
    if "end of data" in error or "EOF" in error:
        return "un guillemet ouvert à cette ligne n'est jamais refermé ; fermez la cellule par « \" »."
    return (
        "guillemet mal placé : une cellule qui contient un guillemet s'écrit entre guillemets, "
        "le guillemet intérieur doublé (« \"\" »)."
    )


def read_table(folder: Path, resource: str) -> Table:
    """Read `folder`'s table `resource`; a missing file is refused like an unreadable one."""
    path = Path(folder) / TABLE_FILES[resource]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        fix = f" (« atelier normalize {folder} » le crée)" if resource not in CSV_FILES else ""
        raise TableError(str(path), f"fichier introuvable ; un fichier avec la seule ligne d'en-tête suffit{fix}.") from None
    except OSError as e:
        raise TableError(str(path), f"fichier illisible ({e.strerror}).") from None
    return parse_table(data, resource, str(path), str(folder))


def normalize(folder: Path) -> list[str]:
    """Rewrite the tables of `folder` as atelier writes them: UTF-8 without BOM, `,`, LF, minimal quoting.

    Reads what a spreadsheet may have written (BOM, `;` or tab separator,
    Windows-1252, CR LF, rows of empty cells); an empty or missing file gets its header.  Columns
    are matched by name; a renamed or extra column is not guessed: it raises
    TableError and nothing is written.  Returns the files rewritten.
    """
    from pipeline.durable import replace_file
    from pipeline.store import locked

    planned: list[tuple[Path, bytes]] = []
    with locked(folder):
        # votes.csv and actions.csv when the atelier has them or its phases need them (a vote, an action plan).
        present = {r: n for r, n in TABLE_FILES.items() if r in CSV_FILES or (Path(folder) / n).exists()}
        present.update({r: TABLE_FILES[r] for r in phase_tables(_workshop_or_none(Path(folder)))})
        for resource, name in present.items():
            path = Path(folder) / name
            expected = schemas.field_names(resource)
            data = path.read_bytes() if path.exists() else b""
            text = _decode(data[len(BOM):] if data.startswith(BOM) else data, str(path))
            first = text.split("\n", 1)[0]
            separator = max(",;\t|", key=first.count) if first else ","
            records = [(n, r) for n, r in _records(text, separator, str(path)) if any(cell.strip() for cell in r)]
            header = tuple(records[0][1]) if records else tuple(expected)  # a spreadsheet's « ,,,, » rows dropped
            while len(header) > len(expected) and not header[-1].strip():
                header = header[:-1]  # a column with no name at the right, which spreadsheets add: its cells must be empty
            if sorted(header) != sorted(expected):  # renamed or extra columns are not guessed
                check_header(header, tuple(expected), str(path), str(folder))
            rows = [list(expected)]
            for line, record in records[1:]:
                extra = [cell for cell in record[len(header):] if cell.strip()]
                if extra:  # perhaps the end of someone's text: never dropped without a word
                    raise TableError(str(path), extra_cell_message(extra[0]), line=line)
                if len(record) < len(header):  # a lost comma or a cut line: padding would shift every cell after it
                    raise TableError(str(path), missing_cells_message(header, record), line=line)
                cells = dict(zip(header, record))
                rows.append([spreadsheet_value(resource, n, _line_breaks(cells[n])) for n in expected])
            new = encode_rows(rows)
            if new != data:
                planned.append((path, new))
        for path, new in planned:  # only once both tables could be read: all or nothing
            replace_file(path, new)
    return [str(path) for path, _new in planned]


def _workshop_or_none(folder: Path) -> Workshop | None:
    from pipeline.workshop import atelier_name, read_workshop_yaml, workshop_from_data

    try:
        return workshop_from_data(atelier_name(folder), read_workshop_yaml(folder / "atelier.yaml"))
    except (AtelierError, KeyError, TypeError, ValueError, AttributeError):
        return None


# What French spreadsheets write in a true/false column, read as the schema's true/false.
SPREADSHEET_BOOLEANS = {
    "true": True, "vrai": True, "oui": True, "yes": True, "1": True,
    "false": False, "faux": False, "non": False, "no": False, "0": False,
}


def spreadsheet_value(resource: str, name: str, value: str) -> str:
    """A cell as the schema writes it: VRAI/oui → true in a boolean column, « élue » → elu in the role column.

    Anything else is kept as written, for `atelier validate` to explain.
    """
    booleans, allowed = _cell_rule(resource, name)
    if booleans:
        meaning = SPREADSHEET_BOOLEANS.get(value.strip().casefold())
        if meaning is not None:
            return booleans[0] if meaning else booleans[1]
    if allowed and value not in allowed:
        plain = _plain(value)
        for choice in allowed:  # élu, Élue, élus, habitante… : the value with an accent, a capital, a feminine or plural
            if plain in (choice, choice + "e", choice + "s", choice + "es"):
                return choice
    return value


@cache
def _cell_rule(resource: str, name: str) -> tuple[tuple[str, str] | None, tuple[str, ...]]:
    """(the schema's true and false, or None when not boolean; the allowed values, or ()) of a column."""
    descriptor = schemas.field(resource, name)
    booleans = None
    if descriptor.get("type") == "boolean":
        booleans = ((descriptor.get("trueValues") or ["true"])[0], (descriptor.get("falseValues") or ["false"])[0])
    return booleans, tuple(map(str, descriptor.get("constraints", {}).get("enum", ())))


def _plain(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text.strip()).encode("ascii", "ignore").decode().casefold()


def _decode(data: bytes, file: str) -> str:
    """A spreadsheet's bytes as text: UTF-8, else Windows-1252 (most of its accents are not UTF-8).

    A file that mixes both (a line pasted from another program) is refused at
    the odd line: read either way, the other encoding's accents would be
    garbled into « Ã© » (testers' findings).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        lenient = data.decode("utf-8", errors="replace")
        utf8 = next((i for i, c in enumerate(lenient) if c > "\x7f" and c != "\ufffd"), None)
        if utf8 is not None:  # some characters are UTF-8, some are not: either reading garbles one of them
            bad = lenient.count("\ufffd")
            good = sum(1 for c in lenient if c > "\x7f") - bad
            # Name the odd line out: the Windows-1252 one in a UTF-8 file, the UTF-8 one in a Windows-1252 file.
            line = data.count(b"\n", 0, e.start) + 1 if good > bad else lenient.count("\n", 0, utf8) + 1
            raise TableError(
                file,
                "ce fichier mêle deux encodages (UTF-8 et Windows-1252) ; corrigez les accents de cette ligne "
                "puis enregistrez le fichier au format « CSV UTF-8 ».",
                line=line,
            ) from None
        return data.decode("cp1252", errors="replace")
