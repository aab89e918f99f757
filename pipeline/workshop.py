"""Load an atelier folder (atelier.yaml + CSV files) into typed, immutable objects."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import yaml

from pipeline import schemas

WORKSHOP_FILE = "atelier.yaml"
PACKAGE_FILE = "datapackage.json"
CSV_FILES = {"participants": "participants.csv", "contributions": "contributions.csv"}
DEFAULT_TIMEZONE = "Europe/Paris"  # where the ateliers happen unless atelier.yaml says `timezone:`


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
    timezone: str = DEFAULT_TIMEZONE  # IANA name, checked by `atelier validate`

    @property
    def zone(self) -> ZoneInfo:
        """The atelier's time zone: every date and time shown to people is in it."""
        return ZoneInfo(self.timezone)

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
        `position`, then `id`, so the order never depends on the file's.
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
            kids = sorted(children.get(parent, ()), key=lambda c: (c.position, c.id))
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


class _Loader(yaml.SafeLoader):
    """YAML without implicit dates: `date: 2026-06-31` stays text for the schema to refuse by line.

    PyYAML would turn an unquoted date into a `datetime.date` and raise a bare
    ValueError for an impossible one; quoted or not, a date is now the same text.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, name: str = WORKSHOP_FILE) -> Any:
    """Parse the text of atelier.yaml (dates stay text); AtelierError « name : ligne N, YAML illisible (…) »."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 — a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"ligne {mark.line + 1}, " if mark else ""
        raise AtelierError(f"{name} : {where}YAML illisible : {_yaml_problem(str(getattr(e, 'problem', None) or e))}") from None


# PyYAML's English problems, said in French with the usual fix (the original stays in brackets).
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "un « : » inattendu ; une valeur qui contient « : » s'écrit entre guillemets, "
     "et les clés d'un même niveau sont alignées"),
    ("cannot start any token", "une tabulation ; l'indentation se fait avec des espaces"),
    ("end of stream", "un guillemet ou un crochet ouvert n'est jamais refermé"),
    ("expected ',' or ']'", "un crochet « [ » n'est jamais refermé"),
    ("expected ',' or '}'", "une accolade « { » n'est jamais refermée"),
    ("could not find expected ':'", "il manque « : » après une clé"),
    ("expected <block end>", "l'indentation n'est pas régulière ; alignez les clés d'un même niveau"),
    ("undefined alias", "« * » en début de valeur ; écrivez cette valeur entre guillemets"),
)


def _yaml_problem(problem: str) -> str:
    for english, french in _YAML_PROBLEMS:
        if english in problem:
            return f"{french} ({problem})."
    return f"{problem}."


def read_workshop_yaml(path: Path) -> dict[str, Any]:
    """Parse atelier.yaml into plain data; raise AtelierError when it is not YAML."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise AtelierError(f"{path.name} : fichier introuvable dans {path.parent}.") from None
    except UnicodeDecodeError as e:
        raise AtelierError(f"{path.name} : le fichier n'est pas en UTF-8 (octet {e.start}).") from None
    data = parse_yaml(text, path.name)
    if not isinstance(data, dict):
        raise AtelierError(f"{path.name} : le fichier doit décrire un objet (clé: valeur), pas {type(data).__name__}.")
    return data


def atelier_name(folder: str | Path) -> str:
    """The atelier's slug: its folder's real name, whatever the path says (`.`, `./`, `data/x/`)."""
    return Path(folder).resolve().name


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
        timezone=data.get("timezone", DEFAULT_TIMEZONE),
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
    """Rows of one of our CSV files, read by `pipeline.tables` (a missing file is an empty table)."""
    from pipeline import tables

    if not path.exists():
        return []
    resource = next(r for r, name in CSV_FILES.items() if name == path.name)
    return tables.parse_table(path.read_bytes(), resource, str(path), str(path.parent)).records()


def load_atelier(path: str | Path) -> Atelier:
    """Load an atelier folder, read as `atelier validate` reads it.

    atelier.yaml is checked against its schema; the tables are read by
    `pipeline.tables`.  Raises AtelierError naming the file, the line and the
    fix.  Rules across rows (foreign keys, nesting) are `pipeline.validate`'s:
    run it first on untrusted data.
    """
    from pipeline import tables
    from pipeline.validate import check_workshop

    folder = Path(path)
    if not folder.is_dir():
        raise AtelierError(f"{folder} : ce dossier n'existe pas.")
    problems: list[Any] = []
    data = check_workshop(folder, problems)
    if data is None or problems:
        more = f" (et {len(problems) - 1} autre(s) problème(s))" if len(problems) > 1 else ""
        raise AtelierError(f"{problems[0]}{more}")
    workshop = workshop_from_data(atelier_name(folder), data)
    return atelier_from_tables(folder, workshop, {r: tables.read_table(folder, r) for r in CSV_FILES})


def atelier_from_tables(folder: Path, workshop: Workshop, read: dict[str, Any]) -> Atelier:
    """The Atelier of tables read by `pipeline.tables`; a row that cannot be typed raises TableError with its line."""
    participants = tuple(_convert(read["participants"], participant_from_row, folder))
    contributions = tuple(_convert(read["contributions"], contribution_from_row, folder))
    return Atelier(folder, workshop, participants, contributions)


def _convert(table: Any, make: Any, folder: Path) -> Iterable[Any]:
    from pipeline.tables import TableError

    for line, row in table.rows():
        try:
            yield make(row)
        except (KeyError, ValueError, TypeError):
            raise TableError(
                table.file, f"valeur illisible ; lancez « atelier validate {folder} » pour le détail.", line=line
            ) from None


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
    text = json.dumps(datapackage(atelier_name(folder)), ensure_ascii=False, indent=2) + "\n"
    target.write_text(text, encoding="utf-8")
    return target
