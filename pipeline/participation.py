"""What people do to an atelier's rows: sign, send points, correct or withdraw them, transcribe post-its."""

# The web form's views parse a request, call one of these functions and
# render; the rules live here.  Each function that writes holds the folder's
# exclusive lock (`store.locked`, re-entrant) around what it reads and
# writes, so what it checks is what it changes, as `pipeline.moderation`
# does for the team's decisions.
#
# The rules and where they come from:
#
# - a point sent by a participant is `pending` under `moderation: pre`
#   (atelier.yaml), else `published`; a post-it the team transcribes is
#   `published` and credited to nobody (it is the wall's, not a person's);
# - a correction rewrites only the rows the team has not touched (hidden,
#   merged, moved, corrected: `frozen`) nor anything below them, and only
#   while the receipt is as it was when the form was made (`correction_state`):
#   a correction never undoes a moderation decision (issue 11);
# - a corrected text is moderated again: under `moderation: pre` a published
#   point whose text, place or parent changes goes back to `pending`;
# - a point keeps its id and place when a correction keeps it; surplus points
#   are withdrawn, never deleted; a point that moves goes after its new
#   siblings;
# - a withdrawal marks every row of the sending `withdrawn` (the author's
#   own decision, which moderation never overrules); contributions get
#   `updated_at` (the compte-rendu's date follows it), participants have none.

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Iterable, Mapping

from pipeline import clock, schemas, store, tree
from pipeline.points import Line, ids_then_new, leading_depth, nest, parse_points
from pipeline.rows import rows_by_id
from pipeline.workshop import AtelierError, Workshop

# What the team did to a participant's point since it was written (see `correction_state`).
HIDDEN, MERGED, MOVED, CORRECTED = "masque", "fusionne", "range", "corrige"
# Why a correction is refused (`CorrectionRefused.reason`).
TEAM_ACTED, WITHDRAWN = "team", "withdrawn"


class CorrectionRefused(AtelierError):
    """A correction made from a receipt that changed since its form was shown; nothing was written.

    `reason` is TEAM_ACTED (the team moderated the points meanwhile) or
    WITHDRAWN (the sending was withdrawn, perhaps from another tab); the web
    form shows its own translated sentence for each, with the typed text.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            "contributions.csv : l'équipe d'animation a traité cette réponse entre-temps ; rien n'a été enregistré."
            if reason == TEAM_ACTED
            else "contributions.csv : cette réponse a été retirée entre-temps ; rien n'a été enregistré."
        )


@dataclass(frozen=True)
class Points:
    """What one form sends to one column group: points by rubric (section id → lines, nested by depth).

    `group` is "" for a pooled phase (ideas); a sheet names its group.
    """

    question: str
    phase: str
    group: str
    lines: dict[str, list[Line]] = field(default_factory=dict)


Column = tuple[str, str, str, str]  # (question, phase, group or "", section)


def column_key(row: Mapping[str, str]) -> Column:
    return (row["question"], row["phase"], row["group"], row["section"])


def new_status(workshop: Workshop) -> str:
    """The status of what a participant sends: « pending » under `moderation: pre`, else « published »."""
    return "pending" if workshop.moderation == "pre" else "published"


def point_row(
    point_id: str,
    *,
    question: str,
    phase: str,
    group: str,
    section: str,
    parent: str,
    position: int,
    text: str,
    status: str,
    created_at: str,
) -> dict[str, str]:
    """One row of contributions.csv, with every column of its Table Schema (the ones not named are empty)."""
    row = dict.fromkeys(schemas.field_names("contributions"), "")
    row.update(
        id=point_id,
        question=question,
        phase=phase,
        group=group,
        section=section,
        parent=parent,
        position=str(position),
        text=text,
        status=status,
        created_at=created_at,
    )
    return row


def point_rows(
    points: Points,
    *,
    status: str,
    created_at: str,
    reuse: Mapping[str, list[str]] | None = None,
    new_ids: Callable[[], str] | None = None,
) -> list[dict[str, str]]:
    """One `point_row` per line of `points`, in reading order, nested by `parent`.

    Ids are reused in reading order from `reuse` (section → ids), then made
    by `new_ids` (random `c-…` by default).  `position` is the rank among the
    sent siblings: `store.append_rows(after_siblings=True)` puts the top ones
    after the column's last point (the order of arrival).
    """
    rows = []
    for section, lines in points.lines.items():
        ids = ids_then_new((reuse or {}).get(section, []), new_ids or (lambda: store.new_id("c")))
        for line, point_id, parent, rank in nest(lines, "", ids):
            rows.append(
                point_row(
                    point_id,
                    question=points.question,
                    phase=points.phase,
                    group=points.group,
                    section=section,
                    parent=parent,
                    position=rank,
                    text=line.text,
                    status=status,
                    created_at=created_at,
                )
            )
    return rows


def person_fields(name: str, organisation: str | None, role: str, listed: bool) -> dict[str, str]:
    """The fields of participants.csv a person fills in when signing (or correcting the signature)."""
    return {"name": name, "organisation": organisation or "", "role": role, "listed": "true" if listed else "false"}


def signature_row(person_id: str, fields: Mapping[str, str], created_at: str) -> dict[str, str]:
    """One row of participants.csv: the person's `person_fields`, present from `created_at`."""
    row = dict.fromkeys(schemas.field_names("participants"), "")
    row.update(fields, id=person_id, created_at=created_at, status="present")
    return row


# ---- correction ---------------------------------------------------------------------------


def all_withdrawn(rows: list[dict[str, str]]) -> bool:
    return bool(rows) and all(r["status"] == "withdrawn" for r in rows)


def correction_state(changes: Mapping[str, str], withdrawn: bool) -> str:
    """A digest of what the team did to a sending's points (row id → HIDDEN, MERGED…) and whether it
    was withdrawn: a correction form carries the one it was made from (16 hex digits)."""
    seen = [sorted(changes.items()), withdrawn]
    return hashlib.sha256(json.dumps(seen).encode("ascii")).hexdigest()[:16]


def editable(rows: list[dict[str, str]], frozen: Collection[str]) -> list[dict[str, str]]:
    """The rows a correction may rewrite: not withdrawn, not `frozen` (touched by the team), nor below such a point."""
    by_id = {r["id"]: r for r in rows}
    out = []
    for row in rows:
        seen: set[str] = set()
        current: dict[str, str] | None = row
        while current is not None and current["id"] not in seen:
            if current["id"] in frozen or current["status"] == "withdrawn":
                break
            seen.add(current["id"])
            current = by_id.get(current.get("parent", ""))
        else:
            out.append(row)
    return out


def reading_order(rows: list[dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
    """(depth, row) in reading order: parents before children, siblings by position (`tree.row_order`).

    A point the team moved under another sending's point is shown at the top
    level, after the sending's own points."""
    ids = {r["id"] for r in rows}

    def moved_out(row: dict[str, str]) -> bool:
        return bool(row["parent"]) and row["parent"] not in ids

    children = tree.children_by_parent(
        rows, parent_of=lambda r: r["parent"], order=lambda r: (moved_out(r), *tree.row_order(r)), top=moved_out
    )
    return list(tree.walk(children, lambda r: r["id"]))


def current_points(workshop: Workshop, rows: list[dict[str, str]]) -> dict[str, list[tuple[int, dict[str, str]]]]:
    """The points not withdrawn, by section (in the phase's order of rubrics), each in reading order."""
    live = [r for r in rows if r["status"] != "withdrawn"]
    phase = workshop.phase(rows[0]["phase"]) if rows else None
    by_section: dict[str, list[tuple[int, dict[str, str]]]] = {r.id: [] for r in phase.rubrics} if phase else {}
    for depth, row in reading_order(live):
        by_section.setdefault(row["section"], []).append((depth, row))
    return {section: points for section, points in by_section.items() if points}


def team_changes(folder: Path, rows: list[dict[str, str]], corrected: Collection[str]) -> dict[str, tuple[str, str]]:
    """What the team did to a sending's `rows`: row id → (HIDDEN, MERGED, MOVED or CORRECTED, the text
    of the point it now sits under, or that it was merged into; "" otherwise).

    A point sits under a point outside the sending only when the team merged
    a duplicate (its précisions move to the point kept); a hidden point whose
    précisions went elsewhere in its column was merged; `corrected`: the ids
    whose text is no longer what the participant last wrote (the web form's
    receipt knows).  Withdrawn points are the author's and are not listed.
    """
    by_id = {r["id"]: r for r in rows}
    live = [r for r in rows if r["status"] != "withdrawn"]
    outside = {r["parent"] for r in live if r["parent"] and r["parent"] not in by_id}
    hosts = {r["id"]: r for r in rows_by_id(folder, "contributions", outside)} if outside else {}
    found: dict[str, tuple[str, str]] = {}
    for row in live:
        if row["parent"] and row["parent"] not in by_id:
            found[row["id"]] = (MOVED, hosts.get(row["parent"], {}).get("text", ""))
        elif row["status"] == "hidden":
            found[row["id"]] = (HIDDEN, "")
        elif row["id"] in corrected:
            found[row["id"]] = (CORRECTED, "")
    for row in live:
        if found.get(row["id"], ("",))[0] == HIDDEN:
            into = [
                found[r["id"]][1]
                for r in live
                if found.get(r["id"], ("",))[0] == MOVED and column_key(r) == column_key(row)
            ]
            if into:
                found[row["id"]] = (MERGED, into[0])
    return found


def check_unchanged(rows: list[dict[str, str]], team: Mapping[str, str], state: str | None) -> None:
    """Raise CorrectionRefused when the sending was withdrawn, or when what the team did (`team`)
    is no longer the `state` the correction form was made from (None: not checked)."""
    if all_withdrawn(rows):
        raise CorrectionRefused(WITHDRAWN)
    if state is not None and state != correction_state(team, False):
        raise CorrectionRefused(TEAM_ACTED)


def correct_signature(folder: Path, person_id: str, fields: Mapping[str, str]) -> None:
    """Rewrite a signature's `person_fields` (same id, same status).  Errors: store.StoreError."""
    store.update_rows(folder, "participants", {person_id: dict(fields)})


def correct_points(
    folder: Path,
    workshop: Workshop,
    rows: list[dict[str, str]],
    team: Mapping[str, str],
    wanted: Points,
    *,
    before_adding: Callable[[list[str]], None] = lambda ids: None,
    stamp: str | None = None,
) -> list[dict[str, str]]:
    """Rewrite a sending's `rows` as the corrected form asks (`wanted`); return the rows it now holds.

    Only the rows `editable` with the team's changes (`team`: row id → what
    the team did) are rewritten.  Under the folder's lock: `before_adding`
    receives the ids of new points before they are appended (the web form
    records them in the receipt first, so no new row is ever an orphan),
    then the new rows are appended after their siblings and the old ones
    rewritten in one atomic update (`corrected_rows` gives the rules).
    Errors: store.StoreError (a row the store refuses; nothing written).
    """
    with store.locked(folder):
        rows_to_correct = editable(rows, team)
        last = store.last_ranks(folder, "contributions")
        stamp = stamp or clock.stamp()
        result, changes = corrected_rows(workshop, rows_to_correct, wanted, last, stamp)
        family = rows + _merged_in(folder, rows, changes)
        changes.update(columns_follow_parents(family, changes, stamp))
        known = {r["id"] for r in rows}
        added = [row for row in result if row["id"] not in known]
        if added:
            before_adding([r["id"] for r in added])
            store.append_rows(folder, "contributions", added, after_siblings=True)
        if changes:
            store.update_rows(folder, "contributions", changes)
        return result


def corrected_rows(
    workshop: Workshop, rows: list[dict[str, str]], wanted: Points, last: dict[tuple[str, ...], int], stamp: str
) -> tuple[list[dict[str, str]], dict[str, dict[str, str]]]:
    """The rows the corrected form asks for, and the changes to the existing ones (by id).

    A point whose column or parent changes goes after its new siblings
    (`last`: each sibling group's highest rank, updated); one that stays keeps
    its place; a corrected text is moderated again under `moderation: pre`;
    old points the form no longer holds are withdrawn.
    """
    if not rows:
        return [], {}
    old = current_points(workshop, rows)
    reuse = {section: [r["id"] for _d, r in old.get(section, [])] for section in wanted.lines}
    result = point_rows(wanted, status=new_status(workshop), created_at=stamp, reuse=reuse)
    by_id = {r["id"]: r for r in rows}
    changes: dict[str, dict[str, str]] = {}
    for row in result:
        before = by_id.get(row["id"])
        if before is None:
            continue
        change = _changed_point(workshop, before, row, last)
        if change:
            changes[row["id"]] = {**change, "updated_at": stamp}
    kept = {r["id"] for r in result}
    for points in old.values():
        for _depth, row in points:
            if row["id"] not in kept:
                changes[row["id"]] = {"status": "withdrawn", "updated_at": stamp}
    return result, changes


def _merged_in(folder: Path, rows: list[dict[str, str]], changes: Mapping[str, Mapping[str, str]]) -> list[dict[str, str]]:
    """Rows of other sendings that hang below this sending's points (précisions the team merged in), when
    the correction moves a point: they move with it.  Read only then (a correction rarely moves a point)."""
    if not any("question" in c or "group" in c for c in changes.values()):
        return []
    mine = {r["id"] for r in rows}
    every = store.read_table(folder, "contributions")
    children = tree.children_by_parent(every, parent_of=lambda r: r["parent"], order=tree.row_order)
    below = {r["id"]: r for point in mine for r in tree.descendants(children, lambda r: r["id"], point)}
    return [r for i, r in below.items() if i not in mine]


def columns_follow_parents(
    rows: list[dict[str, str]], changes: Mapping[str, Mapping[str, str]], stamp: str
) -> dict[str, dict[str, str]]:
    """The changes (by id, `changes`' own included) that keep every row of a sending in its parent's column.

    A point and its précisions share one column (question and group), a
    rule `atelier validate` checks on every row, withdrawn or hidden ones
    too.  When a correction moves a point to another question or group, the
    rows below it that the form does not rewrite (précisions withdrawn now
    or earlier, rows the team hid) move with it, keeping their status.
    `rows`: every row of the sending; `changes`: what the correction
    already changes (by id), applied first.
    """
    final = {r["id"]: {**r, **changes.get(r["id"], {})} for r in rows}
    children = tree.children_by_parent(
        final.values(), parent_of=lambda r: r["parent"], order=tree.row_order, top=lambda r: r["parent"] not in final
    )
    followed: dict[str, dict[str, str]] = {}
    for _depth, row in tree.walk(children, lambda r: r["id"]):  # parents before their précisions
        parent = final.get(row["parent"])
        moved = {f: parent[f] for f in ("question", "group") if parent is not None and row[f] != parent[f]}
        if moved:
            row.update(moved)
            followed[row["id"]] = {**changes.get(row["id"], {}), **moved, "updated_at": stamp}
    return followed


def _changed_point(
    workshop: Workshop, before: dict[str, str], row: dict[str, str], last: dict[tuple[str, ...], int]
) -> dict[str, str]:
    """What changes in an existing point (empty when nothing): `row`'s position is set as it will be stored."""
    fields = ("question", "group", "parent", "text")
    row["position"] = before["position"]
    if not any(before[f] != row[f] for f in fields):
        return {}
    change = {f: row[f] for f in fields}
    if any(before[f] != row[f] for f in ("question", "group", "parent")):
        siblings = (row["question"], row["phase"], row["group"], row["section"], row["parent"])
        last[siblings] = last.get(siblings, 0) + 1
        change["position"] = row["position"] = str(last[siblings])
    if workshop.moderation == "pre" and before["status"] == "published":
        change["status"] = "pending"  # a corrected text is moderated again
    return change


# ---- withdrawal -----------------------------------------------------------------------------


def withdraw(folder: Path, resource: str, ids: Iterable[str], stamp: str | None = None) -> list[str]:
    """Mark the rows `ids` of `resource` withdrawn (those not already so); return the ids changed.

    A contribution's `updated_at` is set (`stamp`, default now); a
    participant row has no such column.  Under the folder's lock; ids not in
    the file are ignored.  Errors: store.StoreError (nothing written).
    """
    with store.locked(folder):
        rows = [r for r in rows_by_id(folder, resource, ids) if r["status"] != "withdrawn"]
        change: dict[str, str] = {"status": "withdrawn"}
        if "updated_at" in schemas.field_names(resource):
            change["updated_at"] = stamp or clock.stamp()
        if rows:
            store.update_rows(folder, resource, {r["id"]: dict(change) for r in rows})
        return [r["id"] for r in rows]


# ---- transcription of paper post-its (the team's saisie) -----------------------------------------

def transcribe(
    folder: Path,
    column: Column,
    text: str,
    several: bool,
    chain: list[str],
    max_depth: int = schemas.MAX_DEPTH,
    new_id: Callable[[], str] = lambda: store.new_id("c"),
    stamp: str | None = None,
) -> tuple[list[tuple[dict[str, str], int]], list[str]]:
    """Append the typed post-its to `column`, published and credited to nobody; (rows with depth, new chain).

    `several`: `text` is a textarea of points (`parse_points`); else one
    post-it, whose indent (`leading_depth`) nests it under the last point
    typed in this column: `chain` holds the ids of that point and of its
    parents (top level first), once nested under the last point, twice under
    its last précision, and so on.  Positions follow the column's existing
    points, computed under the store's lock that also covers the append.
    `new_id` makes the ids: derived from the form's submission token, the
    same form sent twice raises store.DuplicateKey instead of writing twice.
    Other errors: store.StoreError (a text the store refuses, with its French
    reason naming the line and field; nothing written).
    """
    stamp = stamp or clock.stamp()
    with store.locked(folder):
        existing = [r for r in store.read_table(folder, "contributions") if column_key(r) == column]
        ids = {r["id"] for r in existing}
        chain = [i for i in chain if i in ids]

        def next_position(parent: str) -> int:
            return 1 + max((int(r["position"]) for r in existing if r["parent"] == parent), default=0)

        def post_it(point_id: str, parent: str, position: int, body: str) -> dict[str, str]:
            question, phase, group, section = column
            return point_row(
                point_id, question=question, phase=phase, group=group, section=section, parent=parent,
                position=position, text=body, status="published", created_at=stamp,
            )

        rows: list[tuple[dict[str, str], int]] = []
        if several:
            top = next_position("") - 1
            path: list[str] = []
            for line, point_id, parent, rank in nest(parse_points(text, max_depth), "", iter(new_id, None)):
                rows.append((post_it(point_id, parent, top + rank if not parent else rank, line.text), line.depth))
                path = path[: line.depth] + [point_id]
            chain = path
        else:
            depth, body = leading_depth(text)
            depth = min(depth, len(chain), max_depth - 1)
            parent = chain[depth - 1] if depth else ""
            row = post_it(new_id(), parent, next_position(parent), body)
            rows.append((row, depth))
            chain = chain[:depth] + [row["id"]]
        store.append_rows(folder, "contributions", [r for r, _d in rows])
    return rows, chain
