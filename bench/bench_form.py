"""Benchmark the participant's full flow under gunicorn against a no-op Flask endpoint, same settings.

Run: .venv/bin/python bench/bench_form.py [--clients 50] [--seconds 10] [--workers W] [--threads T] [--repeat 3]

One flow = GET the idea form, POST it with its CSRF token (the store appends
and fsyncs the rows), GET the receipt it redirects to.  The baseline is one
GET of an endpoint that returns "ok", served by the same gunicorn command.
The client is a single asyncio process speaking raw HTTP/1.1 over sockets (no
requests, no threads): its own CPU use is measured and printed, because it
shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.servers import gunicorn  # noqa: E402

CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
SUBMISSION = re.compile(rb'name="envoi" value="([^"]+)"')

# The settings the README recommends for production on 2 cores; the no-op baseline runs on the same.
# Measured best for the form among 2-4 gthread workers of 2-6 threads and 3-10 sync workers.
DEFAULT_WORKERS = 3
DEFAULT_THREADS = 4
DEFAULT_OPTIONS = "--worker-connections 4 --keep-alive 0"


async def http(host: str, port: int, method: str, path: str, cookie: str = "", body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection (gunicorn's sync workers close it after each response)."""
    reader, writer = await asyncio.open_connection(host, port)
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    if body:
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    data = await reader.read(-1)
    writer.close()
    header, _, content = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, content


class Stats:
    def __init__(self) -> None:
        self.flows: list[float] = []
        self.requests: list[float] = []
        self.errors = 0


async def timed(stats: Stats, *args: object, **kwargs: object) -> tuple[int, dict[str, str], bytes]:
    start = time.perf_counter()
    result = await http(*args, **kwargs)  # type: ignore[arg-type]
    stats.requests.append(time.perf_counter() - start)
    return result


async def form_flow(host: str, port: int, stats: Stats, n: int) -> None:
    start = time.perf_counter()
    status, headers, body = await timed(stats, host, port, "GET", "/essai/idee")
    cookie = headers.get("set-cookie", "").split(";")[0]
    token = CSRF.search(body)
    if status != 200 or not token or not cookie:
        stats.errors += 1
        return
    form = f"csrf_token={quote_plus(token.group(1).decode())}&question=q1&text={quote_plus(f'Idée n° {n} du banc')}"
    submission = SUBMISSION.search(body)  # the form's submission token: a resent form is saved once
    if submission:
        form += f"&envoi={submission.group(1).decode()}"
    form += "&details=" + quote_plus("une précision\n- un détail")
    status, headers, _ = await timed(stats, host, port, "POST", "/essai/idee", cookie, form.encode())
    if status != 303:
        stats.errors += 1
        return
    status, _, _ = await timed(stats, host, port, "GET", headers["location"], cookie)
    if status != 200:
        stats.errors += 1
        return
    stats.flows.append(time.perf_counter() - start)


async def noop_flow(host: str, port: int, stats: Stats, n: int) -> None:
    start = time.perf_counter()
    status, _, _ = await timed(stats, host, port, "GET", "/noop")
    if status != 200:
        stats.errors += 1
        return
    stats.flows.append(time.perf_counter() - start)


async def load(url: str, flow, clients: int, seconds: float) -> tuple[Stats, float, float]:
    """Closed loop: `clients` coroutines each run flows back to back for `seconds`."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    stats = Stats()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            await flow(host, port, stats, next(counter))

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return stats, time.perf_counter() - wall, time.process_time() - cpu


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def server_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU seconds used so far by the machine's processes (user, nice, system: not interrupts)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:4]]
    return sum(fields) / os.sysconf("SC_CLK_TCK")


def run(app: str, env: dict[str, str], flow, args: argparse.Namespace, label: str) -> dict[str, float]:
    with gunicorn(app, env, workers=args.workers, threads=args.threads, options=shlex.split(args.options)) as server:
        asyncio.run(load(server.url, flow, args.clients, 1.5))  # warm-up: imports, caches
        pids = server.worker_pids()
        ours = pids + [server.proc.pid]
        used, machine = server_cpu(pids), machine_cpu()
        ours_before = server_cpu(ours)
        stats, wall, cpu = asyncio.run(load(server.url, flow, args.clients, args.seconds))
        used = server_cpu(pids) - used
        # What other processes took from the cores meanwhile: it lowers both measures, not alike.
        others = (machine_cpu() - machine) - (server_cpu(ours) - ours_before) - cpu
    result = {
        "flows/s": len(stats.flows) / wall,
        "req/s": len(stats.requests) / wall,
        "p50": pct(stats.flows, 0.50),
        "p99": pct(stats.flows, 0.99),
        "req p50": pct(stats.requests, 0.50),
        "req p99": pct(stats.requests, 0.99),
        "errors": stats.errors,
        "client cpu": cpu / wall,
        "others cpu": max(0.0, others) / wall,
        # Machine-independent: what one flow costs the workers, whatever else runs on the cores.
        "server ms/flow": 1000 * used / max(1, len(stats.flows)),
        "server ms/req": 1000 * used / max(1, len(stats.requests)),
    }
    print(
        f"{label:<38} {result['flows/s']:8.1f} flux/s {result['req/s']:8.1f} req/s   "
        f"flux p50 {result['p50']:6.1f} ms  p99 {result['p99']:6.1f} ms   "
        f"req p50 {result['req p50']:5.1f} ms  p99 {result['req p99']:6.1f} ms   "
        f"erreurs {stats.errors}   CPU du client {100 * result['client cpu']:.0f} %, des autres processus "
        f"{100 * result['others cpu']:.0f} % d'un cœur   "
        f"CPU des workers {result['server ms/flow']:.2f} ms/flux, {result['server ms/req']:.2f} ms/req"
    )
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads per worker (gthread when > 1)")
    parser.add_argument(
        "--options", default=DEFAULT_OPTIONS, help='more gunicorn options for both servers, as one string: --options="--keep-alive 0"'
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of (no-op, form), alternated; medians are reported"
    )
    args = parser.parse_args()

    from webform_helpers import make_data

    print(
        f"gunicorn -w {args.workers} --threads {args.threads} {args.options}, {args.clients} clients simultanés, {args.seconds:.0f} s par mesure, "
        f"{args.repeat} tour(s), {os.cpu_count()} cœurs ; un flux = GET formulaire + POST (append + fsync) + GET reçu"
    )
    bases, forms = [], []
    for round_ in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as tmp:
            # A fresh atelier each round: the receipt's cost grows with contributions.csv.
            tmp_path = Path(tmp)
            folder = make_data(tmp_path)
            env = {
                "FLASK_SECRET_KEY": "banc",
                "FLASK_FACILITATOR_SECRET": "code d'animation du banc",
                "FLASK_DATA_DIR": str(tmp_path / "data"),
                "FLASK_TOKENS_DIR": str(tmp_path / "instance" / "recus"),
                "FLASK_RATELIMIT_DIR": str(tmp_path / "instance" / "debit"),
                # One client address sends everything here; the limiter's cost stays (burst never reached).
                "FLASK_RATELIMIT_BURST": "100000000",
            }
            # Other processes on the machine take cores and disk from both measures alike; say how busy it was.
            print(f"tour {round_} — charge de la machine (1, 5, 15 min) : " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
            bases.append(run("bench.noop_app:create_app()", env, noop_flow, args, "point d'accès vide (GET /noop)"))
            forms.append(run("webform:create_app()", env, form_flow, args, "flux complet d'une idée"))
            lines = sum(1 for _ in (folder / "contributions.csv").open(encoding="utf-8")) - 1
            print(f"lignes écrites dans contributions.csv : {lines}")
    ratio_flows = median([f["flows/s"] / b["req/s"] for b, f in zip(bases, forms)])
    ratio_requests = median([f["req/s"] / b["req/s"] for b, f in zip(bases, forms)])
    form_req_s = median([f["req/s"] for f in forms])
    print(f"médianes sur {args.repeat} tour(s) :")
    print(f"  point vide {median([b['req/s'] for b in bases]):.0f} req/s, p99 {median([b['req p99'] for b in bases]):.1f} ms")
    print(f"  formulaire {median([f['flows/s'] for f in forms]):.0f} flux/s = {form_req_s:.0f} req/s")
    print(f"  rapport req/s du formulaire / req/s du point vide  : {ratio_requests:.2f} (objectif ≥ 0,3)")
    print(f"  rapport flux/s du formulaire / req/s du point vide : {ratio_flows:.2f}")
    print(
        f"  p99 par requête : {median([f['req p99'] for f in forms]):.1f} ms (objectif < 100 ms) ; "
        f"p99 du flux complet : {median([f['p99'] for f in forms]):.1f} ms ; p50 par requête "
        f"{median([f['req p50'] for f in forms]):.1f} ms"
    )
    # Little's law for a closed loop: every client always has one request in flight, so the mean
    # latency is clients / throughput; a p99 can only be below the target if the mean is.
    form_flows_s = median([f["flows/s"] for f in forms])
    print(
        f"  loi de Little : {args.clients} clients / {form_req_s:.0f} req/s = {1000 * args.clients / form_req_s:.0f} ms "
        f"de latence moyenne par requête, {1000 * args.clients / form_flows_s:.0f} ms par flux ; un flux sous 100 ms "
        f"en moyenne demanderait {args.clients / 0.1:.0f} flux/s ({3 * args.clients / 0.1:.0f} req/s)"
    )
    print(
        f"  CPU des workers par requête, formulaire / point vide : "
        f"{median([f['server ms/req'] for f in forms]):.2f} / {median([b['server ms/req'] for b in bases]):.2f} ms "
        f"(moins sensible à la charge du reste de la machine que les débits)"
    )


if __name__ == "__main__":
    main()
