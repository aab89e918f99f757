"""The atelier's web app: the participants' form and the facilitator's pages, over a folder of ateliers."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from jinja2 import StrictUndefined

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
LANGUAGES = ("fr", "en")
# A secret that a facilitator types; the lock-out makes guessing slow, the length makes it hopeless.
MIN_FACILITATOR_SECRET = 12


class ConfigurationError(RuntimeError):
    """The app cannot start safely; the message tells the organiser what to set, in French."""


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then FLASK_* environment variables, then `test_config`.

    Production (neither debug nor testing) refuses to start without
    FLASK_SECRET_KEY: every gunicorn worker must sign CSRF tokens and
    sessions with the same key; nor without FLASK_FACILITATOR_SECRET, the
    code that opens the facilitator's pages (at least 12 characters).
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(_defaults())
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)

    _check_secret_key(app)
    _check_facilitator_secret(app)

    instance = Path(app.instance_path)
    app.config["TOKENS_DIR"] = str(app.config["TOKENS_DIR"] or instance / "recus")
    app.config["RATELIMIT_DIR"] = str(app.config["RATELIMIT_DIR"] or instance / "debit")
    app.config["PREVIEW_DIR"] = str(app.config["PREVIEW_DIR"] or instance / "apercus")
    _refuse_inside_data(app, "TOKENS_DIR")
    _refuse_inside_data(app, "RATELIMIT_DIR")
    _refuse_inside_data(app, "PREVIEW_DIR")

    proxies = int(app.config["PROXY_FIX_X_FOR"] or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind `proxies` trusted reverse proxies, each X-Forwarded-* header they set is believed
        # (one value per proxy, the nearest last): the client's address for the rate limit, and the
        # scheme, host, port and prefix the participants typed, for the external URLs (private
        # receipt links, the address on the dashboard).  Caddy sets X-Forwarded-For/Proto/Host by
        # default; nginx needs the four proxy_set_header lines of the README.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies, x_prefix=proxies
        )

    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.trim_blocks = True  # lighter pages for a poor network
    app.jinja_env.lstrip_blocks = True

    from webform import facilitator, safety, services
    from webform.participant import bp as participant

    services.init_app(app)
    facilitator.init_app(app)  # first: its gate refuses strangers before anything reads their request
    safety.init_app(app)  # before CSRFProtect: bad encodings and floods are answered first
    app.register_blueprint(participant)
    return app


def _defaults() -> dict[str, Any]:
    """The app's settings before FLASK_* variables and `test_config`."""
    return dict(
        DATA_DIR=str(DEFAULT_DATA_DIR),
        # Receipt tokens and rate-limit state: never inside DATA_DIR, which is published.
        TOKENS_DIR=None,
        RATELIMIT_DIR=None,
        PREVIEW_DIR=None,  # preview PDFs and their render jobs
        SECRET_KEY=None,
        FACILITATOR_SECRET=None,
        FACILITATOR_SESSION_HOURS=12,  # a day of atelier; closing the browser ends it sooner
        # Wrong facilitator codes from one address: this many cost nothing, then each makes the next
        # try wait twice as long (2, 4, 8… s) up to FACILITATOR_DELAY_MAX_SECONDS, never a lock-out;
        # the count is forgotten after FACILITATOR_LOCKOUT_MINUTES without a wrong code (ratelimit.GuessDelay).
        FACILITATOR_LOCKOUT_FAILURES=5,
        FACILITATOR_LOCKOUT_MINUTES=15,
        FACILITATOR_DELAY_MAX_SECONDS=60,
        PREVIEW_CPU_SECONDS=300,  # a render that loops is stopped by the kernel
        WALL_REFRESH_SECONDS=15,  # the projected wall shows new points within this delay
        MODERATION_PAGE=150,  # past this many points, the moderation page shows one question and phase at a time
        PREVIEW_REFRESH_SECONDS=2,  # the preview page, while the PDF is being rendered
        MAX_CONTENT_LENGTH=128 * 1024,  # a full sous-groupe sheet is ~10 KiB
        MAX_FORM_PARTS=200,
        MAX_POINTS_PER_FIELD=60,
        RATELIMIT_ENABLED=True,
        RATELIMIT_BURST=30,
        RATELIMIT_PER_MINUTE=30,
        PROXY_FIX_X_FOR=0,  # reverse proxies in front (1 behind nginx or Caddy): see ProxyFix below
        # An atelier lasts a day; a form opened in the morning must still be accepted.
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        # The Referer check of Flask-WTF on HTTPS cannot coexist with
        # `Referrer-Policy: no-referrer` (the edit token is in the URL); the
        # CSRF token, bound to a SameSite=Lax session cookie, does the work.
        WTF_CSRF_SSL_STRICT=False,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_DEFAULT_TIMEZONE="Europe/Paris",  # times shown to the facilitator: the room's clock
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).resolve().parent / "translations"),
        SEND_FILE_MAX_AGE_DEFAULT=86400,
    )


def _check_secret_key(app: Flask) -> None:
    """A production app signs with FLASK_SECRET_KEY; debug and tests get a random one."""
    secret = app.config["SECRET_KEY"]
    if not secret:
        if not (app.debug or app.testing):
            raise ConfigurationError(
                "FLASK_SECRET_KEY manquante : en production, définissez la variable d'environnement "
                "FLASK_SECRET_KEY (la même pour tous les workers), par exemple avec "
                "« python3 -c 'import secrets; print(secrets.token_urlsafe(32))' »."
            )
        app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
    elif not isinstance(secret, (str, bytes)):
        # from_prefixed_env parses values as JSON: a key made of digits becomes a number.
        app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY", str(secret))


def _check_facilitator_secret(app: Flask) -> None:
    secret = app.config["FACILITATOR_SECRET"]
    if secret is not None and not isinstance(secret, str):
        # from_prefixed_env parses values as JSON: a secret made of digits becomes a number.
        secret = app.config["FACILITATOR_SECRET"] = os.environ.get("FLASK_FACILITATOR_SECRET", str(secret))
    if app.debug or app.testing:
        return  # without a secret, the facilitator's pages say they are switched off
    if not secret:
        raise ConfigurationError(
            "FLASK_FACILITATOR_SECRET manquante\u202f: en production, définissez le code d'animation "
            "(au moins 12\u00a0caractères, le même pour tous les workers), par exemple avec "
            "«\u00a0python3 -c 'import secrets; print(secrets.token_urlsafe(12))'\u00a0»."
        )
    if len(secret) < MIN_FACILITATOR_SECRET:
        raise ConfigurationError(
            f"FLASK_FACILITATOR_SECRET trop courte ({len(secret)}\u00a0caractères)\u202f: il en faut au moins "
            f"{MIN_FACILITATOR_SECRET}."
        )
    if secret == app.config["SECRET_KEY"]:
        raise ConfigurationError(
            "FLASK_FACILITATOR_SECRET est égale à FLASK_SECRET_KEY\u202f: choisissez deux valeurs différentes."
        )


def _refuse_inside_data(app: Flask, key: str) -> None:
    data = Path(app.config["DATA_DIR"]).resolve()
    folder = Path(app.config[key]).resolve()
    if folder == data or data in folder.parents:
        raise ConfigurationError(
            f"{key} ({folder}) est dans le dossier des données ({data}), qui est publié : "
            "choisissez un dossier hors de celui-ci."
        )
