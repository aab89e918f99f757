"""Benchmark `atelier validate` against the official `frictionless validate` CLI on the same data.

Run: .venv/bin/python bench/bench_validate.py [--rows 100000] [--repeat 3]
Prints wall time, rows/s and peak memory (RSS) of each command, and their ratio,
for 25 %, 50 % and 100 % of the rows, so a memory that grows faster than the
rows shows up as a rising "Mo / 10k lignes" column.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import make_synthetic_atelier  # noqa: E402

BIN = Path(sys.executable).parent


def run(cmd: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MiB, and exit code of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def best(cmd: list[str], repeat: int) -> tuple[float, float, float]:
    """Best wall and CPU time over `repeat` runs (the least disturbed by other load), peak memory."""
    runs = [run(cmd) for _ in range(repeat)]
    if any(r[3] != 0 for r in runs):
        raise SystemExit(f"échec de {' '.join(cmd)} (codes {[r[3] for r in runs]})")
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"charge de la machine (1, 5, 15 min) : {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'lignes':>8} | {'frictionless (s)':>16} | {'atelier (s)':>11} | {'ratio':>5} | "
          f"{'CPU fric./atelier (s)':>21} | {'ratio CPU':>9} | "
          f"{'lignes/s atelier':>16} | {'RSS fric. (Mo)':>14} | {'RSS atelier (Mo)':>16} | {'Mo / 10k lignes':>15}")
    with tempfile.TemporaryDirectory() as tmp:
        for share in (4, 2, 1):
            rows = args.rows // share
            folder = make_synthetic_atelier(Path(tmp) / f"bench-{rows}", rows, participants=200)
            f_time, f_cpu, f_mem = best([str(BIN / "frictionless"), "validate", str(folder / "datapackage.json")], args.repeat)
            a_time, a_cpu, a_mem = best([str(BIN / "atelier"), "validate", str(folder)], args.repeat)
            print(f"{rows:>8} | {f_time:>16.2f} | {a_time:>11.2f} | {a_time / f_time:>5.2f} | "
                  f"{f_cpu:>10.2f} / {a_cpu:<8.2f} | {a_cpu / f_cpu:>9.2f} | "
                  f"{rows / a_time:>16,.0f} | {f_mem:>14.0f} | {a_mem:>16.0f} | {a_mem / rows * 10_000:>15.1f}")
    print("Objectif : ratio ≤ 1,2 (les règles croisées coûtent peu) ; mémoire au plus linéaire.")
    print("Le ratio CPU dépend moins de la charge du reste de la machine que le ratio de temps écoulé.")


if __name__ == "__main__":
    main()
