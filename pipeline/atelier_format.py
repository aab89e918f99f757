"""The atelier's format as typed, immutable objects: sessions, questions, phases and their rubrics, groups, the Workshop.

What atelier.yaml declares, once read (pipeline.workshop reads the file and
the tables; DESIGN.md « The atelier's format is data »).  No phase, rubric or
group is named in code: they all come from the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Paris"  # where the ateliers happen unless atelier.yaml says `timezone:`


class AtelierError(Exception):
    """An atelier folder cannot be read; the message is a French sentence naming the file."""


@dataclass(frozen=True)
class Tensed:
    """A text said twice: before the day (the kit, future tense) and after it (the report).

    In atelier.yaml a plain string serves both; `{kit: …, report: …}` gives each its own.
    """

    kit: str = ""
    report: str = ""

    def __bool__(self) -> bool:
        return bool(self.kit or self.report)


@dataclass(frozen=True)
class Target:
    """How many points a group should produce in a rubric (« 3 à 5 moteurs »)."""

    section: str
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class TimeStep:
    """One step of a question's group work (Temps 1, Temps 2) with its instructions."""

    label: str
    title: str
    text: Tensed = Tensed()
    instructions: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class Rubric:
    """A column of a phase: its labels, nouns, help and default target."""

    id: str
    label: str
    label_en: str = ""
    singular: str = ""
    plural: str = ""
    help: str = ""
    help_en: str = ""
    heading: str = ""  # shared with the neighbouring rubrics that carry the same heading
    box: bool = False  # an encadré: written by the team, printed under the columns
    target: Target | None = None

    def text(self, language: str = "fr") -> str:
        """The column's label in `language` (French when no English label is given)."""
        return self.label_en if language == "en" and self.label_en else self.label

    def full_text(self, language: str = "fr") -> str:
        """« Moteurs (conditions au changement) »: the label with its shared heading, where a column stands alone."""
        if self.heading and language == "fr":
            return f"{self.label} ({_lower(self.heading)})"
        return self.text(language)

    def help_text(self, language: str = "fr") -> str:
        return self.help_en if language == "en" and self.help_en else self.help


# The closed set of phase kinds.  Each has its own form and report shape; the
# code branches on these kinds, never on an atelier's own phase ids.
#   grouped: a point belongs to a group (one sheet per group and question);
#   participants: the participants' form offers it (else the team types it in).
@dataclass(frozen=True)
class Kind:
    id: str
    grouped: bool
    participants: bool
    supported: bool = True


KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind("ideas", grouped=False, participants=True),
        Kind("sheet", grouped=True, participants=True),
        Kind("synthesis", grouped=False, participants=False),
        Kind("qa", grouped=False, participants=True),
        Kind("vote", grouped=False, participants=False),  # a ballot of its own, not a form of points
        Kind("actions", grouped=False, participants=False),
    )
}


@dataclass(frozen=True)
class VoteRule:
    """How a vote phase is run: what may get gommettes, how many each person has.

    `points`: (phase id, rubric id or "") pairs whose top-level published
    points are votable; `gommettes`: per person; `several`: whether one
    person may put more than one on a point; `hidden`: the wall shows
    « votes masqués » until the facilitator reveals the tally.
    """

    points: tuple[tuple[str, str], ...] = ()
    gommettes: int = 5
    several: bool = True
    hidden: bool = True

    def covers(self, phase: str, section: str) -> bool:
        return any(p == phase and r in ("", section) for p, r in self.points)


@dataclass(frozen=True)
class Phase:
    """One step of the déroulé: a chapter of the report, with its rubrics."""

    id: str
    kind: str
    title: str
    rubrics: tuple[Rubric, ...]
    label: str = ""
    label_en: str = ""
    session: str | None = None
    intro: Tensed = Tensed()
    questions: tuple[str, ...] = ()  # empty: every question
    groups: tuple[str, ...] = ()  # empty: each question's groups
    vote: VoteRule | None = None  # for a phase of kind `vote`

    @property
    def grouped(self) -> bool:
        return KINDS[self.kind].grouped

    @property
    def for_participants(self) -> bool:
        return KINDS[self.kind].participants

    def text(self, language: str = "fr") -> str:
        """The phase's short name (wall, form, saisie)."""
        if language == "en" and self.label_en:
            return self.label_en
        return self.label or self.title

    def rubric(self, rubric_id: str) -> Rubric | None:
        return next((r for r in self.rubrics if r.id == rubric_id), None)

    @property
    def columns(self) -> tuple[Rubric, ...]:
        """The rubrics printed as columns (not the encadrés)."""
        return tuple(r for r in self.rubrics if not r.box)

    @property
    def boxes(self) -> tuple[Rubric, ...]:
        return tuple(r for r in self.rubrics if r.box)

    def rows(self) -> tuple[tuple[str, tuple[Rubric, ...]], ...]:
        """The columns laid out in rows of at most two: (shared heading, rubrics).

        Neighbouring rubrics with the same heading share a row (the seed's
        « Conditions au changement » over moteurs and freins; AFOM's 2×2).
        """
        rows: list[tuple[str, tuple[Rubric, ...]]] = []
        for rubric in self.columns:
            if rows and rows[-1][0] == rubric.heading and len(rows[-1][1]) < 2:
                rows[-1] = (rubric.heading, rows[-1][1] + (rubric,))
            else:
                rows.append((rubric.heading, (rubric,)))
        return tuple(rows)


@dataclass(frozen=True)
class Group:
    """A named, stable group (table, sous-groupe, theme group), reusable across rounds."""

    id: str
    label: str
    label_en: str = ""
    session: str | None = None
    host: str = ""
    rapporteur: str = ""

    def text(self, language: str = "fr") -> str:
        return self.label_en if language == "en" and self.label_en else self.label


@dataclass(frozen=True)
class Session:
    """A dated séance of a multi-day atelier."""

    id: str
    label: str
    date: dt.date
    start: str = ""
    end: str = ""
    place: str = ""


@dataclass(frozen=True)
class Terms:
    """What the pages call a question and a group (thème, objectif, table, atelier…).

    Each French word comes with its gender (`question_gender`, `group_gender`:
    « m » or « f »), so that sentences built on it agree: « un thème », « une
    table », « table manquante », « à la table ».  English pages use the
    `*_en` words.  `which` below is « question » or « group ».
    """

    question: str = "question"
    questions: str = "questions"
    group: str = "groupe"
    groups: str = "groupes"
    question_gender: str = "f"
    group_gender: str = "m"
    question_en: str = "question"
    questions_en: str = "questions"
    group_en: str = "group"
    groups_en: str = "groups"

    def word(self, which: str, language: str = "fr", many: bool = False) -> str:
        """« table », « tables » (many), « group » in English."""
        name = which + ("s" if many else "") + ("_en" if language == "en" else "")
        return str(getattr(self, name))

    def feminine(self, which: str) -> bool:
        return getattr(self, which + "_gender") == "f"

    def agree(self, which: str, masculine: str, feminine: str) -> str:
        """The form that agrees with the word: agree("group", "manquant", "manquante")."""
        return feminine if self.feminine(which) else masculine

    def a(self, which: str, language: str = "fr") -> str:
        """« un thème », « une table », « a group »."""
        if language == "en":
            return ("an " if self.word(which, "en")[:1] in "aeiou" else "a ") + self.word(which, "en")
        return self.agree(which, "un ", "une ") + self.word(which)

    def the(self, which: str, language: str = "fr") -> str:
        """« le thème », « la table », « l'objectif », « the group »."""
        if language == "en":
            return "the " + self.word(which, "en")
        word = self.word(which)
        if _elides(word):
            return "l'" + word
        return self.agree(which, "le ", "la ") + word

    def to(self, which: str, language: str = "fr") -> str:
        """« au groupe », « à la table », « à l'objectif », « to the group »."""
        if language == "en":
            return "to the " + self.word(which, "en")
        the = self.the(which)
        return "au " + the[3:] if the.startswith("le ") else "à " + the


def _elides(word: str) -> bool:
    """« l'objectif », « l'atelier » (a vowel or a mute h is not told apart: h words elide)."""
    return word[:1].lower() in "aeéèêiîoôuyh"


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    prompts: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # the ids of the groups that work on it
    objective: Tensed = Tensed()
    times: tuple[TimeStep, ...] = ()


@dataclass(frozen=True)
class Preamble:
    title: str = ""
    paragraphs: tuple[str, ...] = ()
    points: tuple[str, ...] = ()


@dataclass(frozen=True)
class Format:
    intro: Tensed = Tensed()
    steps: tuple[Tensed, ...] = ()


@dataclass(frozen=True)
class Workshop:
    """What atelier.yaml says: the day, its format (phases, rubrics, groups), its questions."""

    slug: str
    title: str
    date: dt.date
    place: str
    language: str = "fr"
    status: str = "open"
    moderation: str = "post"
    platform: str = ""
    organisation: str = ""
    keywords: tuple[str, ...] = ()
    preamble: Preamble = field(default_factory=Preamble)
    format: Format = field(default_factory=Format)
    questions: tuple[Question, ...] = ()
    timezone: str = DEFAULT_TIMEZONE  # IANA name, checked by `atelier validate`

    @property
    def zone(self) -> ZoneInfo:
        """The atelier's time zone: every date and time shown to people is in it."""
        return ZoneInfo(self.timezone)
    phases: tuple[Phase, ...] = ()
    groups: tuple[Group, ...] = ()
    sessions: tuple[Session, ...] = ()
    terms: Terms = field(default_factory=Terms)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def question(self, question_id: str) -> Question | None:
        for q in self.questions:
            if q.id == question_id:
                return q
        return None

    def phase(self, phase_id: str) -> Phase | None:
        return next((p for p in self.phases if p.id == phase_id), None)

    def group(self, group_id: str | None) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def session(self, session_id: str | None) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)

    def group_label(self, group_id: str | None, language: str = "fr") -> str:
        found = self.group(group_id)
        return found.text(language) if found else f"{self.terms.group.capitalize()} {group_id}"

    def question_label(self, question_id: str, language: str = "fr") -> str:
        """« Thème 2 », « Question 1 »: how pages name a question (its number in atelier.yaml), the id if undeclared."""
        for number, q in enumerate(self.questions, start=1):
            if q.id == question_id:
                return f"{self.terms.word('question', language).capitalize()} {number}"
        return question_id

    def column_name(self, phase_id: str, group_id: str | None, section: str, language: str = "fr") -> tuple[str, ...]:
        """How pages name a column after its question: (« Brainstorming »,), (« Sous-groupe 2 », « Moteurs »).

        The phase is named unless the group says it (one phase with groups);
        the rubric unless it is its phase's only one.  Ids not declared are
        shown as they are.  Used by the review, the summary and the animation pages.
        """
        phase = self.phase(phase_id)
        grouped = [p for p in self.phases if p.grouped]
        parts: list[str] = []
        if phase is None:
            parts.append(f"temps « {phase_id} »")
        elif not (group_id and phase.grouped and len(grouped) == 1):
            parts.append(phase.text(language))
        if group_id:
            parts.append(self.group_label(group_id, language))
        rubric = phase.rubric(section) if phase else None
        if phase is None or len(phase.rubrics) > 1:
            parts.append(rubric.text(language) if rubric else f"rubrique « {section} »")
        return tuple(parts)

    def phase_questions(self, phase: Phase) -> tuple[Question, ...]:
        """The questions a phase works on, in the file's order."""
        return tuple(q for q in self.questions if not phase.questions or q.id in phase.questions)

    def groups_for(self, phase: Phase, question: Question) -> tuple[Group, ...]:
        """The groups of a grouped phase on one question, in the file's order.

        A phase's own `groups` win over the question's; a group tied to
        another session than the phase's is left out.
        """
        if not phase.grouped:
            return ()
        ids = phase.groups or question.groups
        return tuple(
            g
            for g in self.groups
            if g.id in ids and (g.session is None or phase.session is None or g.session == phase.session)
        )

    def targets(self, phase: Phase, question: Question) -> dict[str, Target]:
        """Targets by rubric for one phase and question: the question's Temps, else the rubric's own."""
        found = {r.id: r.target for r in phase.rubrics if r.target}
        for step in question.times:
            for t in step.targets:
                if phase.rubric(t.section):
                    found[t.section] = t
        return found

    def columns(self) -> Iterable[tuple[Phase, Question, Group | None, Rubric]]:
        """Every column the atelier declares, in the déroulé's order."""
        for phase in self.phases:
            for question in self.phase_questions(phase):
                groups: tuple[Group | None, ...] = self.groups_for(phase, question) if phase.grouped else (None,)
                for group in groups:
                    for rubric in phase.rubrics:
                        yield phase, question, group, rubric

    def column_problem(self, question: str, phase: str, group: str, section: str) -> tuple[str, str] | None:
        """Why (question, phase, group, section) is not a column of this atelier: (field, French reason).

        One rule for the form, the store and `atelier validate`; None when the column exists.
        """
        q = self.question(question)
        if q is None:
            return "question", (
                f"la question « {question} » n'existe pas dans atelier.yaml "
                f"(questions : {', '.join(x.id for x in self.questions) or 'aucune'})."
            )
        p = self.phase(phase)
        if p is None:
            return "phase", (
                f"le temps « {phase} » n'existe pas dans atelier.yaml "
                f"(temps : {', '.join(x.id for x in self.phases)})."
            )
        if self.phase_questions(p) and q not in self.phase_questions(p):
            return "question", (
                f"la question « {question} » n'est pas travaillée au temps « {phase} » "
                f"(questions de ce temps : {', '.join(x.id for x in self.phase_questions(p))})."
            )
        if p.rubric(section) is None:
            choices = ", ".join(f"{r.id} ({_lower(r.label)})" for r in p.rubrics)
            return "section", f"« {section} » n'est pas une rubrique du temps « {phase} » ; rubriques possibles : {choices}."
        if not p.grouped:
            if group:
                return "group", f"« {group} » : le temps « {phase} » se fait sans {self.terms.group} ; laissez ce champ vide."
            return None
        allowed = self.groups_for(p, q)
        t = self.terms
        if not group:
            one_of = t.agree("group", "l'un de ceux", "l'une de celles")
            return "group", (
                f"{t.group} {t.agree('group', 'manquant', 'manquante')} pour un point du temps « {phase} » ; "
                f"indiquez {one_of} de {t.the('question')} {question} : {_ids(allowed)}."
            )
        if not any(g.id == group for g in allowed):
            return "group", (
                f"« {group} » n'est pas {t.a('group')} de {t.the('question')} {question} au temps « {phase} » ; "
                f"{t.groups} possibles : {_ids(allowed)}."
            )
        return None


def _lower(label: str) -> str:
    """« Pratiques en cours » → « pratiques en cours », « AFOM » stays."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _ids(groups: Iterable[Group]) -> str:
    return ", ".join(f"{g.id} ({g.label})" if g.label != g.id else g.id for g in groups) or "aucun"
