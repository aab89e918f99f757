"""The participant forms, their constraints derived from the Table Schemas in `schemas/`.

No length, enum, pattern or range is written here: `schema_validators`
reads them from `pipeline.schemas.field(...)`, and the store checks the same
schema again before writing.  What atelier.yaml decides (questions, number
of sous-groupes) is set on each form instance by the view.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable

from flask_babel import format_number  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    BooleanField,
    DateField,
    Field,
    Form,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]
from wtforms.widgets import TextInput  # type: ignore[import-untyped]
from wtforms.validators import StopValidation, ValidationError  # type: ignore[import-untyped]

from pipeline import schemas, textrules
from pipeline.points import Line, parse_points

# French labels of the schema's enum values (the schema keeps English identifiers).
ROLE_LABELS = {
    "elu": _l("Élu·e"),
    "technicien": _l("Technicien·ne, agent, chargé·e de mission"),
    "chercheur": _l("Recherche, enseignement"),
    "associatif": _l("Association, réseau"),
    "entreprise": _l("Entreprise, agriculteur·rice"),
    "habitant": _l("Habitant·e, citoyen·ne"),
    "animateur": _l("Équipe d'animation"),
    "autre": _l("Autre"),
}


def no_control_characters(multiline: bool) -> Callable[[Form, Field], None]:
    """The characters rules of pipeline.textrules (controls, direction overrides, blank), in the store's words."""

    def check(form: Form, field: Field) -> None:
        text = field.data or ""
        violation = textrules.check_text(text, multiline=multiline)
        if violation is None:
            return
        if violation.kind == "blank" and not field.flags.required:  # an optional box that shows nothing is empty
            field.data = ""
            return
        if multiline and "\n" in text and violation.position:  # which line of a textarea, as the length rule says it
            raise ValidationError(_at_line(text[: violation.position].count("\n") + 1, _refusal(violation)))
        raise ValidationError(_refusal(violation))

    return check


class FrenchDateField(DateField):
    """A date typed JJ/MM/AAAA (the French way) or AAAA-MM-JJ (a browser's date picker); `data` is a datetime.date.

    A text that is no date of the calendar (« 31/02/2027 », « demain ») is
    refused with the typed text named and the expected form, never dropped.
    """

    widget = TextInput()  # a date input would show nothing of a text it cannot read

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, format=["%d/%m/%Y", "%Y-%m-%d"], **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%d/%m/%Y") if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        typed = " ".join(valuelist).strip() if valuelist else ""
        self.data = None
        if not typed:
            return
        for pattern in self.strptime_format:
            try:
                self.data = dt.datetime.strptime(typed, pattern).date()
                return
            except ValueError:
                continue
        raise ValueError(
            _l("« %(typed)s » n'est pas une date du calendrier : écrivez-la JJ/MM/AAAA, par exemple 31/12/2027.",
               typed=typed[:30])
        )


def text_rules(resource: str, name: str) -> Callable[[Form, Field], None]:
    """`no_control_characters` for a form field that fills column `name` of table `resource`."""
    return no_control_characters((resource, name) in textrules.MULTILINE_FIELDS)


def _at_line(line: int, problem: Any) -> Any:
    """« Ligne 2 : <the rule's sentence> » for a textarea of one point per line."""
    return _l("Ligne %(line)d : %(problem)s", line=line, problem=problem)


def _refusal(violation: textrules.Violation) -> Any:
    """A rule's French sentence (pipeline.textrules), through the form's catalogue."""
    return _l(violation.template, **violation.worded(format_number))


class Required:
    """A value that is not only spaces: the schema's `required` for a column, in its words (pipeline.textrules).

    With `resource` and `name`, nothing typed is « valeur obligatoire
    manquante. » as the store and `atelier validate` say, and a text of
    invisible characters only is refused as they refuse it; without, for a
    field that fills no column (a code, a choice of the page), « Ce champ est
    obligatoire. ».
    """

    field_flags = {"required": True}

    def __init__(self, resource: str | None = None, name: str | None = None) -> None:
        self.column = (resource, name) if resource and name else None

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            field.errors[:] = []
            if self.column is None:
                raise StopValidation(_l("Ce champ est obligatoire."))
            typed = " ".join(v for v in field.raw_data or () if isinstance(v, str))
            violation = textrules.check_cell(*self.column, typed if textrules.is_blank(typed) and typed else "")
            raise StopValidation(_refusal(violation) if violation else _l("Ce champ est obligatoire."))


class ColumnRules:
    """The schema's length and enum of a column, checked and worded by pipeline.textrules as the store and validate do."""

    KINDS = frozenset({"too_long", "too_short", "enum"})

    def __init__(self, resource: str, name: str, *, enum: bool = True) -> None:
        self.resource, self.name, self.enum = resource, name, enum
        constraints = schemas.field(resource, name).get("constraints", {})
        self.field_flags: dict[str, Any] = {}
        if "maxLength" in constraints:
            self.field_flags["maxlength"] = constraints["maxLength"]
        if "minLength" in constraints:
            self.field_flags["minlength"] = constraints["minLength"]

    def __call__(self, form: Form, field: Field) -> None:
        if not isinstance(field.data, str) or not field.data:
            return
        # The characters are text_rules' (a textarea's lines too); an enum may be the page's own list instead.
        violation = textrules.check_cell(self.resource, self.name, field.data, characters=False)
        if violation is not None and violation.kind in (self.KINDS if self.enum else self.KINDS - {"enum"}):
            raise ValidationError(_refusal(violation))


class OneOf:
    """The schema's enum (or the atelier's list of questions)."""

    def __init__(self, values: Any) -> None:
        self.values = values

    def __call__(self, form: Form, field: Field) -> None:
        values = self.values(form) if callable(self.values) else self.values
        if field.data not in values:
            raise ValidationError(_l("Choisissez une des valeurs proposées."))


class Pattern:
    """The schema's pattern (Table Schema patterns match the whole value)."""

    def __init__(self, pattern: str) -> None:
        self.regex = re.compile(pattern)

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not self.regex.fullmatch(field.data):
            raise ValidationError(_l("Cette valeur n'a pas la forme attendue."))


class Optional:
    """No value, no further checks (the schema does not require one)."""

    field_flags = {"optional": True}

    def __call__(self, form: Form, field: Field) -> None:
        typed = any(isinstance(v, str) and v.strip() for v in field.raw_data or ())
        if typed and field.data is None:
            return  # something was typed that the field could not read (a date, a number): its error stays
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            field.errors[:] = []
            raise StopValidation()


def schema_validators(resource: str, name: str, *, enum: bool = True) -> list[Any]:
    """Validators for a form field that fills column `name` of table `resource`."""
    constraints = schemas.field(resource, name).get("constraints", {})
    validators: list[Any] = [Required(resource, name) if constraints.get("required") else Optional(), ColumnRules(resource, name, enum=enum)]
    if "pattern" in constraints:
        validators.append(Pattern(constraints["pattern"]))
    return validators


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def lines(value: Any) -> Any:
    """Browsers send a textarea's line breaks as CR LF; the person typed LF (the store keeps LF too)."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


@dataclass(frozen=True)
class TextareaRules:
    """How a « one point per line » textarea is checked: the text column's schema and the nesting depth."""

    max_lines: int
    max_depth: int

    def validator(self, required: bool = False) -> Callable[[Form, Field], None]:
        def check(form: Form, field: Field) -> None:
            lines = parse_points(field.data or "", self.max_depth)
            if required and not lines:
                raise ValidationError(_l("Ce champ est obligatoire."))
            if len(lines) > self.max_lines:
                raise ValidationError(
                    _l("Au plus %(max)d points (vous en avez écrit %(count)d).", max=self.max_lines, count=len(lines))
                )
            for line in lines:  # each line is one point: the text column's rules (length…), as the store says them
                violation = textrules.check_cell("contributions", "text", line.text, characters=False)
                if violation is not None:
                    raise ValidationError(_at_line(line.number, _refusal(violation)))

        return check


def _question_ids(form: Form) -> tuple[str, ...]:
    return tuple(choice.value for choice in form.question.choices or ())


def emargement_form(max_lines: int) -> type[FlaskForm]:
    """The attendance form (participants.csv)."""
    role_values = schemas.field("participants", "role")["constraints"]["enum"]

    class EmargementForm(FlaskForm):
        name = StringField(
            _l("Prénom et nom"),
            filters=[strip],
            validators=[*schema_validators("participants", "name"), text_rules("participants", "name")],
        )
        organisation = StringField(
            _l("Structure (collectivité, association, entreprise…)"),
            filters=[strip],
            validators=[*schema_validators("participants", "organisation"), text_rules("participants", "organisation")],
        )
        role = SelectField(
            _l("Qualité"),
            choices=[SelectChoice("", _l("Choisissez…"))] + [SelectChoice(v, ROLE_LABELS[v]) for v in role_values],
            validate_choice=False,  # OneOf from the schema says it in French
            validators=schema_validators("participants", "role"),
        )
        listed = BooleanField(_l("Apparaître dans la liste des présents"), default=False)

    return EmargementForm


def _column_ids(form: Form) -> tuple[str, ...]:
    return tuple(choice.value for choice in form.column.choices or ())


def idea_form(rules: TextareaRules) -> type[FlaskForm]:
    """A point of a pooled phase (an idea, a question…) with optional précisions (contributions.csv).

    `column` is « phase/rubric », chosen among the participants' pooled
    columns that atelier.yaml declares (set by the view; one choice is taken
    without asking).
    """
    # The précisions sit one level below the idea.
    details_rules = TextareaRules(rules.max_lines, rules.max_depth - 1)

    class IdeaForm(FlaskForm):
        question = RadioField(
            _l("Question"),
            choices=[],
            validate_choice=False,
            validators=[*schema_validators("contributions", "question"), OneOf(_question_ids)],
        )
        column = RadioField(_l("Rubrique"), choices=[], validate_choice=False, validators=[OneOf(_column_ids)])
        text = TextAreaField(
            _l("Votre idée"),
            filters=[lines, strip],
            validators=[*schema_validators("contributions", "text"), text_rules("contributions", "text")],
        )
        details = TextAreaField(
            _l("Précisions (facultatif)"),
            filters=[lines],
            validators=[text_rules("contributions", "text"), details_rules.validator()],
        )

    return IdeaForm


def sheet_form(rules: TextareaRules, rubrics: tuple[tuple[str, str], ...]) -> type[FlaskForm]:
    """A group's sheet for one phase: one textarea per rubric (id, label) of that phase.

    The phase, question and group are chosen before (the page's address) and
    checked by the view against atelier.yaml.
    """

    class SheetForm(FlaskForm):
        def validate(self, extra_validators: Any = None) -> bool:
            valid = super().validate(extra_validators)
            # Said with the other mistakes, in one round (not only once they are fixed).
            if not any(parse_points(self[r].data or "", rules.max_depth) for r, _label in rubrics):
                first = self[rubrics[0][0]]
                if not first.errors:
                    first.errors = list(first.errors) + [_l("Remplissez au moins une rubrique de la fiche.")]
                return False
            return valid

    for rubric, label in rubrics:
        setattr(
            SheetForm,
            rubric,
            TextAreaField(label, filters=[lines], validators=[text_rules("contributions", "text"), rules.validator()]),
        )
    return SheetForm


@dataclass
class FormClasses:
    """The form classes of one app, built once from the schemas (a sheet's, once per set of rubrics)."""

    emargement: type[FlaskForm]
    idea: type[FlaskForm]
    rules: TextareaRules
    sheets: dict[tuple[tuple[str, str], ...], type[FlaskForm]]

    @classmethod
    def from_schemas(cls, max_lines: int) -> "FormClasses":
        rules = TextareaRules(max_lines=max_lines, max_depth=schemas.MAX_DEPTH)
        return cls(emargement_form(max_lines), idea_form(rules), rules, {})

    def sheet(self, rubrics: tuple[tuple[str, str], ...]) -> type[FlaskForm]:
        """The sheet form class of these (rubric id, label) columns."""
        if rubrics not in self.sheets:
            self.sheets[rubrics] = sheet_form(self.rules, rubrics)
        return self.sheets[rubrics]


def parse(text: str, rules: TextareaRules, depth: int = 0) -> list[Line]:
    """The points of a textarea that passed its validator."""
    return parse_points(text or "", rules.max_depth - depth)
