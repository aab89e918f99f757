"""From the form's server to a pull request: commit the ateliers' new data on a branch and push it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline import history
from pipeline.french import fr, say
from pipeline.history import DATA_FILES, git
from pipeline.review_changes import compare
from pipeline.workshop import WORKSHOP_FILE, AtelierError

DEFAULT_BRANCH = "donnees-formulaire"
DEFAULT_REMOTE = "origin"
# Used only when the server's git has no identity of its own; no personal
# address goes into a commit (`.invalid` is reserved and never delivers).
FALLBACK_IDENTITY = {"name": "Formulaire atelier", "email": "formulaire@atelier.invalid"}
PR_TITLE = "Données du formulaire"


class SyncError(AtelierError):
    """The data could not be committed or pushed; the message is French."""


@dataclass(frozen=True)
class SyncResult:
    commit: str | None  # None: nothing new
    branch: str
    summary: list[str]  # one line per atelier: « moulins-2016 : 12 points ajoutés, … »
    pull_request: str = ""  # what happened to the pull request, in French

    def message(self) -> str:
        if self.commit is None:
            return say("Rien de nouveau à synchroniser : la branche {branch} a déjà toutes les données.", branch=self.branch)
        lines = [say("Branche {branch} : commit {commit} poussé.", branch=self.branch, commit=self.commit[:10]), *self.summary]
        if self.pull_request:
            lines.append(self.pull_request)
        return "\n".join(lines)


def _remote_tip(repo: Path, remote: str, branch: str) -> str | None:
    """Fetch `branch` from `remote` and return its commit, or None when the remote has no such branch."""
    listing = git(repo, "ls-remote", "--heads", remote, f"refs/heads/{branch}").strip()
    if not listing:
        return None
    git(repo, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
    return history.resolve(repo, f"refs/remotes/{remote}/{branch}")


def _remote_default(repo: Path, remote: str) -> str | None:
    """The name of the remote's default branch (what pull requests merge into), if it says."""
    for line in git(repo, "ls-remote", "--symref", remote, "HEAD").splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            return line[len("ref: refs/heads/") : -len("\tHEAD")]
    return None


def _identity_env(repo: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for key, var in (("name", "NAME"), ("email", "EMAIL")):
        try:
            git(repo, "config", f"user.{key}")
        except AtelierError:
            env[f"GIT_AUTHOR_{var}"] = env[f"GIT_COMMITTER_{var}"] = FALLBACK_IDENTITY[key]
    return env


def atelier_folders(data_dir: Path) -> list[Path]:
    return sorted(p.parent for p in data_dir.glob(f"*/{WORKSHOP_FILE}"))


def stage_tree(repo: Path, parent: str | None, folders: list[Path]) -> str:
    """A tree: `parent`'s, with the data files of `folders` as they are on disk now.

    Built in a temporary index (GIT_INDEX_FILE), so the server's own index,
    work tree and checked-out branch are never touched.  Every folder is
    locked (`pipeline.store.locked`, the lock the form's writers take) while
    git reads it, so no half-written row is committed and no write waits
    longer than the read.
    """
    from pipeline.store import locked

    with tempfile.TemporaryDirectory(prefix="atelier-sync-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if parent:
            git(repo, "read-tree", parent, env=env)
        else:
            git(repo, "read-tree", "--empty", env=env)
        paths = [
            (folder / name).relative_to(repo).as_posix()
            for folder in folders
            for name in DATA_FILES
            if (folder / name).is_file()
        ]
        with contextlib.ExitStack() as stack:
            for folder in folders:  # always in sorted order: two syncs cannot deadlock
                stack.enter_context(locked(folder))
            blobs = git(repo, "hash-object", "-w", "--stdin-paths", input="\n".join(paths).encode()).split()
        entries = "".join(f"100644 {blob}\t{path}\n" for blob, path in zip(blobs, paths))
        git(repo, "update-index", "--add", "--index-info", input=entries.encode(), env=env)
        return git(repo, "write-tree", env=env).strip()


def _tree_of(repo: Path, commit: str | None) -> str | None:
    return git(repo, "rev-parse", f"{commit}^{{tree}}").strip() if commit else None


def commit_message(repo: Path, parent: str | None, tree: str, data_rel: str, slugs: list[str]) -> list[str]:
    """One line per atelier whose data differ: « moulins-2016 : 12 points ajoutés, 3 corrigés, 2 émargements »."""
    changed = history.changed_slugs(repo, parent, tree, data_rel) if parent else slugs
    lines = []
    for slug in changed:
        before = history.snapshot(repo, parent, slug, data_rel) if parent else history.Snapshot(slug, {})
        after = history.snapshot(repo, tree, slug, data_rel)
        lines.append(say("{slug} : {headline}", slug=slug, headline=compare(before, after).headline()))
    return lines


def _gh_token() -> str | None:
    return os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")


def open_pull_request(repo: Path, branch: str, base: str | None, body: str) -> str:
    """Open the pull request of `branch` with the `gh` CLI, or refresh its description; French outcome."""
    gh = shutil.which("gh")
    if gh is None or not _gh_token():
        return say(
            "Demande de fusion non ouverte : l'outil gh ou le jeton GH_TOKEN manque sur ce serveur ; "
            "ouvrez-la à la main depuis la branche {branch}.",
            branch=branch,
        )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([gh, *args], cwd=repo, capture_output=True, text=True, check=False)

    found = run("pr", "list", "--head", branch, "--state", "open", "--json", "number", "--jq", ".[0].number")
    number = found.stdout.strip() if found.returncode == 0 else ""
    if number:
        edited = run("pr", "edit", number, "--body", body)
        if edited.returncode != 0:
            return say(
                "Demande de fusion n° {number} : description non mise à jour ({error}).",
                number=number, error=edited.stderr.strip(),
            )
        return f"Demande de fusion n°\u00a0{number} mise à jour."
    args = ["pr", "create", "--head", branch, "--title", PR_TITLE, "--body", body]
    if base:
        args += ["--base", base]
    created = run(*args)
    if created.returncode != 0:
        return say("Demande de fusion non ouverte : {error}.", error=created.stderr.strip() or "gh a échoué")
    return say("Demande de fusion ouverte : {url}", url=created.stdout.strip())


def sync(
    data_dir: Path,
    *,
    remote: str = DEFAULT_REMOTE,
    branch: str = DEFAULT_BRANCH,
) -> SyncResult:
    """Commit the data that changed since the last sync on `branch`, push it, open or update its pull request.

    The new commit's parent is the remote branch when it exists (the pull
    request is still open), otherwise the remote's default branch (it was
    merged): either way the commit carries only what the form added.
    """
    repo = history.repo_root(data_dir)
    data_dir = data_dir.resolve()
    try:
        data_rel = data_dir.relative_to(repo).as_posix()
    except ValueError:
        raise SyncError(say("{folder} n'est pas dans le dépôt git {repo}.", folder=data_dir, repo=repo)) from None
    try:
        checked_out = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD").strip()
    except AtelierError:
        checked_out = ""
    if checked_out == branch:
        raise SyncError(
            say(
                "La branche {branch} est celle du dossier de travail du serveur : choisissez-en une autre avec --branch.",
                branch=branch,
            )
        )
    folders = atelier_folders(data_dir)
    if not folders:
        raise SyncError(say("{folder} : aucun dossier d'atelier (avec atelier.yaml) à synchroniser.", folder=data_dir))
    base_branch = _remote_default(repo, remote)
    parent = _remote_tip(repo, remote, branch)
    if parent is None and base_branch:
        parent = _remote_tip(repo, remote, base_branch)
    if parent is None:
        parent = history.resolve(repo, "HEAD")
    tree = stage_tree(repo, parent, folders)
    if tree == _tree_of(repo, parent):
        return SyncResult(None, branch, [])
    summary = commit_message(repo, parent, tree, data_rel, [f.name for f in folders])
    message = "Données du formulaire\n\n" + "\n".join(summary) + "\n"
    env = _identity_env(repo)
    args = ["commit-tree", tree, "-F", "-"]
    if parent:
        args[2:2] = ["-p", parent]
    commit = git(repo, *args, input=message.encode(), env=env).strip()
    try:
        git(repo, "push", "--quiet", remote, f"{commit}:refs/heads/{branch}")
    except AtelierError as e:
        raise SyncError(
            say(
                "{error} — la branche {branch} a peut-être changé entre-temps sur {remote} ; relancez « atelier sync ».",
                error=e, branch=branch, remote=remote,
            )
        ) from None
    git(repo, "update-ref", f"refs/remotes/{remote}/{branch}", commit)
    body = (
        "Données envoyées par le formulaire de l'atelier (atelier sync).\n\n"
        + "\n".join(f"- {line}" for line in summary)
        + fr(
            "\n\nLa revue détaillée (validation, points ajoutés et corrigés, points d'attention) "
            "est publiée en commentaire par l'action « review »."
        )
    )
    outcome = open_pull_request(repo, branch, base_branch, body)
    return SyncResult(commit, branch, summary, outcome)
