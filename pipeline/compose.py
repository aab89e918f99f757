"""Compose an atelier into the outline of its compte-rendu: plain values, no markup."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from pipeline import schemas
from pipeline.french import date_fr, datetime_fr, french, plural_word
from pipeline.published import atelier_start, fingerprint, fingerprinted, last_change, published_files
from pipeline.workshop import Atelier, Group, Phase, Point, Question, Rubric, Target, Workshop

NUMBER_WORDS = ("zéro", "une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix")


@dataclass(frozen=True)
class Item:
    """One point as printed: its text, its « 1. » number if any, its link, its sub-points."""

    id: str
    text: str
    number: int | None = None
    link: str | None = None
    children: tuple["Item", ...] = ()

    def walk(self, depth: int = 0) -> Iterable[tuple[int, "Item"]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


@dataclass(frozen=True)
class TitleBlock:
    platform: str
    title: str
    date: dt.date
    date_text: str
    place: str
    kind: str
    version: str | None


@dataclass(frozen=True)
class QuestionPrompts:
    number: int
    title: str
    prompts: tuple[str, ...]


@dataclass(frozen=True)
class Setup:
    """Section 1: the préalables, the déroulé and the questions asked."""

    preamble_title: str
    preamble_paragraphs: tuple[str, ...]
    preamble_points: tuple[str, ...]
    questions_heading: str
    format_intro: str
    format_steps: tuple[str, ...]
    questions: tuple[QuestionPrompts, ...]
    sessions: tuple[str, ...] = ()  # the séances, in words


@dataclass(frozen=True)
class Column:
    """The points of one rubric, under its label."""

    rubric: str
    label: str
    items: tuple[Item, ...]
    rank: int = 1  # the rubric's place in its phase, from 1: its colour in the grids and charts


@dataclass(frozen=True)
class GridRow:
    """Up to two columns side by side, under the heading they share (« Conditions au changement »)."""

    heading: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Sheet:
    """One group's sheet: its rows of columns and its encadrés; only what has points."""

    group: str
    label: str
    people: str  # « Hôte : … », « Rapporteur : … » or ""
    rows: tuple[GridRow, ...]
    boxes: tuple[Column, ...]


@dataclass(frozen=True)
class PhaseQuestion:
    """What one phase produced on one question: pooled columns, or one sheet per group."""

    number: int
    title: str
    objective: str
    columns: tuple[Column, ...]  # phases without groups
    sheets: tuple[Sheet, ...]  # phases with groups


@dataclass(frozen=True)
class Ranked:
    """One line of « Priorités »: a point with its gommettes, online and on paper; ties share a rank."""

    rank: int
    tied: bool
    item: Item
    online: int
    paper: int

    @property
    def total(self) -> int:
        return self.online + self.paper

    @property
    def rank_text(self) -> str:
        return f"{self.rank}\u00a0ex\u00a0æquo" if self.tied else str(self.rank)


@dataclass(frozen=True)
class Priorities:
    """What a vote phase gives the report: the ranking, the ballots, and the rule people voted by."""

    results: tuple[Ranked, ...]
    ballots: int
    online: int
    paper: int
    gommettes: int
    several: bool


@dataclass(frozen=True)
class PlanItem:
    """A line of the « Plan d'actions » table."""

    title: str
    porteur: str
    partenaires: str
    echeance: str  # « 1er mars 2027 », or empty
    moyens: str
    statut: str  # its French label
    sources: tuple[str, ...]  # the texts of the points it comes from
    group: str = ""  # the label of the group that proposed it, if a group did


@dataclass(frozen=True)
class Chapter:
    """A phase of the déroulé as a chapter of the report; empty questions are left out."""

    number: int
    anchor: str
    phase: str
    kind: str
    title: str
    intro: str
    questions: tuple[PhaseQuestion, ...]
    session: str = ""  # « Vendredi 23 — 23 janvier 2026, Mairie » when the phase belongs to a séance
    priorities: Priorities | None = None  # a vote phase with gommettes
    plan: tuple[PlanItem, ...] = ()  # an action-plan phase

    @property
    def printed(self) -> bool:
        return bool(self.questions or self.priorities or self.plan)


@dataclass(frozen=True)
class TimeStepText:
    label: str
    title: str
    text: str
    instructions: tuple[str, ...]
    targets: tuple[str, ...]


@dataclass(frozen=True)
class TimeOrganisation:
    number: int
    title: str
    steps: tuple[TimeStepText, ...]


@dataclass(frozen=True)
class Attendee:
    name: str
    organisation: str
    role: str = ""  # the qualité as people read it (« élu·e »), from the participants schema


@dataclass(frozen=True)
class Attendance:
    """4.2: who consented to be named, and how many others were there."""

    listed: tuple[Attendee, ...]
    others: int

    @property
    def total(self) -> int:
        return len(self.listed) + self.others

    @property
    def others_text(self) -> str:
        """« et 12 autres participants », or the whole sentence when nobody is named."""
        if not self.others:
            return ""
        if not self.listed:
            noun = "participant" if self.others == 1 else "participants"
            return f"{self.others} {noun}, non nommés à leur demande."
        noun = "autre participant" if self.others == 1 else "autres participants"
        return f"et {self.others} {noun}"


@dataclass(frozen=True)
class Count:
    """Points of one rubric in one place: top-level points and every point below them."""

    rubric: str
    label: str
    top: int
    total: int  # every level of nesting included
    target: tuple[int | None, int | None] | None = None


@dataclass(frozen=True)
class CountRow:
    """One bar row of a chart: a question (pooled phase) or a group on a question."""

    label: str
    counts: tuple[Count, ...]


@dataclass(frozen=True)
class PhaseCounts:
    """The figures of one phase: its rows, grouped by question, on one scale."""

    phase: str
    title: str
    grouped: bool
    questions: tuple[tuple[str, tuple[CountRow, ...]], ...]  # (question heading, rows)
    total: int
    noun: tuple[str, str]  # what the phase's points are called: (« idée », « idées »)


@dataclass(frozen=True)
class Synthesis:
    """The page people look at rather than read: key figures and counts per phase."""

    participants: int
    contributions: int
    groups: int
    phases: tuple[PhaseCounts, ...]
    votes: tuple[tuple[str, Priorities], ...] = ()  # (the vote's title, its figures)
    actions: int = 0


@dataclass(frozen=True)
class Colophon:
    version: str | None
    fingerprint: str
    participants: int
    contributions: int
    last_change: dt.datetime
    last_change_text: str
    attachments: tuple[str, ...]
    fingerprinted: tuple[str, ...] = ("atelier.yaml", "contributions.csv", "participants.csv")


@dataclass(frozen=True)
class Metadata:
    """What goes into the PDF's document information and XMP."""

    title: str
    author: str
    subject: str
    keywords: tuple[str, ...]
    lang: str
    created: dt.datetime
    modified: dt.datetime


@dataclass(frozen=True)
class Report:
    title: TitleBlock
    setup: Setup
    chapters: tuple[Chapter, ...]
    times: tuple[TimeOrganisation, ...]
    attendance: Attendance
    synthesis: Synthesis
    colophon: Colophon
    metadata: Metadata
    files: tuple[tuple[str, bytes], ...]  # the published data package, embedded in the PDF

    terms: tuple[str, str, str, str]  # question, questions, group, groups

    def items(self) -> Iterable[Item]:
        """Every point printed in the phases' chapters, in reading order."""
        return printed_items(self.chapters)


def printed_items(chapters: Iterable[Chapter]) -> Iterable[Item]:
    for chapter in chapters:
        for question in chapter.questions:
            columns = list(question.columns)
            for sheet in question.sheets:
                columns += [c for row in sheet.rows for c in row.columns] + list(sheet.boxes)
            for column in columns:
                for point in column.items:
                    yield from (item for _, item in point.walk())


def _item(point: Point) -> Item:
    c = point.contribution
    return Item(c.id, c.text, c.number, c.link, tuple(_item(child) for child in point.children))


def _items(atelier: Atelier, question: str, phase: str, section: str, group: str | None = None) -> tuple[Item, ...]:
    return tuple(_item(p) for p in atelier.points(question, phase, section, group))


def _count(items: tuple[Item, ...]) -> int:
    return sum(1 for item in items for _ in item.walk())


def _questions_heading(count: int, ws: Workshop) -> str:
    if count == 1:
        return f"La {ws.terms.question} posée lors de cette rencontre" if ws.terms.question == "question" else f"{ws.terms.question.capitalize()} de cette rencontre"
    words = NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)
    if ws.terms.question == "question":
        return f"Les {words} questions posées lors de cette rencontre"
    return f"{ws.terms.questions.capitalize()} de cette rencontre"


def amount_text(target: Target, singular: str, plural: str) -> str | None:
    """« 3 à 5 moteurs », « au moins 2 atouts »; None when the target has no bound."""
    low, high = target.min, target.max
    if low is not None and high is not None and low != high:
        return f"{low} à {high} {plural_word(high, singular, plural)}"
    if low is not None and high is not None:
        return f"{low} {plural_word(low, singular, plural)}"
    if low is not None:
        return f"au moins {low} {plural_word(low, singular, plural)}"
    if high is not None:
        return f"au plus {high} {plural_word(high, singular, plural)}"
    return None


def target_text(target: Target, ws: Workshop) -> str:
    """identifier 3 à 5 moteurs par sous-groupe (nouns and group term from atelier.yaml)."""
    rubric = next((r for p in ws.phases for r in p.rubrics if r.id == target.section), None)
    singular, plural = (rubric.singular, rubric.plural) if rubric else (target.section, target.section)
    amount = amount_text(target, singular, plural)
    return f"identifier {amount or 'des ' + plural} par {ws.terms.group}"


def _people(group: Group) -> str:
    parts = []
    if group.host:
        parts.append(f"Hôte\u202f: {group.host}")
    if group.rapporteur:
        parts.append(f"Rapporteur\u202f: {group.rapporteur}")
    return " · ".join(parts)


def _column(atelier: Atelier, q: Question, phase: Phase, rubric: Rubric, group: str | None) -> Column:
    rank = phase.rubrics.index(rubric) + 1
    return Column(rubric.id, rubric.label, _items(atelier, q.id, phase.id, rubric.id, group), rank)


def _sheet(atelier: Atelier, q: Question, phase: Phase, group: Group) -> Sheet:
    rows = []
    for heading, rubrics in phase.rows():
        columns = tuple(c for c in (_column(atelier, q, phase, r, group.id) for r in rubrics) if c.items)
        if columns:  # an empty rubric is left out, not printed empty
            rows.append(GridRow(heading, columns))
    boxes = tuple(c for c in (_column(atelier, q, phase, r, group.id) for r in phase.boxes) if c.items)
    return Sheet(group.id, group.label, _people(group), tuple(rows), boxes)


def _priorities(atelier: Atelier, phase: Phase) -> Priorities | None:
    """The ranking of a vote phase; None when nobody gave a gommette (the chapter is left out)."""
    from pipeline import votes

    state = votes.states(atelier.votes).get(phase.id, votes.VoteState(phase.id))
    result = votes.tally(atelier.workshop, phase, atelier.vote_candidates(phase), atelier.contributions, state)
    if not any(r.total for r in result.results) or phase.vote is None:
        return None
    ranked = tuple(Ranked(r.rank, r.tied, _item(r.point), r.online, r.paper) for r in result.results)
    return Priorities(ranked, result.ballots, result.online, result.paper, phase.vote.gommettes, phase.vote.several)


def _plan(atelier: Atelier, phase: Phase) -> tuple[PlanItem, ...]:
    texts = {c.id: c.text for c in atelier.contributions if c.status == "published"}
    labels = schemas.enum_labels("actions", "statut")
    return tuple(
        PlanItem(
            a.title,
            a.porteur,
            a.partenaires,
            date_fr(a.echeance) if a.echeance else "",
            a.moyens,
            labels.get(a.statut, a.statut),
            tuple(texts[p] for p in a.points if p in texts),
            atelier.workshop.group_label(a.group) if a.group else "",
        )
        for a in sorted((a for a in atelier.actions if a.phase == phase.id), key=lambda a: (a.created_at, a.id))
    )


def _chapter(atelier: Atelier, number: int, phase: Phase) -> Chapter:
    ws = atelier.workshop
    if phase.kind == "vote":
        return Chapter(number, f"temps-{phase.id}", phase.id, phase.kind, phase.title, phase.intro.report, (),
                       priorities=_priorities(atelier, phase))
    if phase.kind == "actions":
        return Chapter(number, f"temps-{phase.id}", phase.id, phase.kind, phase.title, phase.intro.report, (),
                       plan=_plan(atelier, phase))
    found = []
    for n, q in enumerate(ws.questions, start=1):
        if q not in ws.phase_questions(phase):
            continue
        if phase.grouped:
            sheets = tuple(s for s in (_sheet(atelier, q, phase, g) for g in ws.groups_for(phase, q)) if s.rows or s.boxes)
            if sheets:
                found.append(PhaseQuestion(n, q.title, q.objective.report, (), sheets))
        else:
            columns = tuple(c for c in (_column(atelier, q, phase, r, None) for r in phase.rubrics) if c.items)
            if columns:
                found.append(PhaseQuestion(n, q.title, "", columns, ()))
    return Chapter(
        number, f"temps-{phase.id}", phase.id, phase.kind, phase.title, phase.intro.report, tuple(found),
        session_text(ws, phase.session),
    )


def _time_fr(hhmm: str) -> str:
    """« 18:00 » → « 18 h », « 09:30 » → « 9 h 30 »."""
    hours, _sep, minutes = hhmm.partition(":")
    return f"{int(hours)} h" + (f" {minutes}" if minutes and minutes != "00" else "")


def session_text(ws: Workshop, session_id: str | None) -> str:
    """« Vendredi 23 — 23 janvier 2026, 18 h – 21 h, Mairie », or "" without a séance."""
    session = ws.session(session_id)
    if session is None:
        return ""
    text = f"{session.label} — {date_fr(session.date)}"
    if session.start:
        text += f", {_time_fr(session.start)}" + (f" – {_time_fr(session.end)}" if session.end else "")
    return text + (f", {session.place}" if session.place else "")


def _phase_counts(ws: Workshop, phase: Phase, chapter: Chapter) -> PhaseCounts:
    """Counts of a phase, from what the chapter prints; every declared rubric and group is a row or column."""
    printed = {(pq.number, s.group): s for pq in chapter.questions for s in pq.sheets}
    pooled = {pq.number: pq for pq in chapter.questions}
    questions = []
    total = 0
    for n, q in enumerate(ws.questions, start=1):
        if q not in ws.phase_questions(phase):
            continue
        targets = ws.targets(phase, q)
        rubrics = phase.columns if phase.grouped else phase.rubrics

        def counts(columns: dict[str, Column]) -> tuple[Count, ...]:
            out = []
            for r in rubrics:
                items = columns[r.id].items if r.id in columns else ()
                t = targets.get(r.id)
                out.append(Count(r.id, r.label, len(items), _count(items), (t.min, t.max) if t else None))
            return tuple(out)

        if phase.grouped:
            rows = []
            for g in ws.groups_for(phase, q):
                sheet = printed.get((n, g.id))
                columns = {c.rubric: c for row in sheet.rows for c in row.columns} if sheet else {}
                rows.append(CountRow(g.label, counts(columns)))
        else:
            pq = pooled.get(n)
            rows = [CountRow(f"{ws.terms.question.capitalize()} {n}", counts({c.rubric: c for c in pq.columns} if pq else {}))]
        total += sum(c.total for row in rows for c in row.counts)
        if rows:
            questions.append((f"{ws.terms.question.capitalize()} {n}\u202f: {french(q.title)}", tuple(rows)))
    noun = (phase.rubrics[0].singular, phase.rubrics[0].plural) if len(phase.rubrics) == 1 else ("point", "points")
    return PhaseCounts(phase.id, phase.text(), phase.grouped, tuple(questions), total, noun)


def compose(atelier: Atelier, version: str | int | None = None) -> Report:
    """Turn a loaded atelier into the outline of its compte-rendu.

    One chapter per phase, in the déroulé's order, after « Mise en place »;
    a phase, question, group or rubric with nothing published is left out.
    Only published contributions appear (a point whose parent is not
    published is left out with it).  `version` is the release's label
    (« 3 », « 2024-05-02 »…) or None for a working copy.
    """
    ws = atelier.workshop
    version = None if version is None else str(version)
    questions = tuple(enumerate(ws.questions, start=1))

    setup = Setup(
        preamble_title=ws.preamble.title,
        preamble_paragraphs=ws.preamble.paragraphs,
        preamble_points=ws.preamble.points,
        questions_heading=_questions_heading(len(ws.questions), ws),
        format_intro=ws.format.intro.report,
        format_steps=tuple(step.report for step in ws.format.steps),
        questions=tuple(QuestionPrompts(n, q.title, q.prompts) for n, q in questions),
        sessions=tuple(session_text(ws, s.id) for s in ws.sessions),
    )
    every = [_chapter(atelier, 0, phase) for phase in ws.phases]
    chapters: list[Chapter] = []
    for chapter in every:
        if chapter.printed:
            chapters.append(dataclasses.replace(chapter, number=len(chapters) + 2))
    times = tuple(
        TimeOrganisation(
            n,
            q.title,
            tuple(
                TimeStepText(t.label, t.title, t.text.report, t.instructions, tuple(target_text(x, ws) for x in t.targets))
                for t in q.times
            ),
        )
        for n, q in questions
        if q.times
    )
    attendance = Attendance(
        tuple(
            Attendee(p.name, p.organisation, schemas.role_labels().get(p.role, p.role))
            for p in atelier.listed_participants()
        ),
        atelier.unlisted_count(),
    )

    shown = frozenset(c.id for c in atelier.shown())  # the points printed below, as `atelier summary` counts them
    files = published_files(atelier, shown)
    changed = last_change(atelier)
    synthesis = Synthesis(
        participants=attendance.total,
        contributions=len(shown),
        groups=sum(len(pq.sheets) for c in chapters for pq in c.questions),
        phases=tuple(_phase_counts(ws, phase, chapter) for phase, chapter in zip(ws.phases, every) if chapter.questions),
        votes=tuple((c.title, c.priorities) for c in chapters if c.priorities),
        actions=sum(len(c.plan) for c in chapters),
    )
    colophon = Colophon(
        version=version,
        fingerprint=fingerprint(files),
        participants=attendance.total,
        contributions=len(shown),
        last_change=changed,
        last_change_text=datetime_fr(changed, ws.zone),
        attachments=tuple(files),
        fingerprinted=fingerprinted(files),
    )
    subject = f"Compte-rendu de l’atelier du {date_fr(ws.date)}, {ws.place}"
    # The version is in the metadata too, so a PDF viewer's properties say which release this is.
    edition = f"version {version}" if version else "version de travail"
    metadata = Metadata(
        title=f"{ws.title} — compte-rendu, {edition}",
        author=ws.organisation or ws.platform,
        subject=subject,
        keywords=ws.keywords,
        lang=ws.language,
        created=atelier_start(atelier),
        modified=max(changed, atelier_start(atelier)),
    )
    return Report(
        title=TitleBlock(ws.platform, ws.title, ws.date, date_fr(ws.date), ws.place, "Compte-rendu", version),
        setup=setup,
        chapters=tuple(chapters),
        times=times,
        attendance=attendance,
        synthesis=synthesis,
        colophon=colophon,
        metadata=metadata,
        files=tuple(files.items()),
        terms=(ws.terms.question, ws.terms.questions, ws.terms.group, ws.terms.groups),
    )
