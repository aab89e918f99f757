"""The store on real files: every refusal and its French message, round trips, torn ends,
concurrent writers (processes, not threads) and writers killed with SIGKILL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import frictionless
import pytest
import yaml

from pipeline import durable, schemas, store
from pipeline.store import StoreError
from pipeline.workshop import load_atelier, write_datapackage

REPO = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2016, 6, 30, 9, 0, tzinfo=dt.timezone.utc)


def participant(**fields: Any) -> dict[str, Any]:
    return {"id": "p-1", "name": "Camille Martin", "role": "technicien", "listed": True,
            "created_at": NOW, "status": "present", **fields}


def contribution(**fields: Any) -> dict[str, Any]:
    return {"id": "c-1", "question": "q1", "phase": "brainstorming", "section": "idea",
            "position": 1, "text": "Une idée", "created_at": NOW, "status": "published", **fields}


def make_folder(tmp_path: Path, slug: str = "atelier-test") -> Path:
    """An atelier folder as `atelier new` makes it: atelier.yaml and datapackage.json, no CSV yet."""
    folder = tmp_path / slug
    folder.mkdir()
    workshop = {
        "title": "Atelier de test", "date": "2016-06-30", "place": "Moulins-sur-Allier",
        "language": "fr", "status": "open", "moderation": "post",
        "questions": [{"id": "q1", "title": "Première question ?", "subgroups": {"count": 2}}],
    }
    (folder / "atelier.yaml").write_text(yaml.safe_dump(workshop, allow_unicode=True), encoding="utf-8")
    write_datapackage(folder)
    return folder


def package_errors(folder: Path) -> list[list[Any]]:
    """frictionless' verdict on the folder's data package (both tables and their foreign keys)."""
    report = frictionless.Package(str(folder / "datapackage.json")).validate()
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def raw_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding participant p-1 and contribution c-1."""
    folder = make_folder(tmp_path)
    store.append_rows(folder, "participants", [participant()])
    store.append_rows(folder, "contributions", [contribution()])
    return folder


# --- Refusals ------------------------------------------------------------------------------

# contributions.status's values with their meaning (schemas/contributions.json), as every layer words an enum.
STATUSES = (
    "pending (en attente de modération), published (publié), hidden (masqué par l'animation), "
    "withdrawn (retiré par son auteur)."
)
LINE = "contributions.csv: ligne 1 de l'envoi, "
# The text rules' sentence for a control character (pipeline.textrules), as the form and validate say it.
CONTROL = "Ce texte contient un caractère invisible interdit (U+{})\u202f: retirez-le."
REFUSALS = [
    ("contributions", {"question": None}, LINE + "champ « question » : valeur obligatoire manquante."),
    ("contributions", {"text": ""}, LINE + "champ « text » : valeur obligatoire manquante."),
    ("contributions", {"position": "un"}, LINE + "champ « position » : « un » n'est pas un nombre entier."),
    ("contributions", {"group": True}, LINE + "champ « group » : « True » n'est pas un texte."),
    ("contributions", {"position": 0}, LINE + "champ « position » : « 0 » est inférieur au minimum 1."),
    # The atelier's vocabulary (atelier.yaml), checked by the store as by `atelier validate`.
    (
        "contributions",
        {"group": "100"},
        LINE + "champ « group » : « 100 » : le temps « brainstorming » se fait sans sous-groupe ; laissez ce champ vide.",
    ),
    (
        "contributions",
        {"phase": "sous-groupe", "section": "driver", "group": "9"},
        LINE + "champ « group » : « 9 » n'est pas un sous-groupe de la question q1 au temps « sous-groupe » ; "
        "sous-groupes possibles : 1 (Sous-groupe 1), 2 (Sous-groupe 2).",
    ),
    (
        "contributions",
        {"phase": "sous-groupe", "section": "atout", "group": "1"},
        LINE + "champ « section » : « atout » n'est pas une rubrique du temps « sous-groupe » ; rubriques possibles : "
        "practice (pratiques en cours / exemples), reflection (réflexions), driver (moteurs), brake (freins), aside (encadré).",
    ),
    (
        "contributions",
        {"phase": "atelier"},
        LINE + "champ « phase » : le temps « atelier » n'existe pas dans atelier.yaml (temps : brainstorming, sous-groupe).",
    ),
    (
        "contributions",
        {"status": "publié"},
        LINE + "champ « status » : « publié » n'est pas une valeur permise\u202f; valeurs possibles\u202f: " + STATUSES,
    ),
    (
        "contributions",
        {"id": "c 2"},
        LINE + "champ « id » : « c 2 » n'a pas le format attendu\u202f: lettres, chiffres, «\u00a0-\u00a0» et «\u00a0_\u00a0», sans espace (motif [A-Za-z0-9][A-Za-z0-9_-]*).",
    ),
    (
        "contributions",
        {"id": "c-2", "link": "javascript:alert(1)"},
        LINE + "champ « link » : « javascript:alert(1) » n'est pas une adresse web http:// ou https://.",
    ),
    (
        "contributions",
        {"id": "c-2", "text": "é" * 2001},
        LINE + f"champ « text » : « {'é' * 49}… » est trop long (2\u202f001 caractères, au plus 2\u202f000).",
    ),
    ("contributions", {"id": "c-2", "text": 42}, LINE + "champ « text » : « 42 » n'est pas un texte."),
    (
        "contributions",
        {"created_at": "30/06/2016 09:00"},
        LINE + "champ « created_at » : « 30/06/2016 09:00 » n'est pas une date et heure UTC au format 2016-06-30T09:00:00Z.",
    ),
    (
        "contributions",
        {"created_at": "2016-06-30T11:00:00+02:00"},
        LINE + "champ « created_at » : « 2016-06-30T11:00:00+02:00 » n'est pas une date et heure UTC au format 2016-06-30T09:00:00Z.",
    ),
    (
        "contributions",
        {"id": "c-2", "text": "avant\x00après"},
        LINE + "champ « text » : " + CONTROL.format("0000"),
    ),
    (
        "contributions",
        {"id": "c-2", "text": "ligne\rseule"},
        LINE + "champ « text » : Ce texte contient un retour chariot (U+000D) au lieu d'un saut de ligne\u202f: retirez-le, "
        "ou lancez «\u00a0atelier normalize\u00a0» sur un fichier enregistré par un tableur.",
    ),
    (
        "contributions",
        {"id": "c-2", "text": "x\x1b[31m"},
        LINE + "champ « text » : " + CONTROL.format("001B"),
    ),
    (
        "contributions",
        {"id": "c-2", "text": "Windows\x85"},
        LINE + "champ « text » : " + CONTROL.format("0085"),
    ),
    (
        "contributions",
        {"id": "c-2", "text": "\u202eà l'envers"},
        LINE + "champ « text » : Ce texte contient un caractère invisible qui inverse le sens de lecture (U+202E)\u202f: retirez-le.",
    ),
    (
        "participants",
        {"id": "p-2", "name": "\u200b\u2060\ufeff"},
        "participants.csv: ligne 1 de l'envoi, champ « name » : Ce texte ne contient que des espaces ou des caractères invisibles\u202f: écrivez-le en lettres visibles.",
    ),
    (
        "contributions",
        {"id": "c-2", "text": "moitié\ud83d"},
        LINE + "champ « text » : caractère invalide U+D83D interdit (position 7) dans « moitié\ufffd ».",
    ),
    (
        "contributions",
        {"colour": "bleu"},
        LINE + "champ « colour » : champ inconnu ; les champs sont id, question, phase, group, section, parent, "
        "position, number, text, link, author, created_at, updated_at, status.",
    ),
    ("contributions", {}, LINE + "champ « id » : l'identifiant « c-1 » est déjà utilisé dans contributions.csv."),
    (
        "contributions",
        {"id": "c-2", "parent": "c-9"},
        LINE + "champ « parent » : le point parent « c-9 » n'existe pas dans contributions.csv\u202f; indiquez l'identifiant d'un point existant ou laissez vide.",
    ),
    (
        "contributions",
        {"id": "c-2", "author": "p-9"},
        LINE + "champ « author » : le participant « p-9 » n'existe pas dans participants.csv\u202f; indiquez l'identifiant d'un participant ou laissez vide.",
    ),
    (
        "participants",
        {"id": "p-2", "listed": "oui"},
        "participants.csv: ligne 1 de l'envoi, champ « listed » : « oui » n'est pas un booléen\u202f: écrivez true ou false\u202f; «\u00a0atelier normalize\u00a0» convertit VRAI, FAUX, oui, non, 1 et 0.",
    ),
    (
        "participants",
        {"id": "p-2", "role": "maire"},
        "participants.csv: ligne 1 de l'envoi, champ « role » : « maire » n'est pas une valeur permise\u202f; valeurs possibles\u202f: "
        "elu (élu·e), technicien (agent ou chargé·e de mission), chercheur (recherche, enseignement), associatif "
        "(association, réseau), entreprise (entreprise, agriculteur), habitant (habitant·e, citoyen·ne), animateur "
        "(équipe d'animation), autre.",
    ),
    (
        "participants",
        {"id": "p-2", "name": "N" * 121},
        f"participants.csv: ligne 1 de l'envoi, champ « name » : « {'N' * 49}… » est trop long (121 caractères, au plus 120).",
    ),
]


@pytest.mark.parametrize(("resource", "fields", "message"), REFUSALS, ids=[m[-60:] for *_, m in REFUSALS])
def test_a_refused_row_names_field_and_value_and_writes_nothing(folder, resource, fields, message):
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    row = (participant if resource == "participants" else contribution)(**fields)
    row = {k: v for k, v in row.items() if k not in fields or fields[k] is not None}
    with pytest.raises(StoreError) as refused:
        store.append_rows(folder, resource, [row])
    assert str(refused.value) == message
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_the_error_says_which_field_for_a_form(folder):
    with pytest.raises(StoreError) as refused:
        store.append_rows(folder, "contributions", [contribution(id="c-2"), contribution(id="c-3", position="2x")])
    assert (refused.value.field, refused.value.value, refused.value.row) == ("position", "2x", 2)


def test_one_bad_row_refuses_the_whole_batch(folder):
    before = (folder / "contributions.csv").read_bytes()
    batch = [contribution(id="c-2"), contribution(id="c-3", parent="c-2"), contribution(id="c-4", parent="c-404")]
    with pytest.raises(StoreError) as refused:
        store.append_rows(folder, "contributions", batch)
    assert str(refused.value) == "contributions.csv: ligne 3 de l'envoi, champ « parent » : le point parent « c-404 » n'existe pas dans contributions.csv\u202f; indiquez l'identifiant d'un point existant ou laissez vide."
    assert (folder / "contributions.csv").read_bytes() == before


def test_an_id_used_twice_in_one_batch_is_refused(folder):
    with pytest.raises(StoreError) as refused:
        store.append_rows(folder, "contributions", [contribution(id="c-2"), contribution(id="c-2")])
    assert str(refused.value) == "contributions.csv: ligne 2 de l'envoi, champ « id » : l'identifiant « c-2 » figure déjà à la ligne 1 de l'envoi."


def test_an_unknown_table_is_refused(folder):
    with pytest.raises(StoreError) as refused:
        store.append_rows(folder, "bulletins", [{"id": "v-1"}])
    # votes and actions are tables too now (issue 14: the vote's journal and the action plan).
    assert str(refused.value) == (
        "ressource « bulletins » inconnue ; les ressources sont participants, contributions, votes, actions."
    )


def test_a_file_with_another_header_is_refused_untouched(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "participants.csv").write_text("id,nom\np-1,Camille\n", encoding="utf-8")
    with pytest.raises(StoreError) as refused:
        store.append_rows(folder, "participants", [participant(id="p-2")])
    assert str(refused.value) == (
        # The sentence of pipeline.tables, which every step reads the files with.
        "participants.csv: ligne 1 : en-tête incorrect « id,nom » ; l'en-tête attendu est "
        "« id,name,organisation,role,listed,created_at,status ». Rien n'a été écrit."
    )
    assert (folder / "participants.csv").read_text(encoding="utf-8") == "id,nom\np-1,Camille\n"


# --- What is written -----------------------------------------------------------------------


def test_values_are_written_canonically_with_one_header(tmp_path):
    folder = make_folder(tmp_path)
    paris = dt.timezone(dt.timedelta(hours=2))
    stored = store.append_rows(folder, "participants", [participant(listed=False, created_at=dt.datetime(2016, 6, 30, 11, 0, tzinfo=paris))])
    store.append_rows(folder, "participants", [participant(id="p-2", organisation=None, created_at=dt.datetime(2016, 6, 30, 9, 5))])
    assert stored == [{"id": "p-1", "name": "Camille Martin", "organisation": "", "role": "technicien",
                       "listed": "false", "created_at": "2016-06-30T09:00:00Z", "status": "present"}]
    assert (folder / "participants.csv").read_text(encoding="utf-8") == (
        "id,name,organisation,role,listed,created_at,status\n"
        "p-1,Camille Martin,,technicien,false,2016-06-30T09:00:00Z,present\n"
        "p-2,Camille Martin,,technicien,true,2016-06-30T09:05:00Z,present\n"
    )


def test_integers_given_as_text_are_stored_canonically(folder):
    stored = store.append_rows(folder, "contributions", [contribution(id="c-2", phase="sous-groupe", section="driver", group="2", position="03")])
    assert (stored[0]["group"], stored[0]["position"]) == ("2", "3")


def test_references_may_point_inside_the_batch_either_way(folder):
    store.append_rows(folder, "contributions", [contribution(id="c-3", parent="c-2"), contribution(id="c-2", author="p-1")])
    assert [r["id"] for r in store.read_table(folder, "contributions")] == ["c-1", "c-3", "c-2"]


TEXTS = [
    "Accents : àâäéèêëîïôöùûüç ÀÉÈ œ Œ æ « guillemets » – tiret … points",
    'Des "guillemets droits", des virgules, ; des points-virgules',
    "Plusieurs\nlignes\n\navec une ligne vide\n",
    "=1+2",
    "=HYPERLINK(\"http://exemple.org\";\"clic\")",
    "+33 1 23 45 67 89",
    "-moins en tête",
    "@SUM(A1:A2)",
    "\ttabulation en tête",
    "Emoji 🌱🚜👩🏽‍🌾 et drapeau 🇫🇷",
    "  espaces avant et après  ",
    '"',
    "\\N",
    "NULL",
    "a\u2028b\u00a0c\u202fd",
]


def test_text_is_stored_exactly_as_typed(folder):
    rows = [contribution(id=f"t-{i}", text=text) for i, text in enumerate(TEXTS)]
    store.append_rows(folder, "contributions", rows)
    stored = {r[0]: r[8] for r in raw_rows(folder / "contributions.csv")[1:]}
    assert [stored[f"t-{i}"] for i in range(len(TEXTS))] == TEXTS
    table = {r["id"]: r["text"] for r in store.read_table(folder, "contributions")}
    assert [table[f"t-{i}"] for i in range(len(TEXTS))] == TEXTS
    loaded = {c.id: c.text for c in load_atelier(folder).contributions}
    assert [loaded[f"t-{i}"] for i in range(len(TEXTS))] == TEXTS
    assert package_errors(folder) == []


def test_crlf_from_a_browser_textarea_is_stored_as_lf(folder):
    [stored] = store.append_rows(folder, "contributions", [contribution(id="c-2", text="un\r\ndeux\r\n")])
    assert stored["text"] == "un\ndeux\n"
    assert b"\r" not in (folder / "contributions.csv").read_bytes()
    assert load_atelier(folder).contributions[-1].text == "un\ndeux\n"


def test_an_empty_batch_writes_nothing(tmp_path):
    folder = make_folder(tmp_path)
    assert store.append_rows(folder, "contributions", []) == []
    assert not (folder / "contributions.csv").exists()


def test_new_ids_are_valid_distinct_and_url_safe():
    pattern = schemas.field("contributions", "id")["constraints"]["pattern"]
    ids = {store.new_id("c") for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(re.fullmatch(pattern, i) and re.fullmatch(r"c-[0-9a-f]{16}", i) for i in ids)
    assert len(store.new_id("x" * 47)) == 64
    for bad in ("", "-c", "c/", "é", "x" * 48):
        with pytest.raises(ValueError):
            store.new_id(bad)


# --- Torn ends -------------------------------------------------------------------------------


def test_a_torn_last_row_is_ignored_by_readers_and_cut_by_the_next_append(folder):
    path = folder / "contributions.csv"
    good = path.read_bytes()
    with path.open("ab") as f:  # what a power cut in the middle of a write can leave
        f.write(b"c-2,q1,brainstorming,,idea,,1,,Une id")
    assert [r["id"] for r in store.read_table(folder, "contributions")] == ["c-1"]
    assert store.read_bytes(folder, "contributions") == good

    store.append_rows(folder, "contributions", [contribution(id="c-3")])
    assert [r[0] for r in raw_rows(path)] == ["id", "c-1", "c-3"]
    assert path.read_bytes().startswith(good)
    assert b"c-2,q1,brainstorming,,idea,,1,,Une id\n" in (folder / ".atelier.torn").read_bytes()
    assert package_errors(folder) == []


def test_a_row_torn_after_a_newline_inside_its_text_is_recognised(folder):
    # The file ends with "\n", but inside an open quote: cutting "back to the last
    # newline" would keep half a row and swallow the next append into its text.
    path = folder / "contributions.csv"
    with path.open("ab") as f:
        f.write(b'c-2,q1,brainstorming,,idea,,1,,"Premi\xc3\xa8re ligne\n')
    assert [r["id"] for r in store.read_table(folder, "contributions")] == ["c-1"]
    store.append_rows(folder, "contributions", [contribution(id="c-3", text="après")])
    assert [(r["id"], r["text"]) for r in store.read_table(folder, "contributions")] == [("c-1", "Une idée"), ("c-3", "après")]
    assert package_errors(folder) == []


def test_a_whole_row_without_its_final_newline_is_kept(folder):
    # What an editor that does not add the final newline leaves.
    path = folder / "contributions.csv"
    with path.open("ab") as f:
        f.write(b"c-2,q1,brainstorming,,idea,,2,,Tap\xc3\xa9e \xc3\xa0 la main,,,2016-06-30T10:00:00Z,,published")
    store.append_rows(folder, "contributions", [contribution(id="c-3", parent="c-2")])
    assert [r[0] for r in raw_rows(path)] == ["id", "c-1", "c-2", "c-3"]
    assert not (folder / ".atelier.torn").exists()
    assert package_errors(folder) == []


KILLED_WRITER = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from pathlib import Path
    from pipeline import store

    folder, moment = Path(sys.argv[1]), sys.argv[2]
    now = dt.datetime(2016, 6, 30, 10, 0, tzinfo=dt.timezone.utc)
    rows = [dict(id=f"k-{i}", question="q1", phase="brainstorming", section="idea", position=i + 1,
                 parent="k-0" if i else None, text="précision " * 150, created_at=now, status="published")
            for i in range(4)]
    real_write = os.write

    def half_write(fd, data):  # the kernel accepted half the batch, then SIGKILL
        if len(data) > 1000:
            real_write(fd, bytes(data[: len(data) // 2]))
            os.kill(os.getpid(), signal.SIGKILL)
        return real_write(fd, data)

    def die_before_clearing_intent(fd, length):  # every byte written, nothing acknowledged
        os.kill(os.getpid(), signal.SIGKILL)

    if moment == "mid-write":
        os.write = half_write
    else:
        os.ftruncate = die_before_clearing_intent
    store.append_rows(folder, "contributions", rows)
    """
)


def run_killed_writer(folder: Path, moment: str) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(folder), moment], cwd=REPO, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert (folder / ".atelier.lock").read_bytes().startswith(b"contributions ")  # it died mid-append


def test_a_batch_killed_mid_write_is_invisible_then_undone(folder):
    path = folder / "contributions.csv"
    good = path.read_bytes()
    run_killed_writer(folder, "mid-write")
    assert len(path.read_bytes()) > len(good)  # half the batch is in the file…
    assert store.read_bytes(folder, "contributions") == good  # …but no reader sees it
    assert [r["id"] for r in store.read_table(folder, "contributions")] == ["c-1"]
    with store.locked(folder):  # the next writer (here `atelier sync`) undoes it
        assert path.read_bytes() == good
    assert (folder / ".atelier.lock").read_bytes() == b""
    store.append_rows(folder, "contributions", [contribution(id="c-2")])
    assert [r[0] for r in raw_rows(path)] == ["id", "c-1", "c-2"]


def test_an_intent_left_for_another_file_cuts_nothing(folder):
    # A writer died mid-append, then the file was replaced without the lock (a manual
    # `git checkout`) and came back under the same inode number: the intent is stale.
    path = folder / "contributions.csv"
    run_killed_writer(folder, "mid-write")
    replaced = (b"id,question,phase,group,section,parent,position,number,text,link,author,created_at,updated_at,status\n"
                + b"g-1,q1,brainstorming,,idea,,1,,Depuis git,,,2016-06-30T09:00:00Z,,published\n" * 1)
    replaced += b"g-2,q1,brainstorming,,idea,,2," + b"x" * 4000 + b",,,,2016-06-30T09:00:00Z,,published\n"
    with path.open("r+b") as f:  # same inode, other content, longer than the intent's start
        f.write(replaced)
        f.truncate()
    with store.locked(folder):
        assert path.read_bytes() == replaced
    assert (folder / ".atelier.lock").read_bytes() == b""


def test_a_batch_killed_after_its_last_byte_is_kept_whole(folder):
    run_killed_writer(folder, "before-clearing-intent")
    ids = ["c-1", "k-0", "k-1", "k-2", "k-3"]
    assert [r["id"] for r in store.read_table(folder, "contributions")] == ids
    store.append_rows(folder, "contributions", [contribution(id="c-2")])
    assert [r[0] for r in raw_rows(folder / "contributions.csv")][1:] == ids + ["c-2"]
    assert package_errors(folder) == []


# --- Rewrites --------------------------------------------------------------------------------


def test_update_changes_only_the_rows_it_names(folder):
    store.append_rows(folder, "contributions", [contribution(id="c-2", text='autre "texte"\nsur deux lignes')])
    path = folder / "contributions.csv"
    before = path.read_bytes()
    inode = path.stat().st_ino
    store.update_rows(folder, "contributions", {"c-1": {"status": "hidden", "updated_at": NOW}})
    after = path.read_bytes()
    assert path.stat().st_ino != inode  # replaced, not rewritten in place
    assert after == before.replace(b"2016-06-30T09:00:00Z,,published\nc-2", b"2016-06-30T09:00:00Z,2016-06-30T09:00:00Z,hidden\nc-2")
    assert [p.name for p in folder.iterdir() if p.name.startswith(".atelier.tmp-")] == []


def test_an_update_refused_writes_nothing(folder):
    path = folder / "contributions.csv"
    before = path.read_bytes()
    cases = [
        ({"c-1": {"status": "hidden"}, "c-9": {"status": "hidden"}}, "contributions.csv : l'identifiant « c-9 » est introuvable ; rien n'a été modifié."),
        ({"c-1": {"status": "supprimé"}}, "contributions.csv: identifiant « c-1 », champ « status » : « supprimé » n'est pas une valeur permise\u202f; valeurs possibles\u202f: " + STATUSES),
        ({"c-1": {"id": "c-2"}}, "contributions.csv: identifiant « c-1 », champ « id » : un identifiant ne change jamais (« c-2 » demandé)."),
        ({"c-1": {"parent": "c-404"}}, "contributions.csv: identifiant « c-1 », champ « parent » : le point parent « c-404 » n'existe pas dans contributions.csv\u202f; indiquez l'identifiant d'un point existant ou laissez vide."),
        ({"c-1": {"author": "p-404"}}, "contributions.csv: identifiant « c-1 », champ « author » : le participant « p-404 » n'existe pas dans participants.csv\u202f; indiquez l'identifiant d'un participant ou laissez vide."),
        ({"c-1": {"couleur": "rouge"}}, "contributions.csv: identifiant « c-1 », champ « couleur » : champ inconnu ; les champs sont id, question, phase, group, section, parent, position, number, text, link, author, created_at, updated_at, status."),
        ({"c-1": {"text": None}}, "contributions.csv: identifiant « c-1 », champ « text » : valeur obligatoire manquante."),
    ]
    for changes, message in cases:
        with pytest.raises(StoreError) as refused:
            store.update_rows(folder, "contributions", changes)
        assert str(refused.value) == message
        assert path.read_bytes() == before


def test_an_update_removes_what_a_crashed_rewrite_left(folder):
    leftover = folder / ".atelier.tmp-contributions-dead"
    leftover.write_bytes(b"id,question\n")
    store.update_rows(folder, "contributions", {"c-1": {"status": "hidden"}})
    assert not leftover.exists()


def test_a_file_replaced_under_the_same_inode_is_read_again(folder):
    # ext4 reuses a freed inode number at once: after two rewrites, or a `git checkout`,
    # the file can be new with the old (device, inode), its rows at other offsets.
    store.append_rows(folder, "contributions", [contribution(id=f"c-{n}", text=f"n° {n}, cité") for n in range(2, 9)])
    path = folder / "contributions.csv"
    # Rows shifted by 36 bytes: the old end offset now falls on the closing quote of
    # c-8's text, so what follows it reads as an unterminated quoted field.
    longer = path.read_bytes().replace("Une idée".encode(), ("Une idée " + "a" * 35).encode(), 1)
    with path.open("r+b") as f:  # same inode
        f.write(longer)
    store.append_rows(folder, "contributions", [contribution(id="c-9", parent="c-8")])
    assert [r["id"] for r in store.read_table(folder, "contributions")] == [f"c-{n}" for n in range(1, 10)]
    assert path.read_bytes().startswith(longer)
    assert not (folder / ".atelier.torn").exists()
    assert package_errors(folder) == []


def test_an_update_then_appends_keep_every_row(folder):
    store.update_rows(folder, "participants", {"p-1": {"status": "withdrawn"}})
    store.append_rows(folder, "participants", [participant(id="p-2")])
    with pytest.raises(StoreError):  # the index was rebuilt for the new file and still knows p-1
        store.append_rows(folder, "participants", [participant(id="p-1")])
    assert [(r["id"], r["status"]) for r in store.read_table(folder, "participants")] == [("p-1", "withdrawn"), ("p-2", "present")]


# --- The lock --------------------------------------------------------------------------------

LOCKED_APPEND = textwrap.dedent(
    """
    import datetime as dt, sys
    from pipeline import store
    store.append_rows(sys.argv[1], "participants", [dict(id="p-9", name="Tard", role="autre", listed=False,
        created_at=dt.datetime(2016, 6, 30, tzinfo=dt.timezone.utc), status="present")])
    """
)


def test_the_lock_holds_other_processes_and_is_reentrant_in_one_thread(folder):
    with store.locked(folder):
        other = subprocess.Popen([sys.executable, "-c", LOCKED_APPEND, str(folder)], cwd=REPO)
        time.sleep(1.0)
        assert other.poll() is None  # waiting for the lock
        def deadlock(signum, frame):
            raise AssertionError("append_rows inside locked() waited for its own lock")

        previous = signal.signal(signal.SIGALRM, deadlock)
        signal.alarm(10)  # a deadlock fails the test instead of hanging it
        try:
            store.append_rows(folder, "participants", [participant(id="p-2")])
            assert [r["id"] for r in store.read_table(folder, "participants")] == ["p-1", "p-2"]
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    assert other.wait(timeout=30) == 0
    assert [r["id"] for r in store.read_table(folder, "participants")] == ["p-1", "p-2", "p-9"]
    with store.locked(folder, shared=True), pytest.raises(RuntimeError):
        store.append_rows(folder, "participants", [participant(id="p-3")])


def test_the_lock_file_is_ignored_by_git():
    for name in (".atelier.lock", ".atelier.torn", ".atelier.tmp-contributions-1234"):
        done = subprocess.run(["git", "check-ignore", "-q", f"data/exemple/{name}"], cwd=REPO)
        assert done.returncode == 0, name


def test_reading_a_folder_without_data(tmp_path):
    folder = make_folder(tmp_path)
    assert store.read_table(folder, "contributions") == []
    assert store.read_bytes(folder, "participants") == b""


# --- Many processes --------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import datetime as dt, json, sys
    from pathlib import Path
    from pipeline import store

    folder, name, count, update = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "update"
    now = dt.datetime(2016, 6, 30, 10, 0, tzinfo=dt.timezone.utc)
    for n in range(count):
        if update:  # a facilitator moderating while participants write
            store.update_rows(folder, "contributions", {"c-1": {"status": "hidden" if n % 2 else "published"}})
            continue
        size = 1 if n % 3 else 3  # an idea alone, or an idea with two précisions
        batch = f"{name}-{n}"
        rows = [dict(id=f"{batch}-{k}-{size}", question="q1", phase="brainstorming", section="idea",
                     position=k + 1, parent=f"{batch}-0-{size}" if k else None, author="p-1" if k else None,
                     text=f"{name} n°{n}, « {k} »\\nsur deux lignes, avec \\"guillemets\\" " + "é" * (n * 37 % 1500),
                     created_at=now, status="published") for k in range(size)]
        for row in store.append_rows(folder, "contributions", rows):
            print(row["id"], flush=True)  # acknowledged: the participant is told it is saved
    """
)


def start_writer(folder: Path, name: str, count: int, mode: str = "append") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), name, str(count), mode],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def assert_whole_batches(folder: Path, acknowledged: list[str]) -> None:
    """Every acknowledged row is there exactly once, every batch whole, and the package valid."""
    ids = [r["id"] for r in store.read_table(folder, "contributions")]
    assert [r[0] for r in raw_rows(folder / "contributions.csv")][1:] == ids
    assert len(ids) == len(set(ids))
    missing = set(acknowledged) - set(ids)
    assert not missing
    batches: dict[str, int] = {}
    for i in ids:
        if i.startswith("c-"):  # rows of the fixture and of the test, not of a writer
            continue
        name, n, _, size = i.rsplit("-", 3)
        batches[f"{name}-{n}-{size}"] = batches.get(f"{name}-{n}-{size}", 0) + 1
    assert [b for b, count in batches.items() if count != int(b.rsplit("-", 1)[1])] == []
    assert package_errors(folder) == []


def test_threads_of_one_process_exclude_each_other(folder):
    # gunicorn's threaded workers: each call opens its own lock descriptor.
    from concurrent.futures import ThreadPoolExecutor

    def write(n: int) -> list[str]:
        rows = [contribution(id=f"t{n}-{k}", parent=f"t{n}-0" if k else None) for k in range(3)]
        return [r["id"] for r in store.append_rows(folder, "contributions", rows)]

    with ThreadPoolExecutor(8) as pool:
        written = [i for ids in pool.map(write, range(80)) for i in ids]
    ids = [r["id"] for r in store.read_table(folder, "contributions")]
    assert sorted(ids) == sorted(written + ["c-1"])
    assert package_errors(folder) == []


def test_eight_processes_appending_at_once(folder):
    writers = [start_writer(folder, f"w{i}", 40) for i in range(8)]
    acknowledged = []
    for w in writers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
        acknowledged += out.split()
    assert len(acknowledged) == 8 * (40 + 2 * 14)
    assert_whole_batches(folder, acknowledged)


def test_rewrites_while_others_append_lose_nothing(folder):
    writers = [start_writer(folder, f"w{i}", 40) for i in range(4)]
    moderator = start_writer(folder, "m", 41, mode="update")
    acknowledged = []
    for w in writers + [moderator]:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
        acknowledged += out.split()
    assert len(acknowledged) == 4 * (40 + 2 * 14)
    assert_whole_batches(folder, acknowledged)
    assert store.read_table(folder, "contributions")[0]["status"] == "published"


def test_writers_killed_at_random_lose_nothing_acknowledged(folder):
    rng = random.Random(20160630)
    acknowledged: list[str] = []
    undone = died_appending = 0
    for round_ in range(6):
        table = folder / "contributions.csv"
        size = table.stat().st_size
        writers = [start_writer(folder, f"r{round_}w{i}", 10_000) for i in range(4)]
        # Past the start-up, into the writing: however loaded the machine, the writers have
        # written something (the table grew) before they are killed at a random moment.
        deadline = time.monotonic() + 60
        while table.stat().st_size < size + 4096 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.1, 0.5))
        for w in writers:
            time.sleep(rng.uniform(0, 0.05))
            w.send_signal(signal.SIGKILL)
        for w in writers:
            out, err = w.communicate(timeout=60)
            assert w.returncode == -signal.SIGKILL
            acknowledged += out.split()
            undone += err.count("envoi interrompu annulé")
        died_appending += (folder / ".atelier.lock").read_bytes() != b""
        # Between rounds nobody repairs: the next round's writers and the readers cope.
        ids = [r["id"] for r in store.read_table(folder, "contributions")]
        assert set(acknowledged) <= set(ids)
    assert len(acknowledged) > 100
    store.append_rows(folder, "contributions", [contribution(id="c-final")])
    assert_whole_batches(folder, acknowledged + ["c-final"])
    print(f"\n{len(acknowledged)} lignes confirmées ; {died_appending} tours sur 6 où un écrivain est mort"
          f" en cours d'envoi ; {undone} envois interrompus annulés par l'écrivain suivant")


def test_replace_file_keeps_the_mode_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "atelier.yaml"
    target.write_text("status: open\n", encoding="utf-8")
    target.chmod(0o640)
    durable.replace_file(target, "status: closed\n".encode("utf-8"))
    assert target.read_text(encoding="utf-8") == "status: closed\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["atelier.yaml"]
