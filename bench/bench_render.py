"""Benchmark `build_pdf` against WeasyPrint rendering the same texts as one plain flowing list.

Run: .venv/bin/python bench/bench_render.py [--sizes 200 2000] [--repeat 2]
For the example atelier and synthetic ateliers of each size, each render runs in
its own process; the table gives the CPU time of the render measured inside the
process (imports excluded; CPU rather than wall time, so other work on the machine
does not blur the ratios), pages, seconds per page, peak memory (RSS of the process),
and the ratios to the baseline: the same published texts, in the same font, as
one <ul> with no cover, charts, tables, PDF/A or attachments.  It then splits
our time into its stages, so a miss says where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import make_synthetic_atelier  # noqa: E402

EXAMPLE = ROOT / "data" / "moulins-2016"

# Each child prints one JSON line: its stages in seconds and its page count.  Our build runs
# once, as `atelier build` does; the stages inside it are timed by wrapping WeasyPrint's own
# steps (layout, painting each page, the structure tree, font subsets, attachments, pydyf's
# serialisation and compression), so they add up to the build instead of laying it out twice.
CHILD = r"""
import functools, json, sys, time
import pypdf
from pathlib import Path
kind, folder, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
from markupsafe import escape
import pydyf
import weasyprint, weasyprint.document, weasyprint.pdf
from weasyprint import HTML
from pipeline.compose import compose
from pipeline.render import ASSETS, render_html, write_pdf
from pipeline.workshop import load_atelier
stages = {}

def timed(owner, name, stage):
    original = getattr(owner, name)
    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        t = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            stages[stage] = stages.get(stage, 0.0) + time.process_time() - t
    setattr(owner, name, wrapper)

t = time.process_time()
atelier = load_atelier(folder)
report = compose(atelier)
stages["charger+composer"] = time.process_time() - t
if kind == "ours":
    t = time.process_time()
    html = render_html(report)
    stages["gabarit HTML"] = time.process_time() - t
    timed(weasyprint.HTML, "render", "mise en page")
    timed(weasyprint.document.Page, "paint", "dessin des pages")
    timed(weasyprint.pdf, "add_tags", "arbre de structure")
    timed(weasyprint.pdf, "build_fonts_dictionary", "polices")
    timed(weasyprint.pdf, "write_pdf_attachment", "pièces jointes")
    timed(pydyf.PDF, "write", "sérialisation+compression")
    t = time.process_time()
    write_pdf(html, report, out)
    build = time.process_time() - t
    stages["reste de l'écriture (PDF/A, liens, finition)"] = build - sum(
        v for k, v in stages.items() if k not in ("charger+composer", "gabarit HTML"))
    pages = len(pypdf.PdfReader(out).pages)
    total = stages["charger+composer"] + stages["gabarit HTML"] + build
else:
    items = "".join(f"<li>{escape(item.text)}</li>" for item in report.items())
    html = ('<html lang="fr"><head><style>@page { size: A4; margin: 2cm }'
            '@font-face { font-family: R; src: url(fonts/NotoSans-Regular.ttf) }'
            'body { font: 9.5pt R }</style></head><body><ul>' + items + '</ul></body></html>')
    t = time.process_time()
    document = HTML(string=html, base_url=ASSETS.as_uri() + "/").render()
    stages["mise en page"] = time.process_time() - t
    t = time.process_time()
    document.write_pdf(out)
    stages["écriture PDF"] = time.process_time() - t
    pages = len(document.pages)
    total = stages["mise en page"] + stages["écriture PDF"]
print(json.dumps({"stages": stages, "pages": pages, "total": total, "points": len(list(report.items()))}))
"""


def run(kind: str, folder: Path, out: Path) -> dict:
    """Run one render in a fresh process; add its peak RSS (MiB)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, str(folder), str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, text=True,
    )
    stdout = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"échec du rendu {kind} de {folder}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["rss"] = usage.ru_maxrss / 1024
    return result


def best(kind: str, folder: Path, out: Path, repeat: int) -> dict:
    runs = [run(kind, folder, out) for _ in range(repeat)]
    fastest = min(runs, key=lambda r: r["total"])
    fastest["rss"] = max(r["rss"] for r in runs)
    return fastest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[200, 2000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        if (EXAMPLE / "atelier.yaml").exists():
            cases.append(("exemple", EXAMPLE))
        else:
            print("(data/moulins-2016 absent : l'exemple n'est pas mesuré)")
        for size in args.sizes:
            cases.append((f"synthétique {size}", make_synthetic_atelier(Path(tmp) / f"bench-{size}", size, participants=40)))
        rows = []
        for name, folder in cases:
            ours = best("ours", folder, Path(tmp) / "ours.pdf", args.repeat)
            base = best("baseline", folder, Path(tmp) / "base.pdf", args.repeat)
            rows.append((name, ours, base))

    print(f"{'atelier':<17} | {'points':>6} | {'pages':>9} | {'CPU (s)':>13} | {'s / page':>11} | "
          f"{'RSS (Mo)':>9} | {'ratio temps':>11} | {'ratio s/page':>12} | {'ratio RSS':>9}")
    print(f"{'':<17} | {'':>6} | {'nous/base':>9} | {'nous / base':>13} | {'nous / base':>11} | {'nous/base':>9} |")
    for name, ours, base in rows:
        ours_pp, base_pp = ours["total"] / ours["pages"], base["total"] / base["pages"]
        print(
            f"{name:<17} | {ours['points']:>6} | {ours['pages']:>4}/{base['pages']:<4} | "
            f"{ours['total']:>6.2f}/{base['total']:<6.2f} | {ours_pp:>5.3f}/{base_pp:<5.3f} | "
            f"{ours['rss']:>4.0f}/{base['rss']:<4.0f} | {ours['total'] / base['total']:>11.2f} | "
            f"{ours_pp / base_pp:>12.2f} | {ours['rss'] / base['rss']:>9.2f}"
        )
    print("\nOù passe notre temps (s) :")
    for name, ours, _ in rows:
        print(f"  {name:<17} " + " ; ".join(f"{k} {v:.2f}" for k, v in ours["stages"].items()))
    print("\nObjectif : ratio s/page ≤ 1,5 (le compte-rendu ajoute couverture, graphiques, tableaux, PDF/A et pièces jointes).")
    print(f"Durée totale du banc : {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
