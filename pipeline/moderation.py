"""Moderation of an atelier's points: publish, hide, correct, merge; each decision one locked rewrite."""

# Every decision reads contributions.csv and rewrites it through
# `store.update_rows` while holding the folder's exclusive lock (the store's
# lock is re-entrant), so what is checked is what is changed: a participant
# who withdraws a point at the same moment is never overruled by a stale view.
# Row ids never change.  `updated_at` is set on every row a decision changes,
# as a participant's correction or withdrawal does: it is when the row last
# changed, and the compte-rendu's date follows it.
#
# Transitions (a withdrawn point belongs to its author and is never touched):
#
#   pending   → published (publish, with its pending précisions) or hidden (hide)
#   published → hidden (hide)
#   hidden    → published (publish: put back)
#
# Merging a duplicate into the point kept: both must be in the same column
# (question, phase, sous-groupe, rubrique) and neither a précision of the
# other.  The duplicate becomes hidden; its direct précisions (whatever their
# status) move under the kept point, after its own, in their order, with their
# own précisions following them; the kept point's text may be rewritten at
# the same time (to join both wordings).  Nothing is deleted: the duplicate's
# row and author stay in the file, hidden.

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline import clock, store
from pipeline.schemas import MAX_DEPTH
from pipeline.workshop import AtelierError, parse_datetime

FILE = "contributions.csv"
COLUMN = ("question", "phase", "group", "section")


class ModerationError(AtelierError):
    """A moderation decision cannot be applied; the message is a French sentence, nothing was written."""


@dataclass(frozen=True)
class Outcome:
    """What a decision changed: the rows' ids (the point first) and a note for the facilitator."""

    changed: tuple[str, ...]
    note: str = ""


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"«\u00a0{text if len(text) <= limit else text[: limit - 1] + '…'}\u00a0»"


def _table(folder: Path) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in store.read_table(folder, "contributions")}


def _point(rows: dict[str, dict[str, str]], point_id: str) -> dict[str, str]:
    row = rows.get(point_id)
    if row is None:
        raise ModerationError(f"{FILE} : le point « {point_id[:64]} » est introuvable ; rien n'a été modifié.")
    if row["status"] == "withdrawn":
        raise ModerationError(
            f"{FILE} : le point {_quote(row['text'])} a été retiré par son auteur ; l'animation ne peut plus le "
            "publier, le masquer ni le modifier."
        )
    return row


def _children(rows: dict[str, dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    children: dict[str, list[dict[str, str]]] = {}
    for row in rows.values():
        if row["parent"]:
            children.setdefault(row["parent"], []).append(row)
    for kids in children.values():
        kids.sort(key=lambda r: (int(r["position"]), r["created_at"], r["id"]))  # as Contribution.order
    return children


def _ancestors(rows: dict[str, dict[str, str]], point_id: str) -> list[str]:
    """The ids above a point, nearest first (a loop in hand-made data stops the walk)."""
    found: list[str] = []
    parent = rows[point_id]["parent"]
    while parent and parent in rows and parent not in found and parent != point_id:
        found.append(parent)
        parent = rows[parent]["parent"]
    return found


def _height(children: dict[str, list[dict[str, str]]], point_id: str, seen: frozenset[str] = frozenset()) -> int:
    """How many levels of précisions hang below a point (0 for none)."""
    kids = [k for k in children.get(point_id, []) if k["id"] not in seen]
    return max((1 + _height(children, k["id"], seen | {point_id}) for k in kids), default=0)


def publish(folder: Path, point_id: str, stamp: str | None = None) -> Outcome:
    """Publish a pending or hidden point; a pending point's pending précisions are published with it."""
    folder = Path(folder)
    with store.locked(folder):
        rows = _table(folder)
        row = _point(rows, point_id)
        if row["status"] == "published":
            return Outcome((), f"Le point {_quote(row['text'])} est déjà publié.")
        stamp = stamp or clock.stamp()
        ids = [point_id]
        if row["status"] == "pending":
            children = _children(rows)
            todo = [point_id]
            while todo:
                for kid in children.get(todo.pop(), []):
                    if kid["status"] == "pending" and kid["id"] not in ids:
                        ids.append(kid["id"])
                        todo.append(kid["id"])
        store.update_rows(folder, "contributions", {i: {"status": "published", "updated_at": stamp} for i in ids})
        note = ""
        hidden_above = [a for a in _ancestors(rows, point_id) if rows[a]["status"] != "published"]
        if hidden_above:
            note = (
                f"Le point au-dessus, {_quote(rows[hidden_above[0]]['text'])}, n'est pas publié : "
                "celui-ci n'apparaîtra qu'avec lui."
            )
        return Outcome(tuple(ids), note)


def hide(folder: Path, point_id: str, stamp: str | None = None) -> Outcome:
    """Hide a pending or published point (its précisions disappear with it, unchanged)."""
    folder = Path(folder)
    with store.locked(folder):
        rows = _table(folder)
        row = _point(rows, point_id)
        if row["status"] == "hidden":
            return Outcome((), f"Le point {_quote(row['text'])} est déjà masqué.")
        store.update_rows(folder, "contributions", {point_id: {"status": "hidden", "updated_at": stamp or clock.stamp()}})
        return Outcome((point_id,))


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ModerationError(f"{FILE} : le texte d'un point ne peut pas être vide ; rien n'a été modifié.")
    return text


def edit(folder: Path, point_id: str, text: str, stamp: str | None = None) -> Outcome:
    """Correct a point's text (a typo): same id, same status, `updated_at` set."""
    folder = Path(folder)
    text = _clean_text(text)
    with store.locked(folder):
        rows = _table(folder)
        row = _point(rows, point_id)
        if row["text"] == text:
            return Outcome((), "Le texte est inchangé.")
        store.update_rows(folder, "contributions", {point_id: {"text": text, "updated_at": stamp or clock.stamp()}})
        return Outcome((point_id,))


def merge_candidates(rows: dict[str, dict[str, str]], duplicate_id: str) -> list[dict[str, str]]:
    """The points a duplicate may be merged into: same column, shown (pending or published), not related."""
    duplicate = rows[duplicate_id]
    related = {duplicate_id, *_ancestors(rows, duplicate_id)}
    return [
        row
        for row in rows.values()
        if all(row[f] == duplicate[f] for f in COLUMN)
        and row["status"] in ("pending", "published")
        and row["id"] not in related
        and duplicate_id not in _ancestors(rows, row["id"])
    ]


def merge(folder: Path, keep_id: str, duplicate_id: str, text: str | None = None, stamp: str | None = None) -> Outcome:
    """Merge `duplicate_id` into `keep_id` (see the top of the module); `text` rewrites the kept point."""
    folder = Path(folder)
    new_text = _clean_text(text) if text is not None and text.strip() else None
    with store.locked(folder):
        rows = _table(folder)
        if keep_id == duplicate_id:
            raise ModerationError(f"{FILE} : un point ne peut pas être fusionné avec lui-même ; rien n'a été modifié.")
        duplicate, keep = _point(rows, duplicate_id), _point(rows, keep_id)
        if duplicate["status"] == "hidden":
            raise ModerationError(
                f"{FILE} : le doublon {_quote(duplicate['text'])} est déjà masqué (la fusion est sans doute déjà "
                "faite) ; rien n'a été modifié."
            )
        if keep["status"] == "hidden":
            raise ModerationError(
                f"{FILE} : le point à garder {_quote(keep['text'])} est masqué ; republiez-le d'abord. "
                "Rien n'a été modifié."
            )
        different = [f for f in COLUMN if keep[f] != duplicate[f]]
        if different:
            raise ModerationError(
                f"{FILE} : {_quote(duplicate['text'])} et {_quote(keep['text'])} ne sont pas dans la même colonne "
                f"(champ « {different[0]} » : « {duplicate[different[0]]} » et « {keep[different[0]]} ») ; "
                "on ne fusionne que des points d'une même colonne. Rien n'a été modifié."
            )
        keep_above = _ancestors(rows, keep_id)
        if duplicate_id in keep_above or keep_id in _ancestors(rows, duplicate_id):
            raise ModerationError(
                f"{FILE} : l'un de ces deux points est une précision de l'autre ; on ne fusionne pas un point avec "
                "ses propres précisions. Rien n'a été modifié."
            )
        children = _children(rows)
        moved = children.get(duplicate_id, [])
        deepest = len(keep_above) + 1 + max((_height(children, k["id"]) for k in moved), default=-1)
        if moved and deepest > MAX_DEPTH - 1:
            raise ModerationError(
                f"{FILE} : sous {_quote(keep['text'])}, les précisions du doublon descendraient à "
                f"{deepest + 1} niveaux, au-delà des {MAX_DEPTH} que le compte-rendu imprime ; "
                "rien n'a été modifié."
            )
        stamp = stamp or clock.stamp()
        changes: dict[str, dict[str, str]] = {duplicate_id: {"status": "hidden", "updated_at": stamp}}
        after = max((int(k["position"]) for k in children.get(keep_id, [])), default=0)
        for rank, kid in enumerate(moved, start=after + 1):
            changes[kid["id"]] = {"parent": keep_id, "position": str(rank), "updated_at": stamp}
        if new_text is not None and new_text != keep["text"]:
            changes[keep_id] = {"text": new_text, "updated_at": stamp}
        store.update_rows(folder, "contributions", changes)
        workshop = store.folder_workshop(folder)
        if workshop is not None:  # the duplicate's gommettes follow it to the kept point
            from pipeline import votes

            votes.record_merge(folder, workshop, duplicate_id, keep_id, parse_datetime(stamp))
        return Outcome((keep_id, duplicate_id, *(k["id"] for k in moved)))
