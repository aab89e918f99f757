"""The ateliers the form serves: every folder of DATA_DIR holding an atelier.yaml, reloaded when it changes."""

from __future__ import annotations

import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.validate_workshop import check_workshop
from pipeline.workshop import SLUG, WORKSHOP_FILE, AtelierError, Workshop, slug_problem, workshop_from_data

LOG = logging.getLogger(__name__)



class BrokenAtelier(AtelierError):
    """atelier.yaml exists but cannot be used; `problems` are `atelier validate`'s lines, paths from the data folder."""

    def __init__(self, slug: str, problems: tuple[str, ...]) -> None:
        super().__init__(" ".join(problems))
        self.slug, self.problems = slug, problems


@dataclass(frozen=True)
class _Entry:
    stamp: tuple[int, int, int]
    workshop: Workshop | None
    problems: tuple[str, ...]


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
        if entry.problems:
            raise BrokenAtelier(slug, entry.problems)
        return entry.workshop

    def _load(self, slug: str, path: Path, stamp: tuple[int, int, int]) -> _Entry:
        """Read atelier.yaml as `atelier validate` does: same checks, same French lines, paths from DATA_DIR."""
        found: list[Any] = []
        data = check_workshop(path.parent, found)
        shown = tuple(str(p).replace(str(self.data_dir) + os.sep, "", 1) for p in found)
        if data is None:
            return _Entry(stamp, None, shown or (f"{slug}/{WORKSHOP_FILE} : fichier illisible.",))
        try:
            return _Entry(stamp, workshop_from_data(slug, data), ())
        except (AtelierError, KeyError, ValueError, TypeError):  # a rule the schema does not hold yet
            return _Entry(stamp, None, (f"{slug}/{WORKSHOP_FILE} : description incomplète ; lancez « atelier validate ».",))

    def workshops(self) -> list[Workshop]:
        """Every usable atelier of the data folder, most recent first."""
        found = []
        if self.data_dir.is_dir():
            for folder in sorted(self.data_dir.iterdir()):
                if not SLUG.fullmatch(folder.name) and (folder / WORKSHOP_FILE).is_file():
                    LOG.warning("%s ; cet atelier n'est pas servi.", slug_problem(folder.name, folder))
                    continue
                try:
                    workshop = self.workshop(folder.name)
                except BrokenAtelier:
                    continue
                if workshop is not None:
                    found.append(workshop)
        return sorted(found, key=lambda w: (w.date, w.slug), reverse=True)
