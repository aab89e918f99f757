"""The one clock of atelier: every timestamp that is written, shown or compared comes from here.

Tests that need another time patch `pipeline.clock.now` (one place) instead
of each module's own call to `datetime.now`.
"""

from __future__ import annotations

import datetime as dt

from pipeline.workshop import format_datetime


def now() -> dt.datetime:
    """The current instant, timezone-aware, in UTC (microseconds kept; `stamp` drops them)."""
    return dt.datetime.now(dt.timezone.utc)


def stamp() -> str:
    """The current instant as our CSV files write it: « 2016-07-01T08:05:00Z » (UTC, seconds, see `format_datetime`)."""
    return format_datetime(now())
