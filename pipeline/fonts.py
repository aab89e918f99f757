"""The project's fonts: the characters they draw, a visible stand-in for the others, and a fontconfig that knows no other font."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import unicodedata
from functools import cache
from pathlib import Path
from typing import Iterator
from unittest import mock
from xml.sax.saxutils import escape

from pipeline import durable

FONTS_DIR = Path(__file__).resolve().parent / "assets" / "fonts"

# The families of assets/fonts.css in fallback order: each draws what those before it lack.
FAMILIES = (
    "Report Sans", "Report Math", "Report Symbols", "Report Symbols Two", "Report Emoji", "Report Arabic", "Report Hebrew",
)
FONT_STACK = ", ".join(f'"{family}"' for family in FAMILIES)  # a CSS font-family value

# How a character that no project font draws is printed: its Unicode code point, which a
# reader can look up, instead of the empty box (.notdef glyph) that PDF/A forbids.
SUBSTITUTE = "[U+{:04X}]"

# Characters that are never drawn as a glyph of their own: HarfBuzz hides default-ignorable
# and control characters (zero-width joiner, variation selectors, emoji tags, bidi marks)
# and synthesises the width of a space that a font lacks.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Zs"}


@cache
def drawable() -> frozenset[int]:
    """Code points that at least one font of pipeline/assets/fonts/ draws (read from their cmaps)."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # imported only when needed

    points: set[int] = set()
    for path in sorted(FONTS_DIR.glob("*.ttf")):
        points.update(TTFont(path, lazy=True).getBestCmap())
    return frozenset(points)


def _invisible(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in _INVISIBLE_CATEGORIES
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


# Characters Noto Sans draws, known without reading a font: Latin-1, Latin Extended-A and -B,
# General Punctuation (’ « … and the narrow no-break space French typography adds) and €.
# Most texts hold nothing else, and reading the fonts' cmaps costs 0.1 s per process;
# tests/test_render_torture.py checks that every one of them is indeed drawn.
SURELY_DRAWN = frozenset(map(chr, [*range(0x20, 0x250), *range(0x2000, 0x2065), 0x20AC]))


def undrawable(text: str) -> list[str]:
    """The distinct characters of `text` that no project font draws, in order of appearance."""
    if text.isascii() or SURELY_DRAWN.issuperset(text):
        return []
    fonts = drawable()
    seen: dict[str, None] = {}
    for char in text:
        if ord(char) not in fonts and not _invisible(char) and char not in seen:
            seen[char] = None
    return list(seen)


def printable(text: str) -> str:
    """`text` with each character no project font draws replaced by « [U+XXXX] »; else unchanged."""
    missing = undrawable(text)
    for char in missing:
        text = text.replace(char, SUBSTITUTE.format(ord(char)))
    return text


def describe(char: str) -> str:
    """« « ⵣ » (U+2D63, TIFINAGH LETTER YAZ) » — how a report or a message names a character."""
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"« {char} » ({code}, {name})" if name else f"« {char} » ({code})"


def fontconfig_text(fonts_dir: Path = FONTS_DIR, cache_dir: Path | None = None) -> str:
    """A fontconfig configuration that lists only `fonts_dir`: no system font, no host rule."""
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
        "<fontconfig>",
        f"  <dir>{escape(str(fonts_dir))}</dir>",
    ]
    if cache_dir is not None:
        lines.append(f"  <cachedir>{escape(str(cache_dir))}</cachedir>")
    lines.append("</fontconfig>")
    return "\n".join(lines) + "\n"


@cache
def fontconfig_file() -> Path:
    """The generated fonts.conf of this checkout, written once in the temporary directory."""
    root = Path(tempfile.gettempdir()) / f"atelier-fontconfig-{os.getuid() if hasattr(os, 'getuid') else 0}"
    root.mkdir(mode=0o700, exist_ok=True)
    text = fontconfig_text(FONTS_DIR, root / "cache")
    path = root / f"fonts-{hashlib.sha256(text.encode()).hexdigest()[:16]}.conf"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        durable.replace_file(path, text.encode("utf-8"))
    return path


@contextlib.contextmanager
def project_fonts_only() -> Iterator[None]:
    """Within the block, fontconfig (read anew by WeasyPrint for each document) sees only the
    project's fonts: a character they lack can never be drawn with a font of the host."""
    # The standard library sets the variable for the block and restores the environment after it.
    with mock.patch.dict(os.environ, {"FONTCONFIG_FILE": str(fontconfig_file())}):
        yield
