"""Personal data in free text: e-mail addresses and phone numbers (French formats first), found and masked."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\d+])(?:"
    r"(?:\+|00)33[\s.\-]?(?:\(0\)[\s.\-]?)?[1-9](?:[\s.\-]?\d{2}){4}"  # +33 6 12 34 56 78
    r"|0[1-9](?:[\s.\-]?\d{2}){4}"  # 06 12 34 56 78, 06.12.34.56.78
    r"|(?:\+|00)(?!33)[1-9]\d{0,2}(?:[\s.\-]?\d){7,12}"  # another country
    r")(?!\d)"
)


EMAIL_MASK = "[adresse masquée]"
PHONE_MASK = "[téléphone masqué]"


def personal_data(text: str) -> list[str]:
    """French descriptions of e-mail addresses and phone numbers in `text`, masked."""
    found = []
    for m in _EMAIL.finditer(text):
        found.append(f"adresse électronique ({m.group()[0]}…@…)")
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        found.append(f"numéro de téléphone (…{digits[-2:]})")
    return found


def mask_personal_data(text: str) -> str:
    """`text` with its e-mail addresses and phone numbers replaced by « [adresse masquée] »…"""
    return _PHONE.sub(PHONE_MASK, _EMAIL.sub(EMAIL_MASK, text))
