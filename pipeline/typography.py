"""French typography applied to text at render time (the stored data is never changed)."""

from __future__ import annotations

import re

NBSP = "\u00a0"  # no-break space, inside « guillemets »
NNBSP = "\u202f"  # narrow no-break space, before ; : ! ?

_SPACES = "[ \t\u00a0\u202f]"
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
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


def french(text: str) -> str:
    """Return `text` with French typographic spaces, apostrophes and ellipses."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
