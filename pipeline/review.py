"""What changed in an atelier's data between two git revisions, summarised in French Markdown for a pull request."""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Iterable

import yaml

from pipeline import history
from pipeline.export import is_formula_like
from pipeline.fonts import SUBSTITUTE, describe, undrawable
from pipeline.french import date_fr, datetime_fr, fr, plural, say, zone_named
from pipeline.history import Snapshot
from pipeline.markdown import TEXT_LIMIT, code_id, md
from pipeline.privacy import mask_personal_data, personal_data
from pipeline.tables import TableError, parse_table
from pipeline.workshop import CSV_FILES, DEFAULT_TIMEZONE, TABLE_FILES, WORKSHOP_FILE, AtelierError, Workshop, parse_datetime, parse_yaml, workshop_from_data

MARKER = "<!-- atelier-review -->"
# GitHub refuses a comment over 65,536 characters and a step summary over
# 1 MiB; we stay well below the smaller one, whatever the size of the change.
COMMENT_LIMIT = 65_536
DEFAULT_LIMIT = 60_000
OPEN_ITEMS = 10  # longer lists are folded in <details>
NEAR_DUPLICATE = 0.9  # difflib ratio from which two texts are « très proches »
NEAR_CANDIDATES = 16  # texts of closest length compared with each new one: bounds the work
NEAR_PREFIX = 150  # normalised characters compared: long texts are compared by their beginning
NEAR_TRIGRAMS = 0.6  # Dice coefficient of trigrams under which two texts are never 90 % alike in practice
MAX_COMPARISONS = 2000  # full difflib ratios per atelier (about 0.5 ms each for 150 characters)
LIVE = ("published", "pending")  # statuses of points a reader may still see

Row = dict[str, str]

STATUS_LABELS = {"pending": "en attente", "published": "publié", "hidden": "masqué", "withdrawn": "retiré"}
# The headline word for a point that reached this status in the change.
STATUS_VERBS = {"published": "publié", "hidden": "masqué", "withdrawn": "retiré", "pending": "remis en attente"}
TEXT_FIELDS = ("text", "link")
PLACE_FIELDS = ("question", "phase", "group", "section", "parent", "position", "number")
_REV = re.compile(r"[\w./~^@{} -]{1,200}")  # git revision names shown as code
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


# ---------------------------------------------------------------------------
# Word-level differences


def word_diff(old: str, new: str, context: int = 10, limit: int = 900) -> str:
    """« le ~~vieux~~ **nouveau** texte » on word tokens, long unchanged runs shortened to « … »."""
    a, b = mask_personal_data(old).split(), mask_personal_data(new).split()
    if a == b:
        return fr("(espaces seulement : mêmes mots)")
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    ops = matcher.get_opcodes()
    parts: list[str] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            words = a[i1:i2]
            first, last = n == 0, n == len(ops) - 1
            keep_head = 0 if first else context
            keep_tail = 0 if last else context
            if len(words) > keep_head + keep_tail + 1:
                shown = words[:keep_head] + ["…"] + (words[len(words) - keep_tail :] if keep_tail else [])
                parts.append(" ".join(md(w, None) if w != "…" else w for w in shown))
            else:
                parts.append(md(" ".join(words), None))
            continue
        if tag in ("delete", "replace"):
            parts.append(f"~~{md(' '.join(a[i1:i2]), None)}~~")
        if tag in ("insert", "replace"):
            parts.append(f"**{md(' '.join(b[j1:j2]), None)}**")
    text = " ".join(p for p in parts if p)
    if len(text) > limit:
        # Cut between parts so that no ~~ or ** stays open.
        kept, size = [], 0
        for p in parts:
            if size + len(p) > limit:
                break
            kept.append(p)
            size += len(p) + 1
        text = " ".join(kept) + " […]"
    return text


# ---------------------------------------------------------------------------
# What a reviewer should look at twice


def normalise(text: str) -> str:
    """Text for duplicate detection: no accents, no case, no punctuation, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", letters))


@dataclass(frozen=True)
class Duplicate:
    new: Row
    other: Row
    ratio: float  # 1.0 for the same normalised text


def _trigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 3] for i in range(len(text) - 2))


def duplicates(
    changed: list[Row], all_rows: list[Row], *, max_comparisons: int = MAX_COMPARISONS
) -> tuple[list[Duplicate], bool]:
    """New or corrected points whose text repeats another point of the same question and phase.

    Exact repeats (same normalised text) are all found, by dictionary.  Near
    repeats (difflib ratio ≥ 0.9 on the first NEAR_PREFIX normalised
    characters) are looked for only among the NEAR_CANDIDATES texts of
    closest length — a ratio of 0.9 needs lengths within about 20 % of each
    other — and at most `max_comparisons` full ratios are computed, so even
    thousands of look-alike rows cost a few seconds at most.  Returns the
    duplicates and whether the near-repeat search went through to the end.
    """
    groups: dict[tuple[str, str], list[tuple[int, str, frozenset[str], Row]]] = {}
    exact: dict[tuple[str, str, str], list[Row]] = {}
    for row in all_rows:
        if row.get("status") not in LIVE:
            continue
        key = (row.get("question", ""), row.get("phase", ""))
        norm = normalise(row.get("text", ""))
        prefix = norm[:NEAR_PREFIX]
        groups.setdefault(key, []).append((len(prefix), prefix, _trigrams(prefix), row))
        exact.setdefault((*key, norm), []).append(row)
    lengths: dict[tuple[str, str], list[int]] = {}
    for key, entries in groups.items():
        entries.sort(key=lambda e: (e[0], e[1], e[3]["id"]))
        lengths[key] = [e[0] for e in entries]
    found: list[Duplicate] = []
    seen: set[tuple[str, ...]] = set()
    budget = max_comparisons
    matcher = SequenceMatcher(None, autojunk=False)
    for row in changed:
        if row.get("status") not in LIVE:
            continue
        key = (row.get("question", ""), row.get("phase", ""))
        norm = normalise(row.get("text", ""))
        if not norm:
            continue
        for other in exact.get((*key, norm), []):
            pair = tuple(sorted((row["id"], other["id"])))
            if other["id"] != row["id"] and pair not in seen:
                seen.add(pair)
                found.append(Duplicate(row, other, 1.0))
        prefix = norm[:NEAR_PREFIX]
        if len(prefix) < 12 or budget <= 0:
            continue  # « Eau » and « Eaux » are not worth a warning
        entries, sizes = groups.get(key, []), lengths.get(key, [])
        lo = bisect.bisect_left(sizes, int(len(prefix) * 0.8))
        hi = bisect.bisect_right(sizes, int(len(prefix) / 0.8) + 1)
        centre = bisect.bisect_left(sizes, len(prefix), lo, hi)
        start = max(lo, centre - NEAR_CANDIDATES // 2)
        grams = _trigrams(prefix)
        matcher.set_seq2(prefix)
        for _size, other_prefix, other_grams, other in entries[start : min(hi, start + NEAR_CANDIDATES)]:
            pair = tuple(sorted((row["id"], other["id"])))
            if other["id"] == row["id"] or pair in seen or other_prefix == prefix:
                continue
            # Texts 90 % alike share most of their three-letter sequences: a set
            # intersection (fast, in C) rules out the others before difflib's work.
            if 2 * len(grams & other_grams) < (len(grams) + len(other_grams)) * NEAR_TRIGRAMS:
                continue
            matcher.set_seq1(other_prefix)
            if matcher.real_quick_ratio() < NEAR_DUPLICATE or matcher.quick_ratio() < NEAR_DUPLICATE:
                continue
            budget -= 1
            if (ratio := matcher.ratio()) >= NEAR_DUPLICATE:
                seen.add(pair)
                found.append(Duplicate(row, other, ratio))
            if budget <= 0:
                break
    return found, budget > 0


def late_cutoff(workshop: dict[str, Any] | None) -> dt.datetime | None:
    """The end of the day after the atelier, in its time zone: later points were not written on the day.

    Transcribing paper post-its the next day is normal; a point created
    later deserves a reviewer's look (it is a warning, not an error).
    """
    try:
        day = dt.date.fromisoformat(str((workshop or {}).get("date")))
    except ValueError:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=2), dt.time(0), tzinfo=zone_named((workshop or {}).get("timezone")))


def _created(row: Row) -> dt.datetime | None:
    try:
        return parse_datetime(row.get("created_at", ""))
    except ValueError:
        return None





@dataclass(frozen=True)
class Caution:
    """One thing a reviewer should check, under its kind (« Données personnelles »…)."""

    kind: str  # heading of its group
    line: str  # Markdown, already escaped


WARNING_KINDS = (
    "Données personnelles",
    "Formules de tableur",
    "Doublons probables",
    "Ajouts tardifs",
    "Lignes supprimées",
    "Caractères sans police",
)


def _undrawable_line(chars: list[str], where: str) -> str:
    """One line per field: « ⵣ » (U+2D63, …) n'est dessiné… / « ⵜ » …, « ⵉ » … ne sont dessinés…"""
    names = md(fr(", ".join(describe(c) for c in chars)), None)
    substitutes = fr(", ".join(f"« {SUBSTITUTE.format(ord(c))} »" for c in chars))
    verb = "n'est dessiné" if len(chars) == 1 else "ne sont dessinés"
    return say(
        "{where} : {names} {verb} par aucune police du projet ; le compte-rendu imprimera {substitutes} à la place.",
        where=where, names=names, verb=verb, substitutes=substitutes,
    )


def warnings(changes: AtelierChanges) -> list[Caution]:
    """Everything a reviewer should check before approving, as Markdown lines."""
    numbers = question_numbers(changes.head_workshop)
    out: list[Caution] = []
    touched = changes.added + [new for _old, new in changes.corrected]
    for row in sorted(touched, key=lambda r: (place_key(r, numbers), r["id"])):
        where = f"point {code_id(row['id'])} ({place_label(row, numbers)})"
        for field_name in TEXT_FIELDS:
            for what in personal_data(row.get(field_name, "")):
                out.append(Caution("Données personnelles", say("{what} dans le {where} : à retirer du texte.", what=what, where=where)))
        if is_formula_like(row.get("text", "")):
            first = md(row.get("text", "")[:1] or " ", None)
            out.append(
                Caution(
                    "Formules de tableur",
                    say("le texte du {where} commence par « {first} » : un tableur l'exécuterait comme une formule.", where=where, first=first),
                )
            )
    for row in sorted(touched, key=lambda r: (place_key(r, numbers), r["id"])):
        where = f"point {code_id(row['id'])} ({place_label(row, numbers)})"
        for field_name in TEXT_FIELDS:
            if chars := undrawable(row.get(field_name, "")):
                out.append(Caution("Caractères sans police", _undrawable_line(chars, where)))
    for person in changes.people_added + [new for _old, new in changes.people_changed]:
        for field_name, label in (("name", "Nom"), ("organisation", "Structure")):
            if chars := undrawable(person.get(field_name, "")):
                where = fr(f"émargement {code_id(person['id'])}, champ « {label} »")
                out.append(Caution("Caractères sans police", _undrawable_line(chars, where)))
    for person in changes.people_added + [new for _old, new in changes.people_changed]:
        who = f"émargement {code_id(person['id'])}"
        for field_name, label in (("name", "Nom"), ("organisation", "Structure")):
            value = person.get(field_name, "")
            for what in personal_data(value):
                out.append(
                    Caution("Données personnelles", say("{what} dans l'{who}, champ « {label} » : à retirer.", what=what, who=who, label=label))
                )
            if is_formula_like(value):
                out.append(
                    Caution(
                        "Formules de tableur",
                        say(
                            "le champ « {label} » de l'{who} commence par « {first} » : un tableur l'exécuterait comme une formule.",
                            label=label, who=who, first=md(value[:1], None),
                        ),
                    )
                )
    found_duplicates, complete = duplicates(touched, changes.head_contributions)
    for dup in found_duplicates:
        a, b = code_id(dup.new["id"]), code_id(dup.other["id"])
        where = place_label(dup.new, numbers)
        text = md(dup.new.get("text", ""), 120)
        if dup.ratio >= 1.0:
            line = say("{a} et {b} ont le même texte ({where}) : « {text} »", a=a, b=b, where=where, text=text)
        else:
            line = say(
                "{a} et {b} ont des textes très proches ({pct} %, {where}) : « {text} »",
                a=a, b=b, pct=int(dup.ratio * 100), where=where, text=text,
            )
        out.append(Caution("Doublons probables", line))
    if not complete:
        out.append(
            Caution(
                "Doublons probables",
                say(
                    "recherche des textes très proches arrêtée après {n} comparaisons : "
                    "les doublons exacts sont tous signalés, les textes voisins en partie seulement.",
                    n=f"{MAX_COMPARISONS:,}".replace(",", "\u202f"),
                ),
            )
        )
    cutoff = late_cutoff(changes.head_workshop)
    zone = zone_named((changes.head_workshop or {}).get("timezone"))
    if cutoff is not None:
        day = date_fr((cutoff - dt.timedelta(days=2)).date())
        for row in changes.added:
            created = _created(row)
            if created and created >= cutoff:
                out.append(
                    Caution(
                        "Ajouts tardifs",
                        say(
                            "point {id} créé le {when}, plus d'un jour après l'atelier du {day}.",
                            id=code_id(row["id"]), when=datetime_fr(created, zone), day=day,
                        ),
                    )
                )
        for person in changes.people_added:
            created = _created(person)
            if created and created >= cutoff:
                out.append(
                    Caution(
                        "Ajouts tardifs",
                        say(
                            "émargement {id} signé le {when}, plus d'un jour après l'atelier du {day}.",
                            id=code_id(person["id"]), when=datetime_fr(created, zone), day=day,
                        ),
                    )
                )
    was_closed = (changes.base_workshop or {}).get("status") == "closed"
    if was_closed and (changes.added or changes.people_added):
        n = len(changes.added) + len(changes.people_added)
        out.append(
            Caution(
                "Ajouts tardifs",
                say(
                    "l'atelier était déjà clos (status : closed) et {n} malgré tout.",
                    n=plural(n, "ligne a été ajoutée", "lignes ont été ajoutées"),
                ),
            )
        )
    for row in changes.removed:
        out.append(
            Caution(
                "Lignes supprimées",
                say(
                    "le point {id} a disparu de contributions.csv : un point ne se supprime pas, "
                    "il se retire (status : withdrawn). Son texte : « {text} »",
                    id=code_id(row["id"]), text=md(row.get("text", ""), 120),
                ),
            )
        )
    for person in changes.people_removed:
        out.append(
            Caution(
                "Lignes supprimées",
                say(
                    "l'émargement {id} a disparu de participants.csv : il se retire (status : withdrawn), "
                    "il ne se supprime pas.",
                    id=code_id(person["id"]),
                ),
            )
        )
    return out


# ---------------------------------------------------------------------------
# The Markdown summary, within a size budget


class Budget:
    """Markdown text that never grows past `limit` characters; what does not fit is counted."""

    NOTE_ROOM = 600  # kept free for the truncation note

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.left_out = 0

    def room(self) -> int:
        return self.limit - self.NOTE_ROOM - self.size

    def add(self, text: str) -> bool:
        if len(text) > self.room():
            self.left_out += 1
            return False
        self.parts.append(text)
        self.size += len(text)
        return True

    def add_list(self, title: str, items: list[tuple[str, str]], *, fold_over: int = OPEN_ITEMS) -> None:
        """A titled list of (group label, Markdown line), grouped under bold labels and folded when long.

        One list takes at most a third of the whole budget, so thousands of
        warnings leave room for the points themselves.
        """
        if not items:
            return
        folded = len(items) > fold_over
        head = f"#### {title} ({len(items)})\n\n"
        if folded:
            head += f"<details><summary>Voir les {len(items)} lignes</summary>\n\n"
        tail = "\n</details>\n\n" if folded else "\n"
        if not self.add(head):
            return
        reserve = len(tail) + 80  # the closing tag and an « … et N autres » line always fit
        body: list[str] = []
        size = 0
        current = None
        shown = 0
        for group, line in items:
            piece = ""
            if group and group != current:
                piece += f"\n**{group}**\n\n"
            piece += f"- {line}\n"
            if size + len(piece) > min(self.room(), self.limit // 3) - reserve:
                break
            if group:
                current = group
            body.append(piece)
            size += len(piece)
            shown += 1
        if shown < len(items):
            body.append(f"- … et {plural(len(items) - shown, 'autre ligne', 'autres lignes')} (résumé tronqué)\n")
            self.left_out += len(items) - shown
        text = "".join(body).lstrip("\n") + tail
        self.parts.append(text)
        self.size += len(text)

    def text(self, how_to_see_all: str) -> str:
        out = "".join(self.parts)
        if self.left_out:
            out += say(
                "\n> ⚠️ Résumé tronqué pour rester sous la limite de {limit} caractères d'un commentaire GitHub "
                "({n}). Pour tout voir : {command}\n",
                limit=f"{COMMENT_LIMIT:,}".replace(",", "\u202f"),
                n=plural(self.left_out, "élément omis", "éléments omis"),
                command=how_to_see_all,
            )
        return out


@dataclass(frozen=True)
class Review:
    """The review of one change: its Markdown and whether every proposed atelier is valid."""

    markdown: str
    valid: bool
    slugs: tuple[str, ...]


def _validate_head(head: Snapshot, data_dir: str) -> list[str]:
    """French problem lines of the head snapshot, validated as a folder like any atelier.

    The files are exported to a temporary folder; problem lines name them by
    their path in the repository, as `atelier validate data/<slug>` would.
    """
    from pipeline.validate import validate_atelier

    with tempfile.TemporaryDirectory(prefix="atelier-review-") as tmp:
        folder = head.export(Path(tmp) / head.slug)
        where = f"{data_dir.rstrip('/')}/{head.slug}"
        return [str(p).replace(str(folder), where) for p in validate_atelier(folder)]


def _status_line(old: Row, new: Row, numbers: dict[str, int]) -> tuple[str, str]:
    before = STATUS_LABELS.get(old.get("status", ""), old.get("status", ""))
    after = STATUS_LABELS.get(new.get("status", ""), new.get("status", ""))
    verb = STATUS_VERBS.get(new.get("status", ""), after)
    line = say(
        "{id} {verb} ({before} → {after}) : « {text} »",
        id=code_id(new["id"]), verb=verb, before=md(before, 40), after=md(after, 40), text=md(new.get("text", ""), 160),
    )
    return place_label(new, numbers), line


def _moved_line(old: Row, new: Row, numbers: dict[str, int]) -> tuple[str, str]:
    what = []
    old_place, new_place = place_label(old, numbers), place_label(new, numbers)
    if old_place != new_place:
        what.append(f"de {old_place} vers {new_place}")
    if old.get("parent", "") != new.get("parent", ""):
        before = code_id(old["parent"]) if old.get("parent") else "premier niveau"
        after = code_id(new["parent"]) if new.get("parent") else "premier niveau"
        what.append(f"rattaché à {after} (avant : {before})")
    if old.get("position", "") != new.get("position", ""):
        what.append(f"rang {md(old.get('position', ''), 10)} → {md(new.get('position', ''), 10)}")
    if old.get("number", "") != new.get("number", ""):
        what.append(f"numéro {md(old.get('number', '') or '—', 10)} → {md(new.get('number', '') or '—', 10)}")
    line = say("{id} : {what} — « {text} »", id=code_id(new["id"]), what=", ".join(what), text=md(new.get("text", ""), 120))
    return new_place, line


def _added_line(row: Row) -> str:
    notes = []
    if row.get("parent"):
        notes.append(f"précision de {code_id(row['parent'])}")
    if row.get("status") and row["status"] != "published":
        notes.append(STATUS_LABELS.get(row["status"], row["status"]))
    if row.get("link"):
        notes.append(f"lien : {md(row['link'], 120)}")
    suffix = f" _({'; '.join(notes)})_" if notes else ""
    return f"{code_id(row['id'])} {md(row.get('text', ''))}{suffix}"


def _corrected_line(old: Row, new: Row) -> str:
    parts = []
    if old.get("text", "") != new.get("text", ""):
        parts.append(word_diff(old.get("text", ""), new.get("text", "")))
    if old.get("link", "") != new.get("link", ""):
        parts.append(
            say(
                "lien : ~~{old}~~ → **{new}**",
                old=md(old.get("link", ""), 120) or "(aucun)", new=md(new.get("link", ""), 120) or "(aucun)",
            )
        )
    return say("{id} : ", id=code_id(new["id"])) + say(" ; ").join(parts)


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, list):
        return plural(len(value), "élément")
    if isinstance(value, dict):
        return plural(len(value), "clé")
    return md(str(value), 120) or "(vide)"


def _person(row: Row) -> str:
    name = md(row.get("name", ""), 80)
    org = row.get("organisation", "")
    return f"{name} ({md(org, 80)})" if org else name


def _people_lines(changes: AtelierChanges) -> list[str]:
    """What changed in the attendance list, naming only people who consented to be named."""
    lines = []
    present = [p for p in changes.people_added if p.get("status", "present") == "present"]
    named = sorted((p for p in present if p.get("listed") == "true"), key=lambda p: p.get("name", "").casefold())
    unnamed = len(present) - len(named)
    if named:
        lines.append(
            say("{n} à la liste des présents : ", n=plural(len(named), "personne ajoutée", "personnes ajoutées"))
            + say(" ; ").join(_person(p) for p in named)
        )
    if unnamed:
        lines.append(plural(unnamed, "personne sans consentement à être nommée", "personnes sans consentement à être nommées"))
    withdrawn_on_arrival = len(changes.people_added) - len(present)
    if withdrawn_on_arrival:
        lines.append(plural(withdrawn_on_arrival, "émargement ajouté déjà retiré", "émargements ajoutés déjà retirés"))
    consent_given, consent_withdrawn, left, corrected_named, corrected_unnamed = [], 0, 0, [], 0
    for old, new in changes.people_changed:
        if old.get("status") != new.get("status") and new.get("status") == "withdrawn":
            left += 1
        elif old.get("listed") != new.get("listed"):
            if new.get("listed") == "true":
                consent_given.append(new)
            else:
                consent_withdrawn += 1
        elif old.get("listed") == "true" and new.get("listed") == "true":
            corrected_named.append((old, new))
        else:
            corrected_unnamed += 1
    if consent_given:
        lines.append(fr("consentement à être nommé donné : ") + say(" ; ").join(_person(p) for p in consent_given))
    if consent_withdrawn:
        lines.append(
            plural(
                consent_withdrawn,
                "personne a retiré son consentement à être nommée",
                "personnes ont retiré leur consentement à être nommées",
            )
        )
    if left:
        lines.append(plural(left, "émargement retiré", "émargements retirés"))
    for old, new in corrected_named:
        fields = [f for f in ("name", "organisation", "role") if old.get(f, "") != new.get(f, "")]
        if fields:
            label = {"name": "nom", "organisation": "structure", "role": "qualité"}
            diffs = say(" ; ").join(
                say("{field} : ", field=label[f]) + word_diff(old.get(f, ""), new.get(f, "")) for f in fields
            )
            lines.append(say("{id} corrigé — {diffs}", id=code_id(new["id"]), diffs=diffs))
        else:
            corrected_unnamed += 1
    if corrected_unnamed:
        lines.append(plural(corrected_unnamed, "autre émargement modifié", "autres émargements modifiés") + " (date ou personne non nommée)")
    return lines


def render_atelier(changes: AtelierChanges, problems: list[str] | None, budget: Budget) -> None:
    """Append one atelier's section to `budget`, the most important facts first."""
    ws = changes.head_workshop or changes.base_workshop or {}
    title = ws.get("title") if isinstance(ws.get("title"), str) else ""
    heading = f"## {md(changes.slug, 80)}" + (f" — {md(title, 150)}" if title else "") + "\n\n"
    budget.add(heading)
    if not changes.head_exists:
        budget.add(fr("⚠️ **Cet atelier est supprimé** par cette proposition : ses données et son compte-rendu disparaîtraient.\n\n"))
    elif problems is None:
        pass
    elif problems:
        budget.add(say("❌ **Validation : {n}** dans les données proposées.\n\n", n=plural(len(problems), "problème")))
        budget.add_list(
            "Problèmes de validation", [("", md(p, 500)) for p in problems], fold_over=OPEN_ITEMS
        )
    else:
        budget.add(fr("✅ **Validation :** les données proposées sont valides.\n\n"))
    if not changes.base_exists and changes.head_exists:
        budget.add(fr("🆕 Nouvel atelier.\n\n"))
    budget.add(say("**En bref :** {headline}.\n\n", headline=changes.headline()))
    for note in changes.unreadable:
        budget.add(f"⚠️ {md(note, 300)}\n\n")

    found = warnings(changes)
    if found:
        budget.add(fr("### ⚠️ Points d'attention\n\n"))
        for kind in WARNING_KINDS:
            lines = [("", w.line) for w in found if w.kind == kind]
            budget.add_list(kind, lines)

    numbers = question_numbers(changes.head_workshop or changes.base_workshop)

    def by_place(rows: Iterable[Row]) -> list[Row]:
        return sorted(rows, key=lambda r: (place_key(r, numbers), r.get("parent", ""), _int(r.get("position")), r["id"]))

    if changes.workshop_changes:
        budget.add("### atelier.yaml\n\n")
        lines = [
            ("", say("{path} : {old} → {new}", path=f"`{path}`" if _PATH.fullmatch(path) else md(path, 120), old=_value(old), new=_value(new)))
            for path, old, new in changes.workshop_changes
        ]
        budget.add_list("Clés modifiées", lines)
    people = _people_lines(changes)
    if people:
        budget.add("### Liste des présents\n\n" + "".join(f"- {line}\n" for line in people) + "\n")
    if changes.added or changes.corrected or changes.status_changed or changes.moved:
        budget.add("### Contributions\n\n")
    budget.add_list(
        "Points ajoutés", [(place_label(r, numbers), _added_line(r)) for r in by_place(changes.added)]
    )
    corrected = sorted(changes.corrected, key=lambda p: (place_key(p[1], numbers), p[1]["id"]))
    budget.add_list(
        "Points corrigés", [(place_label(new, numbers), _corrected_line(old, new)) for old, new in corrected]
    )
    statuses = sorted(changes.status_changed, key=lambda p: (place_key(p[1], numbers), p[1]["id"]))
    budget.add_list(
        "Changements de statut", [_status_line(old, new, numbers) for old, new in statuses]
    )
    moved = sorted(changes.moved, key=lambda p: (place_key(p[1], numbers), p[1]["id"]))
    budget.add_list("Points déplacés ou réordonnés", [_moved_line(old, new, numbers) for old, new in moved])
    if changes.vote_lines:
        budget.add("### Vote\n\n")
        budget.add_list("Faits du vote", [("", line) for line in changes.vote_lines])
    if changes.action_lines:
        budget.add("### Plan d’actions\n\n")
        budget.add_list("Actions", [("", line) for line in changes.action_lines])


def _rev_name(name: str) -> str:
    """A git revision's name as code, or as escaped text if it holds anything odd."""
    return f"`{name}`" if _REV.fullmatch(name) else md(name, 80)


def _int(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def review(
    repo: Path,
    base: str,
    head: str | None = None,
    *,
    data_dir: str = "data",
    limit: int = DEFAULT_LIMIT,
) -> Review:
    """Summarise, for a pull request, the atelier data that changed between `base` and `head`.

    `head=None` reviews the work tree (committed or not), which on CI is the
    checked-out pull request.  Files are read from git objects, never checked out.
    """
    start = history.merge_base(repo, base, head)
    head_id = history.resolve(repo, head) if head is not None else None
    slugs = history.changed_slugs(repo, start, head_id, data_dir)
    budget = Budget(limit)
    budget.add(MARKER + "\n")
    budget.add(fr("# Revue des données des ateliers\n\n"))
    compared = say(
        "Données de {head} comparées à {base} (depuis `{start}`) : {n}.\n\n",
        head=f"{_rev_name(head)} (`{history.describe(repo, head_id)}`)" if head_id and head else "la proposition",
        base=_rev_name(base),
        start=history.describe(repo, start),
        n=plural(len(slugs), "atelier modifié", "ateliers modifiés"),
    )
    budget.add(compared)
    valid = True
    if not slugs:
        budget.add(fr("Aucune donnée d'atelier n'a changé.\n"))
    for slug in slugs:
        old = history.snapshot(repo, start, slug, data_dir)
        new = history.snapshot(repo, head_id, slug, data_dir)
        changes = compare(old, new)
        problems = _validate_head(new, data_dir) if new.exists else None
        if problems:
            valid = False
        render_atelier(changes, problems, budget)
    revs = f"--base {base}" + (f" --head {head}" if head else "")
    command = f"`atelier review {revs}`" if _REV.fullmatch(revs) else md(f"atelier review {revs}", 200)
    return Review(budget.text(command), valid, tuple(slugs))


def changed(repo: Path, base: str, head: str | None = None, *, data_dir: str = "data") -> list[str]:
    """Slugs of the ateliers a review of `base`..`head` would cover."""
    start = history.merge_base(repo, base, head)
    head_id = history.resolve(repo, head) if head is not None else None
    return history.changed_slugs(repo, start, head_id, data_dir)

