"""What every participant page shares: the atelier from its address, the form shown (again), the language."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from flask import Response, render_template, request, session
from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline.workshop import Workshop
from webform.receipts import SUBMISSION, SUBMISSION_FIELD, new_submission
from webform.safety import refusal, refuse, refused_here
from webform.services import services


def open_atelier(slug: str) -> tuple[Workshop, Path]:
    """The atelier `slug` and its folder, or a French 404/503 page."""
    catalog = services().catalog
    workshop = catalog.workshop(slug)  # BrokenAtelier: the app's handler (webform.safety) explains
    if workshop is None:
        raise refuse(404, _("Il n'y a pas d'atelier « %(slug)s ». Vérifiez l'adresse, ou repartez de la liste des ateliers.", slug=slug[:80]))
    folder = catalog.folder(slug)
    assert folder is not None
    return workshop, folder


def refuse_if_closed(workshop: Workshop) -> HttpResponse | None:
    """On a closed atelier: explain on a GET; a POST is refused (403) with its form and text shown again."""
    if workshop.is_open:
        return None
    if request.method == "POST":
        refused_here(
            403,
            _(
                "L'atelier « %(title)s » a été clos pendant que vous écriviez : il n'accepte plus de réponses. "
                "Votre texte est conservé ci-dessous : copiez-le et remettez-le à l'équipe d'animation.",
                title=workshop.title,
            ),
        )
        return None
    return Response(render_template("participant/closed.html", workshop=workshop), status=200)


def submitted(form: FlaskForm) -> bool:
    """True when a valid submission arrived (never after a refusal — CSRF, closed form, rate
    limit — whose form is shown again with what was typed)."""
    if refusal():
        form.validate()  # show the other mistakes at the same time
        return False
    return form.validate_on_submit()


def form_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """(anchor id, label, message) for the error summary, in the order of the fields."""
    out: list[tuple[str, str, str]] = []
    refused = refusal()
    if refused:
        out.append(("", "", refused.message))
    for field in form:
        if field.type == "CSRFTokenField":
            if field.errors and not refused:
                out.append(("", "", _("Le formulaire a expiré : vos réponses sont conservées ci-dessous, renvoyez-le.")))
            continue
        anchor = f"{field.id}-0" if field.type == "RadioField" else field.id
        for message in field.errors:
            out.append((anchor, str(field.label.text), str(message)))
    return out


def sent_submission() -> str | None:
    """The submission token of the form sent (hidden field « envoi »), when well-formed."""
    value = request.form.get(SUBMISSION_FIELD, "") if request.method == "POST" else ""
    return value if SUBMISSION.fullmatch(value) else None


def show_form(template: str, form: FlaskForm, workshop: Workshop, **context: Any) -> HttpResponse:
    """The form page; after a refused POST, with what was typed, the reasons, and the same submission token."""
    errors = form_errors(form) if request.method == "POST" else []
    context.setdefault("token", None)
    context.setdefault("submission", sent_submission() or new_submission())
    body = render_template(template, form=form, workshop=workshop, errors=errors, **context)
    return form_response(body, 400 if errors else 200)


def form_response(body: str, status: int) -> HttpResponse:
    """A form page: after a refused POST, with the refusal's status (and Retry-After, for a flood); else `status`."""
    refused = refusal()
    response = Response(body, status=refused.code if refused else status)
    if refused and refused.retry_after:
        response.headers["Retry-After"] = str(refused.retry_after)
    return response


def no_store(response: HttpResponse) -> HttpResponse:
    """The page's URL holds a private token: keep it out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def blank_request() -> bool:
    """A GET of a form with nothing to show but the form itself (no message waiting in the session)."""
    return request.method == "GET" and "_flashes" not in session


def blank_form(
    template: str, workshop: Workshop, build: Callable[[], tuple[FlaskForm, dict[str, Any]]], variant: str = ""
) -> HttpResponse:
    """The blank form page: the same for everyone but its CSRF token (webform/pages.py)."""
    return Response(services().blank_forms.render(template, workshop, build, variant), status=200)


def language() -> str:
    """The page's language (fr or en): the rubric and group labels of atelier.yaml follow it."""
    return "en" if str(get_locale() or "fr").startswith("en") else "fr"
