"""The GitHub Actions workflows, checked offline: schema, security audit, and the promises they make."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
FILES = sorted(WORKFLOWS.glob("*.yml"))


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_the_three_workflows_exist():
    assert [p.name for p in FILES] == ["release.yml", "review.yml", "tests.yml"]


def test_workflows_match_github_schema():
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing():
    zizmor = BIN / "zizmor"
    assert zizmor.exists(), "zizmor is a dev dependency (pyproject.toml)"
    done = subprocess.run(
        [str(zizmor), "--offline", "--persona=pedantic", "--no-progress", str(WORKFLOWS)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_are_pinned_and_no_expression_runs_as_shell(path):
    text = path.read_text(encoding="utf-8")
    for line in re.findall(r"uses:\s*(\S+.*)", text):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), line
    for step in steps(load(path.name)):
        assert "${{" not in step.get("run", ""), f"{path.name}: pass {step.get('run')!r} its values through env:"


def test_review_workflow():
    wf = load("review.yml")
    assert wf["on"] == {"pull_request": {"paths": ["data/**"]}}
    assert wf["permissions"] == {}
    assert wf["concurrency"]["cancel-in-progress"] is True
    (job,) = wf["jobs"].values()
    assert job["runs-on"] == "ubuntu-24.04"
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    run = [s for s in job["steps"] if "run" in s and "review-ci.sh" in s["run"]]
    assert run and set(run[0]["env"]) >= {"BASE_REF", "PR_NUMBER", "REPO", "GH_TOKEN"}
    assert run[0]["env"]["BASE_REF"] == "${{ github.base_ref }}"
    upload = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload and upload[0]["with"]["path"] == "review-out/brouillons/"
    (checkout,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0  # the merge base must be there


def test_release_workflow():
    wf = load("release.yml")
    (cron,) = wf["on"]["schedule"]
    minute = cron["cron"].split()[0]
    assert minute.isdigit() and int(minute) % 2 == 1  # away from the top-of-hour rush
    assert "workflow_dispatch" in wf["on"]
    assert wf["on"]["push"]["branches"] == ["main"] and "data/**" in wf["on"]["push"]["paths"]
    assert wf["permissions"] == {}
    assert wf["concurrency"] == {"group": "release", "cancel-in-progress": False}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "write"}
    assert any("scripts/release-ci.sh" in s.get("run", "") for s in job["steps"])
    assert "do not start new workflow runs" in (WORKFLOWS / "release.yml").read_text(encoding="utf-8")


def test_tests_workflow():
    wf = load("tests.yml")
    assert set(wf["on"]) == {"push", "pull_request"}
    (job,) = wf["jobs"].values()
    assert job["runs-on"] == "ubuntu-24.04"
    assert any(s.get("run", "").startswith("make test") for s in job["steps"])


def test_every_job_runs_on_debian_12_with_git_before_checkout():
    """Chromium and the PDF's Pango come from Debian 12; checkout needs git to leave a real clone."""
    for name in ("tests.yml", "review.yml", "release.yml"):
        (job,) = load(name)["jobs"].values()
        assert job["container"]["image"] == "debian:12", name
        names = [s.get("uses", s.get("run", "")) for s in job["steps"]]
        first_checkout = next(i for i, n in enumerate(names) if n.startswith("actions/checkout@"))
        assert any("apt-get install" in n and " git " in n for n in names[:first_checkout]), name


def test_scripts_are_valid_bash():
    bash = shutil.which("bash")
    for script in sorted((ROOT / "scripts").glob("*.sh")):
        done = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{script.name}: {done.stderr}"
