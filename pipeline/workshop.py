"""Load an atelier folder (atelier.yaml + CSV files) into typed, immutable objects.

The objects live beside: pipeline.atelier_format (what atelier.yaml declares) and
pipeline.records (the rows); every name is still importable from here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from pipeline import schemas
from pipeline.french import plural
from pipeline.atelier_format import (  # the format model, imported from here by most modules
    DEFAULT_TIMEZONE as DEFAULT_TIMEZONE,
    AtelierError as AtelierError,
    Tensed as Tensed,
    Target as Target,
    TimeStep as TimeStep,
    Rubric as Rubric,
    Kind as Kind,
    KINDS as KINDS,
    VoteRule as VoteRule,
    Phase as Phase,
    Group as Group,
    Session as Session,
    Terms as Terms,
    _elides as _elides,
    Question as Question,
    Preamble as Preamble,
    Format as Format,
    Workshop as Workshop,
    _lower as _lower,
    _ids as _ids,
)
from pipeline.records import (  # the rows' objects, imported from here by most modules
    Participant as Participant,
    Contribution as Contribution,
    Point as Point,
    Action as Action,
    Atelier as Atelier,
)

WORKSHOP_FILE = "atelier.yaml"
PACKAGE_FILE = "datapackage.json"
CSV_FILES = {"participants": "participants.csv", "contributions": "contributions.csv"}
# Tables of the phases that need them (a vote, an action plan): a missing file is an empty table.
PHASE_FILES = {"votes": ("vote", "votes.csv"), "actions": ("actions", "actions.csv")}
TABLE_FILES = {**CSV_FILES, **{resource: name for resource, (_kind, name) in PHASE_FILES.items()}}
# The web form's own first path segments (/static/…): an atelier folder so named would be
# listed but never reached.  tests/test_participant_posts.py checks them against the app's routes.
RESERVED_SLUGS = frozenset({"static"})


def reserved_slug_problem(slug: str) -> str | None:
    """The French reason why folder name `slug` cannot be an atelier's, when it is reserved."""
    if slug not in RESERVED_SLUGS:
        return None
    return (
        f"« {slug} » est un nom réservé par le formulaire en ligne (ses adresses /{slug}/… ne mèneraient "
        f"jamais à l'atelier) : renommez le dossier, par exemple « {slug}-atelier »."
    )


OWN_FILES = (WORKSHOP_FILE, *TABLE_FILES.values(), PACKAGE_FILE)  # what an atelier folder holds; no command overwrites them
# An atelier's folder name is its slug: in URLs, release tags and its data package's name (frictionless: ^[-a-z0-9._/]+$).
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
SLUG_RULE = "minuscules sans accents, chiffres et tirets, par exemple « moulins-2026 »"


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
    """The French explanation and fix of PyYAML's problem; its English text is never shown to an organiser."""
    for english, french in _YAML_PROBLEMS:
        if english in problem:
            return f"{french}."
    return "la ligne ne suit pas la syntaxe YAML ; comparez-la aux lignes voisines (indentation, « : », guillemets)."


def read_workshop_yaml(path: Path) -> dict[str, Any]:
    """Parse atelier.yaml into plain data; raise AtelierError when it is not YAML."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise AtelierError(f"{path.name} : fichier introuvable dans {path.parent}.") from None
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        raise AtelierError(
            f"{path.name} : ligne {line}, le fichier n'est pas en UTF-8 ; réenregistrez-le en UTF-8 "
            "(dans l'éditeur : « Enregistrer sous », encodage UTF-8)."
        ) from None
    data = parse_yaml(text, path.name)
    if not isinstance(data, dict):
        raise AtelierError(f"{path.name} : le fichier doit décrire un objet (clé: valeur), pas {type(data).__name__}.")
    return data


def atelier_name(folder: str | Path) -> str:
    """The atelier's slug: its folder's real name, whatever the path says (`.`, `./`, `data/x/`).

    Raises AtelierError when that name cannot be a slug (SLUG): « Forum Eau : ce nom de dossier ne peut
    pas nommer un atelier (minuscules sans accents, chiffres et tirets, …) ; renommez le dossier, … ».
    """
    name = Path(folder).resolve().name
    if not SLUG.fullmatch(name):
        raise AtelierError(slug_problem(name, Path(folder)))
    return name


def slug_problem(name: str, folder: Path | None = None) -> str:
    """Why `name` cannot name an atelier, and how to rename its folder (French)."""
    where = f"{folder} : " if folder is not None and str(folder) != name else ""
    return (
        f"{where}« {name} » ne peut pas nommer un atelier ({SLUG_RULE}, 63 caractères au plus) ; "
        f"renommez le dossier, par exemple en « {suggested_slug(name)} »."
    )


def suggested_slug(name: str) -> str:
    """A valid slug close to `name`: « Forum Eau » → « forum-eau », « été » → « ete »."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9_]+", "-", plain).strip("-_")[:63].rstrip("-_")
    return slug or "mon-atelier"


def own_file(path: str | Path) -> bool:
    """Whether `path` is one of an atelier's own files (OWN_FILES in a folder that holds atelier.yaml)."""
    real = Path(path).resolve()
    return real.name in OWN_FILES and (real.parent / WORKSHOP_FILE).is_file()
FORMATS_DIR = Path(__file__).resolve().parent / "formats"
LEGACY_FORMAT = "moulins"  # how an atelier.yaml without « phases » is read


@cache
def ready_format(name: str) -> dict[str, Any]:
    """The data of a ready format (pipeline/formats/NAME.yaml), as written."""
    # libyaml when present: every process that appends to a folder in the old shape reads this file once.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (FORMATS_DIR / f"{name}.yaml").open(encoding="utf-8") as f:
        data: dict[str, Any] = yaml.load(f, Loader=loader)  # noqa: S506 (a safe loader)
    return data


def _tensed(value: Any) -> Tensed:
    if isinstance(value, dict):
        return Tensed(value.get("kit", ""), value.get("report", ""))
    return Tensed(value or "", value or "")


def _target(x: dict[str, Any]) -> Target:
    return Target(x.get("rubric") or x.get("section", ""), x.get("min"), x.get("max"))


def _vote_rule(p: dict[str, Any]) -> VoteRule:
    spec = p.get("vote") or {}
    points = tuple((str(x).partition("/")[0], str(x).partition("/")[2]) for x in spec.get("points", ()))
    return VoteRule(points, int(spec.get("gommettes", 5)), bool(spec.get("several", True)), bool(spec.get("hidden", True)))


def _numbered(count: int) -> list[str]:
    return [str(n) for n in range(1, count + 1)]


def _question_groups(q: dict[str, Any]) -> list[str] | None:
    """The ids a question names: its list, its `count: N`, the legacy `subgroups.count`, or None."""
    spec = q.get("groups", (q.get("subgroups") or {}).get("count") if "subgroups" in q else None)
    if spec is None:
        return None
    if isinstance(spec, int):
        return _numbered(spec)
    if isinstance(spec, dict):
        return _numbered(int(spec.get("count", 0)))
    return [str(g) for g in spec]


def _declared_groups(declared: list[dict[str, Any]] | dict[str, Any], terms: Terms) -> list[Group]:
    """atelier.yaml's `groups`: a list of named groups, or `{count: N}` for groups 1…N."""
    if isinstance(declared, dict):
        declared = [{"id": i} for i in _numbered(int(declared.get("count", 0)))]
    return [
        Group(
            id=str(g["id"]),
            label=g.get("label") or f"{terms.group.capitalize()} {g['id']}",
            label_en=g.get("label_en", ""),
            session=g.get("session"),
            host=g.get("host", ""),
            rapporteur=g.get("rapporteur", ""),
        )
        for g in declared
    ]


def _question(q: dict[str, Any], groups: list[Group], terms: Terms) -> Question:
    """One question; the groups it names that were not declared (`count: N`'s 1…N) are added to `groups`."""
    sg = q.get("subgroups") or {}
    ids = _question_groups(q)
    if ids is None:
        ids = [g.id for g in groups]
    known = {g.id for g in groups}
    for gid in ids:  # `count: N` names groups 1…N that need no declaration
        if gid not in known:
            known.add(gid)
            groups.append(Group(gid, f"{terms.group.capitalize()} {gid}"))
    times = tuple(
        TimeStep(
            label=t["label"],
            title=t["title"],
            text=_tensed(t.get("text", "")),
            instructions=_tuple(t.get("instructions")),
            targets=tuple(_target(x) for x in t.get("targets", ())),
        )
        for t in q.get("times", sg.get("times", ()))
    )
    return Question(
        id=q["id"],
        title=q["title"],
        prompts=_tuple(q.get("prompts")),
        groups=tuple(ids),
        objective=_tensed(q.get("objective", sg.get("objective", ""))),
        times=times,
    )


def _rubric(r: dict[str, Any]) -> Rubric:
    noun = r.get("noun") or [r["label"].lower()] * 2
    return Rubric(
        id=r["id"],
        label=r["label"],
        label_en=r.get("label_en", ""),
        singular=noun[0],
        plural=noun[1],
        help=r.get("help", ""),
        help_en=r.get("help_en", ""),
        heading=r.get("heading", ""),
        box=bool(r.get("box", False)),
        target=_target({"rubric": r["id"], **r["target"]}) if r.get("target") else None,
    )


def _phase(p: dict[str, Any]) -> Phase:
    return Phase(
        id=p["id"],
        kind=p["kind"],
        title=p["title"],
        label=p.get("label", ""),
        label_en=p.get("label_en", ""),
        session=p.get("session"),
        intro=_tensed(p.get("intro", "")),
        questions=_tuple(p.get("questions")),
        groups=tuple(str(g) for g in p.get("groups", ())),
        rubrics=tuple(_rubric(r) for r in p.get("rubrics", ())),
        vote=_vote_rule(p) if p["kind"] == "vote" else None,
    )


def workshop_from_data(slug: str, data: dict[str, Any]) -> Workshop:
    """Build a Workshop from atelier.yaml data already checked against its schema.

    An atelier.yaml without `phases` is read in the `moulins` format (its
    phases and terms come from pipeline/formats/moulins.yaml); a question's
    legacy `subgroups` block is read as its groups, objective and times.
    """
    if "phases" not in data:
        legacy = ready_format(LEGACY_FORMAT)
        data = {**data, "phases": legacy["phases"], "terms": {**legacy.get("terms", {}), **data.get("terms", {})}}
    terms = Terms(**(data.get("terms") or {}))
    groups = _declared_groups(data.get("groups") or [], terms)
    questions = [_question(q, groups, terms) for q in data.get("questions", ())]
    # Numbered groups read in their numbers' order, after the named ones.
    named = [g for g in groups if not g.id.isdigit()]
    numbered = sorted((g for g in groups if g.id.isdigit()), key=lambda g: int(g.id))
    phases = tuple(_phase(p) for p in data["phases"])
    sessions = tuple(
        Session(s["id"], s["label"], dt.date.fromisoformat(str(s["date"])), s.get("start", ""), s.get("end", ""), s.get("place", ""))
        for s in data.get("sessions", ())
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
        format=Format(_tensed(fmt.get("intro", "")), tuple(_tensed(x) for x in fmt.get("steps", ()))),
        questions=tuple(questions),
        timezone=data.get("timezone", DEFAULT_TIMEZONE),
        phases=phases,
        groups=tuple(named + numbered),
        sessions=sessions,
        terms=terms,
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
        group=row.get("group") or None,
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


def action_from_row(row: dict[str, str]) -> Action:
    return Action(
        id=row["id"],
        phase=row["phase"],
        title=row["title"],
        statut=row["statut"],
        porteur=row.get("porteur") or "",
        partenaires=row.get("partenaires") or "",
        echeance=dt.date.fromisoformat(row["echeance"]) if row.get("echeance") else None,
        moyens=row.get("moyens") or "",
        points=tuple((row.get("points") or "").split()),
        group=row.get("group") or None,
        created_at=parse_datetime(row["created_at"]),
        updated_at=parse_datetime(row["updated_at"]) if row.get("updated_at") else None,
    )


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of one of our CSV files, read by `pipeline.tables` (a missing file is an empty table)."""
    from pipeline import tables

    if not path.exists():
        return []
    resource = next(r for r, name in TABLE_FILES.items() if name == path.name)
    return tables.parse_table(path.read_bytes(), resource, str(path), str(path.parent)).records()


def load_atelier(path: str | Path) -> Atelier:
    """Load an atelier folder, read as `atelier validate` reads it.

    atelier.yaml is checked against its schema; the tables are read by
    `pipeline.tables`.  Raises AtelierError naming the file, the line and the
    fix.  Rules across rows (foreign keys, nesting) are `pipeline.validate`'s:
    run it first on untrusted data.
    """
    from pipeline import tables
    from pipeline.validate_workshop import check_workshop

    folder = Path(path)
    if not folder.is_dir():
        raise AtelierError(f"{folder} : ce dossier n'existe pas.")
    problems: list[Any] = []
    data = check_workshop(folder, problems)
    if data is None or problems:
        others = len(problems) - 1
        more = f" (et {plural(others, 'autre problème', 'autres problèmes')})" if others else ""
        raise AtelierError(f"{problems[0]}{more}")
    workshop = workshop_from_data(atelier_name(folder), data)
    resources = (*CSV_FILES, *phase_tables(workshop))
    return atelier_from_tables(folder, workshop, {r: tables.read_table(folder, r) for r in resources})


def atelier_from_tables(folder: Path, workshop: Workshop, read: dict[str, Any]) -> Atelier:
    """The Atelier of tables read by `pipeline.tables`; a row that cannot be typed raises TableError with its line."""
    participants = tuple(_convert(read["participants"], participant_from_row, folder))
    contributions = tuple(_convert(read["contributions"], contribution_from_row, folder))
    votes = tuple(row for _line, row in read["votes"].rows()) if read.get("votes") else ()
    actions = tuple(_convert(read["actions"], action_from_row, folder)) if read.get("actions") else ()
    return Atelier(folder, workshop, participants, contributions, votes, actions)


def _convert(table: Any, make: Any, folder: Path) -> Iterable[Any]:
    from pipeline.tables import TableError

    for line, row in table.rows():
        try:
            yield make(row)
        except (KeyError, ValueError, TypeError):
            raise TableError(
                table.file, f"valeur illisible ; lancez « atelier validate {folder} » pour le détail.", line=line
            ) from None


def datapackage(slug: str, workshop: Workshop | None = None) -> dict[str, Any]:
    """The datapackage.json of an atelier: our two tables (and votes, actions when its
    phases need them) with the project's schemas inline, plus that atelier's
    vocabulary as enums (question, phase, section, group).

    The schemas are embedded, not referenced, because frictionless refuses
    paths outside the package folder ("path … is not safe"); `atelier
    validate` checks that the copy still equals `schemas/` plus atelier.yaml's
    ids, so the official `frictionless validate` refuses an undeclared rubric
    or group.  Without `workshop`, the generic schemas only.
    """
    resources = []
    for name in ("participants", "contributions", *phase_tables(workshop)):
        schema = schemas.table_schema(name)
        enums: dict[str, list[str]] = {}
        if name == "contributions" and workshop is not None:
            enums = vocabulary(workshop)
        elif name in PHASE_FILES and workshop is not None:
            enums = {"phase": [p.id for p in workshop.phases if p.kind == PHASE_FILES[name][0]]}
        for f in schema["fields"]:
            if f["name"] in enums:
                f.setdefault("constraints", {})["enum"] = enums[f["name"]]
        resources.append(
            {
                "name": name,
                "path": TABLE_FILES[name],
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": schema,
            }
        )
    return {"name": slug, "title": f"Atelier {slug}", "profile": "tabular-data-package", "resources": resources}


def phase_tables(workshop: Workshop | None) -> tuple[str, ...]:
    """The tables an atelier's phases need beyond the two of every atelier: `votes`, `actions`, or none."""
    kinds = {p.kind for p in workshop.phases} if workshop else set()
    return tuple(resource for resource, (kind, _name) in PHASE_FILES.items() if kind in kinds)


def vocabulary(workshop: Workshop) -> dict[str, list[str]]:
    """The ids atelier.yaml declares, by column of contributions.csv, in the file's order."""
    sections: list[str] = []
    for phase in workshop.phases:
        sections += [r.id for r in phase.rubrics if r.id not in sections]
    used = {g.id for p in workshop.phases for q in workshop.phase_questions(p) for g in workshop.groups_for(p, q)}
    return {
        "question": [q.id for q in workshop.questions],
        "phase": [p.id for p in workshop.phases],
        "section": sections,
        "group": [g.id for g in workshop.groups if g.id in used],
    }


def datapackage_text(folder: Path) -> str:
    """The datapackage.json text of an atelier folder, from the schemas and its atelier.yaml.

    An atelier.yaml that cannot be read gives the generic package: `atelier
    validate` names its problems, then asks for `atelier datapackage` again.
    """
    try:
        workshop: Workshop | None = workshop_from_data(atelier_name(folder), read_workshop_yaml(folder / WORKSHOP_FILE))
    except (AtelierError, KeyError, TypeError, ValueError, AttributeError):
        workshop = None
    return json.dumps(datapackage(atelier_name(folder), workshop), ensure_ascii=False, indent=2) + "\n"


def write_datapackage(folder: Path) -> Path:
    """(Re)write folder/datapackage.json from the project's schemas and atelier.yaml's vocabulary."""
    from pipeline import durable

    target = folder / PACKAGE_FILE
    durable.replace_file(target, datapackage_text(folder).encode("utf-8"))
    return target
