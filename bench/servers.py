"""Start gunicorn on 127.0.0.1 with a free port, for the load tests and benchmarks; stop it for sure."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


class Gunicorn:
    """A running gunicorn master: its base URL and the pids of its workers."""

    def __init__(self, proc: subprocess.Popen[str], url: str, log: list[str]) -> None:
        self.proc = proc
        self.url = url
        self.log = log

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc (the workers gunicorn forked)."""
        pids: list[int] = []
        task_dir = Path(f"/proc/{self.proc.pid}/task")
        for task in task_dir.iterdir():
            with contextlib.suppress(FileNotFoundError):
                pids += [int(p) for p in (task / "children").read_text().split()]
        return pids


@contextlib.contextmanager
def gunicorn(
    app: str,
    env: dict[str, str],
    workers: int = 4,
    threads: int = 1,
    timeout: float = 30.0,
    options: Sequence[str] = (),
) -> Iterator[Gunicorn]:
    """Run `gunicorn -w N [--threads T] [OPTIONS] -b 127.0.0.1:0 APP` and yield once every worker has booted."""
    cmd = [
        str(BIN / "gunicorn"),
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        "127.0.0.1:0",
        "--graceful-timeout",
        "2",
        "--log-level",
        "info",
        *options,
        app,
    ]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    full_env.update(env)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    log: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        booted = 0
        for line in proc.stderr:
            log.append(line)
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
            if found:
                url.append(found.group(1))
            if "Booting worker" in line:
                booted += 1
                if booted >= workers and url:
                    ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(timeout):
            raise RuntimeError("gunicorn n'a pas démarré :\n" + "".join(log[-30:]))
        time.sleep(0.2)  # the last worker has printed its line; let it reach accept()
        yield Gunicorn(proc, url[0], log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
