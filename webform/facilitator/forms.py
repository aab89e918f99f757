"""The facilitator's forms: login, transcription of post-its, correction and merge of points, open/close."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]
from wtforms.validators import ValidationError  # type: ignore[import-untyped]

from pipeline import schemas
from pipeline.workshop import Workshop
from webform.forms import (
    ColumnRules,
    FrenchDateField,
    OneOf,
    Optional,
    Required,
    TextareaRules,
    lines,
    no_control_characters,
    schema_validators,
    strip,
    text_rules,
)
from pipeline.points import leading_depth



def _without_surrounding_space(value: Any) -> Any:
    """A code pasted from a message comes with spaces or a line break around it: never part of the code."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    secret = PasswordField(_l("Code d'animation"), validators=[Required()], filters=[_without_surrounding_space])


def _question_ids(form: Any) -> tuple[str, ...]:
    return tuple(choice.value for choice in form.question.choices or ())


def _column_ids(form: Any) -> tuple[str, ...]:
    ids = tuple(value for group in (form.section.choices or {}).values() for value, _label in group)
    # A bare rubric id (« idea ») names the first phase that has it: the saisie's older links keep working.
    return ids + tuple(v.partition("/")[2] for v in ids)


class _Column(FlaskForm):
    """Where the transcribed points go: question, « phase/rubric » and group, as atelier.yaml declares them."""

    question = SelectField(_l("Question"), choices=[], validate_choice=False, validators=[Required(), OneOf(_question_ids)])
    section = SelectField(
        _l("Rubrique"),
        choices=[],
        validate_choice=False,
        validators=[Required(), OneOf(_column_ids)],
    )
    group = SelectField(_l("Groupe"), choices=[], validate_choice=False)

    def set_workshop(self, workshop: Workshop) -> None:
        self.workshop = workshop
        lang = str(get_locale() or "fr")
        terms = workshop.terms
        self.question.label.text = terms.word("question", lang).capitalize()
        self.group.label.text = terms.word("group", lang).capitalize()
        self.question.choices = [SelectChoice(q.id, f"{workshop.question_label(q.id, lang)} — {q.title}") for q in workshop.questions]
        self.section.choices = {
            phase.text(): [(f"{phase.id}/{r.id}", r.label) for r in phase.rubrics]
            for phase in workshop.phases
            if phase.kind in ("ideas", "sheet", "synthesis", "qa")
        }
        # Under each question, only the groups atelier.yaml declares for it (one optgroup per question).
        self.group.choices = {_("Temps sans %(group)s", group=terms.word("group", lang)): [("", _("— (sans %(group)s)", group=terms.word("group", lang)))]}
        for q in workshop.questions:
            declared = {g.id: g for p in workshop.phases for g in workshop.groups_for(p, q) if q in workshop.phase_questions(p)}
            if declared:
                self.group.choices[f"{workshop.question_label(q.id, lang)} — {q.title[:60]}"] = [
                    (g.id, g.text(lang)) for g in declared.values()
                ]

    def _column(self) -> tuple[str, str]:
        value = self.section.data or ""
        if "/" in value:
            phase, _sep, rubric = value.partition("/")
            return phase, rubric
        found = next((p for p in self.workshop.phases if p.rubric(value)), None)
        return (found.id if found else ""), value

    @property
    def phase(self) -> str:
        return self._column()[0]

    @property
    def rubric(self) -> str:
        return self._column()[1]

    def validate_group(self, field: Any) -> None:
        if self.question.errors or self.section.errors or not self.section.data:
            return  # their own errors say it
        phase = self.workshop.phase(self.phase)
        group = (field.data or "") if phase is not None and phase.grouped else ""
        found = self.workshop.column_problem(self.question.data or "", self.phase, group, self.rubric)
        if found:
            raise ValidationError(found[1])

    def group_id(self) -> str | None:
        phase = self.workshop.phase(self.phase)
        return (self.group.data or None) if phase is not None and phase.grouped else None


class OnePostItForm(_Column):
    """One post-it per submission; « - » or two spaces before it make it a précision of the previous one."""

    text = StringField(
        _l("Texte du post-it"),  # not stripped: leading spaces nest it, as in the sheet's textareas
        validators=[*schema_validators("contributions", "text"), no_control_characters(False)],
    )

    def validate_text(self, field: Any) -> None:
        if not leading_depth(field.data or "")[1]:
            raise ValidationError(_l("Ce champ est obligatoire."))


def several_post_its_form(rules: TextareaRules) -> type[_Column]:
    class SeveralPostItsForm(_Column):
        """Several post-its at once, one per line, indented to nest (the sous-groupe sheet's rule)."""

        text = TextAreaField(
            _l("Post-its, un par ligne"),
            filters=[lines],
            validators=[no_control_characters(True), rules.validator(required=True)],
        )

    return SeveralPostItsForm


class EditForm(FlaskForm):
    text = TextAreaField(
        _l("Texte du point"),
        filters=[lines, strip],
        validators=[*schema_validators("contributions", "text"), no_control_characters(True)],
    )


class MergeForm(FlaskForm):
    keep = RadioField(_l("Point à garder"), choices=[], validate_choice=False, validators=[Required()])
    text = TextAreaField(
        _l("Nouveau texte du point gardé (facultatif)"),
        filters=[lines, strip],
        validators=[
            Optional(),
            ColumnRules("contributions", "text"),
            no_control_characters(True),
        ],
    )

    def validate_keep(self, field: Any) -> None:
        if field.data not in {value for value, _label in self.keep.choices}:
            raise ValidationError(_l("Choisissez une des valeurs proposées."))


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


def _statut_choices() -> list[tuple[str, str]]:
    return list(schemas.enum_labels("actions", "statut").items())


class ActionItemForm(FlaskForm):
    """One line of the plan d'actions, its rules from schemas/actions.schema.json."""

    title = StringField(_l("Action"), filters=[strip], validators=[*schema_validators("actions", "title"), text_rules("actions", "title")])
    porteur = StringField(_l("Porteur (personne ou structure)"), filters=[strip], validators=[*schema_validators("actions", "porteur"), text_rules("actions", "porteur")])
    partenaires = StringField(_l("Partenaires"), filters=[strip], validators=[*schema_validators("actions", "partenaires"), text_rules("actions", "partenaires")])
    echeance = FrenchDateField(_l("Échéance"), validators=[Optional()])
    moyens = TextAreaField(_l("Moyens"), filters=[strip, lines], validators=[*schema_validators("actions", "moyens"), text_rules("actions", "moyens")])
    statut = SelectField(_l("Statut"), choices=_statut_choices, default="proposee", validators=[Required()])
    points = SelectMultipleField(_l("Points d'origine"), choices=[], validate_choice=True)
    group = SelectField(_l("Votre groupe"), choices=[], validate_choice=False, validators=[Optional()])
