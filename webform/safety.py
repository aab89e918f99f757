"""Request hygiene: form encoding, flood limit, CSRF, security headers, the refusals a form survives, French error pages."""

from __future__ import annotations

import datetime as dt
import math
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl

from flask import Flask, Response, current_app, g, render_template, request, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from babel.dates import format_timedelta
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
from werkzeug.exceptions import HTTPException, TooManyRequests, UnsupportedMediaType

from pipeline.participation import TEAM_ACTED, WITHDRAWN
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

# A participant's correction overtaken by the team or by a withdrawal (pipeline.participation).
REFUSED_CORRECTIONS = {
    TEAM_ACTED: _l(
        "L'équipe d'animation a traité cette réponse pendant que vous la modifiiez : rien n'a été enregistré, "
        "pour ne pas défaire son travail. Votre texte est conservé ci-dessous ; votre reçu montre ce que l'équipe "
        "a fait, et « Corriger » depuis le reçu repart de là."
    ),
    WITHDRAWN: _l(
        "Cette réponse a été retirée (peut-être depuis un autre onglet) : rien n'a été enregistré. Votre texte est "
        "conservé ci-dessous ; pour le proposer encore, copiez-le dans un nouveau formulaire depuis la page de l'atelier."
    ),
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


@dataclass(frozen=True)
class Refusal:
    """Why a participant's POST is not applied: the HTTP status, the French sentence, Retry-After seconds (0: none)."""

    code: int
    message: str
    retry_after: int = 0


def shows_form_again(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a form view that shows its form again, with the sent text, when its POST is refused (`refusal()`)."""
    view.shows_form_again = True  # type: ignore[attr-defined]
    return view


def form_view() -> bool:
    """Is this request a POST to a view marked `shows_form_again`?"""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method == "POST" and bool(getattr(view, "shows_form_again", False))


def refused_here(code: int, message: str, retry_after: int = 0) -> None:
    """Refuse this POST but let its view show the form again, with what was typed and `message`.

    The one mechanism for every refusal a form survives: the checks before
    the view (flood limit, CSRF), and the view itself (closed atelier, a
    library refusal caught by `library_refusal`).  A later refusal replaces
    an earlier one (a closed atelier says more than an expired token); the
    view reads it with `refusal()`.
    """
    g.refusal = Refusal(code, message, retry_after)


def refusal() -> Refusal | None:
    """The refusal recorded for this request (see `refused_here`), if any."""
    found: Refusal | None = g.get("refusal")
    return found


@contextlib.contextmanager
def library_refusal() -> Iterator[None]:
    """Around the library call of a form view: a refusal (AtelierError) becomes the form's refusal.

    `with library_refusal(): return save(...)` — when the library refuses,
    nothing was written; the view goes on and shows its form again, with
    the typed text and the sentence of `library_message`.
    """
    from pipeline.participation import CorrectionRefused
    from pipeline.store import StoreError
    from pipeline.votes import VoteError

    try:
        yield
    except AtelierError as error:
        # A row refused, a vote closed, a correction overtaken: the person's to fix, told on the page.
        # Anything else (a file the library cannot read) is the team's to fix: in the server's log too.
        expected = isinstance(error, (StoreError, VoteError, CorrectionRefused))
        current_app.logger.log(logging.INFO if expected else logging.ERROR, "%s", error)
        refused_here(*library_message(error))


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
        if form_view():
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
    if not form_view():
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


def check_csrf() -> None:
    """CSRFProtect's check, before the view: a form view shows its form again with the sentence
    (`refused_here`), never losing an answer; any other POST gets the error page (`csrf_failed`)."""
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    try:
        csrf.protect(apply_exemptions=True)
    except CSRFError as error:
        if not form_view():
            raise
        refused_here(400, csrf_message(error))


def csrf_message(error: CSRFError) -> str:
    return str(CSRF_MESSAGES.get(str(error.description), CSRF_MESSAGES["The CSRF token is invalid."]))


def csrf_failed(error: CSRFError) -> tuple[str, int] | Response:
    return team_or_error_page(400, csrf_message(error))


def team_or_error_page(code: int, message: str) -> tuple[str, int] | Response:
    """The error page with `message`; on the team's pages, signed out, the reason to log in instead."""
    if request.blueprint == "facilitator":
        from webform.facilitator import access

        if request.endpoint not in access.PUBLIC_ENDPOINTS and not access.signed_in():
            return error_page(refuse(403, access.signed_out_message()))
    return error_page(refuse(code, message))


def library_message(error: AtelierError) -> tuple[int, str]:
    """The status and French sentence of a library refusal, as the person reading this page should read it.

    The facilitator reads what is wrong (file, line, fix); a participant
    reads that nothing was saved (their text is kept in the form).
    """
    from pipeline.participation import CorrectionRefused
    from pipeline.store import StoreError
    from pipeline.votes import VoteError

    if isinstance(error, CorrectionRefused):
        return 409, str(REFUSED_CORRECTIONS[error.reason])
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
    return code, message


def library_error(error: AtelierError) -> tuple[str, int] | Response:
    """The library refused outside a form's `library_refusal` (a file it cannot read, a broken atelier.yaml):
    a French page, never a 500; what a person typed comes back in read-only boxes (`sent_texts`)."""
    current_app.logger.error("%s", error)
    if isinstance(error, BrokenAtelier) and request.blueprint == "facilitator":
        body = render_template("facilitator/broken.html", slug=error.slug, problems=error.problems, sent=sent_texts())
        return current_app.make_response((body, 503))
    return team_or_error_page(*library_message(error))


def unexpected(error: Exception) -> tuple[str, int] | Response:
    current_app.logger.exception("Erreur inattendue", exc_info=error)
    return error_page(refuse(500, str(ERROR_MESSAGES[500])))


def init_app(app: Flask) -> None:
    app.before_request(check_form_encoding)
    app.before_request(limit_submissions)
    # CSRFProtect's own hook would answer before the view; ours lets a form view show its form again.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(check_csrf)
    app.after_request(security_headers)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(AtelierError, library_error)
    app.register_error_handler(HTTPException, error_page)
    if not app.testing:
        app.register_error_handler(Exception, unexpected)
