"""A throwaway git repository with atelier data (and a bare remote) for the review, sync and release tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

ENV_IDENTITY = ("-c", "user.name=Essai", "-c", "user.email=essai@example.invalid")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def init_repo(repo: Path, remote: Path | None = None) -> Path:
    """`git init` in `repo` (branch main, a local identity); with `remote`, a bare origin."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.name", "Essai")
    git(repo, "config", "user.email", "essai@example.invalid")
    git(repo, "config", "commit.gpgsign", "false")
    git(repo, "config", "tag.gpgsign", "false")
    (repo / ".gitignore").write_text(".atelier.lock\n", encoding="utf-8")
    if remote is not None:
        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(remote)], check=True)
        git(repo, "remote", "add", "origin", str(remote))
    return repo


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()
