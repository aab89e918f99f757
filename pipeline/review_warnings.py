"""What a reviewer should look at twice in a change: personal data, spreadsheet formulas, duplicates, late points, deletions, undrawable characters."""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from pipeline.export import is_formula_like
from pipeline.fonts import SUBSTITUTE, describe, undrawable
from pipeline.french import date_fr, datetime_fr, fr, plural, say, zone_named
from pipeline.markdown import code_id, md
from pipeline.privacy import personal_data
from pipeline.workshop import parse_datetime
from pipeline.review_changes import (
    AtelierChanges,
    question_numbers,
    place_key,
    place_label,
    Row,
    TEXT_FIELDS,
)

NEAR_DUPLICATE = 0.9  # difflib ratio from which two texts are « très proches »
NEAR_CANDIDATES = 16  # texts of closest length compared with each new one: bounds the work
NEAR_PREFIX = 150  # normalised characters compared: long texts are compared by their beginning
NEAR_TRIGRAMS = 0.6  # Dice coefficient of trigrams under which two texts are never 90 % alike in practice
MAX_COMPARISONS = 2000  # full difflib ratios per atelier (about 0.5 ms each for 150 characters)
LIVE = ("published", "pending")  # statuses of points a reader may still see

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
    """Everything a reviewer should check before approving, as Markdown lines, kind after kind."""
    numbers = question_numbers(changes.head_workshop)
    touched = changes.added + [new for _old, new in changes.corrected]
    return [
        *_text_cautions(touched, numbers),
        *_undrawable_cautions(touched, changes, numbers),
        *_people_cautions(changes),
        *_duplicate_cautions(touched, changes, numbers),
        *_late_cautions(changes),
        *_removed_cautions(changes),
    ]


def _text_cautions(touched: list[Row], numbers: dict[str, int]) -> list[Caution]:
    """Personal data and spreadsheet formulas in the points added or corrected."""
    out: list[Caution] = []
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
    return out


def _undrawable_cautions(touched: list[Row], changes: AtelierChanges, numbers: dict[str, int]) -> list[Caution]:
    """Characters no project font draws, in the points and in the attendance list."""
    out: list[Caution] = []
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
    return out


def _people_cautions(changes: AtelierChanges) -> list[Caution]:
    """Personal data and spreadsheet formulas in the attendance list."""
    out: list[Caution] = []
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
    return out


def _duplicate_cautions(touched: list[Row], changes: AtelierChanges, numbers: dict[str, int]) -> list[Caution]:
    """Points whose text another point already has, or nearly."""
    out: list[Caution] = []
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
    return out


def _late_cautions(changes: AtelierChanges) -> list[Caution]:
    """Rows created more than a day after the atelier, or after it was closed."""
    out: list[Caution] = []
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
    return out


def _removed_cautions(changes: AtelierChanges) -> list[Caution]:
    """Rows deleted instead of withdrawn."""
    out: list[Caution] = []
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


