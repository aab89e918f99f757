"""Numbered, reproducible releases of an atelier's compte-rendu: fingerprint, version, changelog, verification."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from pipeline import clock, durable, schemas
from pipeline.french import PARIS, date_fr, fr, join_fr, plural, say
from pipeline.markdown import md
from pipeline.workshop import WORKSHOP_FILE, Atelier, AtelierError, atelier_name, load_atelier

PIPELINE = Path(__file__).resolve().parent
PDF_FILE = "compte-rendu.pdf"
RELEASES_FILE = "releases.json"
CHANGELOG_FILE = "CHANGELOG.md"
# What lays the PDF out besides our own code: a new version of any of these
# may move a line break, so it is part of the fingerprint.
TOOLS = ("weasyprint", "pydyf", "fonttools", "pyphen", "tinycss2", "cssselect2", "tinyhtml5", "pillow")
LAYOUT_DIRS = (PIPELINE / "templates" / "report", PIPELINE / "assets")
RENDER_MODULE = PIPELINE / "render.py"


class ReleaseError(AtelierError):
    """A release cannot be made; nothing was written.  The message is French."""


# Two hashes, two names, the same words in CHANGELOG.md, releases.json and the PDF's colophon:
# * the published data's sha256 (`published_data_sha256`, « empreinte des données publiées »):
#   what the colophon prints, checkable by anyone from the PDF's attachments with
#   `sha256sum atelier.yaml contributions.csv participants.csv | sha256sum`;
# * the release fingerprint (`release_fingerprint`, « empreinte de la version »): everything
#   the PDF's bytes depend on (what it shows, atelier.yaml, layout, tool versions); it
#   decides whether a new version is due.  Versions recorded before the two names have
#   the release fingerprint under `fingerprint`.
DATA_HASH_WORDS = "empreinte des données publiées"
RELEASE_HASH_WORDS = "empreinte de la version"


def release_fingerprint(entry: dict[str, Any]) -> str | None:
    """The release fingerprint recorded for a version (under its older key `fingerprint` before v2 of the format)."""
    value = entry.get("release_fingerprint") or entry.get("fingerprint")
    return str(value) if value else None


# ---------------------------------------------------------------------------
# Fingerprint: everything the PDF depends on, and nothing else


@dataclass(frozen=True)
class Inputs:
    """The parts of a release's fingerprint, each a sha256, so a changelog can say what moved."""

    data: str  # the compte-rendu's outline: published points, attendance, embedded files
    workshop: str  # atelier.yaml as written
    layout: str  # templates, styles, fonts and the rendering code
    tools: dict[str, str]  # versions of the layout libraries

    @property
    def fingerprint(self) -> str:
        return "sha256:" + _sha256_json(dataclasses.asdict(self))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, Path):
        return value.as_posix()
    raise TypeError(f"{type(value).__name__} n'a pas de forme canonique")


def _sha256_json(value: Any) -> str:
    text = json.dumps(value, default=_json_default, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _published_data_sha256(atelier: Atelier) -> str:
    """The hash the PDF's colophon prints (« empreinte des données publiées »)."""
    from pipeline.compose import compose

    return compose(atelier, None).colophon.fingerprint


def _outline(atelier: Atelier) -> Any:
    """What the renderer lays out: the composed report (without a version)."""
    from pipeline.compose import compose

    return compose(atelier, None)


def _imported_modules(start: Path) -> list[Path]:
    """`start` and every pipeline module it imports, transitively, read with ast (nothing is imported)."""
    seen: dict[Path, None] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen[path] = None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("pipeline."):
                    todo.append(PIPELINE / (name.split(".", 1)[1].replace(".", "/") + ".py"))
    return sorted(seen)


def layout_digest() -> str:
    """sha256 over the report's templates, styles and fonts and the Python code that renders them."""
    files = [p for d in LAYOUT_DIRS if d.is_dir() for p in d.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += _imported_modules(RENDER_MODULE)
    listing = {p.relative_to(PIPELINE.parent).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    return _sha256_json(listing)


def tool_versions() -> dict[str, str]:
    versions = {}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def inputs(atelier: Atelier, *, layout: str | None = None, tools: dict[str, str] | None = None) -> Inputs:
    """The fingerprint parts of an atelier as it would be released now."""
    return Inputs(
        data=_sha256_json(dataclasses.asdict(_outline(atelier))),
        workshop=hashlib.sha256((atelier.path / WORKSHOP_FILE).read_bytes()).hexdigest(),
        layout=layout if layout is not None else layout_digest(),
        tools=tools if tools is not None else tool_versions(),
    )


# ---------------------------------------------------------------------------
# What the readers of two versions see differently


def _digest(*values: Any) -> str:
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def _shown_ids(atelier: Atelier) -> set[str]:
    """Ids of the points the compte-rendu prints (published, under a published parent)."""
    shown: set[str] = set()
    for question, phase, section, group in {(c.question, c.phase, c.section, c.group) for c in atelier.contributions}:
        for top in atelier.points(question, phase, section, group):
            shown.update(point.contribution.id for _depth, point in top.walk())
    return shown


def _group_key(group: str | None) -> str | int | None:
    """A group as digested: releases before named groups recorded the numbered ones as numbers,
    so « 2 » keeps that digest and a point does not look moved when nothing moved."""
    return int(group) if group and group.isdigit() else group


@dataclass(frozen=True)
class PointSeen:
    """What a reader sees of one printed point: a short digest of its words, one of its place.

    Two digests so that a release can tell a corrected point (other words)
    from a moved one (same words, other place).  In releases.json:
    `{"words": "…", "place": "…"}`; releases written before these records
    held the string `"words:place"`, still read (`from_json`).
    """

    words: str  # digest of the text and its link
    place: str  # digest of question, phase, group, rubric, parent, rank and number

    def to_json(self) -> dict[str, str]:
        return {"words": self.words, "place": self.place}

    @classmethod
    def from_json(cls, value: Any) -> "PointSeen":
        if isinstance(value, str):  # "words:place", releases.json before typed records
            words, _, place = value.partition(":")
            return cls(words, place)
        return cls(str(value["words"]), str(value["place"]))


@dataclass(frozen=True)
class PersonSeen:
    """What a reader sees of one present person: named in the liste des présents (with a digest of
    name, organisation and role), or only counted.

    In releases.json: `{"listed": true, "identity": "…"}` or `{"listed": false}`;
    releases written before these records held `"nommé:<digest>"` or `"compté"`, still read.
    """

    listed: bool
    identity: str = ""  # digest of name, organisation and role; empty when only counted

    def to_json(self) -> dict[str, Any]:
        return {"listed": True, "identity": self.identity} if self.listed else {"listed": False}

    @classmethod
    def from_json(cls, value: Any) -> "PersonSeen":
        if isinstance(value, str):  # "nommé:<digest>" or "compté", releases.json before typed records
            named, _, identity = value.partition(":")
            return cls(True, identity) if named == "nommé" else cls(False)
        return cls(bool(value["listed"]), str(value.get("identity", "")))


@dataclass(frozen=True)
class Published:
    """What readers see of a release, by row id (releases.json's `published_rows`)."""

    points: dict[str, PointSeen]
    people: dict[str, PersonSeen]

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {
            "contributions": {i: p.to_json() for i, p in self.points.items()},
            "participants": {i: p.to_json() for i, p in self.people.items()},
        }

    @classmethod
    def from_json(cls, value: Any) -> "Published":
        """From releases.json (`{}` or None for no previous release), old string forms included."""
        if isinstance(value, Published):
            return value
        value = value or {}
        return cls(
            {i: PointSeen.from_json(v) for i, v in value.get("contributions", {}).items()},
            {i: PersonSeen.from_json(v) for i, v in value.get("participants", {}).items()},
        )


def published_rows(atelier: Atelier) -> Published:
    """Short digests of what readers see, by row id: enough to tell added, corrected and moved apart."""
    shown = _shown_ids(atelier)
    points = {
        c.id: PointSeen(
            _digest(c.text, c.link),
            _digest(c.question, c.phase, _group_key(c.group), c.section, c.parent, c.position, c.number),
        )
        for c in atelier.contributions
        if c.id in shown
    }
    people = {
        p.id: PersonSeen(True, _digest(p.name, p.organisation, p.role)) if p.listed else PersonSeen(False)
        for p in atelier.participants
        if p.status == "present"
    }
    return Published(points, people)


def counts(rows: Published) -> dict[str, int]:
    named = sum(1 for person in rows.people.values() if person.listed)
    return {
        "points": len(rows.points),
        "participants_named": named,
        "participants_unnamed": len(rows.people) - named,
    }


def changes(
    before: Published | dict[str, Any] | None,
    after: Published | dict[str, Any],
    old_inputs: dict[str, Any] | None,
    new_inputs: Inputs,
) -> dict[str, Any]:
    """What changed for a reader since the previous release (all zero for the first one).

    `before` and `after` are `Published` records or their releases.json form (old string forms included)."""
    old, new = Published.from_json(before), Published.from_json(after)
    same_ids = old.points.keys() & new.points.keys()
    reworded = {i for i in same_ids if old.points[i].words != new.points[i].words}
    old_tools = (old_inputs or {}).get("tools", {})
    return {
        "points_added": len(new.points.keys() - old.points.keys()),
        "points_removed": len(old.points.keys() - new.points.keys()),
        "points_corrected": len(reworded),
        "points_moved": sum(1 for i in same_ids - reworded if old.points[i].place != new.points[i].place),
        "people_added": len(new.people.keys() - old.people.keys()),
        "people_removed": len(old.people.keys() - new.people.keys()),
        "people_changed": sum(1 for i in old.people.keys() & new.people.keys() if old.people[i] != new.people[i]),
        "workshop_changed": old_inputs is not None and old_inputs.get("workshop") != new_inputs.workshop,
        "layout_changed": old_inputs is not None and old_inputs.get("layout") != new_inputs.layout,
        "tools_changed": {
            name: [old_tools.get(name, "absent"), version]
            for name, version in new_inputs.tools.items()
            if old_inputs and old_tools.get(name, "absent") != version
        },
    }


def change_lines(release: dict[str, Any]) -> list[str]:
    """The changelog's bullet points for one release, in French."""
    c = release["changes"]
    n = release["counts"]
    if release["version"] == 1:
        people = n["participants_named"] + n["participants_unnamed"]
        present = (
            say(
                ", {present} (dont {named})",
                present=plural(people, "présent"),
                named=plural(n["participants_named"], "personne nommée", "personnes nommées"),
            )
            if people
            else ""
        )
        return [say("Première publication : {points}{present}.", points=plural(n["points"], "point"), present=present)]
    lines: list[str] = []
    points: list[str] = []
    for key, one, many in (
        ("points_added", "ajouté", "ajoutés"),
        ("points_corrected", "corrigé", "corrigés"),
        ("points_removed", "retiré ou masqué", "retirés ou masqués"),
        ("points_moved", "déplacé", "déplacés"),
    ):
        if c[key]:
            # The first figure names the noun: « 12 points ajoutés, 3 corrigés ».
            points.append(plural(c[key], one, many) if points else plural(c[key], f"point {one}", f"points {many}"))
    if points:
        lines.append(", ".join(points) + ".")
    people = []
    if c["people_added"]:
        people.append(plural(c["people_added"], "personne ajoutée", "personnes ajoutées"))
    if c["people_removed"]:
        people.append(plural(c["people_removed"], "personne retirée", "personnes retirées"))
    if c["people_changed"]:
        people.append(plural(c["people_changed"], "émargement corrigé", "émargements corrigés"))
    if people:
        lines.append(fr("Liste des présents : ") + ", ".join(people) + ".")
    if c["workshop_changed"]:
        lines.append("Description de l'atelier (atelier.yaml) modifiée.")
    if c["layout_changed"]:
        lines.append("Mise en page du compte-rendu modifiée (modèles, styles ou polices).")
    if c["tools_changed"]:
        moved = [f"{name} {old} → {new}" for name, (old, new) in sorted(c["tools_changed"].items())]
        lines.append(fr("Outils de mise en page mis à jour : ") + join_fr(moved) + ".")
    if not lines:
        lines.append("Données mises à jour sans changement visible du contenu publié (dates, points non publiés).")
    return lines


# ---------------------------------------------------------------------------
# Files of reports/<slug>/


def read_releases(report_dir: Path) -> dict[str, Any]:
    """releases.json of a report folder, or an empty history."""
    path = report_dir / RELEASES_FILE
    if not path.exists():
        return {"slug": report_dir.name, "releases": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ReleaseError(
            say("{path} : JSON illisible ligne {line}, colonne {column} ; rétablissez le fichier depuis l'historique git.",
                path=path, line=e.lineno, column=e.colno)
        ) from None
    except (OSError, ValueError) as e:
        raise ReleaseError(say("{path} : fichier illisible ({error}).", path=path, error=e)) from None
    _check_releases(path, data)
    return data


def _check_releases(path: Path, data: Any) -> None:
    """ReleaseError naming the key when releases.json does not follow schemas/releases.schema.json
    (a bad merge, a hand edit): release and verify never run on a history they would misread."""
    from pipeline.validate_workshop import json_schema_message

    error = jsonschema.exceptions.best_match(_ReleasesValidator(schemas.releases_schema()).iter_errors(data))
    if error is None:
        error = _same_version_twice(data)
        if error is None:
            return
        where, message = error
    else:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        message = _releases_message(error)
    if not message.endswith("."):
        message += "."
    raise ReleaseError(
        say("{path} : {where} : ", path=path, where=where or "racine")
        + message
        + say(" Rétablissez-le depuis l'historique git (« git checkout -- {path} »).", path=path)
    )


# JSON Schema counts 1.0 as an integer; Python's json reads it as a float, and « version 1.0 » is no version.
_ReleasesValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


def _releases_message(error: jsonschema.ValidationError) -> str:
    """The French sentence of what is wrong in releases.json (json_schema_message's, and the cases it lacks)."""
    from pipeline.validate_workshop import json_schema_message

    if error.validator == "anyOf":  # the one anyOf: a release's fingerprint under its new or its old name
        return fr("clé obligatoire manquante : « release_fingerprint » (ou « fingerprint », son nom avant la version 2).")
    if error.validator == "oneOf":  # a published_rows entry: its old string form or a record
        return fr("ni un texte ni un objet comme les autres entrées de published_rows.")
    return fr(json_schema_message(error))


def _same_version_twice(data: dict[str, Any]) -> tuple[str, str] | None:
    seen: set[int] = set()
    for n, entry in enumerate(data["releases"]):
        if entry["version"] in seen:
            return f"releases[{n}].version", say("la version {version} est enregistrée deux fois.", version=entry["version"])
        seen.add(entry["version"])
    return None


def latest(history: dict[str, Any]) -> dict[str, Any] | None:
    releases = history.get("releases") or []
    return max(releases, key=lambda r: r["version"]) if releases else None


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def changelog(history: dict[str, Any], title: str) -> str:
    """CHANGELOG.md, newest version first, rebuilt from releases.json."""
    out = [say("# Compte-rendu « {title} » — versions", title=md(title, 200)), ""]
    out.append(
        fr(
            "Chaque version est un PDF reproductible : « atelier verify » le reconstruit à partir des données "
            "et compare son sha256. L'empreinte des données publiées est celle que le colophon du PDF imprime "
            "(vérifiable avec ses pièces jointes) ; l'empreinte de la version couvre en plus la mise en page "
            "et les outils qui l'ont produite."
        )
    )
    out.append("")
    for release in sorted(history["releases"], key=lambda r: r["version"], reverse=True):
        published = _moment(release["released_at"]).astimezone(PARIS).date()
        out.append(f"## Version {release['version']} — {date_fr(published)}")
        out.append("")
        if release.get("data_date"):
            out.append(fr(f"Données à jour au {date_fr(_moment(release['data_date']).astimezone(PARIS).date())}."))
            out.append("")
        out.extend(f"- {line}" for line in change_lines(release))
        out.append("")
        hashes = [say("PDF : `sha256:{pdf}`", pdf=release["pdf_sha256"])]
        if release.get("published_data_sha256"):
            hashes.append(
                say("{words} (colophon du PDF) : `sha256:{data}`", words=DATA_HASH_WORDS, data=release["published_data_sha256"])
            )
        hashes.append(
            say(
                "{words} (données, mise en page, outils) : `{fingerprint}`",
                words=RELEASE_HASH_WORDS, fingerprint=release_fingerprint(release),
            )
        )
        out.append(" · ".join(hashes))
        out.append("")
    return "\n".join(out)


@dataclass(frozen=True)
class Outcome:
    """What `release` did for one atelier."""

    slug: str
    version: int | None  # the new version, or the current one when unchanged
    released: bool
    report_dir: Path

    @property
    def tag(self) -> str:
        return f"{self.slug}-v{self.version}"

    def message(self) -> str:
        if self.released:
            return say(
                "{slug} : version {version} publiée ({pdf}).",
                slug=self.slug, version=self.version, pdf=self.report_dir / PDF_FILE,
            )
        return say("{slug} : inchangé depuis la version {version}.", slug=self.slug, version=self.version)


@dataclass
class _Planned:
    atelier: Atelier
    report_dir: Path
    history: dict[str, Any]
    release: dict[str, Any]
    rows: Published


def _released_at() -> dt.datetime:
    """The run's time, or SOURCE_DATE_EPOCH when set (reproducible builds convention).

    Two dates are recorded per version.  `released_at`, the day the version
    was published, titles its changelog entry (« ## Version 2 — 12 juillet
    2016 ») and never enters the PDF, whose bytes depend only on the data,
    the layout and the version number: that is what lets `atelier verify`
    rebuild it years later.  `data_date`, the last change recorded in the
    data (the renderer's `last_change`, also the PDF's modification date),
    says how fresh the content is (« Données à jour au 11 juillet 2016 »).
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    return clock.now().replace(microsecond=0)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _data_date(atelier: Atelier) -> dt.datetime:
    from pipeline.published import last_change

    return last_change(atelier)


def rendering_environment() -> dict[str, Any]:
    """The system libraries that lay the PDF out (recorded, not fingerprinted: only a rebuild can tell).

    Pango and HarfBuzz come from the operating system, not from PyPI; two
    machines with different versions may break lines differently.
    """
    from weasyprint.text import ffi  # type: ignore[import-untyped]

    version = int(ffi.pango.pango_version())
    return {
        "pango": f"{version // 10000}.{version // 100 % 100}.{version % 100}",
        "harfbuzz_subset": ffi.harfbuzz_subset is not None,
    }


class _Invalid(Exception):
    """An atelier's data cannot be released; `problems` lists why, in French."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems


def _plan(folder: Path, report_dir: Path, layout: str, tools: dict[str, str]) -> "_Planned | Outcome":
    """The next release of one atelier (not rendered yet), or the Outcome « unchanged »; _Invalid for bad data."""
    history = read_releases(report_dir)
    previous = latest(history)
    from pipeline.render import InvalidAtelier, load_valid

    # Validated even when the printed outline is unchanged: a point in a rubric or group
    # that atelier.yaml does not declare is not printed, yet the data are invalid.
    try:
        atelier = load_valid(folder)
        new_inputs = inputs(atelier, layout=layout, tools=tools)
    except InvalidAtelier as e:
        raise _Invalid([str(p) for p in e.problems]) from None
    except AtelierError as e:
        raise _Invalid([str(e)]) from None
    if previous is not None and release_fingerprint(previous) == new_inputs.fingerprint:
        return Outcome(atelier.slug, previous["version"], False, report_dir)
    rows = published_rows(atelier)
    entry = {
        "version": (previous["version"] if previous else 0) + 1,
        "released_at": _iso(_released_at()),
        "data_date": _iso(_data_date(atelier)),
        "release_fingerprint": new_inputs.fingerprint,
        "published_data_sha256": _published_data_sha256(atelier),
        "inputs": new_inputs.to_json(),
        "pdf_sha256": "",
        "counts": counts(rows),
        "changes": changes(history.get("published_rows"), rows, previous and previous.get("inputs"), new_inputs),
    }
    return _Planned(atelier, report_dir, history, entry, rows)


def _stage(planned: list["_Planned"]) -> list[tuple[Path, Path]]:
    """Render and write every planned release's files under temporary names: (temporary file, final path).

    Each folder's releases.json comes last.  On any failure every temporary
    file is removed and the error raised: nothing was published."""
    from pipeline.render import build_pdf

    staged: list[tuple[Path, Path]] = []
    try:
        for plan in planned:
            plan.report_dir.mkdir(parents=True, exist_ok=True)
            pdf_tmp = durable.stage(plan.report_dir / PDF_FILE, b"")
            build_pdf(plan.atelier, pdf_tmp, version=str(plan.release["version"]))
            staged.append((pdf_tmp, plan.report_dir / PDF_FILE))
            plan.release["pdf_sha256"] = _sha256_file(pdf_tmp)
            plan.release["pdf_bytes"] = pdf_tmp.stat().st_size
            plan.release["environment"] = rendering_environment()
            history = {
                "slug": plan.atelier.slug,
                "releases": [*plan.history.get("releases", []), plan.release],
                "published_rows": plan.rows.to_json(),
            }
            text = changelog(history, plan.atelier.workshop.title)
            staged.append((durable.stage(plan.report_dir / CHANGELOG_FILE, text.encode("utf-8")), plan.report_dir / CHANGELOG_FILE))
            record = json.dumps(history, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
            staged.append((durable.stage(plan.report_dir / RELEASES_FILE, record.encode("utf-8")), plan.report_dir / RELEASES_FILE))
    except BaseException:
        for tmp, _final in staged:
            tmp.unlink(missing_ok=True)
        for plan in planned:
            for leftover in plan.report_dir.glob(f"{durable.TMP_PREFIX}{PDF_FILE}-*"):
                leftover.unlink(missing_ok=True)
        raise
    return staged


def release(folders: list[Path], reports_root: Path) -> list[Outcome]:
    """Publish a new version of every atelier whose inputs changed since its last release.

    All or nothing: every changed atelier is validated and rendered into
    temporary files first; only when all succeeded are the PDFs, releases.json
    and CHANGELOG.md files renamed into place.  Invalid data raises
    ReleaseError listing the problems, and nothing is written.
    """
    layout, tools = layout_digest(), tool_versions()
    outcomes: list[Outcome] = []
    planned: list[_Planned] = []
    problems: list[str] = []
    for folder in folders:
        try:
            plan = _plan(folder, reports_root / atelier_name(folder), layout, tools)
        except _Invalid as invalid:
            problems.extend(invalid.problems)
            continue
        if isinstance(plan, _Planned):
            planned.append(plan)
            outcomes.append(Outcome(plan.atelier.slug, plan.release["version"], True, plan.report_dir))
        else:
            outcomes.append(plan)
    if problems:
        raise ReleaseError(
            fr("Données invalides : aucune version publiée.\n") + "\n".join(problems)
        )
    if not planned:
        return outcomes
    staged = _stage(planned)
    # releases.json is renamed last in each folder: it is the record that a version exists.
    for tmp, final in staged:
        durable.commit(tmp, final, sync_folder=False)
    for plan in planned:
        durable.fsync_dir(plan.report_dir)
    return outcomes


# ---------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class Verdict:
    same: bool
    message: str


def verify(report_dir: Path, data_dir: Path) -> Verdict:
    """Rebuild the latest release of `report_dir` from `data_dir/<slug>` and compare the PDF's sha256."""
    history = read_releases(report_dir)
    current = latest(history)
    pdf = report_dir / PDF_FILE
    if current is None:
        raise ReleaseError(say("{path} : aucune version publiée à vérifier.", path=report_dir / RELEASES_FILE))
    version = current["version"]
    slug = history.get("slug") or report_dir.name
    folder = data_dir / slug
    if not pdf.exists():
        return Verdict(
            False, say("{pdf} : fichier absent, la version {version} ne peut pas être comparée.", pdf=pdf, version=version)
        )
    committed = _sha256_file(pdf)
    if committed != current["pdf_sha256"]:
        return Verdict(
            False,
            say(
                "{pdf} : son sha256 ({found}…) n'est pas celui enregistré pour la version {version} "
                "({recorded}…) : le fichier a été modifié après la publication.",
                pdf=pdf, found=committed[:12], version=version, recorded=str(current["pdf_sha256"])[:12],
            ),
        )
    atelier = load_atelier(folder)
    now = inputs(atelier)
    if now.fingerprint != release_fingerprint(current):
        return _verify_since_changes(report_dir, data_dir, slug, current, now, committed)
    return _verify_rebuild(atelier, pdf, current, committed)


def _verify_since_changes(
    report_dir: Path, data_dir: Path, slug: str, current: dict[str, Any], now: Inputs, committed: str
) -> Verdict:
    """The inputs changed since the release: rebuild it from the commit that published it, when there is one."""
    version = current["version"]
    folder = data_dir / slug
    pdf = report_dir / PDF_FILE
    recorded = current.get("inputs", {})
    moved = [
        label
        for key, label in (
            ("data", "les données publiées"),
            ("workshop", "atelier.yaml"),
            ("layout", "la mise en page (modèles, styles, polices, code de rendu)"),
            ("tools", "les versions des outils"),
        )
        if recorded.get(key) != getattr(now, key)
    ]
    what = join_fr(moved) or "les entrées"
    next_step = _next_step(folder, version)
    made = _release_commit(report_dir, slug, version)
    rebuilt_then = _rebuild_at(made, data_dir, slug, version) if made else None
    if rebuilt_then is not None:
        return Verdict(
            rebuilt_then == committed,
            say(
                "{pdf} : {verdict} sa reconstruction par le code et les données du commit {commit} qui a publié "
                "la version {version} (sha256 {digest}…) ; depuis, {what} ont changé ; ",
                pdf=pdf, verdict="identique à" if rebuilt_then == committed else "différent de",
                commit=made[1][:10] if made else "", version=version, digest=rebuilt_then[:12], what=what,
            )
            + next_step,
        )
    return Verdict(
        False,
        say(
            "{slug} : {what} ont changé depuis la version {version} ; la reconstruction ne peut pas être identique ; ",
            slug=slug, what=what, version=version,
        )
        + next_step,
    )


def _next_step(folder: Path, version: int) -> str:
    """What `atelier release` will do with the data as they are: publish the next version, or refuse them."""
    from pipeline.validate import validate_atelier

    problems = validate_atelier(folder)
    if problems:
        return say(
            "les données ne sont pas valides ({count}) et « atelier release » les refusera ; "
            "« atelier validate {folder} » dit quoi corriger.",
            count=plural(len(problems), "problème"), folder=folder,
        )
    return say("« atelier release {folder} » publiera la version {next}.", folder=folder, next=version + 1)


def _verify_rebuild(atelier: Atelier, pdf: Path, current: dict[str, Any], committed: str) -> Verdict:
    """The inputs are those of the release: rebuild the PDF here and compare its sha256."""
    from pipeline.render import build_pdf

    version = current["version"]
    with tempfile.TemporaryDirectory(prefix="atelier-verify-") as tmp:
        rebuilt = build_pdf(atelier, Path(tmp) / PDF_FILE, version=str(version))
        digest = _sha256_file(Path(rebuilt))
    if digest == committed:
        return Verdict(
            True,
            say(
                "{pdf} : identique à sa reconstruction depuis les données (version {version}, sha256 {digest}…).",
                pdf=pdf, version=version, digest=digest[:12],
            ),
        )
    published_with = current.get("environment", {})
    here = rendering_environment()
    return Verdict(
        False,
        say(
            "{pdf} : la reconstruction de la version {version} diffère (sha256 {digest}… au lieu de {committed}…) "
            "alors que les entrées sont les mêmes : cette machine n'a sans doute pas les mêmes bibliothèques "
            "système que celle qui a publié (Pango {then} à la publication, {now} ici).",
            pdf=pdf, version=version, digest=digest[:12], committed=committed[:12],
            then=published_with.get("pango", "inconnu"), now=here["pango"],
        ),
    )


def _release_commit(report_dir: Path, slug: str, version: int) -> tuple[Path, str] | None:
    """(repository, commit) that recorded `version` in releases.json: its tag `<slug>-vN`, else the first
    commit whose releases.json holds it; None outside git."""
    from pipeline.history import git, repo_root

    try:
        repo = repo_root(report_dir.resolve())
        record = (report_dir / RELEASES_FILE).resolve().relative_to(repo).as_posix()
    except (AtelierError, ValueError):
        return None
    try:
        return repo, git(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{slug}-v{version}^{{commit}}").strip()
    except AtelierError:
        pass  # no tag: the commits of releases.json tell
    try:
        for commit in git(repo, "log", "--reverse", "--format=%H", "--", record).split():
            history = json.loads(git(repo, "show", f"{commit}:{record}"))
            if any(r.get("version") == version for r in history.get("releases", [])):
                return repo, commit
    except (AtelierError, ValueError, AttributeError):
        return None
    return None


def _rebuild_at(made: tuple[Path, str], data_dir: Path, slug: str, version: int) -> str | None:
    """sha256 of version `version` rebuilt by the code and data of commit `made` (None if it holds no code).

    A release is the code, the data and the tools that made it: the code of
    that commit runs in a separate process, on that commit's data, with this
    machine's tools (the tool versions it recorded are compared by `verify`
    itself only when the inputs are the current ones).
    """
    import subprocess
    import sys
    import tarfile

    from pipeline.history import git_bytes

    repo, commit = made
    try:
        data = (data_dir.resolve() / slug).relative_to(repo).as_posix()
    except ValueError:
        return None
    with tempfile.TemporaryDirectory(prefix="atelier-verify-") as tmp:
        try:
            archive = git_bytes(repo, "archive", "--format=tar", commit, "--", "pipeline", "schemas", data)
        except AtelierError:
            return None  # that commit has no code of ours (data-only repository): nothing to rerun
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        out = Path(tmp) / PDF_FILE
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); from pipeline.render import build_pdf; "
            "build_pdf(sys.argv[2], sys.argv[3], version=sys.argv[4])"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, tmp, str(Path(tmp) / data), str(out), str(version)],
            cwd=tmp, capture_output=True, check=False,
        )
        if done.returncode != 0 or not out.exists():
            return None
        return _sha256_file(out)


# ---------------------------------------------------------------------------
# Recording a run in git


def commit_title(outcomes: list[Outcome]) -> str:
    """« Compte-rendu : moulins-2016 v2, autre-2017 v1 »."""
    return fr("Compte-rendu : ") + ", ".join(f"{o.slug} v{o.version}" for o in outcomes if o.released)


def commit_release(outcomes: list[Outcome], *, tag: bool = False) -> str | None:
    """One commit with the run's new versions (only their report files); annotated tags `<slug>-vN` if asked.

    Returns the commit id, or None when nothing was released.
    """
    from pipeline.history import git, repo_root

    released = [o for o in outcomes if o.released]
    if not released:
        return None
    repo = repo_root(released[0].report_dir.resolve())
    paths = [
        (o.report_dir / name).resolve().relative_to(repo).as_posix()
        for o in released
        for name in (PDF_FILE, RELEASES_FILE, CHANGELOG_FILE)
    ]
    body = []
    for o in released:
        entry = latest(read_releases(o.report_dir)) or {}
        body.append(say("{slug} v{version} : ", slug=o.slug, version=o.version) + " ".join(change_lines(entry)))
    git(repo, "add", "--", *paths)
    git(repo, "commit", "--quiet", "-m", commit_title(outcomes), "-m", "\n".join(body), "--", *paths)
    commit = git(repo, "rev-parse", "HEAD").strip()
    if tag:
        for o in released:
            git(repo, "tag", "-a", o.tag, "-m", f"Compte-rendu {o.slug}, version {o.version}", commit)
    return commit
