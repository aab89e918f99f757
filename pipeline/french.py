"""French typography and dates: the one place for the spaces, guillemets, dates and plurals of every French text.

Two kinds of text, one set of rules (Lexique des règles typographiques en
usage à l'Imprimerie nationale): inside « guillemets » a no-break space
(NBSP, the width of a word space), before ; : ! ? and as the thousands
separator a narrow no-break space (NNBSP, « espace fine insécable »).

* `fr` / `say`: our own template strings, written with plain spaces in the
  code: each space before a sign becomes the right one;
* `french`: participants' text, at render time only (the stored data is
  never changed): it also adds the spaces people do not type, curls
  apostrophes and ellipses, and leaves URLs, times and query strings alone.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from babel import Locale

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"  # espace insécable, inside « guillemets »
NNBSP = "\u202f"  # espace fine insécable, before ; : ! ? % and between thousands
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)

_OUR_SPACES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"« "), "«" + NBSP),
    (re.compile(r" »"), NBSP + "»"),
    (re.compile(r" ([:;!?%])"), NNBSP + r"\1"),
)

_SPACES = "[ \t\u00a0\u202f]"
_THEIR_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    # l'atelier → l’atelier (only between letters, so quotes around words stay as typed)
    (re.compile(r"(?<=\w)'(?=\w)"), "\u2019"),
    (re.compile(r"\.\.\."), "\u2026"),
    # « mot » : whatever was typed inside the guillemets becomes one no-break space
    (re.compile(f"«{_SPACES}*"), "«" + NBSP),
    (re.compile(f"{_SPACES}*»"), NBSP + "»"),
    # A space typed before ; : ! ? becomes a narrow no-break space…
    (re.compile(f"{_SPACES}+([;:!?])"), NNBSP + r"\1"),
    # …and one is added where none was typed, but only when the sign ends a word:
    # « http://x », « 10:30 », « ?id=3 » and « ?! » are left as they are.
    (re.compile(r"(?<=[\w»)\]…])([;!?])(?=\s|$|[»)])"), NNBSP + r"\1"),
    (re.compile(r"(?<=[\w»)\]…]):(?=\s|$)"), NNBSP + ":"),
)


def fr(text: str) -> str:
    """Our own template text with French spacing: « x » gets no-break spaces, « : », « ? », « % »… narrow ones.

    Only for strings written in this code base: participants' text is
    quoted as typed, never "corrected" (see `french` for the report).
    """
    for pattern, replacement in _OUR_SPACES:
        text = pattern.sub(replacement, text)
    return text


_FRAME_SPACES = (" ", "\u00a0", "\u202f")


def fr_quoting(line: str) -> str:
    """`fr()` on a line of ours that quotes values: the parts outside « … » (nesting counted) are set, the
    quoted text is kept byte for byte and only its frame's spaces become no-break spaces (the `atelier`
    command's lines, where a cell's text must stay searchable in the file).  An unbalanced « leaves the
    rest of the line as it is: a value is never altered."""
    out: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(line):
        if char == "«":
            if depth == 0:
                out.append(fr(line[start:i]))
                start = i
            depth += 1
        elif char == "»" and depth > 0:
            depth -= 1
            if depth == 0:
                inner = line[start + 1 : i]
                inner = inner[1:] if inner[:1] in _FRAME_SPACES else inner  # the frame's space, not the value's
                inner = inner[:-1] if inner[-1:] in _FRAME_SPACES else inner
                out.append("«\u00a0" + inner + "\u00a0»")
                start = i + 1
    out.append(fr(line[start:]) if depth == 0 else line[start:])
    return "".join(out)


def french(text: str) -> str:
    """Participants' `text` as the report prints it: French spaces, apostrophes and ellipses (render time only)."""
    for pattern, replacement in _THEIR_TEXT:
        text = pattern.sub(replacement, text)
    return text


def say(template: str, **values: object) -> str:
    """Our French template with its typography (see `fr`), then the values, which stay as given."""
    return fr(template).format(**values)


WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def date_fr(day: dt.date, *, weekday: bool = False) -> str:
    """« 30 juin 2016 », « 1er juillet 2016 », with `weekday` « vendredi 1er juillet 2016 ».

    The one French date of atelier: report, kit, review, summary, release
    notes, CLI and the web pages (their `dateformat` filter in French, see
    webform/services.py; English pages keep Babel's English dates).
    """
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


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
