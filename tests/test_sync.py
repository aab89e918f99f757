"""`atelier sync`: the form server's new data, committed on a branch and pushed, without touching its checkout."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import contribution, participant, write_atelier
from gitrepo import commit_all, git, init_repo
from pipeline import store
from pipeline.cli import main

NB = "\u202f"
NBSP = "\u00a0"  # espace insécable, inside « » (pipeline.french)
SLUG = "essai-2026"
BRANCH = "donnees-formulaire"


@pytest.fixture
def server(tmp_path: Path, monkeypatch) -> Path:
    """The form server's checkout of the project (on main), with a bare remote as origin."""
    repo = init_repo(tmp_path / "serveur", remote=tmp_path / "depot.git")
    write_atelier(repo / "data" / SLUG, participants=[participant("p1")], contributions=[contribution("c1")])
    commit_all(repo, "Atelier d'essai")
    git(repo, "push", "--quiet", "origin", "main")
    monkeypatch.chdir(repo)
    for name in ("GH_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return repo


def remote_git(repo: Path, *args: str) -> str:
    return git(repo.parent / "depot.git", *args)


def form_writes(folder: Path) -> None:
    """What the web form does during the atelier: a signature and two ideas."""
    store.append_rows(folder, "participants", [participant("p2", listed="false", created_at="2026-11-20T09:10:00Z")])
    store.append_rows(
        folder,
        "contributions",
        [
            contribution("c2", position=2, text="Ouvrir la médiathèque le dimanche", author="p2"),
            contribution("c3", position=3, text="Un marché de producteurs"),
        ],
    )


def sync(*args: str):
    return CliRunner().invoke(main, ["sync", *args])


def test_sync_pushes_a_branch_once_then_has_nothing_to_do(server):
    folder = server / "data" / SLUG
    head_before = git(server, "rev-parse", "HEAD")
    form_writes(folder)

    first = sync()
    assert first.exit_code == 0, first.output
    commit = remote_git(server, "rev-parse", f"refs/heads/{BRANCH}").strip()
    assert first.output == (
        f"Branche {BRANCH}{NB}: commit {commit[:10]} poussé.\n"
        f"{SLUG}{NB}: 2 points ajoutés, 1 émargement\n"
        f"Demande de fusion non ouverte{NB}: l'outil gh ou le jeton GH_TOKEN manque sur ce serveur{NB}; "
        f"ouvrez-la à la main depuis la branche {BRANCH}.\n"
    )
    assert remote_git(server, "log", "-1", "--format=%B", BRANCH) == (
        f"Données du formulaire\n\n{SLUG}{NB}: 2 points ajoutés, 1 émargement\n\n"
    )
    # One commit on top of main, holding the form's files as they are on disk (and no lock file).
    assert remote_git(server, "rev-parse", f"{BRANCH}^").strip() == head_before.strip()
    assert remote_git(server, "show", f"{BRANCH}:data/{SLUG}/contributions.csv") == (
        folder / "contributions.csv"
    ).read_text(encoding="utf-8")
    assert ".atelier.lock" not in remote_git(server, "ls-tree", "-r", "--name-only", BRANCH)
    # The server's checkout is untouched: same branch and commit, nothing staged, files still modified.
    assert git(server, "rev-parse", "HEAD") == head_before
    assert git(server, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(server, "diff", "--cached", "--name-only") == ""
    assert git(server, "status", "--porcelain") == (
        f" M data/{SLUG}/contributions.csv\n M data/{SLUG}/participants.csv\n"
    )

    second = sync()
    assert second.exit_code == 0, second.output
    assert second.output == f"Rien de nouveau à synchroniser{NB}: la branche {BRANCH} a déjà toutes les données.\n"
    assert remote_git(server, "rev-parse", BRANCH).strip() == commit

    store.update_rows(folder, "contributions", {"c3": {"text": "Un marché de producteurs locaux"}})
    third = sync()
    assert f"{SLUG}{NB}: 1 point corrigé\n" in third.output
    assert remote_git(server, "rev-parse", f"{BRANCH}^").strip() == commit  # it follows the open branch


def test_sync_waits_for_the_forms_writes(server):
    """A batch being written while sync runs is either wholly in the commit or wholly in the next."""
    folder = server / "data" / SLUG
    writing = threading.Event()
    release = threading.Event()

    def slow_writer() -> None:
        with store.locked(folder):
            writing.set()
            store.append_rows(folder, "contributions", [contribution("c9", position=9, text="Écrit pendant la synchro")])
            release.wait(10)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    writing.wait(5)
    outcome: dict[str, object] = {}
    syncer = threading.Thread(target=lambda: outcome.setdefault("result", sync()))
    syncer.start()
    time.sleep(0.5)
    assert syncer.is_alive()  # blocked on the form's lock, not reading a half-written file
    release.set()
    writer.join(5)
    syncer.join(30)
    result = outcome["result"]
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Écrit pendant la synchro" in remote_git(server, "show", f"{BRANCH}:data/{SLUG}/contributions.csv")


def test_sync_opens_then_updates_the_pull_request(server, tmp_path, monkeypatch):
    """With gh and a token, the pull request is created once, then its description refreshed."""
    calls = tmp_path / "gh-calls.txt"
    fake = tmp_path / "bin" / "gh"
    fake.parent.mkdir()
    # A stand-in for GitHub's CLI that records its arguments (the real one would need the network).
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\037" "$@" >> "{calls}"; printf "\\n" >> "{calls}"\n'
        'case "$1 $2" in\n'
        f'  "pr list") [ -f "{tmp_path}/pr-open" ] && echo 7 ;;\n'
        f'  "pr create") touch "{tmp_path}/pr-open"; echo https://github.example.invalid/depot/pull/7 ;;\n'
        "esac\n",
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GH_TOKEN", "jeton-de-test")
    folder = server / "data" / SLUG

    form_writes(folder)
    first = sync()
    assert first.output.endswith(f"Demande de fusion ouverte{NB}: https://github.example.invalid/depot/pull/7\n")
    store.update_rows(folder, "contributions", {"c3": {"status": "hidden"}})
    second = sync()
    assert second.output.endswith("Demande de fusion n°\u00a07 mise à jour.\n")
    made = [line.rstrip("\037").split("\037") for line in calls.read_text(encoding="utf-8").split("\037\n") if line]
    assert made[0] == ["pr", "list", "--head", BRANCH, "--state", "open", "--json", "number", "--jq", ".[0].number"]
    assert made[1][:7] + made[1][8:] == [
        "pr", "create", "--head", BRANCH, "--title", "Données du formulaire", "--body", "--base", "main"
    ]
    assert made[1][7] == (
        "Données envoyées par le formulaire de l'atelier (atelier sync).\n\n"
        f"- {SLUG}{NB}: 2 points ajoutés, 1 émargement\n\n"
        "La revue détaillée (validation, points ajoutés et corrigés, points d'attention) est publiée "
        f"en commentaire par l'action «{NBSP}review{NBSP}»."
    )
    assert made[-1][:3] == ["pr", "edit", "7"] and made[-1][3] == "--body"
    assert f"- {SLUG}{NB}: 1 point masqué\n" in made[-1][4]


def test_sync_refuses_the_servers_own_branch(server):
    result = sync("--branch", "main")
    assert result.exit_code == 1
    assert "La branche main est celle du dossier de travail du serveur" in result.output


def test_a_failing_git_command_quotes_gits_cause_not_its_last_line_of_advice(tmp_path):
    """« git … a échoué » quoted git's last line (« and the repository exists. »): now its « fatal: » line (a tester's finding)."""
    import subprocess

    from pipeline.history import git
    from pipeline.workshop import AtelierError

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with pytest.raises(AtelierError) as refused:
        git(tmp_path, "ls-remote", "--symref", "nowhere")
    assert "« fatal: " in str(refused.value) and "and the repository exists" not in str(refused.value)
