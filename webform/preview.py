"""Preview PDFs for the facilitator, rendered by a separate process; one job per atelier, shared by all workers."""

# Rendering takes seconds of a whole CPU (WeasyPrint is single-threaded), so it
# never runs in a request: the request starts `python -m webform.preview` and
# returns at once; the page then refreshes itself until the job is done.
#
# One folder per atelier, PREVIEW_DIR/<slug>/ (outside the published data):
#   job.json     the job: running | done | failed, fingerprint of the data,
#                started_at, finished_at, pid, pages, error
#   job.lock     flock held while a worker reads or changes job.json, and
#                while it decides to start a render and starts it
#   run.lock     flock held by the render process for its whole life: the
#                worker takes it, the process inherits it, the kernel releases
#                it when the process ends, however it ends (even SIGKILL).
#                « running » with nobody holding run.lock means it died.
#   apercu.pdf   the last PDF produced, replaced atomically
#   rendu.log    what the last render process printed
#   journal.log  one line per render started and ended
#
# Deduplication: `start` holds job.lock while it computes the fingerprint of
# the data (sha256 of the deterministic zip export: atelier.yaml and the
# committed bytes of the CSV files) and looks at the job.  A running job is
# reused whatever its data (one render at a time per atelier; the next
# request after it renders the newer data), and so is a finished one for the
# same fingerprint whose PDF is there.  Two requests at once, on one worker
# or on two, therefore start a single render.  The render works on a copy of
# the data extracted from that zip, so the fingerprint it records is exactly
# what the PDF shows, even if points arrive meanwhile.

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import traceback
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from pipeline import clock, durable, export, locks
from pipeline.french import plural
from pipeline.workshop import AtelierError, atelier_name, parse_datetime

JOB_FILE = "job.json"
JOB_LOCK = "job.lock"
RUN_LOCK = "run.lock"
PDF_FILE = "apercu.pdf"
LOG_FILE = "rendu.log"
JOURNAL = "journal.log"
WORK_DIR = "donnees"
ROOT = Path(__file__).resolve().parent.parent  # so the render process imports this checkout


@dataclass(frozen=True)
class Job:
    """The state of an atelier's preview, as job.json records it."""

    state: str  # "running", "done" or "failed"
    fingerprint: str
    started_at: str
    pid: int | None = None
    finished_at: str | None = None
    pages: int | None = None
    error: str | None = None
    previous_seconds: float | None = None  # how long the render before this one took

    def seconds(self) -> float:
        """How long it ran (so far, while running)."""
        end = parse_datetime(self.finished_at) if self.finished_at else clock.now()
        return max(0.0, (end - parse_datetime(self.started_at)).total_seconds())


def data_fingerprint(folder: Path) -> str:
    """sha256 of the atelier's zip export: changes with atelier.yaml or any committed row."""
    return hashlib.sha256(export.export_zip(folder)).hexdigest()


def _read_job(folder: Path) -> Job | None:
    try:
        data = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
        return Job(**data)
    except (FileNotFoundError, ValueError, TypeError):
        return None  # no job yet, or a file torn by a crash: as if none


def _write_job(folder: Path, job: Job) -> None:
    durable.replace_file(folder / JOB_FILE, (json.dumps(asdict(job), ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


def _journal(folder: Path, line: str) -> None:
    with open(folder / JOURNAL, "a", encoding="utf-8") as f:
        f.write(f"{clock.stamp()} {line}\n")


def _render_alive(folder: Path) -> bool:
    """Does a render process hold this atelier's run.lock?"""
    return locks.is_held(folder / RUN_LOCK)


class Previews:
    """The preview jobs of one app, one folder per atelier under `root`."""

    def __init__(self, root: Path, cpu_seconds: int = 300, python: str = sys.executable) -> None:
        self.root = Path(root)
        self.cpu_seconds = cpu_seconds
        self.python = python
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def folder(self, slug: str) -> Path:
        return self.root / slug

    def job(self, slug: str) -> Job | None:
        """The atelier's preview job; a « running » job whose process died is recorded as failed."""
        self._reap()
        folder = self.folder(slug)
        if not (folder / JOB_FILE).exists():
            return None
        with locks.held(folder / JOB_LOCK):
            job = _read_job(folder)
            if job is not None and job.state == "running" and not _render_alive(folder):
                job = replace(
                    job,
                    state="failed",
                    finished_at=clock.stamp(),
                    error="Le rendu s'est interrompu (processus arrêté avant la fin)\u202f; relancez-le.",
                )
                _write_job(folder, job)
                _journal(folder, f"interrompu pid={job.pid}")
            return job

    def pdf(self, slug: str) -> Path | None:
        """The last PDF produced, if its job finished well."""
        job = self.job(slug)
        path = self.folder(slug) / PDF_FILE
        return path if job is not None and job.state == "done" and path.is_file() else None

    def start(self, slug: str, atelier_folder: Path) -> tuple[Job, bool]:
        """Start rendering the atelier's preview unless a render can be reused; (job, started)."""
        self._reap()
        folder = self.folder(slug)
        folder.mkdir(parents=True, exist_ok=True)
        with locks.held(folder / JOB_LOCK):
            job = _read_job(folder)
            if job is not None and job.state == "running" and _render_alive(folder):
                return job, False
            fingerprint = data_fingerprint(atelier_folder)
            if (
                job is not None
                and job.state == "done"
                and job.fingerprint == fingerprint
                and (folder / PDF_FILE).is_file()
            ):
                return job, False
            previous = job.seconds() if job is not None and job.state == "done" else None
            pid = self._spawn(folder, atelier_folder)
            job = Job("running", fingerprint, clock.stamp(), pid, previous_seconds=previous)
            _write_job(folder, job)
            _journal(folder, f"début pid={pid} empreinte={fingerprint[:12]}")
            return job, True

    def _spawn(self, folder: Path, atelier_folder: Path) -> int:
        run_fd = locks.open_lock(folder / RUN_LOCK)
        try:
            # Free: the caller holds job.lock and saw no live render (else BlockingIOError).
            # Held from now on by the process, which inherits the descriptor.
            if not locks.acquire(run_fd, wait=False):
                raise BlockingIOError(f"{folder / RUN_LOCK} is held by a live render")
            # The render needs no secret: FLASK_* (secret key, facilitator's code) stay here.
            env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
            with open(folder / LOG_FILE, "wb") as log:
                process = subprocess.Popen(
                    [
                        self.python,
                        "-m",
                        "webform.preview",
                        str(Path(atelier_folder).resolve()),
                        str(folder.resolve()),
                        str(self.cpu_seconds),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=folder,
                    env=env,
                    pass_fds=(run_fd,),
                    start_new_session=True,  # a worker restarted by gunicorn does not take it along
                )
        finally:
            os.close(run_fd)
        self._children[str(folder)] = process
        return process.pid

    def _reap(self) -> None:
        """Collect the exit status of this worker's finished renders (no zombies left behind)."""
        for key, process in list(self._children.items()):
            if process.poll() is not None:
                del self._children[key]


# ---- the render process --------------------------------------------------------------------


def render(atelier_folder: Path, folder: Path) -> Job:
    """Render the preview from a copy of the data; return the finished job (done or failed)."""
    work = folder / WORK_DIR
    shutil.rmtree(work, ignore_errors=True)
    try:
        archive = export.export_zip(atelier_folder)
        fingerprint = hashlib.sha256(archive).hexdigest()
        with zipfile.ZipFile(io.BytesIO(archive)) as z:
            z.extractall(work)  # names are ours: <slug>/atelier.yaml, <slug>/*.csv…
        copy = work / atelier_name(atelier_folder)
        error, pages = _build(copy, folder)
    except AtelierError as e:  # named from the atelier's folder, never from the server's paths
        fingerprint, error, pages = "", _shown(str(e), Path(atelier_folder)), None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Job("done" if error is None else "failed", fingerprint, "", os.getpid(), clock.stamp(), pages, error)


def _shown(text: str, atelier_folder: Path) -> str:
    """A message with the atelier's files named as its organisers know them (`contributions.csv`), no server path."""
    return text.replace(f"{atelier_folder}/", "").replace(str(atelier_folder), atelier_name(atelier_folder))


def _build(copy: Path, folder: Path) -> tuple[str | None, int | None]:
    from pypdf import PdfReader

    from pipeline.render import InvalidAtelier, build_pdf, load_valid

    try:
        atelier = load_valid(copy)
    except InvalidAtelier as invalid:
        problems = invalid.problems
        shown = " ".join(_shown(str(p), copy) for p in problems[:5])
        more = f" (et {plural(len(problems) - 5, 'autre')})" if len(problems) > 5 else ""
        return f"Les données de l'atelier ne sont pas valides\u202f: {shown}{more}", None
    with durable.replacing(folder / PDF_FILE) as tmp:
        build_pdf(atelier, tmp, draft=True)
        pages = len(PdfReader(tmp).pages)
    return None, pages


def main(argv: list[str]) -> int:
    """`python -m webform.preview ATELIER_FOLDER JOB_FOLDER CPU_SECONDS`, started by `Previews.start`."""
    import resource

    atelier_folder, folder, cpu = Path(argv[0]), Path(argv[1]), int(argv[2])
    os.nice(10)  # the web workers answer the room first
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    try:
        result = render(atelier_folder, folder)
    except Exception as e:  # the facilitator gets a sentence, the log gets the traceback
        traceback.print_exc()
        result = Job(
            "failed",
            "",
            "",
            os.getpid(),
            clock.stamp(),
            error="Le rendu a échoué (erreur inattendue)\u202f; le détail est dans le journal du rendu de l'aperçu, "
            f"{LOG_FILE}, sur le serveur.",
        )
    with locks.held(folder / JOB_LOCK):
        job = _read_job(folder)
        if job is not None and job.pid == os.getpid():
            _write_job(
                folder,
                replace(
                    job,
                    state=result.state,
                    fingerprint=result.fingerprint or job.fingerprint,
                    finished_at=result.finished_at,
                    pages=result.pages,
                    error=result.error,
                ),
            )
        _journal(folder, f"fin {result.state} pid={os.getpid()}")
    if result.error:
        print(result.error, file=sys.stderr)
    return 0 if result.state == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
