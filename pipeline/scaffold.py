"""Create a new atelier folder from a ready format (pipeline/formats/NAME.yaml)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from string import Template

from pipeline import durable, schemas
from pipeline.tables import encode_rows
from pipeline.workshop import (
    CSV_FILES,
    FORMATS_DIR,
    LEGACY_FORMAT,
    PHASE_FILES,
    SLUG,
    SLUG_RULE,
    TABLE_FILES,
    WORKSHOP_FILE,
    AtelierError,
    parse_yaml,
    reserved_slug_problem,
    write_datapackage,
)

DEFAULT_FORMAT = LEGACY_FORMAT


@dataclass(frozen=True)
class ReadyFormat:
    """A ready format: its name, its one-line description (the file's first comment) and its file."""

    name: str
    summary: str
    path: Path


def ready_formats() -> tuple[ReadyFormat, ...]:
    """Every ready format shipped in pipeline/formats/, by name."""
    found = []
    for path in sorted(FORMATS_DIR.glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        summary = first.lstrip("# ").split(" — ", 1)[-1]
        found.append(ReadyFormat(path.stem, summary, path))
    return tuple(found)


def new_atelier(data_dir: Path, slug: str, day: dt.date, format_name: str = DEFAULT_FORMAT) -> Path:
    """Write data_dir/slug/ with atelier.yaml (a copy of the ready format), empty tables and datapackage.json.

    Raises AtelierError (French) for a bad folder name, an existing folder or an unknown format.
    """
    if not SLUG.fullmatch(slug):
        raise AtelierError(
            f"« {slug} » n'est pas un nom de dossier valide : {SLUG_RULE}."
        )
    reserved = reserved_slug_problem(slug)
    if reserved:
        raise AtelierError(reserved)
    formats = {f.name: f for f in ready_formats()}
    if format_name not in formats:
        raise AtelierError(
            f"--format : « {format_name} » n'est pas un format prêt à l'emploi ; formats possibles : "
            f"{', '.join(formats)} (voir « atelier formats »)."
        )
    folder = data_dir / slug
    if folder.exists():
        raise AtelierError(f"{folder} existe déjà ; choisissez un autre nom.")
    folder.mkdir(parents=True)
    text = Template(formats[format_name].path.read_text(encoding="utf-8")).safe_substitute(
        date=day.isoformat(), folder=str(folder)
    )
    durable.replace_file(folder / WORKSHOP_FILE, text.encode("utf-8"))
    phases = {p.get("kind") for p in (parse_yaml(text) or {}).get("phases", ())}
    wanted = [*CSV_FILES, *(r for r, (kind, _name) in PHASE_FILES.items() if kind in phases)]
    for resource in wanted:
        durable.replace_file(folder / TABLE_FILES[resource], encode_rows([schemas.field_names(resource)]))
    write_datapackage(folder)
    return folder
