"""Create a new atelier folder from the commented template."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from string import Template

from pipeline import schemas
from pipeline.workshop import CSV_FILES, WORKSHOP_FILE, AtelierError, write_datapackage

TEMPLATE = Path(__file__).parent / "templates" / "new" / WORKSHOP_FILE
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def new_atelier(data_dir: Path, slug: str, day: dt.date) -> Path:
    """Write data_dir/slug/ with atelier.yaml, empty tables and datapackage.json."""
    if not SLUG.fullmatch(slug):
        raise AtelierError(
            f"« {slug} » n'est pas un nom de dossier valide : minuscules sans accents, chiffres et tirets, "
            "par exemple « moulins-2026 »."
        )
    folder = data_dir / slug
    if folder.exists():
        raise AtelierError(f"{folder} existe déjà ; choisissez un autre nom.")
    folder.mkdir(parents=True)
    text = Template(TEMPLATE.read_text(encoding="utf-8")).safe_substitute(
        date=day.isoformat(), folder=str(folder)
    )
    (folder / WORKSHOP_FILE).write_text(text, encoding="utf-8")
    for resource, filename in CSV_FILES.items():
        with (folder / filename).open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerow(schemas.field_names(resource))
    write_datapackage(folder)
    return folder
