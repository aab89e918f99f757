"""Who may use the facilitator's pages: a secret from the environment, a signed session, a lock-out on guesses."""

# One secret per server (FLASK_FACILITATOR_SECRET), typed on a login page and
# compared in constant time.  A success puts a mark in Flask's signed session
# cookie (HttpOnly, SameSite=Lax, Secure when SESSION_COOKIE_SECURE is set):
# the time of login, a random session id and an HMAC of the secret under
# SECRET_KEY, so the mark expires after FACILITATOR_SESSION_HOURS and every
# mark dies when the secret is changed.  « Se déconnecter » also writes the
# session id in a small revocation file shared by the workers, so a copy of
# the cookie taken before stops working at once.  Wrong secrets make the next
# try from that address wait longer and longer (webform.ratelimit.GuessDelay),
# never lock the room's shared address out for long.
#
# The gate runs before anything else reads a request to the blueprint (CSRF,
# form parsing): a stranger's GET is sent to the login page, any other
# method is refused (403).  A participant's session or receipt token carries
# no mark and is a stranger here.

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, request, session, url_for
from werkzeug.wrappers import Response as HttpResponse
from flask_babel import gettext as _  # type: ignore[import-untyped]

from webform.ratelimit import GuessDelay
from webform.safety import delay_words, refuse

SESSION_KEY = "animation"
BLUEPRINT = "facilitator"
PUBLIC_ENDPOINTS = {f"{BLUEPRINT}.login"}


def init_app(app: Flask) -> None:
    folder = Path(app.config["RATELIMIT_DIR"])
    app.extensions["animation-lockout"] = GuessDelay(
        folder / "animation",
        free=int(app.config["FACILITATOR_LOCKOUT_FAILURES"]),
        longest=float(app.config["FACILITATOR_DELAY_MAX_SECONDS"]),
        forget=float(app.config["FACILITATOR_LOCKOUT_MINUTES"]) * 60,
    )
    app.extensions["animation-revoked"] = Revocations(folder / "animation-deconnexions")
    app.before_request(gate)


class Revocations:
    """Facilitator sessions ended by « Se déconnecter », shared by the workers: one line per session,
    « id expiry », appended under O_APPEND; each worker re-reads the file only when it grew."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] = (0, 0)
        self._ids: set[str] = set()
        self._mutex = threading.Lock()

    def revoke(self, session_id: str, until: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, f"{session_id} {int(until)}\n".encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def revoked(self, session_id: str) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        with self._mutex:
            if (st.st_ino, st.st_size) != self._seen:
                now = time.time()
                ids = set()
                for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[1].isdigit() and int(parts[1]) >= now:
                        ids.add(parts[0])
                self._ids, self._seen = ids, (st.st_ino, st.st_size)
            return session_id in self._ids


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
    expected = str(current_app.config.get("FACILITATOR_SECRET") or "").strip()  # as the form strips what is typed
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
    since, tag, session_id = mark.get("depuis"), mark.get("cle"), mark.get("id")
    if not isinstance(since, (int, float)) or not isinstance(tag, str) or not isinstance(session_id, str):
        return False
    if not hmac.compare_digest(tag.encode("ascii", "replace"), _tag().encode("ascii")):
        return False
    if not 0 <= time.time() - since <= _session_seconds():
        return False
    return not revocations().revoked(session_id)


def _session_seconds() -> float:
    return float(current_app.config["FACILITATOR_SESSION_HOURS"]) * 3600


def sign_in() -> None:
    session.clear()  # a fresh session (and CSRF token) for the facilitator: nothing carried over
    session[SESSION_KEY] = {"depuis": int(time.time()), "cle": _tag(), "id": secrets.token_urlsafe(12)}


def sign_out() -> None:
    """End the session here and on the server: its id is revoked until it would have expired."""
    mark = session.get(SESSION_KEY)
    if isinstance(mark, dict) and isinstance(mark.get("id"), str) and isinstance(mark.get("depuis"), (int, float)):
        revocations().revoke(mark["id"], mark["depuis"] + _session_seconds())
    session.clear()


def revocations() -> Revocations:
    return current_app.extensions["animation-revoked"]  # type: ignore[no-any-return]


def lockout() -> GuessDelay:
    return current_app.extensions["animation-lockout"]  # type: ignore[no-any-return]


def client() -> str:
    return request.remote_addr or "?"


def wait_message(wait: float) -> str:
    """The French sentence of a login that must wait `wait` seconds before its next try."""
    return _(
        "Plusieurs codes erronés ont été essayés depuis cette adresse (peut-être depuis le Wi-Fi de la salle). "
        "Par sécurité, patientez %(delay)s avant de réessayer.",
        delay=delay_words(wait),
    )


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
    raise refuse(403, signed_out_message())


def signed_out_message() -> str:
    """Why a POST of a facilitator page was refused: the page then shows back what was typed (webform.safety)."""
    return _(
        "Cette action est réservée à l'équipe d'animation : connectez-vous d'abord. Si votre session a pris fin "
        "(déconnexion dans un autre onglet, ou après %(hours)s heures), rien n'a été enregistré : votre texte "
        "est conservé ci-dessous, renvoyez-le une fois connecté·e.",
        hours=f"{float(current_app.config['FACILITATOR_SESSION_HOURS']):g}",
    )
