"""The animation kit: its outline, its HTML, the QR code and the URL it encodes."""

from __future__ import annotations

import pytest
from conftest import EXAMPLE

from markupsafe import escape

from pipeline.kit import check_url, compose_kit, kit_html, qr_svg, role_labels
from pipeline.typography import french
from pipeline.workshop import AtelierError, load_atelier

URL = "https://atelier.example.org/moulins-2016/"


@pytest.fixture(scope="module")
def example():
    return load_atelier(EXAMPLE)


def test_outline_of_the_example(example):
    kit = compose_kit(example.workshop, URL)
    assert kit.title == "Kit d’animation — Animation des réunions de production d’idées et de projets"
    assert kit.date_text == "30 juin 2016"
    assert [(qk.number, qk.question.id, list(qk.groups)) for qk in kit.questions] == [
        (1, "q1", [1, 2, 3]),
        (2, "q2", [1, 2]),
    ]
    q1, q2 = kit.questions
    assert [(c.title, c.count, c.hint) for c in (q1.drivers, q1.brakes)] == [
        ("Moteurs", 5, "identifier 3 à 5 moteurs par sous-groupe"),
        ("Freins", 5, "identifier 3 à 5 freins par sous-groupe"),
    ]
    # q2 asks for 3 à 5 freins only: its moteurs get the usual five lines, with no hint.
    assert [(c.count, c.hint) for c in (q2.drivers, q2.brakes)] == [
        (5, ""),
        (5, "identifier 3 à 5 freins par sous-groupe"),
    ]
    # 3 sous-groupes of up to 8 people: 24 rows, so two sheets of 20.
    assert kit.attendance_sheets == (range(1, 21), range(21, 41))


@pytest.mark.parametrize(
    "targets, expected",
    [
        ([{"section": "driver", "min": 2, "max": 8}], 8),
        ([{"section": "driver", "min": 3}], 5),
        ([{"section": "driver", "min": 7}], 7),
        ([{"section": "driver", "max": 40}], 15),
        ([], 5),
    ],
)
def test_numbered_lines_follow_the_target(make_atelier, targets, expected):
    times = [{"label": "Temps 2", "title": "Comment faire autrement ?", "targets": targets}]
    folder = make_atelier(workshop={"questions": [{"id": "q1", "title": "Q ?", "subgroups": {"count": 1, "times": times}}]})
    (question,) = compose_kit(load_atelier(folder).workshop).questions
    assert question.drivers.count == expected


def test_attendance_rows_can_be_asked_for(example):
    assert compose_kit(example.workshop, attendees=61).attendance_sheets[-1] == range(61, 81)
    assert compose_kit(example.workshop, attendees=0).attendance_sheets == (range(1, 21),)


def test_role_labels_come_from_the_participants_schema():
    assert role_labels() == (
        "élu·e",
        "agent ou chargé·e de mission",
        "recherche, enseignement",
        "association, réseau",
        "entreprise, agriculteur",
        "habitant·e, citoyen·ne",
        "équipe d'animation",
        "autre",
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://atelier.example.org/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "atelier.example.org/moulins-2016/",
        "https://atelier.example.org/a b",
        'https://atelier.example.org/"><script>',
    ],
)
def test_a_bad_url_is_refused_in_french(url):
    with pytest.raises(AtelierError) as error:
        check_url(url)
    assert str(error.value) == (
        f"--url : « {url} » n'est pas une adresse web ; donnez une adresse en http:// ou https://, "
        "par exemple https://atelier.example.org/moulins-2016/."
    )


def test_a_url_too_long_for_paper_is_refused():
    url = "https://atelier.example.org/" + "a" * 480
    with pytest.raises(AtelierError) as error:
        check_url(url)
    assert str(error.value) == (
        "--url : l'adresse fait 508 caractères ; au-delà de 500, le QR code devient illisible sur papier. "
        "Donnez une adresse plus courte."
    )


@pytest.mark.parametrize("url", [URL, "http://127.0.0.1:5000/moulins-2016/?lang=fr#emargement"])
def test_a_web_address_is_accepted(url):
    assert check_url(url) == url


def test_qr_code_is_inline_vector_svg():
    svg = qr_svg(URL)
    assert svg.startswith('<svg version="1.1" viewBox="0 0 37 37" xmlns="http://www.w3.org/2000/svg" class="qr"')
    assert "<path d=\"M4,4H5V5H4z" in svg
    assert " id=" not in svg  # printed twice in one page: no id may repeat
    assert "<image" not in svg and "href" not in svg


def test_html_has_every_question_prompt_and_temps(example):
    html = kit_html(EXAMPLE, URL)
    for question in example.workshop.questions:
        assert html.count(_escaped(question.title)) >= 3  # cover, poster, post-its, consignes, grids
        for prompt in question.prompts:
            assert _escaped(prompt) in html
        for step in question.times:
            assert _escaped(step.text) in html
            for instruction in step.instructions:
                assert _escaped(instruction) in html
    for number, groups in ((1, 3), (2, 2)):
        for group in range(1, groups + 1):
            assert html.count(f"<h1>Question {number} — Sous-groupe {group}</h1>") == 1
        assert f"Question {number} — Sous-groupe {groups + 1}" not in html
    assert html.count('<svg version="1.1"') == 3  # the cover and each of the two attendance sheets
    assert html.count("J’accepte d’apparaître dans la liste des présents du compte-rendu") == 2


def test_without_url_there_is_no_qr_code():
    html = kit_html(EXAMPLE)
    assert "<svg" not in html and "Participer en ligne" not in html
    assert "https://" not in html


def test_untrusted_text_is_escaped(make_atelier):
    attack = '<link rel="attachment" href="file:///etc/passwd"><img src="http://169.254.169.254/">'
    folder = make_atelier(
        workshop={
            "title": attack,
            "place": attack,
            "questions": [{"id": "q1", "title": attack, "prompts": [attack], "subgroups": {"count": 1}}],
        }
    )
    html = kit_html(folder)
    assert "&lt;link rel=&#34;attachment&#34;" in html
    assert "<link rel=\"attachment\"" not in html and "<img" not in html


def _escaped(text: str) -> str:
    """How the template prints a value: French typography, then HTML escaping."""
    return str(escape(french(text)))
