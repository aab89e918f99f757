"""Appends per second of the store (one row per batch, fsync each), against raw os.write + fsync."""

from __future__ import annotations

import argparse
import shutil
import datetime as dt
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import journal, rowcheck, store  # noqa: E402

NOW = dt.datetime(2016, 6, 30, 9, 0, tzinfo=dt.timezone.utc)
EXAMPLE_WORKSHOP = Path(__file__).resolve().parent.parent / "data" / "moulins-2016" / "atelier.yaml"
TEXT = "Mutualiser les circuits courts entre communes voisines, « avec » l'appui du département ; " * 2


def row(name: str, n: int) -> dict:
    return {"id": f"{name}-{n}", "question": "q1", "phase": "brainstorming", "section": "idea",
            "position": 1, "text": TEXT, "author": "p-1", "created_at": NOW, "status": "published"}


def prepare(folder: Path, existing: int) -> bytes:
    """A folder with one participant and `existing` contributions; return one row's bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    # Every append checks its column against atelier.yaml, as on the form's server.
    shutil.copy(EXAMPLE_WORKSHOP, folder / "atelier.yaml")
    store.append_rows(folder, "participants", [{"id": "p-1", "name": "Camille", "role": "elu", "listed": True,
                                                "created_at": NOW, "status": "present"}])
    for start in range(0, existing, 1000):
        store.append_rows(folder, "contributions", [row("old", n) for n in range(start, min(existing, start + 1000))])
    journal.indexes.clear()  # the workers start cold, as a new gunicorn worker does
    return rowcheck.table("contributions").encode([rowcheck.table("contributions").cells(row("x", 0), "", 0)])


def store_worker(folder: str, name: str, seconds: float, cold: bool, queue) -> None:
    latencies = []
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        if cold:
            journal.indexes.clear()  # what the store would cost without its index of ids
        t = time.perf_counter()
        store.append_rows(Path(folder), "contributions", [row(name, n)])
        latencies.append(time.perf_counter() - t)
        n += 1
    queue.put(latencies)


def raw_worker(folder: str, name: str, seconds: float, payload: bytes, queue) -> None:
    fd = os.open(Path(folder) / "raw.csv", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        os.write(fd, payload)
        os.fsync(fd)
        latencies.append(time.perf_counter() - t)
    os.close(fd)
    queue.put(latencies)


def measure(kind: str, processes: int, folder: Path, seconds: float, payload: bytes, cold: bool = False) -> dict:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    if kind == "raw":
        jobs = [ctx.Process(target=raw_worker, args=(str(folder), f"w{i}", seconds, payload, queue)) for i in range(processes)]
    else:
        jobs = [ctx.Process(target=store_worker, args=(str(folder), f"{kind}{processes}w{i}", seconds, cold, queue))
                for i in range(processes)]
    for j in jobs:
        j.start()
    latencies = [x for _ in jobs for x in queue.get()]
    for j in jobs:
        j.join()
    latencies.sort()
    return {
        "rate": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1e3,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="durée de chaque mesure")
    parser.add_argument("--existing", type=int, default=2000, help="contributions déjà dans le fichier")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        folder = Path(tmp) / "atelier"
        payload = prepare(folder, args.existing)
        print(f"Une ligne de {len(payload)} octets par envoi, fsync à chaque fois ; "
              f"{args.existing} contributions déjà dans le fichier ; {os.cpu_count()} cœurs.")
        results = {}
        for processes in (1, 4):
            results["raw", processes] = measure("raw", processes, folder, args.seconds, payload)
            results["store", processes] = measure("store", processes, folder, args.seconds, payload)
        results["cold", 1] = measure("cold", 1, folder, args.seconds, payload, cold=True)
        print(f"{'':44} {'envois/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}")
        labels = {"raw": "os.write + fsync (référence)", "store": "append_rows",
                  "cold": "append_rows sans index (relit tout)"}
        for (kind, processes), r in results.items():
            ratio = r["rate"] / results["raw", processes]["rate"]
            print(f"{labels[kind] + f', {processes} processus':44} {r['rate']:9.0f} {r['p50']:7.2f} {r['p99']:7.2f} {ratio:6.2f}")
        lines = sum(1 for _ in open(folder / "contributions.csv", "rb"))
        print(f"Fichier final : {lines} lignes, valide ? ", end="")
        rows = store.read_table(folder, "contributions")
        print("oui" if len({r['id'] for r in rows}) == len(rows) else "NON (doublons)")


if __name__ == "__main__":
    main()
