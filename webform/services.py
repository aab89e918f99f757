"""What the views share, built once per app: the catalog, the forms, the receipts, the locale."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, request
from flask_babel import Babel, get_locale  # type: ignore[import-untyped]

from webform import LANGUAGES
from webform.catalog import Catalog
from webform.forms import FormClasses
from webform.ratelimit import RateLimiter
from webform.receipts import ReceiptBook

LANG_COOKIE = "langue"


@dataclass(frozen=True)
class Services:
    catalog: Catalog
    forms: FormClasses
    receipts: ReceiptBook
    limiter: RateLimiter | None


def select_locale() -> str:
    """`?lang=` (remembered in a cookie), else the cookie, else the browser's Accept-Language, else French."""
    for choice in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if choice in LANGUAGES:
            return choice
    return request.accept_languages.best_match(LANGUAGES, default="fr") or "fr"


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.context_processor(lambda: {"locale": str(get_locale() or "fr")})
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
    )


def services() -> Services:
    return current_app.extensions["atelier"]  # type: ignore[no-any-return]
