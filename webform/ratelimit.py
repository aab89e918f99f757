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

import fcntl
import hashlib
import os
import time
from pathlib import Path
from typing import Callable


class RateLimiter:
    def __init__(
        self,
        folder: Path,
        burst: int,
        per_minute: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
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
        name = hashlib.sha256(client.encode("utf-8", "replace")).hexdigest()[:32]
        path = os.path.join(self.folder, name)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)  # the first client of this folder
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = self.clock()
            tokens, last = float(self.burst), now
            raw = os.pread(fd, 64, 0).split()
            if len(raw) == 2:
                try:
                    tokens, last = float(raw[0]), float(raw[1])
                except ValueError:
                    pass  # a torn write after a crash: start afresh
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
        finally:
            os.close(fd)  # closing releases the flock
