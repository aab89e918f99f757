"""What changed in an atelier's data between two snapshots: the rows, atelier.yaml, the votes and actions, where each row sits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.french import datetime_fr, fr, plural, say
from pipeline.history import Snapshot
from pipeline.markdown import md
from pipeline.tables import TableError, parse_table
from pipeline.workshop import (
    DEFAULT_TIMEZONE,
    TABLE_FILES,
    WORKSHOP_FILE,
    AtelierError,
    Workshop,
    parse_datetime,
    parse_yaml,
    workshop_from_data,
)

Row = dict[str, str]
# The headline word for a point that reached this status in the change.
STATUS_VERBS = {"published": "publié", "hidden": "masqué", "withdrawn": "retiré", "pending": "remis en attente"}
TEXT_FIELDS = ("text", "link")
PLACE_FIELDS = ("question", "phase", "group", "section", "parent", "position", "number")
_PATH = re.compile(r"[A-Za-z0-9_.\[\]-]{1,120}")  # an atelier.yaml key path shown as code

# ---------------------------------------------------------------------------
# Comparing two snapshots of an atelier


@dataclass
class AtelierChanges:
    """The differences between two snapshots of one atelier, row by row (keyed by id)."""

    slug: str
    base_exists: bool
    head_exists: bool
    base_workshop: dict[str, Any] | None
    head_workshop: dict[str, Any] | None
    head_contributions: list[Row]
    added: list[Row] = field(default_factory=list)
    corrected: list[tuple[Row, Row]] = field(default_factory=list)
    status_changed: list[tuple[Row, Row]] = field(default_factory=list)
    moved: list[tuple[Row, Row]] = field(default_factory=list)
    removed: list[Row] = field(default_factory=list)
    people_added: list[Row] = field(default_factory=list)
    people_changed: list[tuple[Row, Row]] = field(default_factory=list)
    people_removed: list[Row] = field(default_factory=list)
    workshop_changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    vote_lines: list[str] = field(default_factory=list)  # plain French, one per fact (pipeline.votes' journal)
    action_lines: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many points and people each kind of change touched."""
        by_status: dict[str, int] = {}
        for _old, new in self.status_changed:
            by_status[new.get("status", "")] = by_status.get(new.get("status", ""), 0) + 1
        return {
            "added": len(self.added),
            "corrected": len(self.corrected),
            **{f"status:{s}": n for s, n in by_status.items()},
            "moved": len(self.moved),
            "removed": len(self.removed),
            "signatures": sum(1 for p in self.people_added if p.get("status", "present") == "present"),
        }

    def headline(self) -> str:
        """« 12 points ajoutés, 3 corrigés, 2 émargements » — also the sync commit's message."""
        c = self.counts()
        point_changes = [(c["added"], "ajouté", "ajoutés"), (c["corrected"], "corrigé", "corrigés")]
        for status in ("published", "hidden", "withdrawn", "pending"):
            verb = STATUS_VERBS[status]
            point_changes.append((c.get(f"status:{status}", 0), verb, verb if " " in verb else verb + "s"))
        point_changes.append((c["moved"], "déplacé", "déplacés"))
        parts: list[str] = []
        for n, one, many in point_changes:
            if n:  # the first figure names the noun: « 3 points corrigés, 1 masqué »
                parts.append(plural(n, one, many) if parts else plural(n, f"point {one}", f"points {many}"))
        if c["removed"]:
            parts.append(plural(c["removed"], "ligne supprimée", "lignes supprimées"))
        if c["signatures"]:
            parts.append(plural(c["signatures"], "émargement"))
        others = len(self.people_changed) + len(self.people_removed)
        if others:
            parts.append(plural(others, "émargement modifié", "émargements modifiés"))
        if self.vote_lines:
            parts.append(plural(len(self.vote_lines), "fait de vote", "faits de vote"))
        if self.action_lines:
            parts.append(plural(len(self.action_lines), "changement du plan d’actions", "changements du plan d’actions"))
        if self.workshop_changes:
            parts.append("atelier.yaml modifié")
        return ", ".join(parts) if parts else "aucun changement de contenu"


def parse_rows(data: bytes | None, resource: str) -> list[Row]:
    """Rows of one of our CSV files, read by `pipeline.tables` as every step reads them.

    A row without an id cannot be compared and is skipped; a file the reader
    refuses raises TableError (validation reports it).
    """
    if data is None:
        return []
    table = parse_table(data, resource, TABLE_FILES[resource])
    return [row for row in table.records() if row.get("id")]


def _keyed(rows: list[Row]) -> dict[str, Row]:
    return {r["id"]: r for r in rows}


def _table(snapshot: Snapshot, resource: str, fallback: list[Row], notes: list[str]) -> list[Row]:
    """The rows of a snapshot's table; when it cannot be read, `fallback` (nothing looks changed) and a note."""
    try:
        return parse_rows(snapshot.files.get(TABLE_FILES[resource]), resource)
    except TableError as e:
        notes.append(str(e))
        return fallback


def _parse_workshop(text: str | None) -> tuple[dict[str, Any] | None, str | None]:
    if text is None:
        return None, None
    try:
        data = parse_yaml(text)
    except AtelierError as e:
        return None, fr(str(e))
    if not isinstance(data, dict):
        return None, say("{file} : le fichier doit décrire un objet (clé: valeur).", file=WORKSHOP_FILE)
    return data, None


def compare(base: Snapshot, head: Snapshot) -> AtelierChanges:
    """Row-by-row differences of one atelier between two snapshots."""
    base_ws, _ = _parse_workshop(base.text(WORKSHOP_FILE))
    head_ws, ws_problem = _parse_workshop(head.text(WORKSHOP_FILE))
    notes: list[str] = []
    old_list = _table(base, "contributions", [], [])
    new_list = _table(head, "contributions", old_list, notes)
    old_points = _keyed(old_list)
    new_points = _keyed(new_list)
    changes = AtelierChanges(
        slug=head.slug,
        base_exists=base.exists,
        head_exists=head.exists,
        base_workshop=base_ws,
        head_workshop=head_ws,
        head_contributions=new_list,
    )
    if ws_problem:
        changes.unreadable.append(ws_problem)
    changes.unreadable.extend(notes)
    for pid, new in new_points.items():
        old = old_points.get(pid)
        if old is None:
            changes.added.append(new)
            continue
        if any(old.get(f, "") != new.get(f, "") for f in TEXT_FIELDS):
            changes.corrected.append((old, new))
        if old.get("status", "") != new.get("status", ""):
            changes.status_changed.append((old, new))
        if any(old.get(f, "") != new.get(f, "") for f in PLACE_FIELDS):
            changes.moved.append((old, new))
    changes.removed = [row for pid, row in old_points.items() if pid not in new_points]

    old_people_list = _table(base, "participants", [], [])
    old_people = _keyed(old_people_list)
    new_people = _keyed(_table(head, "participants", old_people_list, changes.unreadable))
    for pid, new in new_people.items():
        old = old_people.get(pid)
        if old is None:
            changes.people_added.append(new)
        elif old != new:
            changes.people_changed.append((old, new))
    changes.people_removed = [row for pid, row in old_people.items() if pid not in new_people]
    changes.workshop_changes = workshop_diff(base_ws or {}, head_ws or {}) if (base_ws or head_ws) else []
    changes.vote_lines = _vote_lines(
        _table(base, "votes", [], []), _table(head, "votes", [], changes.unreadable), head_ws or {}, old_points, new_points
    )
    changes.action_lines = _action_lines(_table(base, "actions", [], []), _table(head, "actions", [], changes.unreadable), new_points)
    return changes


def _phase_titles(workshop: dict[str, Any]) -> dict[str, str]:
    phases = workshop.get("phases")
    if not isinstance(phases, list):
        return {}
    return {str(p.get("id")): str(p.get("title") or p.get("id")) for p in phases if isinstance(p, dict)}


def _point_text(points: dict[str, Row], point_id: str) -> str:
    row = points.get(point_id)
    return say("« {text} »", text=md(row.get("text", ""), 80)) if row else f"`{point_id}`" if _PATH.fullmatch(point_id) else md(point_id, 40)


def _when(stamp: str, workshop: dict[str, Any]) -> str:
    """« 20 novembre 2026 à 15 h 00 » in the atelier's zone; the text as it is when it cannot be read."""
    from zoneinfo import ZoneInfo

    try:
        return datetime_fr(parse_datetime(stamp), ZoneInfo(str(workshop.get("timezone") or DEFAULT_TIMEZONE)))
    except (ValueError, KeyError):
        return md(stamp, 40)


STATE_CHANGES = {"open": "ouvert", "close": "fermé", "reveal": "résultats dévoilés au mur"}


def _vote_lines(old: list[Row], new: list[Row], workshop: dict[str, Any], old_points: dict[str, Row],
                new_points: dict[str, Row]) -> list[str]:
    """What happened to the votes between two snapshots, in plain French (votes.csv is a journal)."""
    from pipeline.votes import parse_choices, states

    titles = _phase_titles(workshop)
    lines: list[str] = []
    known = {r["id"] for r in old}
    if [r for r in new if r["id"] in known] != old:
        lines.append(fr("⚠️ votes.csv : des lignes anciennes ont été modifiées ou supprimées ; le journal du vote ne s’écrit qu’en ajout."))
    added = [r for r in new if r["id"] not in known]
    head, base = states(new), states(old)
    for phase in sorted({r.get("phase", "") for r in added}):
        name = say("Vote « {title} »", title=md(titles.get(phase, phase), 80))
        rows = [r for r in added if r.get("phase") == phase]
        for r in rows:
            event = r.get("event", "")
            if event in STATE_CHANGES:
                lines.append(say("{name} : {what} ({at}).", name=name, what=STATE_CHANGES[event], at=_when(r.get("created_at", ""), workshop)))
            elif event == "void":
                lines.append(say("{name} : bulletin {ballot} annulé par l’animation.", name=name, ballot=md(r.get("ballot", ""), 40)))
            elif event == "merge":
                lines.append(say("{name} : les gommettes de {dup} passent à {keep} (fusion).", name=name,
                                 dup=_point_text(new_points, r.get("point", "")), keep=_point_text(new_points, r.get("into", ""))))
            elif event == "paper":
                counts = parse_choices(r.get("choices", ""))
                lines.append(say("{name} : gommettes papier saisies, {total} en tout sur {points}.", name=name,
                                 total=sum(counts.values()), points=plural(len(counts), "point")))
        people = {r.get("ballot") for r in rows if r.get("event") == "ballot"}
        if people:
            changes = sum(1 for r in rows if r.get("event") == "ballot")
            earlier = base[phase].ballots if phase in base else {}
            fresh = sum(1 for b in people if b not in earlier)
            lines.append(say("{name} : {changes} ({fresh}, {changed}).", name=name,
                             changes=plural(changes, "changement de bulletin", "changements de bulletin"),
                             fresh=plural(fresh, "nouveau bulletin", "nouveaux bulletins"),
                             changed=plural(len(people) - fresh, "bulletin modifié", "bulletins modifiés")))
    # A point that had gommettes and leaves the results: withdrawn or hidden (a merge is said above).
    for phase, state in head.items():
        given: dict[str, int] = {}
        for choices in [*state.counted().values(), state.paper]:
            for point, count in choices.items():
                given[point] = given.get(point, 0) + count
        for point, count in sorted(given.items()):
            before, after = old_points.get(point), new_points.get(point)
            if (before and after and before.get("status") == "published" and after.get("status") in ("hidden", "withdrawn")
                    and point not in state.merged):
                lines.append(say("Vote « {title} » : {point} {verb} après le vote ; ses {count} sortent des résultats.",
                                 title=md(titles.get(phase, phase), 80), point=_point_text(new_points, point),
                                 verb="masqué" if after["status"] == "hidden" else "retiré", count=plural(count, "gommette")))
    return lines


ACTION_FIELDS = {"title": "intitulé", "porteur": "porteur", "partenaires": "partenaires", "echeance": "échéance",
                 "moyens": "moyens", "points": "points d’origine"}


def _action_lines(old: list[Row], new: list[Row], points: dict[str, Row]) -> list[str]:
    """Actions added, changed or removed, in plain French."""
    from pipeline.schemas import enum_labels

    labels = enum_labels("actions", "statut")
    before = _keyed(old)
    lines: list[str] = []
    for row in new:
        title = say("« {title} »", title=md(row.get("title", ""), 100))
        was = before.get(row["id"])
        if was is None:
            details = [say("porteur : {p}", p=md(row["porteur"], 80)) if row.get("porteur") else "sans porteur",
                       say("échéance : {d}", d=md(row["echeance"], 20)) if row.get("echeance") else "sans échéance",
                       labels.get(row.get("statut", ""), md(row.get("statut", ""), 20))]
            sources = [_point_text(points, p) for p in (row.get("points") or "").split()]
            lines.append(say("Action ajoutée : {title} ({details}){sources}.", title=title, details=", ".join(details),
                             sources=say(", d’après {s}", s=", ".join(sources)) if sources else ""))
            continue
        if was.get("statut") != row.get("statut"):
            lines.append(say("{title} : statut {old} → {new}.", title=title,
                             old=labels.get(was.get("statut", ""), md(was.get("statut", ""), 20)),
                             new=labels.get(row.get("statut", ""), md(row.get("statut", ""), 20))))
        for key, name in ACTION_FIELDS.items():
            if was.get(key, "") != row.get(key, ""):
                lines.append(say("{title} : {name} « {old} » → « {new} ».", title=title, name=name,
                                 old=md(was.get(key, ""), 80), new=md(row.get(key, ""), 80)))
    kept = {r["id"] for r in new}
    for row in old:
        if row["id"] not in kept:
            lines.append(say("Action supprimée : « {title} ».", title=md(row.get("title", ""), 100)))
    return lines


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    """Leaves of atelier.yaml by path: `status`, `questions[q1].title`, `format.steps` (a list of texts)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(sub, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for i, item in enumerate(value, 1):
            key = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else i
            _flatten(item, f"{path}[{key}]", out)
    else:
        out[path] = value


def workshop_diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(path, old value, new value) for every leaf of atelier.yaml that differs; None = absent."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(old, "", before)
    _flatten(new, "", after)
    missing = object()
    paths = list(before) + [p for p in after if p not in before]
    changed = []
    for path in paths:
        a, b = before.get(path, missing), after.get(path, missing)
        if a != b:
            changed.append((path, None if a is missing else a, None if b is missing else b))
    return changed


# ---------------------------------------------------------------------------
# Where a point sits, in words a reviewer uses


class Places(dict[str, int]):
    """Question numbers (« q1 » → 1), with the atelier's format to name phases, groups and rubrics."""

    workshop: Workshop | None = None


def question_numbers(workshop: dict[str, Any] | None) -> Places:
    """« q1 » → 1: questions are numbered in the order atelier.yaml lists them."""
    questions = (workshop or {}).get("questions") or []
    places = Places(
        (q["id"], i) for i, q in enumerate(questions, 1) if isinstance(q, dict) and isinstance(q.get("id"), str)
    )
    try:
        places.workshop = workshop_from_data("revue", workshop) if workshop else None
    except (KeyError, TypeError, ValueError, AttributeError):
        places.workshop = None  # an invalid atelier.yaml: ids are shown as they are
    return places


def place_key(row: Row, numbers: dict[str, int]) -> tuple[Any, ...]:
    """Sort key: question order, then the déroulé's order of phases, groups and rubrics."""
    q = row.get("question", "")
    phase_id, group, section = row.get("phase", ""), row.get("group", ""), row.get("section", "")
    ws = getattr(numbers, "workshop", None)
    phase = ws.phase(phase_id) if ws else None
    phases = [p.id for p in ws.phases] if ws else []
    groups = [g.id for g in ws.groups] if ws else []
    rubrics = [r.id for r in phase.rubrics] if phase else []
    return (
        numbers.get(q, 10_000),
        q,
        phases.index(phase_id) if phase_id in phases else 99,
        phase_id,
        groups.index(group) if group in groups else 999,
        group,
        rubrics.index(section) if section in rubrics else 99,
        section,
    )


def place_label(row: Row, numbers: dict[str, int]) -> str:
    """« Question 1 — Brainstorming », « Question 2 — Sous-groupes — Sous-groupe 2 — Moteurs »."""
    q = row.get("question", "")
    ws = getattr(numbers, "workshop", None)
    term = ws.terms.question.capitalize() if ws else "Question"
    question = f"{term} {numbers[q]}" if q in numbers else f"{term} « {q} »"
    phase_id, group, section = row.get("phase", ""), row.get("group", ""), row.get("section", "")
    if ws is not None:
        parts = [question, *ws.column_name(phase_id, group or None, section)]
    else:
        parts = [question, f"temps « {phase_id} »", *([f"groupe {group}"] if group else []), f"rubrique « {section} »"]
    return say(" — ".join("{p" + str(i) + "}" for i in range(len(parts))), **{f"p{i}": part for i, part in enumerate(parts)})


