"""Compose an atelier into the outline of its compte-rendu: plain values, no markup."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from pipeline import schemas
from pipeline.french import date_fr, datetime_fr
from pipeline.published import atelier_start, fingerprint, last_change, published_files
from pipeline.workshop import Atelier, Point, Question, Target

NUMBER_WORDS = ("zéro", "une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix")
# How a target's section reads in « identifier 3 à 5 moteurs » (singular, plural).
SECTION_NOUNS = {
    "practice": ("pratique", "pratiques"),
    "reflection": ("réflexion", "réflexions"),
    "driver": ("moteur", "moteurs"),
    "brake": ("frein", "freins"),
}


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


@dataclass(frozen=True)
class BrainstormQuestion:
    number: int
    title: str
    ideas: tuple[Item, ...]


@dataclass(frozen=True)
class SubgroupSheet:
    """One sous-groupe's sheet: its three columns (the third split in two) and its asides."""

    number: int
    practices: tuple[Item, ...]
    reflections: tuple[Item, ...]
    drivers: tuple[Item, ...]
    brakes: tuple[Item, ...]
    asides: tuple[Item, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.practices or self.reflections or self.drivers or self.brakes or self.asides)


@dataclass(frozen=True)
class SubgroupWork:
    number: int
    title: str
    objective: str
    sheets: tuple[SubgroupSheet, ...]


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
class SubgroupCounts:
    group: int
    practices: int
    reflections: int
    drivers: int
    brakes: int


@dataclass(frozen=True)
class QuestionCounts:
    number: int
    title: str
    ideas: int
    precisions: int
    groups: tuple[SubgroupCounts, ...]
    targets: tuple[tuple[str, int | None, int | None], ...]  # (section, min, max)


@dataclass(frozen=True)
class Synthesis:
    """The page people look at rather than read: key figures and counts per sous-groupe."""

    participants: int
    contributions: int
    ideas: int
    subgroups: int
    questions: tuple[QuestionCounts, ...]


@dataclass(frozen=True)
class Colophon:
    version: str | None
    fingerprint: str
    participants: int
    contributions: int
    last_change: dt.datetime
    last_change_text: str
    attachments: tuple[str, ...]


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
    brainstorm: tuple[BrainstormQuestion, ...]
    subgroups: tuple[SubgroupWork, ...]
    times: tuple[TimeOrganisation, ...]
    attendance: Attendance
    synthesis: Synthesis
    colophon: Colophon
    metadata: Metadata
    files: tuple[tuple[str, bytes], ...]  # the published data package, embedded in the PDF

    def items(self) -> Iterable[Item]:
        """Every point printed in sections 2 and 3, in reading order."""
        return printed_items(self.brainstorm, self.subgroups)


def printed_items(brainstorm: Iterable[BrainstormQuestion], subgroups: Iterable[SubgroupWork]) -> Iterable[Item]:
    for question in brainstorm:
        for idea in question.ideas:
            yield from (item for _, item in idea.walk())
    for work in subgroups:
        for sheet in work.sheets:
            for column in (sheet.practices, sheet.reflections, sheet.drivers, sheet.brakes, sheet.asides):
                for point in column:
                    yield from (item for _, item in point.walk())


def _item(point: Point) -> Item:
    c = point.contribution
    return Item(c.id, c.text, c.number, c.link, tuple(_item(child) for child in point.children))


def _items(atelier: Atelier, question: str, phase: str, section: str, group: int | None = None) -> tuple[Item, ...]:
    return tuple(_item(p) for p in atelier.points(question, phase, section, group))


def _count(items: tuple[Item, ...]) -> int:
    return sum(1 for item in items for _ in item.walk())


def _questions_heading(count: int) -> str:
    if count == 1:
        return "La question posée lors de cette rencontre"
    words = NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)
    return f"Les {words} questions posées lors de cette rencontre"


def target_text(target: Target) -> str:
    """identifier 3 à 5 moteurs par sous-groupe."""
    singular, plural = SECTION_NOUNS[target.section]
    low, high = target.min, target.max
    if low is not None and high is not None and low != high:
        amount = f"{low} à {high}"
        noun = plural if high > 1 else singular
    elif low is not None and high is not None:
        amount, noun = str(low), plural if low > 1 else singular
    elif low is not None:
        amount, noun = f"au moins {low}", plural if low > 1 else singular
    elif high is not None:
        amount, noun = f"au plus {high}", plural if high > 1 else singular
    else:
        return f"identifier des {plural} par sous-groupe"
    return f"identifier {amount} {noun} par sous-groupe"


def _groups(atelier: Atelier, question: Question) -> range:
    """1…n for the sous-groupes announced, and any group that has points beyond them."""
    seen = [c.group for c in atelier.contributions if c.question == question.id and c.group]
    return range(1, max([question.subgroup_count, *seen]) + 1)


def _sheet(atelier: Atelier, question: str, group: int) -> SubgroupSheet:
    def column(section: str) -> tuple[Item, ...]:
        return _items(atelier, question, "sous-groupe", section, group)

    return SubgroupSheet(
        group, column("practice"), column("reflection"), column("driver"), column("brake"), column("aside")
    )


def compose(atelier: Atelier, version: str | int | None = None) -> Report:
    """Turn a loaded atelier into the outline of its compte-rendu.

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
        questions_heading=_questions_heading(len(ws.questions)),
        format_intro=ws.format.intro,
        format_steps=ws.format.steps,
        questions=tuple(QuestionPrompts(n, q.title, q.prompts) for n, q in questions),
    )
    brainstorm = tuple(
        BrainstormQuestion(n, q.title, _items(atelier, q.id, "brainstorming", "idea")) for n, q in questions
    )
    subgroups = tuple(
        SubgroupWork(n, q.title, q.objective, tuple(_sheet(atelier, q.id, g) for g in _groups(atelier, q)))
        for n, q in questions
    )
    times = tuple(
        TimeOrganisation(
            n,
            q.title,
            tuple(
                TimeStepText(t.label, t.title, t.text, t.instructions, tuple(target_text(x) for x in t.targets))
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

    counts = []
    for (n, q), ideas, work in zip(questions, brainstorm, subgroups):
        counts.append(
            QuestionCounts(
                number=n,
                title=q.title,
                ideas=len(ideas.ideas),
                precisions=_count(ideas.ideas) - len(ideas.ideas),
                groups=tuple(
                    SubgroupCounts(s.number, len(s.practices), len(s.reflections), len(s.drivers), len(s.brakes))
                    for s in work.sheets
                ),
                targets=tuple((t.section, t.min, t.max) for t in q.targets().values()),
            )
        )

    shown = frozenset(item.id for item in printed_items(brainstorm, subgroups))
    files = published_files(atelier, shown)
    changed = last_change(atelier)
    synthesis = Synthesis(
        participants=attendance.total,
        contributions=len(shown),
        ideas=sum(len(b.ideas) for b in brainstorm),
        subgroups=sum(len(w.sheets) for w in subgroups),
        questions=tuple(counts),
    )
    colophon = Colophon(
        version=version,
        fingerprint=fingerprint(files),
        participants=attendance.total,
        contributions=len(shown),
        last_change=changed,
        last_change_text=datetime_fr(changed, zone=dt.timezone.utc),
        attachments=tuple(files),
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
        brainstorm=brainstorm,
        subgroups=subgroups,
        times=times,
        attendance=attendance,
        synthesis=synthesis,
        colophon=colophon,
        metadata=metadata,
        files=tuple(files.items()),
    )
