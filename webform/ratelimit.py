"""A token bucket per client address, shared by all gunicorn workers through small locked files.

Each client (IP address, or the first X-Forwarded-For hop when the app is told
it sits behind a proxy) gets a file named by the hash of its address holding
« tokens timestamp ».  A submission takes the file's flock, refills the bucket
for the time elapsed, takes one token or refuses.  Because the state is on
disk under a lock, the limit is the same whether 1 or 9 workers serve the
requests.  The state is not fsynced: after a crash a client merely gets a
fresh bucket.

Participants in one room often share one public address (the venue's Wi-Fi),
so the defaults are generous: a burst of 30 submissions, then one every two
seconds — a room of 30 people each posting an idea a minute stays under it.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Callable, TypeVar

from pipeline import locks

T = TypeVar("T")


class RateLimiter:
    def __init__(
        self,
        folder: Path,
        burst: int,
        per_minute: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Epoch seconds, not pipeline.clock: the buckets are compared across workers and
        # server restarts (a monotonic clock restarts at boot) and never shown or written as a date.
        self.folder = Path(folder)
        self.burst = burst
        self.rate = per_minute / 60.0
        self.clock = clock

    def take(self, client: str) -> float:
        """Take one token for `client`: 0.0 when allowed, else the seconds to wait."""
        return self._bucket(client, take=True)

    def give_back(self, client: str) -> None:
        """Return the token of an attempt that turned out not to count.

        The facilitator's login takes a token before it checks the secret (so
        parallel guesses cannot all slip through) and gives it back when the
        secret was right: only failures use up the bucket.
        """
        self._bucket(client, take=False)

    def _bucket(self, client: str, take: bool) -> float:
        with locks.held(_client_file(self.folder, client), make_folder=True) as fd:
            now = self.clock()
            tokens, last = _read_pair(fd, float, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
            wait = 0.0
            if not take:
                tokens = min(float(self.burst), tokens + 1.0)
            elif tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate if self.rate > 0 else 3600.0
            # Fixed width, written in place: an ftruncate costs a journal update (~3 ms on ext4).
            os.pwrite(fd, f"{tokens:24.6f} {now:24.6f}\n".encode(), 0)
            return wait


class GuessDelay:
    """Wrong facilitator codes per client address: a delay that grows, never a wall.

    The room's participants share one Wi-Fi address with the team, so a
    lock-out of the address after a few wrong codes locked the facilitator
    out for minutes (issue 11, case 7).  Here the first `free` wrong codes
    cost nothing; each further one makes the next try from that address wait
    2, 4, 8… seconds, at most `longest`; `forget` seconds without a wrong code
    wipe the count, and a right code wipes it at once.  So the team waits a
    minute at worst, while guessing is held to one try a minute per address:
    against a code of 12 or more characters drawn at random (what `atelier
    serve` and the README make), hopeless.

    The count lives in a small file per address under a `flock`, shared by
    every gunicorn worker, held while the code is compared: parallel guesses
    queue and each sees the failures of the previous ones.
    """

    def __init__(
        self, folder: Path, free: int, longest: float, forget: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.folder = Path(folder)
        self.free, self.longest, self.forget, self.clock = free, longest, forget, clock

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` wrong codes in a row."""
        if failures < self.free:
            return 0.0
        return float(min(self.longest, 2 ** (failures - self.free + 1)))

    def attempt(self, client: str, right: Callable[[], bool]) -> tuple[str, float]:
        """Check a code with `right()` unless `client` must wait first.

        Returns ("accepted" | "wrong" | "wait", seconds to wait before the next try).
        """
        with locks.held(_client_file(self.folder, client), make_folder=True) as fd:
            now = self.clock()
            failures, last = _read_pair(fd, int, (0, 0.0))
            if now - last > self.forget:
                failures = 0
            wait = last + self.delay(failures) - now
            if failures and wait > 0:
                return "wait", wait
            failures = 0 if right() else failures + 1
            os.pwrite(fd, f"{failures:24d} {now:24.6f}\n".encode(), 0)
            return ("wrong" if failures else "accepted"), self.delay(failures)


def _read_pair(fd: int, first: Callable[[str], T], fresh: tuple[T, float]) -> tuple[T, float]:
    """A client file's « value timestamp » (its value read by `first`), or `fresh` for a new file or a write
    torn by a crash (start afresh)."""
    raw = os.pread(fd, 64, 0).decode("ascii", "replace").split()
    if len(raw) == 2:
        try:
            return first(raw[0]), float(raw[1])
        except ValueError:
            pass
    return fresh


def _client_file(folder: Path, client: str) -> Path:
    """The state file of one client address (its hash: no address is written on disk), also its lock."""
    return folder / hashlib.sha256(client.encode("utf-8", "replace")).hexdigest()[:32]
