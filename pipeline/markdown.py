"""Untrusted text as inert Markdown: what participants typed must not become markup in a GitHub comment."""

from __future__ import annotations

import html
import re

from pipeline.privacy import mask_personal_data

TEXT_LIMIT = 300  # characters of a participant's text shown in a list
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


# What Markdown reads inside a line: emphasis, code, links, tables, math
# (`$`), headings' `#`.  Other punctuation only matters at the start of a
# line, where untrusted text never stands.
_ASCII_PUNCT = re.compile(r"([\\`*_\[\]()#|~$])")
# Characters that reorder or hide text (« Trojan Source ») and other controls.
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_BREAKS = re.compile(r"[ \t\r\n\f\v\u0085\u2028\u2029]+")
WJ = "\u2060"  # word joiner: invisible, but breaks @mentions, #123 links and autolinks


def truncate(text: str, limit: int = TEXT_LIMIT) -> str:
    """Cut `text` to `limit` characters at a word boundary, with « … »."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[: limit] else text[:limit]
    return cut.rstrip() + " […]"


def md(text: str, limit: int | None = TEXT_LIMIT) -> str:
    """Participant-typed text as inert Markdown: one line, no markup, no mention, no link.

    Every punctuation mark that Markdown reads inside a line is backslash-escaped,
    `<`, `>` and `&` become entities (so no HTML tag survives, even inside
    <details>), `@name`, `#12` and URLs get an invisible word joiner so GitHub
    neither pings anyone nor links anything, and bidirectional controls are
    removed.  E-mail addresses and phone numbers are masked: a pull-request
    comment is e-mailed to everyone who watches the repository.
    """
    # Line breaks and tabs become single spaces; no-break spaces stay as typed.
    text = mask_personal_data(_INVISIBLE.sub("", _BREAKS.sub(" ", text).strip(" ")))
    if limit is not None:
        text = truncate(text, limit)
    text = _ASCII_PUNCT.sub(r"\\\1", text)
    text = html.escape(text, quote=False)
    text = text.replace("@", "@" + WJ).replace("\\#", "\\#" + WJ)
    text = re.sub(r"(?i)(www|https?|ftp|mailto)", lambda m: m.group(1)[0] + WJ + m.group(1)[1:], text)
    return text


def code_id(value: str) -> str:
    """A row id as `code` when it looks like one of ours; otherwise escaped text."""
    return f"`{value}`" if ID_PATTERN.fullmatch(value) else md(value, 64)
