"""The ateliers the form serves: every folder of DATA_DIR holding an atelier.yaml, reloaded when it changes."""

from __future__ import annotations

import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]

from pipeline import schemas
from pipeline.validate import Problem, check_format
from pipeline.validate import Problem, check_format
from pipeline.workshop import WORKSHOP_FILE, AtelierError, Workshop, read_workshop_yaml, workshop_from_data

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")


class BrokenAtelier(AtelierError):
    """atelier.yaml exists but cannot be used; the message names the problem in French."""


@dataclass(frozen=True)
class _Entry:
    stamp: tuple[int, int, int]
    workshop: Workshop | None
    error: str | None


class Catalog:
    """Finds and caches the ateliers of one data folder.

    Each lookup stats atelier.yaml, so an organiser who closes an atelier by
    editing its file is obeyed by every worker at the next request, without a
    restart; the YAML is parsed again only when its inode, size or mtime
    changed.  The facilitator's open/close button replaces the file
    (`pipeline.opening`), which always makes a new inode: no worker can miss
    the change, even when the mtime's granularity would hide it.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._validator = jsonschema.Draft202012Validator(schemas.workshop_schema())

    def folder(self, slug: str) -> Path | None:
        """The folder of atelier `slug`, or None when there is no such atelier (or a dubious slug)."""
        if not SLUG.fullmatch(slug):
            return None
        folder = self.data_dir / slug
        return folder if (folder / WORKSHOP_FILE).is_file() else None

    def workshop(self, slug: str) -> Workshop | None:
        """The atelier's description, None when unknown; raises BrokenAtelier when its file is invalid."""
        if not SLUG.fullmatch(slug):
            return None
        path = os.path.join(self.data_dir, slug, WORKSHOP_FILE)
        try:
            st = os.stat(path)  # one stat per request: it tells both « is there one » and « has it changed »
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        entry = self._cache.get(slug)
        if entry is None or entry.stamp != stamp:
            entry = self._load(slug, Path(path), stamp)
            with self._lock:
                self._cache[slug] = entry
        if entry.error:
            raise BrokenAtelier(entry.error)
        return entry.workshop

    def _load(self, slug: str, path: Path, stamp: tuple[int, int, int]) -> _Entry:
        try:
            data = read_workshop_yaml(path)
            error = next(iter(self._validator.iter_errors(data)), None)
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "racine"
                raise BrokenAtelier(f"{slug}/{WORKSHOP_FILE} : « {where} » : {error.message}")
            problems: list[Problem] = []
            check_format(f"{slug}/{WORKSHOP_FILE}", data, {}, problems)  # the rules `atelier validate` applies
            if problems:
                raise BrokenAtelier(str(problems[0]))
            return _Entry(stamp, workshop_from_data(slug, data), None)
        except AtelierError as e:
            return _Entry(stamp, None, str(e))

    def workshops(self) -> list[Workshop]:
        """Every usable atelier of the data folder, most recent first."""
        found = []
        if self.data_dir.is_dir():
            for folder in sorted(self.data_dir.iterdir()):
                try:
                    workshop = self.workshop(folder.name)
                except BrokenAtelier:
                    continue
                if workshop is not None:
                    found.append(workshop)
        return sorted(found, key=lambda w: (w.date, w.slug), reverse=True)
