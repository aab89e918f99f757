"""Request hygiene: form encoding, flood limit, CSRF, security headers and French error pages."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Response, current_app, g, render_template, request, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from babel.dates import format_timedelta
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
from werkzeug.exceptions import HTTPException, TooManyRequests, UnsupportedMediaType

from pipeline.workshop import AtelierError
from webform import LANGUAGES
from webform.catalog import BrokenAtelier
from webform.services import LANG_COOKIE, services

csrf = CSRFProtect()

# Flask-WTF's CSRF reasons are hard-coded English sentences.
CSRF_MESSAGES = {
    "The CSRF token is missing.": _l(
        "Le jeton de sécurité du formulaire manque. Renvoyez le formulaire depuis cette page."
    ),
    "The CSRF session token is missing.": _l(
        "Votre session a expiré ou vos cookies sont bloqués : vos réponses sont conservées ci-dessous, "
        "renvoyez le formulaire."
    ),
    "The CSRF token has expired.": _l(
        "Le formulaire a expiré : vos réponses sont conservées ci-dessous, renvoyez-le."
    ),
    "The CSRF token is invalid.": _l("Le jeton de sécurité du formulaire n'est pas valable. Renvoyez le formulaire."),
    "The CSRF tokens do not match.": _l(
        "Le jeton de sécurité ne correspond pas à votre session. Renvoyez le formulaire."
    ),
    "The referrer header is missing.": _l("La provenance de la requête manque."),
    "The referrer does not match the host.": _l("La requête ne provient pas de ce site."),
}

ERROR_TITLES = {
    400: _l("Requête incorrecte"),
    403: _l("Accès refusé"),
    404: _l("Page introuvable"),
    405: _l("Méthode non permise"),
    413: _l("Envoi trop volumineux"),
    415: _l("Encodage non pris en charge"),
    429: _l("Trop d'envois"),
    500: _l("Erreur du serveur"),
    503: _l("Atelier indisponible"),
}
ERROR_MESSAGES = {
    400: _l("La requête n'a pas pu être comprise."),
    403: _l("Vous n'avez pas accès à cette page."),
    404: _l("Cette page n'existe pas. Vérifiez l'adresse, ou repartez de la liste des ateliers."),
    405: _l("Cette page ne s'utilise pas ainsi."),
    413: _l(
        "Votre envoi dépasse %(size)s Kio : revenez à la page précédente (votre texte y est encore), "
        "raccourcissez vos textes ou envoyez-les en plusieurs fois.",
    ),
    415: _l("Le formulaire doit être envoyé tel que le navigateur le prépare (application/x-www-form-urlencoded)."),
    429: _l("Trop d'envois depuis votre connexion en peu de temps. Réessayez dans %(delay)s."),
    500: _l("Une erreur inattendue s'est produite ; l'équipe d'animation peut consulter le journal du serveur."),
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class FrenchError(HTTPException):
    """An HTTP error whose description is already the sentence to show."""


def refused_here(code: int, message: str, retry_after: int = 0) -> None:
    """Refuse a participant's POST but show its form again, with what was typed and `message`.

    The view goes on: `submitted()` is then False and `show_form` answers
    `code` (and Retry-After) with the form, its text and the sentence.
    """
    g.refusal = (code, message, retry_after)


def delay_words(seconds: float) -> str:
    """« 1 seconde », « 30 secondes », « 3 minutes » in the request's language (Babel), rounded up."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return str(format_timedelta(dt.timedelta(seconds=seconds), granularity="second", threshold=1000, locale=get_locale()))
    minutes = dt.timedelta(minutes=math.ceil(seconds / 60))
    return str(format_timedelta(minutes, granularity="minute", threshold=1000, locale=get_locale()))


def refuse(code: int, message: str) -> FrenchError:
    """An error page with our own French sentence: `raise refuse(403, _("…"))`."""
    error = FrenchError(description=message)
    error.code = code
    return error


def check_form_encoding() -> None:
    """Refuse, before anything reads it, a POST body that is not valid UTF-8 url-encoded form data.

    Werkzeug would silently turn bad bytes into U+FFFD and we would store
    the mangled text; a participant's text is kept exactly or refused.
    """
    if request.method != "POST":
        return
    if request.mimetype not in ("application/x-www-form-urlencoded", ""):
        raise UnsupportedMediaType()
    body = request.get_data(cache=True)  # Flask parses the form from this cached copy
    try:
        parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise refuse(
            400,
            _("Le formulaire reçu n'est pas du texte UTF-8 valable : rien n'a été enregistré. Renvoyez-le depuis la page."),
        ) from None


def limit_submissions() -> None:
    limiter = services().limiter
    if limiter is None or request.method != "POST" or request.endpoint is None:
        return
    if request.blueprint == "facilitator":
        # Its own rules: a lock-out on wrong secrets, and every other page needs the login.
        # A facilitator transcribing post-its fast must not share the room's bucket.
        return
    wait = limiter.take(request.remote_addr or "?")
    if wait > 0:
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "shows_form_again", False):
            # The participant's text comes back with the form; nothing is saved.
            refused_here(
                429,
                _(
                    "Trop d'envois depuis votre connexion (toute la salle partage le même Wi-Fi). "
                    "Ce que vous avez saisi est conservé ci-dessous : renvoyez-le dans %(delay)s.",
                    delay=delay_words(wait),
                ),
                math.ceil(wait),
            )
            return
        raise TooManyRequests(retry_after=math.ceil(wait))


def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "private, no-cache")
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


# Hidden fields a form carries for the server, the facilitator's code (never shown back), and the
# fields chosen in a list (webform/forms.py, webform/facilitator/forms.py): what they hold is an id.
NOT_TYPED = frozenset({"csrf_token", "envoi", "etat", "secret", "role", "listed", "question", "column", "section", "group", "keep"})


def sent_texts() -> list[tuple[str, str]]:
    """(label, value) of what a refused POST to a form view held that a person typed.

    The error page shows them in read-only text boxes to copy, when the form
    itself cannot be shown again (its atelier.yaml is broken, its group was
    removed, the facilitator's session ended): nothing typed is lost.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method != "POST" or not getattr(view, "shows_form_again", False):
        return []
    try:
        form = request.form
    except HTTPException:  # too large to read (413): the browser's Back still holds it
        return []
    labels = typed_field_labels()
    return [
        (labels.get(name) or _("Champ «\u00a0%(name)s\u00a0»", name=name), value)
        for name, value in form.items(multi=True)
        if name not in NOT_TYPED and value.strip()
    ]


def typed_field_labels() -> dict[str, str]:
    """Field name → its label, from the app's own form classes (a sheet's rubrics, once shown)."""
    from wtforms.fields.core import UnboundField  # type: ignore[import-untyped]

    forms = services().forms
    labels: dict[str, str] = {}
    for rubrics in list(forms.sheets):
        labels.update(rubrics)
    classes: list[Any] = [forms.emargement, forms.idea]
    if request.blueprint == "facilitator":
        from webform.facilitator.forms import OnePostItForm

        classes = [OnePostItForm]
    for cls in classes:
        for name in dir(cls):
            field = getattr(cls, name)
            if isinstance(field, UnboundField) and field.args:
                labels[name] = str(field.args[0])
    return labels


def error_page(error: HTTPException) -> tuple[str, int] | Response:
    code = error.code or 500
    if isinstance(error, FrenchError):
        message = str(error.description)
    elif code == 413:
        message = str(ERROR_MESSAGES[413]) % {"size": current_app.config["MAX_CONTENT_LENGTH"] // 1024}
    elif code == 429:
        retry = int(error.retry_after or 60) if isinstance(error, TooManyRequests) else 60  # type: ignore[arg-type]
        message = str(ERROR_MESSAGES[429]) % {"delay": delay_words(retry)}
    else:
        message = str(ERROR_MESSAGES.get(code, ERROR_MESSAGES[400 if code < 500 else 500]))
    title = ERROR_TITLES.get(code, ERROR_TITLES[400 if code < 500 else 500])
    login = ""
    if code == 403 and request.blueprint == "facilitator" and (request.view_args or {}).get("slug"):
        login = url_for("facilitator.login", slug=request.view_args["slug"], suite=request.path)  # type: ignore[index]
    body = render_template("error.html", code=code, title=title, message=message, sent=sent_texts(), login=login)
    response = current_app.make_response((body, code))
    if isinstance(error, TooManyRequests) and error.retry_after:
        response.headers["Retry-After"] = str(int(error.retry_after))  # type: ignore[arg-type]
    return response


def form_again(code: int, message: str) -> tuple[str, int] | Response:
    """The form the person sent, shown again with their text and `message` on top; else an error page.

    For any refusal of a POST to a form view marked `shows_form_again`
    (CSRF, a library error): the view runs once more and, seeing
    `g.refusal` (see `refused_here`), shows the form with what was typed instead of saving it.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if request.blueprint == "facilitator":
        from webform.facilitator import access

        if request.endpoint not in access.PUBLIC_ENDPOINTS and not access.signed_in():
            # The team's pages: the text alone, with the way to log in.
            return error_page(refuse(403, access.signed_out_message()))
    if request.method == "POST" and view is not None and getattr(view, "shows_form_again", False) and not g.get("refusal"):
        refused_here(code, message)
        try:
            answer: Any = view(**(request.view_args or {}))
        except (AtelierError, HTTPException):
            return error_page(refuse(code, message))  # the form cannot even be shown: the sentence alone
        return current_app.make_response(answer)
    return error_page(refuse(code, message))


def csrf_failed(error: CSRFError) -> tuple[str, int] | Response:
    """Show the same form again with the participant's text and a fresh token, never lose an answer."""
    message = str(CSRF_MESSAGES.get(str(error.description), CSRF_MESSAGES["The CSRF token is invalid."]))
    return form_again(400, message)


def library_error(error: AtelierError) -> tuple[str, int] | Response:
    """The library refused (a file it cannot read, a row the store refuses): a French page, never a 500.

    The facilitator reads what is wrong (file, line, fix); a participant
    reads that nothing was saved, with their text kept in the form.
    """
    from pipeline.store import StoreError
    from pipeline.votes import VoteError

    current_app.logger.error("%s", error)
    if isinstance(error, BrokenAtelier) and request.blueprint == "facilitator":
        body = render_template("facilitator/broken.html", slug=error.slug, problems=error.problems, sent=sent_texts())
        return current_app.make_response((body, 503))
    data_dir = str(current_app.config["DATA_DIR"]).rstrip("/") + "/"
    detail = str(error).replace(data_dir, "")
    if isinstance(error, BrokenAtelier):
        message = _(
            "Cet atelier est momentanément indisponible : son fichier de description contient une erreur "
            "que l'équipe d'animation doit corriger."
        )
    elif request.blueprint == "facilitator":
        message = detail
    elif request.method != "POST":
        message = _(
            "Cette page est momentanément indisponible\u202f: un fichier de l'atelier contient une erreur que "
            "l'équipe d'animation doit corriger."
        )
    elif isinstance(error, (StoreError, VoteError)):
        message = _("Rien n'a été enregistré : %(reason)s", reason=detail)
    else:
        message = _(
            "Rien n'a été enregistré : un fichier de l'atelier contient une erreur que l'équipe d'animation "
            "doit corriger. Votre texte est conservé ci-dessous ; renvoyez-le un peu plus tard."
        )
    code = error.code if isinstance(error, VoteError) else 400 if isinstance(error, StoreError) else 503
    return form_again(code, message)


def unexpected(error: Exception) -> tuple[str, int] | Response:
    current_app.logger.exception("Erreur inattendue", exc_info=error)
    return error_page(refuse(500, str(ERROR_MESSAGES[500])))


def init_app(app: Flask) -> None:
    app.before_request(check_form_encoding)
    app.before_request(limit_submissions)
    csrf.init_app(app)
    app.after_request(security_headers)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(AtelierError, library_error)
    app.register_error_handler(HTTPException, error_page)
    if not app.testing:
        app.register_error_handler(Exception, unexpected)
