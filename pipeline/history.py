"""Atelier data as git records it: which ateliers changed between two revisions, and their files at each."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.workshop import CSV_FILES, PACKAGE_FILE, PHASE_FILES, WORKSHOP_FILE, AtelierError

# The files that make an atelier's data; anything else in the folder (the
# store's lock file, an editor's backup) is neither reviewed nor committed.
DATA_FILES = (
    WORKSHOP_FILE,
    PACKAGE_FILE,
    CSV_FILES["participants"],
    CSV_FILES["contributions"],
    *(name for _kind, name in PHASE_FILES.values()),  # votes.csv, actions.csv: only ateliers with such phases have them
)
WORKTREE = None  # the revision name of "the files on disk, committed or not"


def git(repo: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
    """Run git in `repo` and return its standard output; a failure becomes a French AtelierError."""
    return git_bytes(repo, *args, env=env, input=input).decode("utf-8", "replace")


def git_bytes(
    repo: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None
) -> bytes:
    # LC_ALL=C keeps git's own messages stable for the error text; the
    # environment's GIT_DIR/GIT_INDEX_FILE are dropped unless we pass them, so
    # a caller's hook environment never points us at another repository.
    full_env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE")}
    full_env["LC_ALL"] = "C"
    full_env.update(env or {})
    done = subprocess.run(
        ["git", *args], cwd=repo, env=full_env, input=input, capture_output=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        # git's cause is its « fatal: » / « error: » line; the lines after it are advice (in English).
        causes = [line for line in message if line.startswith(("fatal:", "error:"))]
        detail = (causes or message or [f"code {done.returncode}"])[0]
        raise AtelierError(f"git {' '.join(args[:2])} a échoué dans {repo} (message de git : « {detail} »)")
    return done.stdout


def repo_root(path: Path) -> Path:
    """The top folder of the git work tree that holds `path`."""
    start = path if path.is_dir() else path.parent
    try:
        return Path(git(start, "rev-parse", "--show-toplevel").strip())
    except AtelierError:
        raise AtelierError(f"{path} : ce dossier n'est pas dans un dépôt git.") from None


def resolve(repo: Path, rev: str) -> str:
    """The full commit id of `rev`, or a French error naming it."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except AtelierError:
        raise AtelierError(f"Révision git introuvable : « {rev} ».") from None


def merge_base(repo: Path, base: str, head: str | None) -> str:
    """Where the head's line of work left `base`, as GitHub's "files changed" view compares.

    Comparing with the merge base instead of the tip of `base` keeps changes
    made on `base` since then out of the review.  When there is none (shallow
    clone, unrelated histories) the tip of `base` is used.
    """
    base_id = resolve(repo, base)
    try:
        return git(repo, "merge-base", base_id, resolve(repo, head or "HEAD")).strip()
    except AtelierError:
        return base_id


@dataclass(frozen=True)
class Snapshot:
    """An atelier's data files at one revision: bytes by file name, absent files left out."""

    slug: str
    files: dict[str, bytes]

    @property
    def exists(self) -> bool:
        return bool(self.files)

    def text(self, name: str) -> str | None:
        data = self.files.get(name)
        return None if data is None else data.decode("utf-8", "replace")

    def export(self, folder: Path) -> Path:
        """Write the files into `folder` (created), e.g. to validate them with the usual tools."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (folder / name).write_bytes(data)
        return folder


def _slug_of(path: str, data_dir: str) -> str | None:
    parts = PurePosixPath(path).parts
    prefix = PurePosixPath(data_dir).parts
    if len(parts) == len(prefix) + 2 and parts[: len(prefix)] == prefix and parts[-1] in DATA_FILES:
        return parts[len(prefix)]
    return None


def changed_slugs(repo: Path, base: str, head: str | None, data_dir: str = "data") -> list[str]:
    """Slugs of the ateliers under `data_dir` whose data files differ between `base` and `head`.

    `head=None` is the work tree, with uncommitted and untracked files.
    """
    args = ["diff", "--name-only", "--no-renames", "-z", base]
    if head is not None:
        args.append(head)
    paths = git(repo, *args, "--", data_dir).split("\0")
    if head is None:
        paths += git(repo, "ls-files", "-z", "--others", "--exclude-standard", "--", data_dir).split("\0")
    return sorted({s for p in paths if p and (s := _slug_of(p, data_dir))})


def snapshot(repo: Path, rev: str | None, slug: str, data_dir: str = "data") -> Snapshot:
    """The data files of atelier `slug` at `rev` (None: the work tree), read without a checkout."""
    folder = PurePosixPath(data_dir) / slug
    files: dict[str, bytes] = {}
    if rev is None:
        for name in DATA_FILES:
            path = repo / folder / name
            if path.is_file():
                files[name] = path.read_bytes()
        return Snapshot(slug, files)
    # One ls-tree lists what exists; `git cat-file --batch` then reads every
    # blob in one process instead of one `git show` per file.
    listing = git(repo, "ls-tree", "-z", rev, "--", f"{folder}/")
    blobs: dict[str, str] = {}
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, file_path = entry.split("\t", 1)
        _mode, kind, obj = meta.split()
        name = PurePosixPath(file_path).name
        if kind == "blob" and name in DATA_FILES:
            blobs[name] = obj
    if not blobs:
        return Snapshot(slug, {})
    names = sorted(blobs)
    out = git_bytes(repo, "cat-file", "--batch", input="".join(blobs[n] + "\n" for n in names).encode())
    pos = 0
    for name in names:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        files[name] = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1  # the blob is followed by a newline
    return Snapshot(slug, files)


def describe(repo: Path, rev: str | None) -> str:
    """A short human name for a revision: « abc1234 » or « l'arbre de travail »."""
    if rev is None:
        return "l'arbre de travail"
    return git(repo, "rev-parse", "--short", rev).strip()
