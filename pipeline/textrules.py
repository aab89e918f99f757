"""The rules about the characters of a text, declared once: the web form, the store and `atelier validate` call them.

A Table Schema can say how long a text is, not which characters it may hold
nor when it only looks empty; these named checks sit beside the schemas and
say it, each kind of violation with one French sentence.  The form shows the
sentence beside its field (translated through its catalogue: babel.cfg
extracts the templates of this module), the store puts it after
« fichier: ligne N de l'envoi, champ « x » : », `atelier validate` after
« fichier: ligne N, champ « x » : ».  tests/test_textrules.py feeds the same
values to the three and compares their words.

The kinds:

* ``control``: a C0 or C1 control character (Unicode category Cc) — a tab
  and a line break are allowed in a multi-line text only (the text of a
  point);
* ``bidi``: an invisible direction embedding, override or isolate (U+202A to
  U+202E, U+2066 to U+2069), which can make a published line read otherwise
  than what it stores;
* ``private``: a private-use character (Unicode category Co: U+E000 to
  U+F8FF, planes 15 and 16), whose meaning is agreed only inside one
  program or font: another device shows something else or nothing, and no
  font of the report draws it;
* ``blank``: a text that has characters but none visible: only spaces (any
  Zs, Zl, Zp), format characters (Cf: U+200B, U+2060, U+FEFF, U+00AD…) and
  fillers that draw nothing (U+3164…).  `is_blank` is also what a form's
  « one point per line » textarea takes for a blank line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def N_(template: str) -> str:
    """Mark a French template for the form's catalogue (babel.cfg); the text is unchanged."""
    return template


MESSAGES = {
    "control": N_("Ce texte contient un caractère invisible interdit (U+%(code)s)\u202f: retirez-le."),
    "bidi": N_(
        "Ce texte contient un caractère invisible qui inverse le sens de lecture (U+%(code)s)\u202f: retirez-le."
    ),
    "private": N_(
        "Ce texte contient un caractère à usage privé (U+%(code)s), que les autres appareils et le compte-rendu "
        "n'affichent pas\u202f: retirez-le."
    ),
    "blank": N_(
        "Ce texte ne contient que des espaces ou des caractères invisibles\u202f: écrivez-le en lettres visibles."
    ),
}

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MULTILINE_CONTROLS = frozenset("\t\n")
# Letters of no shape that Unicode does not class as format characters.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u2800")
_UNSEEN = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})

# Which columns may span several lines: the text of a point and an action's moyens (textareas); every other is one line.
MULTILINE_FIELDS = frozenset({("contributions", "text"), ("actions", "moyens")})


@dataclass(frozen=True)
class Violation:
    """One broken rule: its kind, the French sentence, and where in the text (1-based, 0 for the whole)."""

    kind: str
    code: str  # the character's code point, « 202E », or "" for a blank text
    position: int

    @property
    def params(self) -> dict[str, str]:
        return {"code": self.code} if self.code else {}

    @property
    def template(self) -> str:
        return MESSAGES[self.kind]

    @property
    def message(self) -> str:
        """The French sentence."""
        return self.template % self.params


# The same sets as regular expressions, for speed (the store checks every cell of every row):
# Unicode's Cc is exactly U+0000-001F and U+007F-009F.
_PRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"  # Unicode's Co
_FORBIDDEN = {
    False: re.compile(f"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069{_PRIVATE}]"),
    True: re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069{_PRIVATE}]"),
}
_SURELY_VISIBLE = re.compile("[0-9A-Za-z\u00c0-\u024f]")


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: empty, or only spaces, format characters and fillers."""
    if _SURELY_VISIBLE.search(text):
        return False
    return all(unicodedata.category(c) in _UNSEEN or c in _FILLERS or c.isspace() for c in text)


def check_text(text: str, *, multiline: bool) -> Violation | None:
    """The first rule `text` breaks, or None; an empty text breaks none (« required » is the schema's)."""
    found = _FORBIDDEN[multiline].search(text)
    if found:
        char = found.group()
        kind = "bidi" if char in BIDI_CONTROLS else "private" if unicodedata.category(char) == "Co" else "control"
        return Violation(kind, f"{ord(char):04X}", found.start() + 1)
    if text and is_blank(text):
        return Violation("blank", "", 0)
    return None


def check_field(resource: str, field: str, text: str) -> Violation | None:
    """`check_text` for a column of a table: one line unless MULTILINE_FIELDS says otherwise."""
    return check_text(text, multiline=(resource, field) in MULTILINE_FIELDS)
