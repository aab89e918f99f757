"""The one clock (pipeline.clock): every timestamp written or shown comes from it."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline import clock, moderation

ROOT = Path(__file__).resolve().parent.parent


def test_patching_the_clock_once_dates_what_the_modules_write(tmp_path, monkeypatch):
    """Tests (and a replay) patch pipeline.clock.now once, instead of each module's own now()."""
    import datetime as dt

    from conftest import contribution, write_atelier

    folder = write_atelier(tmp_path / "essai", contributions=[contribution("c1", status="pending")])
    moment = dt.datetime(2016, 7, 1, 8, 5, 0, 123456, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert clock.stamp() == "2016-07-01T08:05:00Z"
    moderation.publish(folder, "c1")
    row = next(r for r in (folder / "contributions.csv").read_text(encoding="utf-8").splitlines() if r.startswith("c1,"))
    assert "2016-07-01T08:05:00Z" in row


def test_every_timestamp_comes_from_the_one_clock():
    """One clock (pipeline.clock): no module reads the time of day on its own (issue 10)."""
    readers = sorted(
        str(path.relative_to(ROOT))
        for folder in ("pipeline", "webform")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(", path.read_text(encoding="utf-8"))
    )
    assert readers == ["pipeline/clock.py"]
