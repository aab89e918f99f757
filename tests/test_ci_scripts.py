"""The workflows' own scripts, run as GitHub Actions runs them, against a temporary repository and a bare remote.

These tests render real PDFs (a few seconds each): three for the release
flow, one draft for the review flow.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import contribution, participant, write_atelier
from gitrepo import commit_all, git, init_repo

ROOT = Path(__file__).resolve().parent.parent
ATELIER = Path(sys.executable).parent / "atelier"
NB = "\u202f"
SLUG = "essai-2026"

POINTS = [
    contribution("c1", text="Mutualiser les moyens entre communes"),
    contribution("c2", position=2, text="Créer un tiers-lieu dans l'ancienne gare"),
    contribution("c3", phase="sous-groupe", group=1, section="driver", text="Des élus qui portent le projet"),
]
PEOPLE = [participant("p1", name="Jeanne Martin"), participant("p2", listed="false")]


def run(script: str, repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/<script> in `repo` with the environment a workflow step would give it."""
    full = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "GITHUB_STEP_SUMMARY")}
    full.update(ATELIER=str(ATELIER), **env)
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / script)], cwd=repo, env=full, capture_output=True, text=True, check=False
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A checkout of the project's data on main, pushed to a bare origin."""
    repo = init_repo(tmp_path / "projet", remote=tmp_path / "origin.git")
    write_atelier(repo / "data" / SLUG, participants=PEOPLE, contributions=POINTS)
    commit_all(repo, "Atelier d'essai")
    git(repo, "push", "--quiet", "origin", "main")
    return repo


def remote(project: Path, *args: str) -> str:
    return git(project.parent / "origin.git", *args)


def test_release_flow(project):
    # First run: version 1, committed, tagged and pushed.
    first = run("release-ci.sh", project, BRANCH="main")
    assert first.returncode == 0, first.stderr
    assert f"{SLUG}{NB}: version 1 publiée (reports/{SLUG}/compte-rendu.pdf)." in first.stdout
    assert f"gh ou GH_TOKEN absent{NB}: pas de GitHub Release (étiquettes poussées{NB}: essai-2026-v1)." in first.stdout
    assert remote(project, "log", "-1", "--format=%s", "main").strip() == f"Compte-rendu{NB}: {SLUG} v1"
    assert remote(project, "tag", "--list").split() == [f"{SLUG}-v1"]
    assert remote(project, "cat-file", "-t", f"{SLUG}-v1").strip() == "tag"  # annotated
    pushed = remote(project, "ls-tree", "-r", "--name-only", "main", "reports/")
    assert pushed.split() == [f"reports/{SLUG}/CHANGELOG.md", f"reports/{SLUG}/compte-rendu.pdf", f"reports/{SLUG}/releases.json"]

    # Two scheduled runs with no data change: no commit, no tag.
    for _ in range(2):
        again = run("release-ci.sh", project, BRANCH="main")
        assert again.returncode == 0, again.stderr
        assert f"{SLUG}{NB}: inchangé depuis la version 1." in again.stdout
        assert f"Aucune nouvelle version{NB}: rien à pousser." in again.stdout
    assert remote(project, "rev-list", "--count", "main").strip() == "2"
    assert remote(project, "tag", "--list").split() == [f"{SLUG}-v1"]

    # A data change (two points added, one corrected) makes version 2 with its changelog entry.
    points = [dict(p) for p in POINTS]
    points[0]["text"] = "Mutualiser les moyens humains entre communes"
    points += [
        contribution("c4", position=3, text="Un marché de producteurs"),
        contribution("c5", position=4, text="Une navette entre les bourgs"),
    ]
    write_atelier(project / "data" / SLUG, participants=PEOPLE, contributions=points)
    commit_all(project, "Données du formulaire")
    second = run("release-ci.sh", project, BRANCH="main")
    assert second.returncode == 0, second.stderr
    assert f"{SLUG}{NB}: version 2 publiée" in second.stdout
    assert remote(project, "tag", "--list").split() == [f"{SLUG}-v1", f"{SLUG}-v2"]
    changelog = remote(project, "show", f"main:reports/{SLUG}/CHANGELOG.md")
    assert changelog.index("## Version 2 — ") < changelog.index("## Version 1 — ")
    assert "- 2 points ajoutés, 1 corrigé.\n" in changelog
    releases = remote(project, "show", f"main:reports/{SLUG}/releases.json")
    pdf = (project / "reports" / SLUG / "compte-rendu.pdf").read_bytes()
    assert f'"pdf_sha256": "{hashlib.sha256(pdf).hexdigest()}"' in releases
    assert '"pango": "' in releases  # the system library that laid it out, for a later verify

    # The committed PDF is what the data rebuild gives, byte for byte.
    verified = subprocess.run(
        [str(ATELIER), "verify", f"reports/{SLUG}"], cwd=project, capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"reports/{SLUG}/compte-rendu.pdf{NB}: identique à sa reconstruction")

    # A PDF changed after publication is caught (without rendering).
    tampered = project / "reports" / SLUG / "compte-rendu.pdf"
    tampered.write_bytes(pdf.replace(b"%%EOF", b"%%EOF\n%", 1))
    caught = subprocess.run(
        [str(ATELIER), "verify", f"reports/{SLUG}"], cwd=project, capture_output=True, text=True, check=False
    )
    assert caught.returncode == 1
    assert "le fichier a été modifié après la publication." in caught.stderr
    git(project, "checkout", "--", f"reports/{SLUG}/compte-rendu.pdf")

    # Invalid data: the run fails naming the problem, nothing is committed, pushed or tagged.
    head = remote(project, "rev-parse", "main")
    points.append(contribution("c6", position=5, group=9, text="Sous-groupe qui n'existe pas"))
    write_atelier(project / "data" / SLUG, participants=PEOPLE, contributions=points)
    commit_all(project, "Données invalides")
    failed = run("release-ci.sh", project, BRANCH="main")
    assert failed.returncode == 1
    assert f"Données invalides{NB}: aucune version publiée." in failed.stderr
    assert f"data/{SLUG}/contributions.csv: ligne 7" in failed.stderr
    assert remote(project, "rev-parse", "main") == head
    assert remote(project, "tag", "--list").split() == [f"{SLUG}-v1", f"{SLUG}-v2"]
    assert git(project, "status", "--porcelain", "reports/") == ""


def test_review_flow(project, tmp_path):
    git(project, "fetch", "--quiet", "origin")  # origin/main, as actions/checkout with fetch-depth 0
    git(project, "checkout", "--quiet", "-b", "donnees-formulaire")
    points = POINTS + [contribution("c4", position=3, text="Un marché de producteurs")]
    write_atelier(project / "data" / SLUG, participants=PEOPLE, contributions=points)
    commit_all(project, "Données du formulaire")
    summary = tmp_path / "step-summary.md"
    done = run("review-ci.sh", project, BASE_REF="main", GITHUB_STEP_SUMMARY=str(summary), OUT_DIR=str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("<!-- atelier-review -->\n")
    assert f"**En bref{NB}:** 1 point ajouté." in text
    draft = tmp_path / "out" / "brouillons" / f"compte-rendu-{SLUG}-brouillon.pdf"
    assert draft.read_bytes().startswith(b"%PDF-")

    # Invalid data: annotations on the offending line, the summary still written, the job fails, no draft.
    draft.unlink()
    points.append(contribution("c5", position=4, group=9, text="Sous-groupe qui n'existe pas"))
    write_atelier(project / "data" / SLUG, participants=PEOPLE, contributions=points)
    commit_all(project, "Données invalides")
    summary.unlink()
    failed = run("review-ci.sh", project, BASE_REF="main", GITHUB_STEP_SUMMARY=str(summary), OUT_DIR=str(tmp_path / "out"))
    assert failed.returncode == 1
    assert f"::error file=data/{SLUG}/contributions.csv,line=6," in failed.stdout
    assert f"❌ **Validation{NB}: 1 problème**" in summary.read_text(encoding="utf-8")
    assert not draft.exists()
