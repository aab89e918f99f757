"""The vote with gommettes: ballots, paper counts, opening and closing, the tally with ties."""

# votes.csv is a journal, appended under the store's lock and fsynced like
# every answer; nothing in it is ever rewritten.  A ballot (one per person and
# device, found again through the private-link receipt) is a whole set of
# choices: each change appends the new set, and the last set of a ballot
# replaces its earlier ones.  So a replayed or doubled POST cannot count
# twice: the same set again changes nothing, and is not even written.  Paper
# gommettes are one more set, `paper`, replaced as a whole by each saisie.
# The vote's state (open, closed, revealed) is the journal's last `open`,
# `close` or `reveal` line of that phase, so the review and the report can
# say when the vote was opened and closed.

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from pipeline import clock, store
from pipeline.workshop import (
    AtelierError,
    Contribution,
    Phase,
    Point,
    Workshop,
    format_datetime,
    parse_datetime,
)

RESOURCE = "votes"
FILE = "votes.csv"
STATE_EVENTS = ("open", "close", "reveal")
_CHOICE = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]*)=([0-9]{1,4})")


class VoteError(AtelierError):
    """A ballot or a vote change is refused; the message is a French sentence, nothing was written.

    `code`: the HTTP status a web page answers with (403 when the vote is not open).
    """

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code


def parse_choices(text: str) -> dict[str, int]:
    """« c-1=2 c-2=1 » → {"c-1": 2, "c-2": 1}; counts of zero are left out.

    A point named twice (« c-1=2 c-1=2 », never written by atelier: see
    `choices_text`) counts every time it is named, so the tally and
    `atelier validate` read the same gommettes; validate refuses such a row
    (`repeated_points`).
    """
    found: dict[str, int] = {}
    for m in _CHOICE.finditer(text or ""):
        found[m[1]] = found.get(m[1], 0) + int(m[2])
    return {k: v for k, v in found.items() if v}


def repeated_points(text: str) -> list[str]:
    """The points a cell of choices names more than once, in order (one set of choices names each point once)."""
    seen: set[str] = set()
    repeated: list[str] = []
    for m in _CHOICE.finditer(text or ""):
        if m[1] in seen and m[1] not in repeated:
            repeated.append(m[1])
        seen.add(m[1])
    return repeated


def choices_text(choices: Mapping[str, int]) -> str:
    """The cell of a set of choices: ids in sorted order, zero counts left out (one set, one text)."""
    return " ".join(f"{k}={v}" for k, v in sorted(choices.items()) if v)


@dataclass
class VoteState:
    """What votes.csv says of one vote phase, read in order."""

    phase: str
    status: str = "waiting"  # waiting (never opened), open, closed
    revealed: bool = False
    opened_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    ballots: dict[str, dict[str, int]] = field(default_factory=dict)  # last set of each ballot
    versions: dict[str, int] = field(default_factory=dict)  # how many sets each ballot has had (its version)
    voided: set[str] = field(default_factory=set)
    paper: dict[str, int] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)  # duplicate → kept point
    changes: list[dt.datetime] = field(default_factory=list)  # each ballot change, for « bulletins par minute »

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def counted(self) -> dict[str, dict[str, int]]:
        """The ballots that count: every ballot's last set, voided ones left out."""
        return {b: c for b, c in self.ballots.items() if b not in self.voided}

    def kept(self, point_id: str) -> str:
        """The point that now carries `point_id`'s gommettes (itself unless merged, through chains)."""
        seen = {point_id}
        while point_id in self.merged and self.merged[point_id] not in seen:
            point_id = self.merged[point_id]
            seen.add(point_id)
        return point_id


def states(rows: Iterable[Mapping[str, str]]) -> dict[str, VoteState]:
    """Each vote phase's state from the rows of votes.csv, in file order."""
    found: dict[str, VoteState] = {}
    for row in rows:
        state = found.setdefault(row["phase"], VoteState(row["phase"]))
        event, at = row["event"], parse_datetime(row["created_at"])
        if event == "open":
            state.status, state.opened_at = "open", state.opened_at or at
        elif event == "close":
            state.status, state.closed_at = "closed", at
        elif event == "reveal":
            state.revealed = True
        elif event == "ballot":
            state.ballots[row["ballot"]] = parse_choices(row["choices"])
            state.versions[row["ballot"]] = state.versions.get(row["ballot"], 0) + 1
            state.changes.append(at)
        elif event == "void":
            state.voided.add(row["ballot"])
        elif event == "paper":
            state.paper = parse_choices(row["choices"])
        elif event == "merge":
            state.merged[row["point"]] = row["into"]
    return found


def state_of(folder: Path, phase_id: str) -> VoteState:
    """The state of one vote phase as stored now (committed rows only)."""
    return states(store.read_table(folder, RESOURCE)).get(phase_id, VoteState(phase_id))


def votable(workshop: Workshop, phase: Phase, points: Iterable[Point]) -> list[Point]:
    """The points that may get gommettes: published, top level, in the phases/rubrics the vote names."""
    rule = phase.vote
    if rule is None:
        return []
    questions = {q.id for q in workshop.phase_questions(phase)}
    return [
        p
        for p in points
        if p.contribution.status == "published"
        and p.contribution.parent is None
        and p.contribution.question in questions
        and rule.covers(p.contribution.phase, p.contribution.section)
    ]


def twins(points: Iterable[Point]) -> set[str]:
    """The ids of the points whose wording another point shares (pages then name their group to tell them apart)."""
    seen: dict[str, list[str]] = {}
    for p in points:
        seen.setdefault(" ".join(p.contribution.text.casefold().split()), []).append(p.contribution.id)
    return {i for ids in seen.values() if len(ids) > 1 for i in ids}


def check_ballot(phase: Phase, choices: Mapping[str, int], allowed: Iterable[str]) -> None:
    """Refuse (VoteError, French) a set of choices the vote's rule does not allow."""
    rule = phase.vote
    assert rule is not None
    allowed = set(allowed)
    unknown = [k for k in choices if k not in allowed]
    if unknown:
        raise VoteError(
            "un des points choisis ne fait plus partie du vote (retiré, masqué ou fusionné entre-temps ?) ; "
            "rechargez la page et votez à nouveau."
        )
    if any(v < 0 for v in choices.values()):
        raise VoteError("un nombre de gommettes ne peut pas être négatif.")
    if not rule.several and any(v > 1 for v in choices.values()):
        raise VoteError("une seule gommette par point : répartissez-les sur des points différents.")
    total = sum(choices.values())
    if total > rule.gommettes:
        raise VoteError(
            f"vous avez placé {total} gommettes, pour {rule.gommettes} disponibles ; retirez-en {total - rule.gommettes}."
        )


def _append(folder: Path, phase_id: str, event: str, *, ballot: str = "", choices: str = "",
            point: str = "", into: str = "", now: dt.datetime | None = None) -> None:
    store.append_rows(
        folder,
        RESOURCE,
        [
            {
                "id": store.new_id("v"),
                "phase": phase_id,
                "event": event,
                "ballot": ballot,
                "choices": choices,
                "point": point,
                "into": into,
                "created_at": format_datetime(now or clock.now()),
            }
        ],
    )


def _vote_phase(workshop: Workshop, phase_id: str) -> Phase:
    phase = workshop.phase(phase_id)
    if phase is None or phase.kind != "vote":
        names = ", ".join(p.id for p in workshop.phases if p.kind == "vote") or "aucun"
        raise VoteError(f"« {phase_id} » n'est pas un temps de vote d'atelier.yaml (votes : {names}).")
    return phase


STALE_BALLOT = (
    "votre vote a été modifié depuis l'ouverture de cette page (dans un autre onglet ou par un envoi plus récent) ; "
    "c'est ce vote plus récent qui compte. Vérifiez-le ci-dessus et renvoyez ces gommettes si vous voulez le remplacer."
)


def cast_ballot(folder: Path, workshop: Workshop, phase_id: str, ballot: str, choices: Mapping[str, int],
                allowed: Iterable[str], now: dt.datetime | None = None, version: int | None = None) -> bool:
    """Record `ballot`'s whole new set of choices; False when it already was exactly that (a replay).

    Under the folder's store lock: the atelier (else VoteError « l'atelier
    est clos… ») and the vote must be open (else « le vote est fermé… »), the choices within the rule (`check_ballot`),
    and only a set that differs from the ballot's last one is appended.  So
    a doubled tap or a replayed POST never counts twice.  `allowed`: the ids
    of the votable points (`votable`).  `version`: how many sets the ballot
    had when its form was shown (`VoteState.versions`, 0 for a new ballot);
    a form older than the ballot (a replayed old POST, a second tab) can
    never undo a newer set: VoteError 409 `STALE_BALLOT`, nothing written.
    None: not checked.
    """
    phase = _vote_phase(workshop, phase_id)
    if not workshop.is_open:
        raise VoteError("l'atelier est clos : il n'accepte plus de gommettes ; celles ci-dessous n'ont pas été comptées.", code=403)
    wanted = {k: v for k, v in choices.items() if v}
    check_ballot(phase, wanted, allowed)
    with store.locked(folder):
        state = state_of(folder, phase_id)
        if not state.is_open:
            raise VoteError(
                "le vote n'est pas encore ouvert ; renvoyez vos gommettes quand l'animation l'aura ouvert."
                if state.status == "waiting"
                else "le vote est fermé ; les gommettes ci-dessous n'ont pas été comptées.",
                code=403,
            )
        if ballot in state.voided:
            raise VoteError("ce bulletin a été annulé par l'animation ; il ne peut plus être modifié.", code=403)
        if state.ballots.get(ballot, {}) == wanted and (ballot in state.ballots or not wanted):
            return False
        if version is not None and version != state.versions.get(ballot, 0):
            raise VoteError(STALE_BALLOT, code=409)
        _append(folder, phase_id, "ballot", ballot=ballot, choices=choices_text(wanted), now=now)
    return True


def record_paper(folder: Path, workshop: Workshop, phase_id: str, counts: Mapping[str, int],
                 allowed: Iterable[str], now: dt.datetime | None = None) -> bool:
    """Record the gommettes counted on paper, per point, replacing the last count; False when unchanged."""
    _vote_phase(workshop, phase_id)
    allowed = set(allowed)
    wanted = {k: v for k, v in counts.items() if v}
    for point, count in wanted.items():
        if point not in allowed:
            raise VoteError(f"le point « {point} » ne fait pas partie du vote ; rien n'a été enregistré.")
        if count < 0 or count > 9999:
            raise VoteError(f"{count} gommettes : indiquez un nombre entre 0 et 9999 ; rien n'a été enregistré.")
    with store.locked(folder):
        if state_of(folder, phase_id).paper == wanted:
            return False
        _append(folder, phase_id, "paper", choices=choices_text(wanted), now=now)
    return True


EVENT_STATUS = {"open": "open", "close": "closed"}


def set_state(folder: Path, workshop: Workshop, phase_id: str, event: str, now: dt.datetime | None = None) -> bool:
    """Open (`open`), close (`close`) or reveal (`reveal`) a vote; False when it already was."""
    _vote_phase(workshop, phase_id)
    if event not in STATE_EVENTS:
        raise VoteError(f"« {event} » : action inconnue ; actions possibles : {', '.join(STATE_EVENTS)}.")
    with store.locked(folder):
        state = state_of(folder, phase_id)
        if (event == "reveal" and state.revealed) or EVENT_STATUS.get(event) == state.status:
            return False
        _append(folder, phase_id, event, now=now)
    return True


def void_ballot(folder: Path, workshop: Workshop, phase_id: str, ballot: str, now: dt.datetime | None = None) -> bool:
    """Void a ballot (the facilitator's decision): it no longer counts; False when it already was."""
    _vote_phase(workshop, phase_id)
    with store.locked(folder):
        state = state_of(folder, phase_id)
        if ballot not in state.ballots:
            raise VoteError(f"le bulletin « {ballot[:40]} » n'existe pas dans ce vote ; rien n'a été modifié.")
        if ballot in state.voided:
            return False
        _append(folder, phase_id, "void", ballot=ballot, now=now)
    return True


def record_merge(folder: Path, workshop: Workshop, duplicate: str, keep: str, now: dt.datetime | None = None) -> None:
    """After moderation merged `duplicate` into `keep`: its gommettes follow, in every vote of the atelier.

    Called under the store lock held by the merge; nothing is written when the atelier has no vote.
    """
    for phase in workshop.phases:
        if phase.kind == "vote":
            _append(folder, phase.id, "merge", point=duplicate, into=keep, now=now)


@dataclass(frozen=True)
class Result:
    """One votable point in the tally: its gommettes online and on paper, its rank (ties share one)."""

    point: Point
    online: int
    paper: int
    rank: int
    tied: bool

    @property
    def total(self) -> int:
        return self.online + self.paper


@dataclass(frozen=True)
class Dropped:
    """A point that had gommettes but left the results (withdrawn or hidden after the vote)."""

    contribution: Contribution
    gommettes: int


@dataclass(frozen=True)
class Tally:
    phase: Phase
    state: VoteState
    results: tuple[Result, ...]
    dropped: tuple[Dropped, ...]

    @property
    def ballots(self) -> int:
        return sum(1 for c in self.state.counted().values() if c)

    @property
    def online(self) -> int:
        return sum(r.online for r in self.results)

    @property
    def paper(self) -> int:
        return sum(r.paper for r in self.results)


def tally(workshop: Workshop, phase: Phase, points: Iterable[Point], contributions: Iterable[Contribution],
          state: VoteState) -> Tally:
    """The results of a vote: every votable point with its counts, ranked by total, ties sharing a rank.

    Gommettes on a merged duplicate go to the kept point; a point no longer
    votable (withdrawn, hidden) is listed in `dropped` with what it had.
    Order: total descending, then the points' reading order.
    """
    online: dict[str, int] = {}
    for choices in state.counted().values():
        for point, count in choices.items():
            kept = state.kept(point)
            online[kept] = online.get(kept, 0) + count
    paper: dict[str, int] = {}
    for point, count in state.paper.items():
        kept = state.kept(point)
        paper[kept] = paper.get(kept, 0) + count
    candidates = votable(workshop, phase, points)
    ids = {p.contribution.id for p in candidates}
    order = sorted(range(len(candidates)), key=lambda i: -(online.get(candidates[i].contribution.id, 0) + paper.get(candidates[i].contribution.id, 0)))
    totals = [online.get(p.contribution.id, 0) + paper.get(p.contribution.id, 0) for p in candidates]
    results = []
    for i in order:
        p = candidates[i]
        total = totals[i]
        rank = 1 + sum(1 for t in totals if t > total)
        tied = sum(1 for t in totals if t == total) > 1
        results.append(Result(p, online.get(p.contribution.id, 0), paper.get(p.contribution.id, 0), rank, tied))
    by_id = {c.id: c for c in contributions}
    dropped = tuple(
        Dropped(by_id[k], online.get(k, 0) + paper.get(k, 0))
        for k in sorted(set(online) | set(paper))
        if k not in ids and k in by_id and online.get(k, 0) + paper.get(k, 0)
    )
    return Tally(phase, state, tuple(results), dropped)


def per_minute(state: VoteState) -> list[tuple[dt.datetime, int]]:
    """Ballot changes per minute (UTC minute, count), for the facilitator to spot a burst."""
    minutes: dict[dt.datetime, int] = {}
    for at in state.changes:
        key = at.replace(second=0, microsecond=0)
        minutes[key] = minutes.get(key, 0) + 1
    return sorted(minutes.items())


def vote_phase(workshop: Workshop, phase_id: str | None = None) -> Phase:
    """The vote phase `phase_id`, or the atelier's only one; VoteError (French) naming the choices otherwise."""
    phases = [p for p in workshop.phases if p.kind == "vote"]
    if phase_id is None:
        if len(phases) == 1:
            return phases[0]
        if not phases:
            raise VoteError("cet atelier n'a pas de temps de vote (genre « vote » dans « phases » d'atelier.yaml).")
        raise VoteError(f"cet atelier a plusieurs votes ; précisez lequel avec --phase ({', '.join(p.id for p in phases)}).")
    return _vote_phase(workshop, phase_id)


STATE_WORDS = {"open": ("ouvert", "déjà ouvert"), "close": ("fermé", "déjà fermé"), "reveal": ("dévoilé au mur", "déjà dévoilé")}


def change_state(folder: Path, event: str, phase_id: str | None = None) -> str:
    """Open, close or reveal a vote of the atelier folder (the command line's and the dashboard's verb).

    Returns the French sentence saying what happened (« Vote « Priorités » ouvert. »).
    """
    from pipeline.workshop import load_atelier

    workshop = load_atelier(folder).workshop
    phase = vote_phase(workshop, phase_id)
    changed = set_state(folder, workshop, phase.id, event)
    done, already = STATE_WORDS[event]
    return f"Vote « {phase.title} » {done if changed else already}."
