"""Open or close an atelier's form: rewrite the one `status:` line of atelier.yaml, everything else kept."""

# atelier.yaml is written by hand and carries the organisers' comments: it is
# never re-dumped.  Only the value after `status:` (a top-level key, at the
# start of a line) changes; the new text must parse to the same data but for
# the status and pass the workshop schema before it replaces the file, via a
# temporary file, fsync and os.replace, under the folder's store lock.  The
# replacement is a new inode, so the web form's cache (keyed by inode, size
# and mtime of the file) sees the change at every worker's next request.

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from pipeline import durable, schemas, store
from pipeline.workshop import WORKSHOP_FILE, AtelierError, parse_yaml

_STATUS_LINE = re.compile(
    r"^status:(?P<space>[ \t]*)(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s#]*)(?P<rest>[^\n]*)$",
    re.MULTILINE,
)


def form_statuses() -> tuple[str, ...]:
    """The values `status` may take, from the workshop schema (open, closed)."""
    return tuple(schemas.workshop_schema()["properties"]["status"]["enum"])


def _parse(text: str) -> dict[str, Any]:
    data = parse_yaml(text)  # dates stay text, as every step reads atelier.yaml
    if not isinstance(data, dict):
        raise AtelierError(f"{WORKSHOP_FILE} : le fichier doit décrire un objet (clé: valeur) ; il n'a pas été modifié.")
    return data


def with_status(text: str, status: str) -> str:
    """The text of atelier.yaml with its `status:` value replaced, byte for byte elsewhere.

    Raises AtelierError (in French, nothing written) when the status is not
    one the schema allows, when there is no top-level `status:` line or more
    than one, or when the result would not be a valid atelier.yaml.
    """
    allowed = form_statuses()
    if status not in allowed:
        raise AtelierError(
            f"{WORKSHOP_FILE} : « {status[:40]} » n'est pas un statut permis ({' ou '.join(allowed)}) ; "
            "le fichier n'a pas été modifié."
        )
    found = list(_STATUS_LINE.finditer(text))
    if len(found) != 1:
        problem = "aucune ligne « status: »" if not found else f"{len(found)} lignes « status: »"
        raise AtelierError(
            f"{WORKSHOP_FILE} : {problem} au premier niveau ; il en faut une seule, par exemple "
            "« status: open ». Le fichier n'a pas été modifié."
        )
    match = found[0]
    value = match["value"]
    quote = value[0] if value[:1] in ("'", '"') else ""
    new_text = text[: match.start("value")] + quote + status + quote + text[match.end("value") :]
    try:
        before, after = _parse(text), _parse(new_text)
    except AtelierError as e:  # « atelier.yaml : ligne N, YAML illisible (…) »
        raise AtelierError(f"{e} Le fichier n'a pas été modifié.") from None
    if after != {**before, "status": status}:
        # The line matched is not the key the YAML parser reads (inside a multi-line text?).
        raise AtelierError(
            f"{WORKSHOP_FILE} : la ligne {text.count(chr(10), 0, match.start()) + 1} ne se lit pas comme la clé "
            "« status » ; modifiez le fichier à la main. Il n'a pas été modifié."
        )
    validator = jsonschema.Draft202012Validator(
        schemas.workshop_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    error = next(iter(sorted(validator.iter_errors(after), key=lambda e: list(map(str, e.absolute_path)))), None)
    if error is not None:
        from pipeline.validate import _json_schema_message

        where = "/".join(str(p) for p in error.absolute_path) or "racine"
        raise AtelierError(
            f"{WORKSHOP_FILE} : « {where} » : {_json_schema_message(error)} Le fichier ne serait pas valide ; "
            "il n'a pas été modifié."
        )
    return new_text


def set_status(folder: Path, status: str) -> bool:
    """Open (`open`) or close (`closed`) the atelier's form; False when it already was.

    Under the folder's exclusive store lock: read atelier.yaml, change its
    status line (`with_status`), write a temporary file beside it, fsync,
    `os.replace`, fsync the folder.  Raises AtelierError and leaves the file
    untouched when the change cannot be made safely.
    """
    folder = Path(folder)
    path = folder / WORKSHOP_FILE
    with store.locked(folder):
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise AtelierError(f"{WORKSHOP_FILE} : fichier introuvable dans {folder}.") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AtelierError(f"{WORKSHOP_FILE} : le fichier n'est pas en UTF-8 (octet {e.start}).") from None
        new_text = with_status(text, status)
        if new_text == text:
            return False
        durable.replace_file(path, new_text.encode("utf-8"))
    return True
