"""The participant's forms, made for one atelier: ideas, a group's sheet; and what a sent form asks for (`Points`)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]

from pipeline.french import plural_word
from pipeline.participation import Points, person_fields
from pipeline.points import Line
from pipeline.workshop import Group, Phase, Question, Workshop
from webform.forms import parse
from webform.participant.page import language
from webform.services import services


def target_hints(workshop: Workshop, phase: Phase, question: Question) -> dict[str, str]:
    """« Objectif : 3 à 5 moteurs » per rubric of this phase, for this question only."""
    hints = {}
    for section, target in workshop.targets(phase, question).items():
        rubric = phase.rubric(section)

        def noun(count: int) -> str:  # « 1 moteur », « 0 frein », « 5 moteurs »: the language's plural rule
            if rubric is None:
                return section
            return plural_word(count, rubric.singular, rubric.plural, language())

        if target.min is not None and target.max is not None:
            if target.min == target.max:
                hints[section] = _("Objectif : %(n)d %(noun)s.", n=target.min, noun=noun(target.min))
            else:
                hints[section] = _("Objectif : %(min)d à %(max)d %(noun)s.", min=target.min, max=target.max, noun=noun(target.max))
        elif target.min is not None:
            hints[section] = _("Objectif : au moins %(min)d %(noun)s.", min=target.min, noun=noun(target.min))
        elif target.max is not None:
            hints[section] = _("Objectif : au plus %(max)d %(noun)s.", max=target.max, noun=noun(target.max))
    return hints


def pooled_phases(workshop: Workshop) -> tuple[Phase, ...]:
    """The phases whose points participants send one by one (ideas, questions…), in the déroulé's order."""
    return tuple(p for p in workshop.phases if p.for_participants and not p.grouped and p.kind in ("ideas", "qa"))


def sheet_phases(workshop: Workshop) -> tuple[Phase, ...]:
    return tuple(p for p in workshop.phases if p.for_participants and p.grouped)


def column_choices(workshop: Workshop) -> list[SelectChoice]:
    """« phase/rubric » for each column a participant may post a point in."""
    phases = pooled_phases(workshop)
    lang = language()
    out = []
    for phase in phases:
        for rubric in phase.columns:
            label = rubric.text(lang) if len(phases) == 1 else f"{phase.text(lang)} — {rubric.text(lang)}"
            out.append(SelectChoice(f"{phase.id}/{rubric.id}", label))
    return out


def question_choices(workshop: Workshop, phases: tuple[Phase, ...] = ()) -> list[SelectChoice]:
    wanted = {q.id for p in phases for q in workshop.phase_questions(p)} if phases else None
    return [SelectChoice(q.id, q.title) for q in workshop.questions if wanted is None or q.id in wanted]


def idea_form(workshop: Workshop, data: dict[str, Any] | None = None) -> FlaskForm:
    form = services().forms.idea(data=data) if data is not None else services().forms.idea()
    form.question.choices = question_choices(workshop, pooled_phases(workshop))
    form.question.label.text = workshop.terms.word("question", language()).capitalize()  # « Thème »
    form.column.choices = column_choices(workshop)
    if request.method == "GET" and len(form.question.choices) == 1:
        form.question.data = form.question.choices[0].value
    if len(form.column.choices) == 1 and not form.column.data:
        form.column.data = form.column.choices[0].value  # one column: nothing to ask
    phases = pooled_phases(workshop)
    if len(form.column.choices) == 1:
        rubric = phases[0].columns[0]
        noun = rubric.singular if language() == "fr" else (rubric.label_en or rubric.label).lower()
        form.text.label.text = _("Votre %(noun)s", noun=noun)
    else:
        form.text.label.text = _("Votre point")
    return form


def idea_context(workshop: Workshop) -> dict[str, Any]:
    """The idea page's heading: the names of the phases it serves (« Brainstorming », « Constats »)."""
    return {"heading": ", ".join(p.text(language()) for p in pooled_phases(workshop))}


def idea_column(workshop: Workshop, form: FlaskForm) -> tuple[str, str] | None:
    """(phase, rubric) of a valid idea form, or None after adding the French error to the form."""
    phase, _sep, rubric = (form.column.data or "").partition("/")
    found = workshop.column_problem(form.question.data, phase, "", rubric)
    if found:
        form.question.errors = [found[1]]
        return None
    return phase, rubric


def chosen_sheet(workshop: Workshop, args: Any) -> tuple[Phase, Question, Group] | str | None:
    """The (phase, question, group) of a sheet page's address when atelier.yaml declares it;
    else the French reason (naming the ids that exist), or None when nothing was chosen."""
    wanted = {k: str(args.get(k) or "")[:40] for k in ("temps", "question", "groupe")}  # ids are 32 at most
    if not any(wanted.values()):
        return None
    phases = sheet_phases(workshop)
    phase = workshop.phase(wanted["temps"])
    if phase is None or phase not in phases:
        return _(
            "Le temps « %(phase)s » n'a pas de fiche de %(group)s ; temps possibles : %(ids)s.",
            phase=wanted["temps"][:40],
            group=workshop.terms.word("group", language()),
            ids=", ".join(p.id for p in phases) or "aucun",
        )
    found = workshop.column_problem(wanted["question"], phase.id, wanted["groupe"], phase.rubrics[0].id)
    if found:
        return found[1]
    question, group = workshop.question(wanted["question"]), workshop.group(wanted["groupe"])
    assert question is not None and group is not None  # column_problem found them
    return phase, question, group


def sheet_form(
    workshop: Workshop, phase: Phase, question: Question, group: Group, data: dict[str, Any] | None = None
) -> tuple[FlaskForm, dict[str, Any]]:
    lang = language()
    cls = services().forms.sheet(tuple((r.id, r.full_text(lang)) for r in phase.columns))
    form = cls(data=data) if data is not None else cls()
    return form, {
        "phase": phase,
        "question": question,
        "group": group,
        "rubrics": phase.columns,
        "targets": target_hints(workshop, phase, question),
        "group_label": group.text(lang),
        "language": lang,
    }


def sheet_choices(workshop: Workshop) -> list[tuple[Phase, list[tuple[Question, list[Group]]]]]:
    """Every sheet a rapporteur may fill: by phase, then question, the groups declared for it."""
    return [
        (phase, [(q, list(workshop.groups_for(phase, q))) for q in workshop.phase_questions(phase) if workshop.groups_for(phase, q)])
        for phase in sheet_phases(workshop)
    ]


# ---- what a sent form asks for ------------------------------------------------------------------


def signature(form: FlaskForm) -> dict[str, str]:
    """The `person_fields` of a valid émargement form."""
    return person_fields(form.name.data, form.organisation.data, form.role.data, bool(form.listed.data))


def idea_points(form: FlaskForm, phase: str, rubric: str) -> Points:
    """The idea (its text, then its précisions one level below) of a valid idea form, in column (phase, rubric)."""
    details = parse(form.details.data, services().forms.rules, depth=1)
    lines = [Line(0, form.text.data, 0)] + [Line(line.depth + 1, line.text, line.number) for line in details]
    return Points(form.question.data, phase, "", {rubric: lines})


def sheet_points(form: FlaskForm, phase: Phase, question: str, group: str) -> Points:
    """The points of a valid sheet form, one textarea per rubric of `phase`."""
    rules = services().forms.rules
    return Points(question, phase.id, group, {r.id: parse(form[r.id].data, rules) for r in phase.columns})
