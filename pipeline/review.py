"""What changed in an atelier's data between two git revisions, summarised in French Markdown for a pull request."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Iterable

from pipeline import history
from pipeline.french import fr, plural, say
from pipeline.history import Snapshot
from pipeline.markdown import code_id, md
from pipeline.privacy import mask_personal_data
from pipeline.review_changes import (
    AtelierChanges,
    Row,
    STATUS_VERBS,
    _PATH,
    compare,
    place_key,
    place_label,
    question_numbers,
)
from pipeline.review_warnings import (
    WARNING_KINDS,
    duplicates as duplicates,
    warnings,
)

MARKER = "<!-- atelier-review -->"
# GitHub refuses a comment over 65,536 characters and a step summary over
# 1 MiB; we stay well below the smaller one, whatever the size of the change.
COMMENT_LIMIT = 65_536
DEFAULT_LIMIT = 60_000
OPEN_ITEMS = 10  # longer lists are folded in <details>
STATUS_LABELS = {"pending": "en attente", "published": "publié", "hidden": "masqué", "withdrawn": "retiré"}
_REV = re.compile(r"[\w./~^@{} -]{1,200}")  # git revision names shown as code

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

