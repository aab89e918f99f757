"""Load an atelier folder (atelier.yaml + CSV files) into typed, immutable objects."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from pipeline import schemas

WORKSHOP_FILE = "atelier.yaml"
PACKAGE_FILE = "datapackage.json"
CSV_FILES = {"participants": "participants.csv", "contributions": "contributions.csv"}


class AtelierError(Exception):
    """An atelier folder cannot be read; the message is a French sentence naming the file."""


@dataclass(frozen=True)
class Target:
    """How many points a sous-groupe should produce in a section (« 3 à 5 moteurs »)."""

    section: str
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class TimeStep:
    """One step of the sous-groupe work (Temps 1, Temps 2) with its instructions."""

    label: str
    title: str
    text: str = ""
    instructions: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    prompts: tuple[str, ...] = ()
    subgroup_count: int = 0
    objective: str = ""
    times: tuple[TimeStep, ...] = ()

    def targets(self) -> dict[str, Target]:
        """Targets by section, from every Temps of the question."""
        return {t.section: t for step in self.times for t in step.targets}


@dataclass(frozen=True)
class Preamble:
    title: str = ""
    paragraphs: tuple[str, ...] = ()
    points: tuple[str, ...] = ()


@dataclass(frozen=True)
class Format:
    intro: str = ""
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workshop:
    """What atelier.yaml says: the day, its questions and how the form behaves."""

    slug: str
    title: str
    date: dt.date
    place: str
    language: str = "fr"
    status: str = "open"
    moderation: str = "post"
    platform: str = ""
    organisation: str = ""
    keywords: tuple[str, ...] = ()
    preamble: Preamble = field(default_factory=Preamble)
    format: Format = field(default_factory=Format)
    questions: tuple[Question, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def question(self, question_id: str) -> Question | None:
        for q in self.questions:
            if q.id == question_id:
                return q
        return None


@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    role: str
    listed: bool
    created_at: dt.datetime
    organisation: str = ""
    status: str = "present"


@dataclass(frozen=True)
class Contribution:
    id: str
    question: str
    phase: str
    section: str
    position: int
    text: str
    created_at: dt.datetime
    status: str
    group: int | None = None
    parent: str | None = None
    number: int | None = None
    link: str | None = None
    author: str | None = None
    updated_at: dt.datetime | None = None

    @property
    def order(self) -> tuple[int, dt.datetime, str]:
        """Its place among its siblings: `position`, then arrival (`created_at`), then `id`.

        Points sent from the form get their position in arrival order (the store
        ranks them after their column's last); arrival breaks the ties older files
        hold (every point sent from the form had position 1), so the wall and the
        report never shuffle them by their random ids.
        """
        return (self.position, self.created_at, self.id)


@dataclass(frozen=True)
class Point:
    """A contribution with the points nested under it, in their order."""

    contribution: Contribution
    children: tuple["Point", ...] = ()

    def walk(self, depth: int = 0) -> Iterable[tuple[int, "Point"]]:
        """Yield (depth, point) for this point and its descendants, in reading order."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


@dataclass(frozen=True)
class Atelier:
    """An atelier folder: its description, attendance list and contributions."""

    path: Path
    workshop: Workshop
    participants: tuple[Participant, ...]
    contributions: tuple[Contribution, ...]

    @property
    def slug(self) -> str:
        return self.workshop.slug

    def points(
        self,
        question: str,
        phase: str,
        section: str,
        group: int | None = None,
        statuses: tuple[str, ...] = ("published",),
    ) -> tuple[Point, ...]:
        """Top-level points of one column (question, phase, group, section) as trees.

        Only contributions whose status is in `statuses` appear; a child of a
        point left out is left out with it.  Siblings are ordered by
        `Contribution.order` (position, arrival, id), so the order never depends on the file's.
        """
        chosen = [
            c
            for c in self.contributions
            if c.question == question
            and c.phase == phase
            and c.section == section
            and c.group == group
            and c.status in statuses
        ]
        ids = {c.id for c in chosen}
        children: dict[str | None, list[Contribution]] = {}
        for c in chosen:
            parent = c.parent if c.parent in ids else None
            if c.parent and c.parent not in ids:
                continue  # its parent is hidden or elsewhere: the whole branch stays out
            children.setdefault(parent, []).append(c)

        def build(parent: str | None, seen: frozenset[str]) -> tuple[Point, ...]:
            kids = sorted(children.get(parent, ()), key=lambda c: c.order)
            return tuple(
                Point(c, build(c.id, seen | {c.id})) for c in kids if c.id not in seen
            )

        return build(None, frozenset())

    def listed_participants(self) -> tuple[Participant, ...]:
        """Participants who consented to be named, sorted by name."""
        return tuple(
            sorted(
                (p for p in self.participants if p.status == "present" and p.listed),
                key=lambda p: (p.name.casefold(), p.id),
            )
        )

    def unlisted_count(self) -> int:
        """How many present participants did not consent to be named."""
        return sum(1 for p in self.participants if p.status == "present" and not p.listed)

    def published(self) -> tuple[Contribution, ...]:
        return tuple(c for c in self.contributions if c.status == "published")


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def read_workshop_yaml(path: Path) -> dict[str, Any]:
    """Parse atelier.yaml into plain data; raise AtelierError when it is not YAML."""
    try:
        with path.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise AtelierError(f"{path.name} : fichier introuvable dans {path.parent}.") from None
    except UnicodeDecodeError as e:
        raise AtelierError(f"{path.name} : le fichier n'est pas en UTF-8 (octet {e.start}).") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"ligne {mark.line + 1}, " if mark else ""
        raise AtelierError(f"{path.name} : {where}YAML illisible ({getattr(e, 'problem', e)}).") from None
    if not isinstance(data, dict):
        raise AtelierError(f"{path.name} : le fichier doit décrire un objet (clé: valeur), pas {type(data).__name__}.")
    # YAML reads an unquoted 2016-06-30 as a date: the schema expects its ISO text.
    if isinstance(data.get("date"), dt.date):
        data["date"] = data["date"].isoformat()
    return data


def workshop_from_data(slug: str, data: dict[str, Any]) -> Workshop:
    """Build a Workshop from atelier.yaml data already checked against its schema."""
    questions = []
    for q in data.get("questions", ()):
        sg = q.get("subgroups", {}) or {}
        times = tuple(
            TimeStep(
                label=t["label"],
                title=t["title"],
                text=t.get("text", ""),
                instructions=_tuple(t.get("instructions")),
                targets=tuple(
                    Target(x["section"], x.get("min"), x.get("max")) for x in t.get("targets", ())
                ),
            )
            for t in sg.get("times", ())
        )
        questions.append(
            Question(
                id=q["id"],
                title=q["title"],
                prompts=_tuple(q.get("prompts")),
                subgroup_count=int(sg.get("count", 0)),
                objective=sg.get("objective", ""),
                times=times,
            )
        )
    pre = data.get("preamble", {}) or {}
    fmt = data.get("format", {}) or {}
    return Workshop(
        slug=slug,
        title=data["title"],
        date=dt.date.fromisoformat(str(data["date"])),
        place=data["place"],
        language=data.get("language", "fr"),
        status=data.get("status", "open"),
        moderation=data.get("moderation", "post"),
        platform=data.get("platform", ""),
        organisation=data.get("organisation", ""),
        keywords=_tuple(data.get("keywords")),
        preamble=Preamble(pre.get("title", ""), _tuple(pre.get("paragraphs")), _tuple(pre.get("points"))),
        format=Format(fmt.get("intro", ""), _tuple(fmt.get("steps"))),
        questions=tuple(questions),
    )


def parse_datetime(text: str) -> dt.datetime:
    """Parse an ISO 8601 timestamp; naive values are taken as UTC."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def format_datetime(value: dt.datetime) -> str:
    """The canonical text of a timestamp in our CSV files: UTC, seconds, « Z »."""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _opt_int(text: str) -> int | None:
    return int(text) if text else None


def participant_from_row(row: dict[str, str]) -> Participant:
    return Participant(
        id=row["id"],
        name=row["name"],
        organisation=row.get("organisation") or "",
        role=row["role"],
        listed=row["listed"] == "true",
        created_at=parse_datetime(row["created_at"]),
        status=row.get("status") or "present",
    )


def contribution_from_row(row: dict[str, str]) -> Contribution:
    return Contribution(
        id=row["id"],
        question=row["question"],
        phase=row["phase"],
        group=_opt_int(row.get("group", "")),
        section=row["section"],
        parent=row.get("parent") or None,
        position=int(row["position"]),
        number=_opt_int(row.get("number", "")),
        text=row["text"],
        link=row.get("link") or None,
        author=row.get("author") or None,
        created_at=parse_datetime(row["created_at"]),
        updated_at=parse_datetime(row["updated_at"]) if row.get("updated_at") else None,
        status=row["status"],
    )


def read_rows(path: Path) -> list[dict[str, str]]:
    """Read a CSV file of ours as dictionaries (a missing file is an empty table)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_atelier(path: str | Path) -> Atelier:
    """Load a valid atelier folder.  Run `pipeline.validate` first on untrusted data:
    this function trusts the files and raises AtelierError on the first problem."""
    folder = Path(path)
    if not folder.is_dir():
        raise AtelierError(f"{folder} : ce dossier n'existe pas.")
    data = read_workshop_yaml(folder / WORKSHOP_FILE)
    try:
        workshop = workshop_from_data(folder.name, data)
        participants = tuple(
            participant_from_row(r) for r in read_rows(folder / CSV_FILES["participants"])
        )
        contributions = tuple(
            contribution_from_row(r) for r in read_rows(folder / CSV_FILES["contributions"])
        )
    except (KeyError, ValueError, TypeError) as e:
        raise AtelierError(
            f"{folder} : données invalides ({e}) ; lancez « atelier validate {folder} » pour le détail."
        ) from None
    return Atelier(folder, workshop, participants, contributions)


def datapackage(slug: str) -> dict[str, Any]:
    """The datapackage.json of an atelier: our two tables with the project's schemas inline.

    The schemas are embedded, not referenced, because frictionless refuses
    paths outside the package folder ("path … is not safe"); `atelier
    validate` checks that the copy still equals `schemas/`.
    """
    return {
        "name": slug,
        "title": f"Atelier {slug}",
        "profile": "tabular-data-package",
        "resources": [
            {
                "name": name,
                "path": CSV_FILES[name],
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": schemas.table_schema(name),
            }
            for name in ("participants", "contributions")
        ],
    }


def write_datapackage(folder: Path) -> Path:
    """(Re)write folder/datapackage.json from the project's schemas."""
    target = folder / PACKAGE_FILE
    text = json.dumps(datapackage(folder.name), ensure_ascii=False, indent=2) + "\n"
    target.write_text(text, encoding="utf-8")
    return target
