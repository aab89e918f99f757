"""Who may use the facilitator's pages: a secret from the environment, a signed session, a lock-out on guesses."""

# One secret per server (FLASK_FACILITATOR_SECRET), typed on a login page and
# compared in constant time.  A success puts a mark in Flask's signed session
# cookie (HttpOnly, SameSite=Lax, Secure when SESSION_COOKIE_SECURE is set):
# the time of login and an HMAC of the secret under SECRET_KEY, so the mark
# expires after FACILITATOR_SESSION_HOURS and every mark dies when the secret
# is changed.  Wrong secrets are counted per client address in the file-based
# token bucket of the participants' rate limit (webform.ratelimit), in a
# folder of its own: shared by every gunicorn worker.
#
# The gate runs before anything else reads a request to the blueprint (CSRF,
# form parsing): a stranger's GET is sent to the login page, any other
# method is refused (403).  A participant's session or receipt token carries
# no mark and is a stranger here.

from __future__ import annotations

import hashlib
import hmac
import math
import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, redirect, request, session, url_for
from werkzeug.wrappers import Response as HttpResponse
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_babel import ngettext  # type: ignore[import-untyped]

from webform.ratelimit import RateLimiter
from webform.safety import error_page, refuse

SESSION_KEY = "animation"
BLUEPRINT = "facilitator"
PUBLIC_ENDPOINTS = {f"{BLUEPRINT}.login"}


def init_app(app: Flask) -> None:
    failures = int(app.config["FACILITATOR_LOCKOUT_FAILURES"])
    minutes = float(app.config["FACILITATOR_LOCKOUT_MINUTES"])
    app.extensions["animation-lockout"] = RateLimiter(
        Path(app.config["RATELIMIT_DIR"]) / "animation", burst=failures, per_minute=failures / minutes
    )
    app.before_request(gate)


def enabled() -> bool:
    return bool(current_app.config.get("FACILITATOR_SECRET"))


def _tag() -> str:
    """HMAC of the facilitator's secret under the app's key: what a session's mark must carry."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode("utf-8") if isinstance(key, str) else key
    secret = str(current_app.config["FACILITATOR_SECRET"]).encode("utf-8")
    return hmac.new(key, b"animation\0" + secret, hashlib.sha256).hexdigest()


def secret_matches(given: str) -> bool:
    """Constant-time comparison of what was typed with the secret (digests: lengths do not leak)."""
    expected = str(current_app.config.get("FACILITATOR_SECRET") or "")
    if not expected:
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8")).digest(), hashlib.sha256(expected.encode("utf-8")).digest()
    )


def signed_in() -> bool:
    if not enabled():
        return False
    mark = session.get(SESSION_KEY)
    if not isinstance(mark, dict):
        return False
    since, tag = mark.get("depuis"), mark.get("cle")
    if not isinstance(since, (int, float)) or not isinstance(tag, str):
        return False
    if not hmac.compare_digest(tag.encode("ascii", "replace"), _tag().encode("ascii")):
        return False
    return 0 <= time.time() - since <= float(current_app.config["FACILITATOR_SESSION_HOURS"]) * 3600


def sign_in() -> None:
    session.clear()  # a fresh session (and CSRF token) for the facilitator: nothing carried over
    session[SESSION_KEY] = {"depuis": int(time.time()), "cle": _tag()}


def sign_out() -> None:
    session.clear()


def lockout() -> RateLimiter:
    return current_app.extensions["animation-lockout"]  # type: ignore[no-any-return]


def client() -> str:
    return request.remote_addr or "?"


def locked_out(wait: float) -> Response:
    """The French 429 of a client that guessed wrong too often, with Retry-After."""
    seconds = max(1, math.ceil(wait))
    minutes = max(1, math.ceil(seconds / 60))
    message = ngettext(
        "Trop d'essais de code erronés depuis votre adresse. Par sécurité, réessayez dans %(num)d minute.",
        "Trop d'essais de code erronés depuis votre adresse. Par sécurité, réessayez dans %(num)d minutes.",
        minutes,
    )
    response = error_page(refuse(429, message))
    assert isinstance(response, Response)
    response.headers["Retry-After"] = str(seconds)
    return response


def safe_next(value: str | None, slug: str) -> str | None:
    """A place to go back to after login: only a page of this atelier's animation, never elsewhere."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value or "//" in value:
        return None
    if not parts.path.startswith(f"/{slug}/animation/"):
        return None
    return value


def gate() -> HttpResponse | None:
    """Before any facilitator page: strangers go to the login page (GET) or are refused (403)."""
    if request.blueprint != BLUEPRINT or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if signed_in():
        return None
    if request.method in ("GET", "HEAD"):
        slug = str((request.view_args or {}).get("slug", ""))
        target = request.full_path if request.query_string else request.path
        return redirect(url_for(f"{BLUEPRINT}.login", slug=slug, suite=target), code=303)
    raise refuse(403, _("Cette action est réservée à l'équipe d'animation : connectez-vous d'abord."))
