"""The facilitator's forms: login, transcription of post-its, correction and merge of points, open/close."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import PasswordField, RadioField, SelectField, StringField, TextAreaField  # type: ignore[import-untyped]
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]
from wtforms.validators import ValidationError  # type: ignore[import-untyped]

from pipeline import schemas
from pipeline.workshop import Workshop
from webform.forms import (
    SECTION_LABELS,
    Length,
    OneOf,
    Optional,
    Required,
    TextareaRules,
    lines,
    no_control_characters,
    schema_validators,
    strip,
)
from webform.points import leading_depth

PHASE_OF_SECTION = {section: phase for phase, sections in schemas.SECTIONS_BY_PHASE.items() for section in sections}
PHASE_LABELS = {"brainstorming": _l("Brainstorming"), "sous-groupe": _l("Sous-groupes")}


class LoginForm(FlaskForm):
    secret = PasswordField(_l("Code d'animation"), validators=[Required()])


def _question_ids(form: Any) -> tuple[str, ...]:
    return tuple(choice.value for choice in form.question.choices or ())


class _Column(FlaskForm):
    """Where the transcribed points go: question, rubrique (which gives the phase) and sous-groupe."""

    question = SelectField(_l("Question"), choices=[], validate_choice=False, validators=[Required(), OneOf(_question_ids)])
    section = SelectField(
        _l("Rubrique"),
        choices=[],
        validate_choice=False,
        validators=[Required(), OneOf(tuple(PHASE_OF_SECTION))],
    )
    group = SelectField(_l("Sous-groupe"), choices=[], validate_choice=False)

    def set_workshop(self, workshop: Workshop) -> None:
        self.workshop = workshop
        self.question.choices = [SelectChoice(q.id, f"{q.id} — {q.title}") for q in workshop.questions]
        self.section.choices = {
            str(PHASE_LABELS[phase]): [(s, str(SECTION_LABELS[s])) for s in sections]
            for phase, sections in schemas.SECTIONS_BY_PHASE.items()
        }
        most = max((q.subgroup_count for q in workshop.questions), default=0)
        self.group.choices = [SelectChoice("", _l("— (brainstorming)"))] + [
            SelectChoice(str(n), _l("Sous-groupe %(n)s", n=n)) for n in range(1, most + 1)
        ]

    @property
    def phase(self) -> str:
        return PHASE_OF_SECTION.get(self.section.data or "", "brainstorming")

    def validate_group(self, field: Any) -> None:
        if self.phase == "brainstorming":
            return  # no sous-groupe in brainstorming: the value is ignored
        question = self.workshop.question(self.question.data or "")
        if question is None:
            return  # the question's own error says it
        if question.subgroup_count == 0:
            raise ValidationError(
                _l(
                    "La question « %(question)s » n'a pas de travail en sous-groupes : choisissez la rubrique « Idée ».",
                    question=question.id,
                )
            )
        value = field.data or ""
        if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= question.subgroup_count:
            raise ValidationError(
                _l(
                    "Choisissez un sous-groupe entre 1 et %(max)d pour la question « %(question)s ».",
                    max=question.subgroup_count,
                    question=question.id,
                )
            )

    def group_number(self) -> int | None:
        return int(self.group.data) if self.phase == "sous-groupe" else None


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
            Length(None, schemas.field("contributions", "text")["constraints"].get("maxLength")),
            no_control_characters(True),
        ],
    )

    def validate_keep(self, field: Any) -> None:
        if field.data not in {value for value, _label in self.keep.choices}:
            raise ValidationError(_l("Choisissez une des valeurs proposées."))


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
