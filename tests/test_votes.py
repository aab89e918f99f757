"""The vote with gommettes on the real app: ballots from a phone, replays, a closed vote, paper counts, validation."""

from __future__ import annotations

import csv
import re
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from vote_helpers import HIDDEN_TOKEN, PHASE, PLAN, SLUG, vote_atelier
from webform_helpers import CSRF_INPUT, NBSP, NNBSP, make_app, text_of

from pipeline import votes
from pipeline.validate import validate_atelier
from pipeline.workshop import load_atelier
from pipeline.french import fr


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return vote_atelier(tmp_path / "data")


@pytest.fixture
def client(tmp_path: Path, folder: Path):
    return make_app(tmp_path).test_client()


def tally_of(folder: Path) -> dict[str, tuple[int, int, int]]:
    atelier = load_atelier(folder)
    phase = atelier.workshop.phase(PHASE)
    state = votes.states(atelier.votes).get(PHASE, votes.VoteState(PHASE))
    result = votes.tally(atelier.workshop, phase, atelier.vote_candidates(phase), atelier.contributions, state)
    return {r.point.contribution.id: (r.online, r.paper, r.rank) for r in result.results}


def open_vote(folder: Path, event: str = "open") -> None:
    atelier = load_atelier(folder)
    votes.set_state(folder, atelier.workshop, PHASE, event)


def blank_ballot(client) -> tuple[str, str]:
    page = client.get(f"/{SLUG}/vote/{PHASE}")
    assert page.status_code == 200, page.text
    return CSRF_INPUT.search(page.text).group(1), HIDDEN_TOKEN.search(page.text).group(1)


def test_the_ballot_lists_published_votable_points_with_their_precisions(client, folder):
    open_vote(folder)
    page = text_of(client.get(f"/{SLUG}/vote/{PHASE}").text)
    for text in ("Un marché de producteurs le samedi", "sur la place de la mairie", "Une cantine 100 % locale",
                 "Un tiers-lieu agricole", "Une monnaie locale"):
        assert text in page
    assert "Hors sujet" not in page  # hidden
    assert "Des élus moteurs" not in page  # another rubric than the vote's


def test_a_ballot_counts_once_however_often_it_is_sent_and_can_be_changed(client, folder):
    open_vote(folder)
    csrf, token = blank_ballot(client)
    data = {"csrf_token": csrf, "bulletin": token, "p-pa": "3", "p-pc": "2"}
    first = client.post(f"/{SLUG}/vote/{PHASE}", data=data)
    assert first.status_code == 303
    link = first.headers["Location"]
    for _ in range(3):  # a double tap and replays of the first POST
        assert client.post(f"/{SLUG}/vote/{PHASE}", data=data).status_code == 303
    assert tally_of(folder)["pa"] == (3, 0, 1) and tally_of(folder)["pc"] == (2, 0, 2)
    ballots = [r for r in csv.DictReader((folder / "votes.csv").open(encoding="utf-8")) if r["event"] == "ballot"]
    assert len(ballots) == 1
    again = client.get(f"/{SLUG}/vote/{PHASE}")  # the same phone comes back to its own ballot, not a new one
    assert again.status_code == 303 and again.headers["Location"] == link
    mine = text_of(client.get(link).text)
    assert f"Vous avez donné 5 gommettes{NNBSP}; il vous en reste 0." in mine
    changed = client.post(link, data={"csrf_token": csrf, "p-pb": "1"})
    assert changed.status_code == 303
    assert tally_of(folder) == {"pb": (1, 0, 1), "pa": (0, 0, 2), "pc": (0, 0, 2), "pd": (0, 0, 2)}


def test_too_many_gommettes_and_a_closed_vote_show_the_typed_choices_back(client, folder):
    open_vote(folder)
    csrf, token = blank_ballot(client)
    refused = client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pa": "4", "p-pb": "2"})
    assert refused.status_code == 400
    assert "vous avez placé 6 gommettes, pour 5 disponibles ; retirez-en 1." in text_of(refused.text)
    assert 'name="p-pa" value="4"' in refused.text and 'name="p-pb" value="2"' in refused.text
    open_vote(folder, "close")
    closed = client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pd": "2"})
    assert closed.status_code == 403
    assert f"Rien n'a été enregistré{NNBSP}: le vote est fermé ; les gommettes ci-dessous n'ont pas été comptées." in text_of(closed.text)
    assert 'name="p-pd" value="2"' in closed.text
    assert not [r for r in csv.DictReader((folder / "votes.csv").open(encoding="utf-8")) if r["event"] == "ballot"]


def test_paper_counts_add_to_online_ones_kept_apart_in_the_data(client, folder):
    open_vote(folder)
    csrf, token = blank_ballot(client)
    client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pd": "2"})
    atelier = load_atelier(folder)
    allowed = ["pa", "pb", "pc", "pd"]
    assert votes.record_paper(folder, atelier.workshop, PHASE, {"pa": 4, "pd": 1}, allowed)
    assert not votes.record_paper(folder, atelier.workshop, PHASE, {"pa": 4, "pd": 1}, allowed)  # same count again
    assert votes.record_paper(folder, atelier.workshop, PHASE, {"pa": 3, "pd": 1}, allowed)  # a correction replaces
    found = tally_of(folder)
    assert found["pa"] == (0, 3, 1) and found["pd"] == (2, 1, 1)  # a tie at 3: both first
    assert found["pb"] == (0, 0, 3)


def test_merged_points_carry_their_gommettes_and_a_hidden_point_drops_out(client, folder):
    from pipeline import moderation

    open_vote(folder)
    csrf, token = blank_ballot(client)
    client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pd": "2", "p-pc": "1"})
    moderation.merge(folder, "pc", "pd")
    assert tally_of(folder)["pc"] == (3, 0, 1)
    moderation.hide(folder, "pc")
    atelier = load_atelier(folder)
    phase = atelier.workshop.phase(PHASE)
    result = votes.tally(atelier.workshop, phase, atelier.vote_candidates(phase), atelier.contributions,
                         votes.states(atelier.votes)[PHASE])
    assert [(d.contribution.id, d.gommettes) for d in result.dropped] == [("pc", 3)]
    assert validate_atelier(folder) == []


def test_votes_csv_passes_validate_and_the_official_frictionless_cli(client, folder):
    open_vote(folder)
    csrf, token = blank_ballot(client)
    client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pa": "1"})
    assert validate_atelier(folder) == []
    cli = Path(sys.executable).with_name("frictionless")
    done = subprocess.run([str(cli), "validate", str(folder / "datapackage.json")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    with (folder / "votes.csv").open("a", encoding="utf-8") as f:
        f.write("v-x,priorites,ballot,b-1,pa=9,,,2026-11-20T10:00:00Z\n")
    assert [str(p) for p in validate_atelier(folder)] == [
        f"{folder}/votes.csv: ligne 4, champ « choices » : 9 gommettes sur ce bulletin, pour 5 par personne."
    ]


def test_the_facilitator_opens_closes_reveals_counts_paper_voids_and_writes_the_plan(tmp_path, folder):
    from facilitator_helpers import facilitator_app, log_in
    from webform_helpers import submit

    client = facilitator_app(tmp_path).test_client()
    log_in(client, SLUG)
    dashboard = text_of(client.get(f"/{SLUG}/animation/").text)
    assert "Vote pas encore ouvert." in dashboard and "Saisir le plan d'actions" in dashboard
    page = f"/{SLUG}/animation/vote/{PHASE}"
    csrf = CSRF_INPUT.search(client.get(page).text).group(1)
    assert client.post(f"{page}/etat", data={"csrf_token": csrf, "event": "open"}).status_code == 303
    assert "Ouvert" in text_of(client.get(page).text)
    voter = make_app(tmp_path).test_client()
    vcsrf, token = blank_ballot(voter)
    voter.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": vcsrf, "bulletin": token, "p-pb": "2"})
    client.post(f"{page}/papier", data={"csrf_token": csrf, "papier-pa": "7", "papier-pb": "1"})
    shown = text_of(client.get(page).text)
    assert "1 bulletin en ligne — 2 gommettes en ligne, 8 sur papier." in shown
    from webform.participant import ballot_id

    assert client.post(f"{page}/annuler/{ballot_id(token)}", data={"csrf_token": csrf}).status_code == 303
    assert tally_of(folder)["pb"] == (0, 1, 2)
    assert client.post(f"{page}/etat", data={"csrf_token": csrf, "event": "close"}).status_code == 303
    plan = f"/{SLUG}/animation/actions/plan"
    added = submit(client, plan, {"title": "Lancer le marché", "porteur": "Mairie", "partenaires": "Chambre d'agriculture",
                                  "echeance": "2027-03-01", "moyens": "Un agent à mi-temps", "statut": "decidee", "points": ["pa"]})
    assert added.status_code == 303, added.text
    listed = text_of(client.get(plan).text)
    assert "Lancer le marché" in listed and "1er mars 2027" in listed and "← Un marché de producteurs le samedi" in listed
    assert validate_atelier(folder) == []


def test_the_wall_hides_the_tally_until_revealed_and_shows_the_plan(tmp_path, folder):
    from facilitator_helpers import facilitator_app, log_in

    from pipeline import actions

    client = facilitator_app(tmp_path).test_client()
    log_in(client, SLUG)
    open_vote(folder)
    voter = make_app(tmp_path).test_client()
    csrf, token = blank_ballot(voter)
    voter.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pc": "4"})
    actions.add(folder, "plan", {"title": "Étudier un tiers-lieu", "porteur": "Communauté de communes", "statut": "proposee"})
    wall = text_of(client.get(f"/{SLUG}/animation/mur").text)
    assert "1 bulletin en ligne — vote ouvert" in wall and "Votes masqués jusqu'à la fin du vote." in wall
    assert "4 Un tiers-lieu agricole" not in wall
    assert "Étudier un tiers-lieu Communauté de communes proposée" in wall
    open_vote(folder, "reveal")
    wall = text_of(client.get(f"/{SLUG}/animation/mur").text)
    assert "4 Un tiers-lieu agricole" in wall and "Votes masqués" not in wall


def test_the_review_tells_the_vote_and_the_plan_in_plain_french(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from gitrepo import commit_all, git, init_repo

    from pipeline import actions, moderation
    from pipeline.cli import main

    repo = init_repo(tmp_path / "depot")
    folder = vote_atelier(repo / "data")
    commit_all(repo, "Atelier")
    git(repo, "checkout", "--quiet", "-b", "vote")
    workshop = load_atelier(folder).workshop
    allowed = ["pa", "pb", "pc", "pd"]
    votes.set_state(folder, workshop, PHASE, "open", dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.timezone.utc))
    votes.cast_ballot(folder, workshop, PHASE, "b-1", {"pa": 2, "pb": 1}, allowed)
    votes.cast_ballot(folder, workshop, PHASE, "b-1", {"pa": 3}, allowed)
    votes.cast_ballot(folder, workshop, PHASE, "b-2", {"pb": 2}, allowed)
    votes.void_ballot(folder, workshop, PHASE, "b-2")
    votes.cast_ballot(folder, workshop, PHASE, "b-3", {"pd": 4}, allowed)
    votes.record_paper(folder, workshop, PHASE, {"pc": 3, "pb": 2}, allowed)
    votes.set_state(folder, workshop, PHASE, "close")
    moderation.merge(folder, "pa", "pb")
    moderation.hide(folder, "pd")
    actions.add(folder, "plan", {"title": "Lancer le marché", "porteur": "Mairie", "echeance": "2027-03-01",
                                 "statut": "decidee", "points": "pa"})
    commit_all(repo, "Vote")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["review", "--base", "main", "--head", "HEAD"])
    assert result.exit_code == 0, result.output
    lines = [line.replace(NNBSP, " ").replace("\u00a0", " ") for line in result.output.splitlines()]
    for expected in [
        "#### Faits du vote (7)",
        "- Vote « Priorités » : ouvert (20 novembre 2026 à 15 h 00).",
        "- Vote « Priorités » : bulletin b-2 annulé par l’animation.",
        "- Vote « Priorités » : gommettes papier saisies, 5 en tout sur 2 points.",
        "- Vote « Priorités » : les gommettes de « Une cantine 100 % locale » passent à « Un marché de producteurs le samedi » (fusion).",
        "- Vote « Priorités » : 4 changements de bulletin (3 nouveaux bulletins, 0 bulletin modifié).",
        "- Vote « Priorités » : « Une monnaie locale » masqué après le vote ; ses 4 gommettes sortent des résultats.",
        "- Action ajoutée : « Lancer le marché » (porteur : Mairie, échéance : 2027-03-01, décidée), d’après « Un marché de producteurs le samedi ».",
    ]:
        assert expected in lines, (expected, result.output)  # noqa



def test_the_kit_prints_the_gommettes_instructions_and_an_action_plan_sheet(tmp_path, folder):
    from pipeline.kit import build_kit

    out = build_kit(folder, tmp_path / "kit.pdf", url="https://atelier.example.org/vote/")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    plain = " ".join(text.replace(NNBSP, " ").split())
    assert "Priorités : vote aux gommettes Chaque personne recevra 5 gommettes." in plain
    assert "Points soumis au vote : Propositions par groupe — Propositions." in plain
    assert "https://atelier.example.org/vote/vote/priorites" in plain
    assert "Plan d’actions Action Porteur Partenaires Échéance Moyens Statut" in plain


def test_the_command_line_opens_closes_and_reveals_the_vote(folder):
    from click.testing import CliRunner

    from pipeline.cli import main

    runner = CliRunner()
    said = [runner.invoke(main, ["vote", verb, str(folder)]).output.strip() for verb in ("open", "open", "close", "reveal")]
    assert said == [fr(line) for line in [
        f"{folder} : Vote « Priorités » ouvert.",
        f"{folder} : Vote « Priorités » déjà ouvert.",
        f"{folder} : Vote « Priorités » fermé.",
        f"{folder} : Vote « Priorités » dévoilé au mur.",
    ]]
    wrong = runner.invoke(main, ["vote", "open", str(folder), "--phase", "plan"])
    assert wrong.exit_code == 1 and fr("« plan » n'est pas un temps de vote d'atelier.yaml (votes : priorites).") in wrong.output
    state = votes.state_of(folder, PHASE)
    assert (state.status, state.revealed) == ("closed", True)


def test_exports_include_the_vote_and_the_plan(tmp_path, folder):
    import io
    import zipfile

    from pipeline import actions, export

    open_vote(folder)
    actions.add(folder, "plan", {"title": "=1+1", "statut": "proposee"})
    names = zipfile.ZipFile(io.BytesIO(export.export_zip(folder))).namelist()
    assert f"{SLUG}/votes.csv" in names and f"{SLUG}/actions.csv" in names
    sheet = export.export_spreadsheet_csv(folder, "actions").decode("utf-8-sig")
    assert "\"'=1+1\"" in sheet


def test_a_missing_votes_csv_is_named_with_its_fix_and_normalize_creates_it(folder):
    from pipeline.tables import normalize

    (folder / "votes.csv").unlink()
    assert [str(p) for p in validate_atelier(folder)] == [
        f"{folder}/votes.csv : fichier introuvable ; un fichier avec la seule ligne d'en-tête suffit "
        f"(« atelier normalize {folder} » le crée)."
    ]
    normalize(folder)
    assert validate_atelier(folder) == []


def test_a_group_proposes_an_action_once_however_often_it_is_sent(tmp_path, client, folder):
    from webform_helpers import submit

    page = client.get(f"/{SLUG}/action/plan")
    token = re.search(r'name="proposition" value="([^"]+)"', page.text).group(1)
    data = {"csrf_token": CSRF_INPUT.search(page.text).group(1), "proposition": token, "group": "2",
            "title": "Un tiers-lieu agricole à l'essai", "porteur": "Association Terres", "echeance": "2027-06-30"}
    for _ in range(2):  # a double tap
        assert client.post(f"/{SLUG}/action/plan", data=data).status_code == 303
    plan = load_atelier(folder).actions
    assert [(a.title, a.group, a.statut, str(a.echeance)) for a in plan] == [
        ("Un tiers-lieu agricole à l'essai", "2", "proposee", "2027-06-30")
    ]
    wrong = submit(client, f"/{SLUG}/action/plan", {"proposition": token[::-1], "group": "99", "title": "X"})
    assert wrong.status_code == 400 and "Choisissez un des groupes proposés." in text_of(wrong.text)
    assert validate_atelier(folder) == []


def ballot_rows(folder: Path) -> list[dict[str, str]]:
    return [r for r in csv.DictReader((folder / "votes.csv").open(encoding="utf-8")) if r["event"] == "ballot"]


def test_an_old_form_sent_again_never_undoes_a_newer_ballot(client, folder):
    """Finding 1: the first POST replayed after a change through the private link is refused, the typed choices shown."""
    open_vote(folder)
    csrf, token = blank_ballot(client)
    first = {"csrf_token": csrf, "bulletin": token, "version": "0", "p-pa": "1", "p-pb": "1"}
    link = client.post(f"/{SLUG}/vote/{PHASE}", data=first).headers["Location"]
    page = client.get(link).text
    assert 'name="version" value="1"' in page
    assert client.post(link, data={"csrf_token": csrf, "version": "1", "p-pc": "4"}).status_code == 303
    stale_change = client.post(link, data={"csrf_token": csrf, "version": "1", "p-pd": "3"})  # the private page, shown before
    replay = client.post(f"/{SLUG}/vote/{PHASE}", data=first)  # the first POST, resent from the same browser
    for refused, typed in ((stale_change, ('name="p-pd" value="3"',)), (replay, ('name="p-pa" value="1"', 'name="p-pb" value="1"'))):
        assert refused.status_code == 409, refused.text
        assert "votre vote a été modifié depuis l'ouverture de cette page" in text_of(refused.text)
        assert all(t in refused.text for t in typed)
        assert 'name="version" value="2"' in refused.text  # sent again from here, it replaces the ballot
    assert f'href="{link}"' in replay.text  # the device's ballot, named by its link
    assert tally_of(folder)["pc"] == (4, 0, 1) and len(ballot_rows(folder)) == 2
    assert client.post(link, data={"csrf_token": csrf, "version": "2", "p-pd": "3"}).status_code == 303
    assert tally_of(folder)["pd"] == (3, 0, 1)


def test_two_tabs_of_one_browser_make_one_ballot(client, folder):
    """Finding 2: two blank ballots opened before voting, each sent: one ballot, the older form refused."""
    open_vote(folder)
    csrf, tab1 = blank_ballot(client)
    _csrf, tab2 = blank_ballot(client)
    one = client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": tab1, "version": "0", "p-pa": "5"})
    assert one.status_code == 303
    two = client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": tab2, "version": "0", "p-pb": "5"})
    assert two.status_code == 409 and 'name="p-pb" value="5"' in two.text
    assert len(ballot_rows(folder)) == 1 and tally_of(folder)["pa"] == (5, 0, 1) and tally_of(folder)["pb"][0] == 0
    # Even a blank page handed out before the cookie existed (another token) changes the device's ballot, never adds one.
    other = client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": "x" * 43, "version": "1", "p-pc": "5"})
    assert other.status_code == 303 and other.headers["Location"] == one.headers["Location"]
    assert len({r["ballot"] for r in ballot_rows(folder)}) == 1 and tally_of(folder)["pc"] == (5, 0, 1)


def test_the_summary_of_an_atelier_with_a_vote_and_a_plan(tmp_path, client, folder):
    """Finding 5: `atelier summary` of a fresh constats-propositions atelier, then with ballots, paper and actions."""
    from click.testing import CliRunner

    from pipeline import actions
    from pipeline.cli import main
    from pipeline.scaffold import new_atelier

    fresh = new_atelier(tmp_path / "fresh", "s1", dt.date(2026, 11, 20), "constats-propositions")
    said = CliRunner().invoke(main, ["summary", str(fresh)])
    assert said.exit_code == 0, said.output
    assert fr("Vote « Priorités » — pas encore ouvert : 0 bulletin en ligne, 0 gommette en ligne, 0 sur papier") in said.output
    assert fr("Plan d'actions « Plan d’actions » : 0 action\n") in said.output
    open_vote(folder)
    csrf, token = blank_ballot(client)
    client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pa": "3", "p-pc": "2"})
    atelier = load_atelier(folder)
    votes.record_paper(folder, atelier.workshop, PHASE, {"pc": 1}, ["pa", "pb", "pc", "pd"])
    open_vote(folder, "close")
    actions.add(folder, "plan", {"title": "Lancer le marché", "statut": "decidee"})
    actions.add(folder, "plan", {"title": "Étudier un tiers-lieu", "statut": "proposee"})
    said = CliRunner().invoke(main, ["summary", str(folder)]).output
    assert fr("Vote « Priorités » — fermé : 1 bulletin en ligne, 5 gommettes en ligne, 1 sur papier, 4 points soumis au vote") in said
    assert fr("  1ᵉʳ ex æquo : Un marché de producteurs le samedi (3 gommettes)\n") in said
    assert fr("  1ᵉʳ ex æquo : Un tiers-lieu agricole (3 gommettes)") in said
    assert fr("Plan d'actions « Plan d’actions » : 2 actions (décidée : 1, proposée : 1)") in said


@pytest.mark.parametrize("where", [f"/{SLUG}/action/{PLAN}", f"/{SLUG}/animation/actions/{PLAN}"])
def test_an_action_echeance_is_read_in_french_or_refused_with_the_typed_text(tmp_path, folder, where):
    """Finding 3: « 31/12/2027 » is a date; « 2026-02-30 » or « demain » is refused, shown back, nothing saved."""
    from facilitator_helpers import facilitator_app, log_in
    from webform_helpers import NBSP, submit

    client = facilitator_app(tmp_path).test_client()
    if "animation" in where:
        log_in(client, SLUG)
    token = {"proposition": "t" * 43} if "animation" not in where else {}
    for typed in ("2026-02-30", "31/02/2027", "demain"):
        refused = submit(client, where, {**token, "group": "2", "title": "Un marché", "echeance": typed})
        assert refused.status_code == 400, refused.text
        assert (f"«{NBSP}{typed}{NBSP}» n'est pas une date du calendrier{NNBSP}: écrivez-la JJ/MM/AAAA, "
                "par exemple 31/12/2027.") in text_of(refused.text)
        assert f'value="{typed}"' in refused.text and 'value="Un marché"' in refused.text
    assert load_atelier(folder).actions == ()
    done = submit(client, where, {**token, "group": "2", "title": "Un marché", "echeance": "31/12/2027"})
    assert done.status_code == 303
    assert [a.echeance for a in load_atelier(folder).actions] == [dt.date(2027, 12, 31)]


def test_an_action_form_sent_again_with_a_correction_replaces_the_first(client, folder):
    """Finding 4: Back, correct, send again (same hidden token): the correction is saved, one action, and said."""
    page = client.get(f"/{SLUG}/action/{PLAN}")
    data = {"csrf_token": CSRF_INPUT.search(page.text).group(1), "group": "2", "title": "Un marché le samedi",
            "proposition": re.search(r'name="proposition" value="([^"]+)"', page.text).group(1)}
    assert client.post(f"/{SLUG}/action/{PLAN}", data=data).status_code == 303
    actions_id = load_atelier(folder).actions[0].id
    from pipeline import actions

    actions.set_statut(folder, actions_id, "decidee")  # the team decided it meanwhile
    again = client.post(f"/{SLUG}/action/{PLAN}", data={**data, "title": "Un marché le dimanche", "porteur": "Mairie"},
                        follow_redirects=True)
    assert f"Ce formulaire avait déjà été envoyé{NNBSP}: ce nouvel envoi remplace le premier" in text_of(again.text)
    assert [(a.title, a.porteur, a.statut) for a in load_atelier(folder).actions] == [("Un marché le dimanche", "Mairie", "decidee")]
    replay = client.post(f"/{SLUG}/action/{PLAN}", data={**data, "title": "Un marché le dimanche", "porteur": "Mairie"},
                         follow_redirects=True)
    assert "Merci" in text_of(replay.text) and len(load_atelier(folder).actions) == 1
    assert validate_atelier(folder) == []


def test_an_action_moyens_may_span_several_lines(client, folder):
    """Finding 7: the 3-line « Moyens » box keeps its line breaks, in the form, the store and validate."""
    page = client.get(f"/{SLUG}/action/{PLAN}")
    data = {"csrf_token": CSRF_INPUT.search(page.text).group(1), "group": "1", "title": "Un marché",
            "proposition": re.search(r'name="proposition" value="([^"]+)"', page.text).group(1),
            "moyens": "Un agent à mi-temps\r\nUn local prêté par la mairie"}
    sent = client.post(f"/{SLUG}/action/{PLAN}", data=data)
    assert sent.status_code == 303, text_of(sent.text)
    assert [a.moyens for a in load_atelier(folder).actions] == ["Un agent à mi-temps\nUn local prêté par la mairie"]
    assert validate_atelier(folder) == []


def test_a_ballot_naming_a_point_twice_is_refused_by_validate_and_counted_alike(client, folder):
    """Finding 8: « pa=5 pa=5 » is refused (file, line, field); the tally reads the same 10 gommettes validate refuses."""
    from click.testing import CliRunner

    from pipeline.cli import main

    open_vote(folder)
    with (folder / "votes.csv").open("a", encoding="utf-8") as f:
        f.write("v-x,priorites,ballot,b-1,pa=5 pa=5,,,2026-11-20T10:00:00Z\n")
    assert [str(p) for p in validate_atelier(folder)] == [
        f"{folder}/votes.csv: ligne 3, champ « choices » : 10 gommettes sur ce bulletin, pour 5 par personne.",
        f"{folder}/votes.csv: ligne 3, champ « choices » : le point « pa » est nommé plusieurs fois ; "
        "nommez chaque point une seule fois, avec toutes ses gommettes (« pa=10 »).",
    ]
    assert tally_of(folder)["pa"] == (10, 0, 1)
    said = CliRunner().invoke(main, ["validate", str(folder)])
    assert said.exit_code != 0 and fr("le point « pa » est nommé plusieurs fois") in said.output


def test_the_command_line_exports_the_vote_and_the_plan_as_spreadsheet_csv(tmp_path, client, folder):
    """Finding 6: `atelier export … --table votes` (or actions) writes the table, as the web exports do."""
    from click.testing import CliRunner

    from pipeline import actions, export
    from pipeline.cli import main

    open_vote(folder)
    csrf, token = blank_ballot(client)
    client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pa": "2"})
    actions.add(folder, PLAN, {"title": "Lancer le marché", "porteur": "Mairie", "statut": "decidee"})
    for table, expected in (("votes", "pa=2"), ("actions", "Lancer le marché")):
        out = tmp_path / f"{table}.csv"
        said = CliRunner().invoke(main, ["export", str(folder), "-o", str(out), "--table", table])
        assert said.exit_code == 0, said.output
        assert expected in out.read_bytes().decode("utf-8-sig")
        assert out.read_bytes() == export.export_spreadsheet_csv(folder, table)  # what the web export sends


def test_the_private_page_says_which_gommettes_left_the_results_and_a_voided_ballot(tmp_path, client, folder):
    """Findings 9 and 10: after a merge the gommettes follow; after a hide they are said gone and given again; a voided ballot is said."""
    from pipeline import moderation

    open_vote(folder)
    csrf, token = blank_ballot(client)
    link = client.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pa": "2", "p-pb": "1",
                                                       "p-pc": "2"}).headers["Location"]
    moderation.merge(folder, "pa", "pb")
    moderation.hide(folder, "pc")
    page = client.get(link).text
    mine = text_of(page)
    assert f"Vous avez donné 3 gommettes{NNBSP}; il vous en reste 2." in mine
    assert "3 × Un marché de producteurs le samedi" in mine
    assert (f"2 de vos gommettes étaient sur des points retirés ou masqués depuis par l'équipe d'animation{NNBSP}: "
            "elles ne comptent plus, et vous pouvez les donner à nouveau.") in mine
    assert 'name="p-pa" value="3"' in page  # sent again as shown, the merged gommettes stay
    assert client.post(link, data={"csrf_token": csrf, "version": "1", "p-pa": "3", "p-pd": "2"}).status_code == 303
    assert tally_of(folder)["pa"] == (3, 0, 1) and tally_of(folder)["pd"] == (2, 0, 2)
    from webform.participant import ballot_id

    atelier = load_atelier(folder)
    votes.void_ballot(folder, atelier.workshop, PHASE, ballot_id(link.rsplit("/", 1)[1]))
    page = client.get(link).text
    assert (f"Ce bulletin a été annulé par l'équipe d'animation{NNBSP}: ses gommettes ne comptent pas dans les "
            "résultats, et il ne peut plus être modifié.") in text_of(page)
    assert 'name="p-pa"' not in page and "Modifier mon vote" not in page


def test_a_bad_paper_count_brings_every_typed_count_back(tmp_path, folder):
    """Finding 11: one wrong count among several: nothing saved, every count as typed, the wrong one named."""
    from facilitator_helpers import facilitator_app, log_in

    client = facilitator_app(tmp_path).test_client()
    log_in(client, SLUG)
    page = f"/{SLUG}/animation/vote/{PHASE}"
    csrf = CSRF_INPUT.search(client.get(page).text).group(1)
    sent = client.post(f"{page}/papier", data={"csrf_token": csrf, "papier-pa": "7", "papier-pb": "1", "papier-pc": "trois"})
    assert sent.status_code == 400
    assert 'name="papier-pa" value="7"' in sent.text and 'name="papier-pb" value="1"' in sent.text
    assert 'name="papier-pc" value="trois" aria-invalid="true"' in sent.text
    assert (f"Un tiers-lieu agricole{NNBSP}: «{NBSP}trois{NBSP}» n'est pas un nombre de gommettes{NNBSP}; "
            "rien n'a été enregistré.") in text_of(sent.text)
    assert votes.state_of(folder, PHASE).paper == {}


def test_the_vote_s_small_faults(tmp_path, folder):
    """Finding 12: a closed atelier refuses ballots; the wall after the vote; an unknown point; a 429; the plan's form."""
    from facilitator_helpers import facilitator_app, log_in

    from pipeline import actions, opening

    open_vote(folder)
    voter = make_app(tmp_path, RATELIMIT_BURST=2, RATELIMIT_PER_MINUTE=6).test_client()
    csrf, token = blank_ballot(voter)
    unknown = voter.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-zz": "1"})
    assert unknown.status_code == 400 and "« zz »" not in text_of(unknown.text)
    assert "un des points choisis ne fait plus partie du vote" in text_of(unknown.text)
    assert voter.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pa": "1"}).status_code == 303
    flood = voter.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pa": "1", "p-pb": "1"})
    assert flood.status_code == 429 and "Votre texte" not in flood.text and "Ce que vous avez saisi est conservé" in flood.text
    assert int(flood.headers["Retry-After"]) > 0  # as every refused form page (webform.participant.page.form_response)
    closing = make_app(tmp_path).test_client()
    csrf, token = blank_ballot(closing)
    opening.set_status(folder, "closed")
    refused = closing.post(f"/{SLUG}/vote/{PHASE}", data={"csrf_token": csrf, "bulletin": token, "p-pa": "2"},
                           environ_base={"REMOTE_ADDR": "127.0.0.2"})  # another phone than the flood's
    assert refused.status_code == 403 and 'name="p-pa" value="2"' in refused.text
    assert "l'atelier est clos : il n'accepte plus de gommettes" in text_of(refused.text)
    assert list(votes.state_of(folder, PHASE).ballots.values()) == [{"pa": 1}]
    opening.set_status(folder, "open")
    team = facilitator_app(tmp_path).test_client()
    log_in(team, SLUG)
    open_vote(folder, "close")
    wall = text_of(team.get(f"/{SLUG}/animation/mur").text)
    assert "Votes masqués jusqu'à ce que l'équipe d'animation les dévoile." in wall and "jusqu'à la fin du vote" not in wall
    from webform_helpers import submit

    added = submit(team, f"/{SLUG}/animation/actions/{PLAN}", {"title": "Un marché", "statut": "decidee", "points": ["pa", "pa"]})
    assert added.status_code == 303
    assert [a.points for a in load_atelier(folder).actions] == [("pa",)]
    action_id = load_atelier(folder).actions[0].id
    forged = team.post(f"/{SLUG}/animation/actions/{PLAN}/{action_id}/statut",
                       data={"csrf_token": CSRF_INPUT.search(team.get(f"/{SLUG}/animation/actions/{PLAN}").text).group(1),
                             "statut": "<script>"})
    assert forged.status_code == 400 and "statut « <script> » inconnu" in text_of(forged.text)
    assert [a.statut for a in load_atelier(folder).actions] == ["decidee"]
    assert actions.source_points(load_atelier(folder))


def test_points_of_the_same_wording_are_told_apart_by_their_group(tmp_path, folder):
    """Finding 12: two groups proposed « Une monnaie locale »: the ballot, the team's tally and the wall name the group."""
    from facilitator_helpers import facilitator_app, log_in
    from vote_helpers import proposition

    from pipeline import store

    store.append_rows(folder, "contributions", [proposition("pe", "1", 3, "Une monnaie  locale")])
    open_vote(folder)
    client = facilitator_app(tmp_path).test_client()
    ballot = text_of(client.get(f"/{SLUG}/vote/{PHASE}").text)
    assert "Une monnaie locale (Groupe 2)" in ballot and "Une monnaie locale (Groupe 1)" in ballot
    assert "Un tiers-lieu agricole (Groupe" not in ballot  # a wording of its own needs no group
    log_in(client, SLUG)
    open_vote(folder, "reveal")
    for page in (f"/{SLUG}/animation/vote/{PHASE}", f"/{SLUG}/animation/mur"):
        shown = text_of(client.get(page).text)
        assert "Une monnaie locale (Groupe 2)" in shown and "(Groupe 1)" in shown, page
