"""French typography and dates for the texts reviewers and organisers read."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from babel import Locale

PARIS = ZoneInfo("Europe/Paris")
NNBSP = "\u202f"  # espace fine insécable, before : ; ! ? and inside « »
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)

_BEFORE_PUNCT = re.compile(r" ([:;!?»%])")
_AFTER_QUOTE = re.compile(r"« ")


def fr(text: str) -> str:
    """Our own template text with French spacing: « x », « : », « ? », « % »… get narrow no-break spaces.

    Only for strings written in this code base: participants' text is
    quoted as typed, never "corrected".
    """
    return _AFTER_QUOTE.sub("«" + NNBSP, _BEFORE_PUNCT.sub(NNBSP + r"\1", text))


def say(template: str, **values: object) -> str:
    """Our French template with its typography (see `fr`), then the values, which stay as given."""
    return fr(template).format(**values)


def date_fr(day: dt.date) -> str:
    """« 30 juin 2016 », « 1er juillet 2016 »."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def datetime_fr(moment: dt.datetime, zone: dt.tzinfo = PARIS) -> str:
    """« 3 juillet 2016 à 10 h 05 », in the atelier's zone (Paris unless `zone` says otherwise).

    Any other zone than Paris is named, since a French reader assumes Paris:
    « 3 juillet 2016 à 8 h 05 UTC », « 1er juillet 2016 à 20 h 30 (heure America/Guadeloupe) ».
    """
    local = moment.astimezone(zone)
    key = getattr(zone, "key", None)
    if zone is dt.timezone.utc or key == "UTC":
        suffix = " UTC"
    elif key == PARIS.key:
        suffix = ""
    else:
        suffix = f" (heure {key or local.tzname()})"
    return f"{date_fr(local.date())} à {local.hour} h {local.minute:02d}{suffix}"


def zone_named(name: object) -> ZoneInfo:
    """The ZoneInfo of atelier.yaml's `timezone` (Paris when absent; `atelier validate` refuses unknown names)."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
            pass
    return PARIS


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """« 0 point ajouté », « 1 point ajouté », « 12 points ajoutés », « 2 000 points » (narrow no-break space).

    The one plural rule of the pipeline (report, kit, review, summary, release):
    French uses the singular for 0 and 1, like Babel's `fr` rule on the web pages.
    """
    return f"{number(count)} {plural_word(count, singular, plural_form)}"


def plural_word(count: int, singular: str, plural_form: str | None = None, language: str = "fr") -> str:
    """The word alone, agreeing with `count`: plural_word(0, "faiblesse") → « faiblesse ».

    The rule is CLDR's, through Babel, as the web pages' ngettext: French
    takes the singular for 0 and 1, English only for 1.
    """
    one = Locale.parse(language).plural_form(abs(count)) == "one"
    return singular if one else (plural_form or _pluralize(singular))


def number(count: int) -> str:
    """« 12 », « 2 000 »: thousands apart by a narrow no-break space, as French prints them."""
    return f"{count:,}".replace(",", NNBSP)


def _pluralize(words: str) -> str:
    # Enough for our vocabulary: each word takes an s unless it already ends in s or x.
    return " ".join(w if w.endswith(("s", "x")) or not w[-1:].isalpha() else w + "s" for w in words.split(" "))


def join_fr(items: list[str]) -> str:
    """« a, b et c »."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]
