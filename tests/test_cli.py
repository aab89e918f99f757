"""The `atelier` command: help everywhere, `new`, `summary`, `datapackage`."""

from __future__ import annotations

import re

import json

import click
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.validate import validate_atelier
from pipeline.workshop import load_atelier
from pipeline.french import fr


def test_every_command_and_option_has_help():
    missing = []
    for name, command in main.commands.items():
        if not (command.help or "").strip():
            missing.append(name)
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{name} {param.opts[0]}")
    assert missing == []


def test_new_scaffolds_a_valid_open_atelier(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["new", "saint-essai-2027", "--data", str(tmp_path), "--date", "2027-03-14"])
    folder = tmp_path / "saint-essai-2027"
    assert result.exit_code == 0, result.output
    assert result.output == (
        fr(f"Atelier créé dans {folder}/ : modifiez {folder}/atelier.yaml puis lancez « atelier validate {folder} ».\n")
    )
    assert validate_atelier(folder) == []
    atelier = load_atelier(folder)
    assert atelier.workshop.is_open and str(atelier.workshop.date) == "2027-03-14"
    assert "# open : le formulaire accepte les réponses" in (folder / "atelier.yaml").read_text(encoding="utf-8")
    again = runner.invoke(main, ["new", "saint-essai-2027", "--data", str(tmp_path)])
    assert again.exit_code == 1
    assert fr(f"{folder} existe déjà ; choisissez un autre nom.") in again.output


def test_new_refuses_a_bad_slug(tmp_path):
    result = CliRunner().invoke(main, ["new", "Atelier Été", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert fr("« Atelier Été » n'est pas un nom de dossier valide") in result.output
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_a_name_the_web_form_uses_for_itself(tmp_path):
    result = CliRunner().invoke(main, ["new", "static", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert fr("« static » est un nom réservé par le formulaire en ligne") in result.output
    assert list(tmp_path.iterdir()) == []


def test_summary(make_atelier):
    from conftest import contribution

    folder = make_atelier(
        contributions=[
            contribution("a"),
            contribution("b", position=2, status="hidden"),
            contribution("g", phase="sous-groupe", group=2, section="driver"),
        ]
    )
    result = CliRunner().invoke(main, ["summary", str(folder)])
    assert result.exit_code == 0
    assert fr("Points publiés : 2 sur 3") in result.output
    assert fr("20 novembre 2026, Salle des fêtes de Saint-Essai — formulaire ouvert") in result.output
    assert fr("  Brainstorming : 1 idée\n") in result.output
    assert fr("  Sous-groupe 2 : 0 pratique, 0 réflexion, 1 moteur, 0 frein\n") in result.output


def test_datapackage_regenerates_from_schemas(make_atelier):
    folder = make_atelier()
    (folder / "datapackage.json").write_text("{}", encoding="utf-8")
    assert validate_atelier(folder) != []
    result = CliRunner().invoke(main, ["datapackage", str(folder)])
    assert result.exit_code == 0
    assert json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))["name"] == folder.name
    assert validate_atelier(folder) == []


def test_every_line_the_command_prints_is_set_in_french_typography(tmp_path, make_atelier):
    """No-break space inside « », narrow no-break space before ; : ! ?, in what validate, normalize, summary,
    open, the help and an error print — whoever wrote the parts of the line (README « Une typographie »)."""
    from conftest import contribution

    good = make_atelier()
    bad = make_atelier("autre", contributions=[contribution("a", group=2)])
    runner = CliRunner()
    outputs = [
        runner.invoke(main, ["validate", str(good)]).output,
        runner.invoke(main, ["validate", str(bad)]).output,
        runner.invoke(main, ["normalize", str(good)]).output,
        runner.invoke(main, ["summary", str(good)]).output,
        runner.invoke(main, ["close", str(good)]).output,
        runner.invoke(main, ["validate", "-h"]).output,
        runner.invoke(main, ["-h"]).output,
        runner.invoke(main, ["nope"]).output,
        runner.invoke(main, ["validate", str(tmp_path / "absent")]).output,
    ]
    said = "\n".join(outputs)
    assert "« " not in said and " »" not in said, said
    assert not re.search(r" [;:!?]", said), re.search(r".{40} [;:!?].{20}", said)
    assert "\u202f:" in said and "«\u00a0" in said  # the spaces are there, not removed


def test_a_value_between_guillemets_is_printed_byte_for_byte(make_atelier):
    """The typography frames a quoted value, never changes it: « bogus : x » can be searched in the file (tester's finding)."""
    from conftest import contribution

    bad = make_atelier(contributions=[contribution("a", section="bogus : « x » ?")])
    said = CliRunner().invoke(main, ["validate", str(bad)]).output
    assert "«\u00a0bogus : « x » ?\u00a0»" in said
    assert "champ «\u00a0section\u00a0»\u202f: " in said
