"""`atelier release` without rendering: fingerprints, skipping, refusing invalid data, the changelog's French."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import contribution, participant, write_atelier
from pipeline import release as releasing
from pipeline.cli import main
from pipeline.workshop import load_atelier

NB = "\u202f"
NBSP = "\u00a0"  # espace insécable, inside « » (pipeline.french)


@pytest.fixture
def folder(make_atelier) -> Path:
    return make_atelier(
        participants=[participant("p1", name="Jeanne Martin"), participant("p2", listed="false")],
        contributions=[
            contribution("c1", text="Mutualiser les moyens"),
            contribution("c2", position=2, text="Un tiers-lieu", status="pending"),
        ],
    )


def test_fingerprint_follows_what_the_report_shows(folder):
    first = releasing.inputs(load_atelier(folder))
    assert releasing.inputs(load_atelier(folder)) == first
    assert first.fingerprint.startswith("sha256:") and len(first.fingerprint) == 7 + 64
    assert set(first.tools) >= {"weasyprint", "pydyf"}

    # A pending point's text is not printed: same data.
    write_atelier(
        folder,
        participants=[participant("p1", name="Jeanne Martin"), participant("p2", listed="false")],
        contributions=[contribution("c1", text="Mutualiser les moyens"), contribution("c2", position=2, text="Autre", status="pending")],
    )
    assert releasing.inputs(load_atelier(folder)).data == first.data
    # Publishing it is a change of the report.
    write_atelier(
        folder,
        participants=[participant("p1", name="Jeanne Martin"), participant("p2", listed="false")],
        contributions=[contribution("c1", text="Mutualiser les moyens"), contribution("c2", position=2, text="Autre")],
    )
    changed = releasing.inputs(load_atelier(folder))
    assert changed.data != first.data and changed.fingerprint != first.fingerprint
    # A comment in atelier.yaml is a change too: the PDF embeds the file as written.
    yaml_file = folder / "atelier.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8") + "# relu le 21 novembre\n", encoding="utf-8")
    commented = releasing.inputs(load_atelier(folder))
    assert commented.workshop != changed.workshop and commented.data != changed.data


def test_the_layout_digest_covers_templates_fonts_and_rendering_code():
    files = releasing._imported_modules(releasing.RENDER_MODULE)
    names = {p.name for p in files}
    assert {"render.py", "compose.py", "workshop.py"} <= names
    assert "review.py" not in names and "release.py" not in names
    assert any(d.name == "assets" for d in releasing.LAYOUT_DIRS)


def record(folder: Path, reports: Path, *, version: int = 1) -> Path:
    """A release history whose last fingerprint is the folder's current one (as if just published)."""
    atelier = load_atelier(folder)
    now = releasing.inputs(atelier)
    target = reports / folder.name
    target.mkdir(parents=True)
    (target / releases_file()).write_text(
        json.dumps({"slug": folder.name, "releases": [{
            "version": version, "fingerprint": now.fingerprint, "released_at": "2026-11-20T15:00:00Z",
            "pdf_sha256": "", "inputs": now.to_json(),
        }]}),
        encoding="utf-8",
    )
    return target


def releases_file() -> str:
    return releasing.RELEASES_FILE


def test_an_unchanged_atelier_is_skipped_without_rendering(folder, tmp_path):
    reports = tmp_path / "reports"
    target = record(folder, reports, version=3)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    outcomes = releasing.release([folder], reports)
    assert [(o.slug, o.version, o.released) for o in outcomes] == [(folder.name, 3, False)]
    assert outcomes[0].message() == f"{folder.name}{NB}: inchangé depuis la version 3."
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before  # no PDF, nothing rewritten


def test_invalid_data_is_refused_and_nothing_is_written(folder, tmp_path, monkeypatch):
    write_atelier(folder, contributions=[contribution("c1", group=7, text="Groupe inconnu")])
    reports = tmp_path / "reports"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["release", str(folder), "--reports", str(reports)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Données invalides{NB}: aucune version publiée.\n{folder}/contributions.csv: ligne 2")
    assert not reports.exists()


def test_tag_needs_commit(folder):
    result = CliRunner().invoke(main, ["release", str(folder), "--tag"])
    assert result.exit_code == 2
    assert "--tag demande --commit" in result.output


def test_changes_between_two_releases():
    before = {
        "contributions": {"c1": "aaa:111", "c2": "bbb:222", "c3": "ccc:333", "c4": "ddd:444"},
        "participants": {"p1": "nommé:x", "p2": "compté"},
    }
    after = {
        "contributions": {"c1": "aaa:111", "c2": "BBB:222", "c3": "ccc:999", "c5": "eee:555", "c6": "fff:666"},
        "participants": {"p1": "nommé:y", "p2": "compté", "p3": "compté"},
    }
    old_inputs = {"data": "d1", "workshop": "w1", "layout": "l1", "tools": {"weasyprint": "69.0", "pydyf": "0.13.0"}}
    new = releasing.Inputs("d2", "w2", "l1", {"weasyprint": "70.0", "pydyf": "0.13.0"})
    changes = releasing.changes(before, after, old_inputs, new)
    assert changes == {
        "points_added": 2,
        "points_removed": 1,
        "points_corrected": 1,
        "points_moved": 1,
        "people_added": 1,
        "people_removed": 0,
        "people_changed": 1,
        "workshop_changed": True,
        "layout_changed": False,
        "tools_changed": {"weasyprint": ["69.0", "70.0"]},
    }
    entry = {"version": 2, "counts": {}, "changes": changes}
    assert releasing.change_lines(entry) == [
        "2 points ajoutés, 1 corrigé, 1 retiré ou masqué, 1 déplacé.",
        f"Liste des présents{NB}: 1 personne ajoutée, 1 émargement corrigé.",
        "Description de l'atelier (atelier.yaml) modifiée.",
        f"Outils de mise en page mis à jour{NB}: weasyprint 69.0 → 70.0.",
    ]


def test_published_rows_are_typed_records_and_the_old_strings_still_read(folder):
    """releases.json held « words:place » and « nommé:digest » strings split on « : »; now named keys."""
    rows = releasing.published_rows(load_atelier(folder))
    written = json.loads(json.dumps(rows.to_json()))
    point = written["contributions"]["c1"]
    assert sorted(point) == ["place", "words"]
    assert written["participants"] == {
        "p1": {"listed": True, "identity": rows.people["p1"].identity},
        "p2": {"listed": False},
    }
    assert releasing.Published.from_json(written) == rows
    old = {  # what releases.json of version 1 of moulins-2016 holds
        "contributions": {"c1": f"{point['words']}:{point['place']}"},
        "participants": {"p1": f"nommé:{rows.people['p1'].identity}", "p2": "compté"},
    }
    assert releasing.Published.from_json(old) == rows
    assert releasing.counts(rows) == {"points": 1, "participants_named": 1, "participants_unnamed": 1}
    new = releasing.Inputs("d", "w", "l", {})
    unchanged = releasing.changes(old, rows, {"workshop": "w", "layout": "l", "tools": {}}, new)
    assert [name for name, value in unchanged.items() if value] == []


def test_changelog_newest_first_in_french():
    history = {
        "releases": [
            {
                "version": 1, "released_at": "2016-07-01T08:00:00Z", "data_date": "2016-06-30T16:00:00Z",
                "fingerprint": "sha256:aaa", "pdf_sha256": "111",
                "counts": {"points": 120, "participants_named": 20, "participants_unnamed": 3}, "changes": {},
            },
            {
                "version": 2, "released_at": "2016-07-12T05:17:00Z", "data_date": "2016-07-11T10:00:00Z",
                "release_fingerprint": "sha256:bbb", "published_data_sha256": "ddd", "pdf_sha256": "222",
                "counts": {},
                "changes": {
                    "points_added": 12, "points_removed": 0, "points_corrected": 3, "points_moved": 0,
                    "people_added": 0, "people_removed": 0, "people_changed": 0,
                    "workshop_changed": False, "layout_changed": False, "tools_changed": {},
                },
            },
        ]
    }
    assert releasing.changelog(history, "Atelier <de> Moulins") == (
        f"# Compte-rendu «{NBSP}Atelier &lt;de&gt; Moulins{NBSP}» — versions\n\n"
        f"Chaque version est un PDF reproductible{NB}: «{NBSP}atelier verify{NBSP}» le reconstruit à partir des "
        f"données et compare son sha256. L'empreinte des données publiées est celle que le colophon du PDF "
        f"imprime (vérifiable avec ses pièces jointes){NB}; l'empreinte de la version couvre en plus la mise en "
        "page et les outils qui l'ont produite.\n\n"
        "## Version 2 — 12 juillet 2016\n\n"
        "Données à jour au 11 juillet 2016.\n\n"
        "- 12 points ajoutés, 3 corrigés.\n\n"
        f"PDF{NB}: `sha256:222` · empreinte des données publiées (colophon du PDF){NB}: `sha256:ddd` · "
        f"empreinte de la version (données, mise en page, outils){NB}: `sha256:bbb`\n\n"
        "## Version 1 — 1er juillet 2016\n\n"
        "Données à jour au 30 juin 2016.\n\n"
        f"- Première publication{NB}: 120 points, 23 présents (dont 20 personnes nommées).\n\n"
        # Version 1 was recorded before the two names: its release fingerprint only, now named for what it is.
        f"PDF{NB}: `sha256:111` · empreinte de la version (données, mise en page, outils){NB}: `sha256:aaa`\n"
    )


def test_first_release_without_attendance_list():
    counts = {"points": 3, "participants_named": 0, "participants_unnamed": 0}
    assert releasing.change_lines({"version": 1, "counts": counts, "changes": {}}) == [f"Première publication{NB}: 3 points."]


def test_published_files_are_readable_by_everyone(tmp_path):
    """mkstemp makes 0600 files; a release's CHANGELOG.md and releases.json are for everyone."""
    import os

    from pipeline import durable  # the release stages its files with the one durable write

    umask = os.umask(0o022)
    try:
        written = durable.stage(tmp_path / "CHANGELOG.md", b"# Versions\n")
    finally:
        os.umask(umask)
    assert written.read_bytes() == b"# Versions\n"
    assert written.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda d: d["published_rows"]["contributions"].update({"q1-bs-01": {"mots": "x"}}),
         "releases.json : published_rows.contributions.q1-bs-01 : "),
        (lambda d: d["releases"][0].update(pdf_sha256=12345), "releases.json : releases[0].pdf_sha256 : « 12345 » devrait être un texte."),
        (lambda d: d["releases"][0].pop("inputs"), "releases.json : releases[0] : clé obligatoire manquante : « inputs »."),
        (lambda d: d["releases"][0].pop("fingerprint"), "releases.json : releases[0] : clé obligatoire manquante : « release_fingerprint » (ou « fingerprint »"),
        (lambda d: d["releases"][0].update(version=1.0), "releases.json : releases[0].version : « 1.0 » devrait être un nombre entier."),
        (lambda d: d["published_rows"]["contributions"].update(x=5), "releases.json : published_rows.contributions.x : ni un texte ni un objet"),
        (lambda d: d["releases"].append(dict(d["releases"][0])), "releases.json : releases[1].version : la version 1 est enregistrée deux fois."),
        (lambda d: d["releases"][0]["inputs"].pop("data"), "releases.json : releases[0].inputs : clé obligatoire manquante : « data »."),
    ],
    ids=["a record with other keys", "a digest that is a number", "no inputs", "no fingerprint", "version 1.0",
         "a row that is a number", "one version twice", "inputs without data"],
)
def test_a_damaged_releases_json_is_named_in_french_and_nothing_runs_on_it(tmp_path, damage, words):
    """A bad merge or a hand edit of releases.json: release and verify say which key, never a traceback
    nor a wrong verdict about the PDF (a tester's finding)."""
    import shutil

    from pipeline.french import fr

    report = tmp_path / "moulins-2016"
    shutil.copytree(Path(__file__).resolve().parent.parent / "reports" / "moulins-2016", report)
    data = json.loads((report / "releases.json").read_text(encoding="utf-8"))
    damage(data)
    (report / "releases.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(releasing.ReleaseError) as refused:
        releasing.read_releases(report)
    assert fr(words) in str(refused.value)
    assert "git checkout --" in str(refused.value)
    verified = CliRunner().invoke(main, ["verify", str(report)])
    assert verified.exit_code != 0 and "Traceback" not in verified.output and "releases.json" in verified.output


def test_unreadable_json_is_said_in_french(tmp_path):
    (tmp_path / "releases.json").write_text('{"releases": [\n', encoding="utf-8")
    with pytest.raises(releasing.ReleaseError) as refused:
        releasing.read_releases(tmp_path)
    assert "JSON illisible ligne 2, colonne 1" in str(refused.value) and "Expecting" not in str(refused.value)


def test_verify_does_not_promise_a_release_that_invalid_data_would_not_get(folder, tmp_path):
    """Data changed since the release and now invalid: verify says release will refuse them (a tester's finding)."""
    import hashlib

    reports = tmp_path / "reports"
    target = record(folder, reports)
    (target / releasing.PDF_FILE).write_bytes(b"%PDF-1.7 le PDF de la version 1")
    history = json.loads((target / releases_file()).read_text(encoding="utf-8"))
    history["releases"][0]["pdf_sha256"] = hashlib.sha256(b"%PDF-1.7 le PDF de la version 1").hexdigest()
    (target / releases_file()).write_text(json.dumps(history), encoding="utf-8")
    with (folder / "contributions.csv").open("a", encoding="utf-8") as f:
        f.write("c-bel,q1,brainstorming,,idea,,9,,Un point\x07,,,2016-06-30T12:00:00Z,,published\n")

    verdict = releasing.verify(target, folder.parent)

    assert not verdict.same
    assert "publiera" not in verdict.message
    assert "les données ne sont pas valides (2 problèmes) et «\u00a0atelier release\u00a0» les refusera" in verdict.message
    assert "«\u00a0atelier validate " in verdict.message
