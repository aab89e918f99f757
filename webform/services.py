"""What the views share, built once per app: the catalog, the forms, the receipts, the locale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel, format_date, get_locale, get_translations  # type: ignore[import-untyped]
from itsdangerous import Serializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

from pipeline.french import date_fr
from pipeline.workshop import DEFAULT_TIMEZONE, AtelierError
from webform import LANGUAGES
from webform.catalog import Catalog
from webform.forms import FormClasses
from webform.pages import BlankForms
from webform.ratelimit import RateLimiter
from webform.receipts import ReceiptBook

LANG_COOKIE = "langue"


@dataclass(frozen=True)
class Services:
    catalog: Catalog
    forms: FormClasses
    receipts: ReceiptBook
    limiter: RateLimiter | None
    blank_forms: BlankForms


def request_zone() -> str | None:
    """The IANA time zone of the atelier this request is about (atelier.yaml's `timezone`), None for none."""
    slug = (request.view_args or {}).get("slug")
    if not slug:
        return None
    try:
        workshop = services().catalog.workshop(str(slug))
    except AtelierError:  # a broken atelier: its page says so; times fall back to the default zone
        return None
    return workshop.timezone if workshop is not None else None


def zone_suffix() -> str:
    """« (heure America/Guadeloupe) » after a time shown in another zone than Paris, else nothing."""
    zone = request_zone()
    return f" (heure {zone})" if zone and zone != DEFAULT_TIMEZONE else ""


def select_locale() -> str:
    """`?lang=` (remembered in a cookie), else the cookie, else the browser's Accept-Language, else French."""
    for choice in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if choice in LANGUAGES:
            return choice
    return request.accept_languages.best_match(LANGUAGES, default="fr") or "fr"


# Kept for bench/bench_form.py's target (form ≥ 0.3× the no-op endpoint; 0.31 on a quiet machine, so
# a few % of CPU per request decide it).  Measured 2026-11-29, same process and key: reading the
# session cookie 54 µs with Flask's interface, 22.5 µs with this one; reading and writing it 150 µs
# vs 56 µs — 30 to 95 µs of the 1.85 ms of worker CPU a form request costs (bench_form: 1.84-1.86
# ms with it, 1.92-2.00 without, on a loaded machine).
class _PlainSessionSerializer(URLSafeTimedSerializer):
    """Flask's session serializer without the zlib attempt on every save.

    The session holds a CSRF key and at most a flashed message or two, which
    zlib cannot shorten; trying costs ~45 µs a response (zlib allocates its
    state every call).  Reading is unchanged, so a compressed cookie from an
    earlier version still opens.
    """

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))  # the JSON, without the mixin's zlib


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with one serializer per key set instead of one per call."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # the current key last
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = _PlainSessionSerializer(
                list(keys),
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
            )
            self._serializers = {keys: serializer}  # a changed key replaces the old one
        return serializer


# Kept for bench/bench_form.py's target, as the session above: Flask-Babel's gettext costs 16.8 µs
# per `_()` in a request, this one 3.9 µs (measured 2026-11-29); a receipt or home page has 15 to 25
# of them, 0.2-0.3 ms of the ~1.85 ms of worker CPU per form request (bench_form: 1.84-1.86 ms with
# it, 1.91-1.97 without, loaded machine).
def request_translations() -> Any:
    """This request's translations, looked up once per request (and again only if the locale changes).

    Flask-Babel's own template callables look them up for every `_()` of a
    template (~8 µs each, through several context-local proxies); a page has
    ten to twenty.  Remembered with the Locale object they belong to, so a
    `force_locale` block gets its own.
    """
    locale = get_locale()
    cached = g.get("_atelier_translations")
    if cached is None or cached[0] is not locale:
        cached = (locale, get_translations())
        g._atelier_translations = cached
    return cached[1]


def page_date(day: dt.date, form: str = "long") -> str:
    """The templates' `dateformat`: in French the report's own date (pipeline.french.date_fr), else Babel's.

    « full » names the weekday (« vendredi 1er juillet 2016 »), any other
    form does not (« 1er juillet 2016 »), as the compte-rendu writes it;
    Babel's French would say « vendredi 1 juillet 2016 ».
    """
    if str(get_locale() or "fr") == "fr" and isinstance(day, dt.date) and not isinstance(day, dt.datetime):
        return date_fr(day, weekday=form == "full")
    return str(format_date(day, form))


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    Babel(app, locale_selector=select_locale, timezone_selector=request_zone)
    app.jinja_env.filters["dateformat"] = page_date  # in place of Flask-Babel's: one French date everywhere
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.context_processor(lambda: {"locale": str(get_locale() or "fr"), "zone_suffix": zone_suffix})
    config = app.config
    app.extensions["atelier"] = Services(
        catalog=Catalog(Path(config["DATA_DIR"])),
        forms=FormClasses.from_schemas(max_lines=int(config["MAX_POINTS_PER_FIELD"])),
        receipts=ReceiptBook(Path(config["TOKENS_DIR"])),
        limiter=RateLimiter(
            Path(config["RATELIMIT_DIR"]),
            burst=int(config["RATELIMIT_BURST"]),
            per_minute=float(config["RATELIMIT_PER_MINUTE"]),
        )
        if config["RATELIMIT_ENABLED"]
        else None,
        blank_forms=BlankForms(),
    )


def services() -> Services:
    return current_app.extensions["atelier"]  # type: ignore[no-any-return]
