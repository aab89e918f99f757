"""Benchmark `atelier review` on a 2,000-row change and `atelier release` skipping unchanged ateliers.

Run: .venv/bin/python bench/bench_review_release.py [--rows 2000] [--repeat 3]
Figures are the best of `--repeat` runs (wall time, in-process unless said),
each with its ratio to a baseline measured in the same run:
- review: to `validate_atelier` on the same head folder (the review validates it once);
- release of an unchanged atelier: to `load_atelier` alone (the skip loads, composes and hashes),
  and as a whole `atelier release` process (Python start-up and imports included).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import make_synthetic_atelier  # noqa: E402
from pipeline import release as releasing  # noqa: E402
from pipeline import review as reviewing  # noqa: E402
from pipeline.validate import validate_atelier  # noqa: E402
from pipeline.workshop import load_atelier, read_rows  # noqa: E402

EXAMPLE = ROOT / "data" / "moulins-2016"
ATELIER = Path(sys.executable).parent / "atelier"


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Banc", "-c", "user.email=banc@example.invalid", *args],
        cwd=repo, check=True, capture_output=True,
    )


def look_alike(folder: Path) -> None:
    """Rewrite the texts so that every point nearly repeats the others: the duplicate search's worst case."""
    path = folder / "contributions.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    import csv
    import io

    rows = list(csv.reader(io.StringIO("\n".join(text))))
    col = rows[0].index("text")
    for i, row in enumerate(rows[1:]):
        row[col] = f"{i} Une contribution longue et détaillée sur le territoire et ses acteurs locaux"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def bench_review(rows: int, repeat: int, tmp: Path) -> None:
    repo = tmp / "review"
    folder = repo / "data" / "banc"
    (repo / "data").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    make_synthetic_atelier(folder, 0, participants=0)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    make_synthetic_atelier(folder, rows, participants=40)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"{rows} points")
    n = len(read_rows(folder / "contributions.csv"))
    baseline = best(repeat, lambda: validate_atelier(folder))
    ours = best(repeat, lambda: reviewing.review(repo, "HEAD~1", "HEAD"))
    size = len(reviewing.review(repo, "HEAD~1", "HEAD").markdown)
    print(f"review, {n} points added: {ours:.2f} s (validate alone {baseline:.2f} s, ratio {ours / baseline:.1f}×), "
          f"summary {size:,} characters")
    look_alike(folder)
    git(repo, "commit", "-qam", "look-alike texts")
    worst = best(repeat, lambda: reviewing.review(repo, "HEAD~2", "HEAD"))
    print(f"review, {n} look-alike points (duplicate search's worst case): {worst:.2f} s "
          f"(ratio to validate {worst / baseline:.1f}×)")


def bench_skip(name: str, source: Path | int, repeat: int, tmp: Path) -> None:
    root = tmp / f"skip-{name}"
    folder = root / "data" / name
    if isinstance(source, Path):
        shutil.copytree(source, folder)
    else:
        make_synthetic_atelier(folder, source, participants=40)
    reports = root / "reports"
    # Record the current fingerprint as the last release, as if it had just been published.
    target = reports / name
    target.mkdir(parents=True)
    fingerprint = releasing.inputs(load_atelier(folder)).fingerprint
    (target / releasing.RELEASES_FILE).write_text(
        json.dumps({"slug": name, "releases": [{"version": 1, "fingerprint": fingerprint}]}), encoding="utf-8"
    )
    baseline = best(repeat, lambda: load_atelier(folder))
    ours = best(repeat, lambda: releasing.release([folder], reports))
    assert not releasing.release([folder], reports)[0].released
    process = best(
        repeat,
        lambda: subprocess.run([str(ATELIER), "release", str(folder), "--reports", str(reports)], check=True,
                               capture_output=True),
    )
    n = len(read_rows(folder / "contributions.csv"))
    print(f"release, unchanged {name} ({n} points): {ours * 1000:.0f} ms in-process "
          f"(load_atelier alone {baseline * 1000:.0f} ms, ratio {ours / baseline:.1f}×), "
          f"{process * 1000:.0f} ms as a whole `atelier release` process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        bench_review(args.rows, args.repeat, Path(tmp))
        if EXAMPLE.is_dir():
            bench_skip("moulins-2016", EXAMPLE, args.repeat, Path(tmp))
        bench_skip("synthetique", args.rows, args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
