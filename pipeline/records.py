"""An atelier's rows as typed, immutable objects: participants, contributions and their tree of points, actions, the Atelier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from pipeline import tree
from pipeline.atelier_format import Phase, Workshop


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
    group: str | None = None
    parent: str | None = None
    number: int | None = None
    link: str | None = None
    author: str | None = None
    updated_at: dt.datetime | None = None

    @property
    def order(self) -> tuple[int, dt.datetime, str]:
        """Its place among its siblings: `position`, then arrival (`created_at`), then `id`.

        Points sent from the form get their position in arrival order (the store
        ranks them after their column's last); arrival breaks the ties older files
        hold (every point sent from the form had position 1), so the wall and the
        report never shuffle them by their random ids.
        """
        return (self.position, self.created_at, self.id)


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
class Action:
    """One line of the plan d'actions: who carries what, with whom, by when, from which points."""

    id: str
    phase: str
    title: str
    statut: str
    created_at: dt.datetime
    porteur: str = ""
    partenaires: str = ""
    echeance: dt.date | None = None
    moyens: str = ""
    points: tuple[str, ...] = ()
    updated_at: dt.datetime | None = None
    group: str | None = None  # the group that proposed it from the form; None when typed by the team


@dataclass(frozen=True)
class Atelier:
    """An atelier folder: its description, attendance list and contributions (votes and actions when it has them)."""

    path: Path
    workshop: Workshop
    participants: tuple[Participant, ...]
    contributions: tuple[Contribution, ...]
    votes: tuple[dict[str, str], ...] = ()  # rows of votes.csv, in order (a journal: see pipeline.votes)
    actions: tuple[Action, ...] = ()

    def vote_candidates(self, phase: Phase) -> tuple[Point, ...]:
        """The published top-level points of the columns a vote phase names, with their précisions, in reading order."""
        rule = phase.vote
        if rule is None:
            return ()
        found: list[Point] = []
        for column_phase, question, group, rubric in self.workshop.columns():
            if rule.covers(column_phase.id, rubric.id) and question in self.workshop.phase_questions(phase):
                found += self.points(question.id, column_phase.id, rubric.id, group.id if group else None)
        return tuple(found)

    @property
    def slug(self) -> str:
        return self.workshop.slug

    def points(
        self,
        question: str,
        phase: str,
        section: str,
        group: str | None = None,
        statuses: tuple[str, ...] = ("published",),
    ) -> tuple[Point, ...]:
        """Top-level points of one column (question, phase, group, section) as trees.

        Only contributions whose status is in `statuses` appear; a child of a
        point left out is left out with it.  Siblings are ordered by
        `Contribution.order` (position, arrival, id), so the order never depends on the file's.
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
        # A point whose parent is left out hangs under a key never reached from the top: its branch stays out.
        children = tree.children_by_parent(chosen, parent_of=lambda c: c.parent, order=lambda c: c.order)
        return tree.nest(children, lambda c: c.id, Point)

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

    def shown(self) -> tuple[Contribution, ...]:
        """The points the compte-rendu prints, in its order: what `atelier summary` and the report both count.

        A published point is shown when its column is declared in atelier.yaml and
        every point above it is published too (`points`): a published answer
        under a hidden point is left out with it.
        """
        return tuple(
            point.contribution
            for phase, question, group, rubric in self.workshop.columns()
            for top in self.points(question.id, phase.id, rubric.id, group.id if group else None)
            for _depth, point in top.walk()
        )
