"""An atelier full of hostile-but-valid text: what participants really type on phones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import contribution, participant, write_atelier

LONG_URL = "https://www.example.org/territoires/dossier_transition-agroecologique/2016/06/compte-rendu-atelier-moulins.pdf?version=2&lang=fr"
UNBROKEN = "9" * 58 + "AZERTY" * 320  # a pasted run with no space at all, 2,000 characters
EMOJI = "Jardin partagé 🌱 ouvert à tous 👩🏽‍🌾 (drapeau 🇫🇷, cœur ❤️, main 👍🏿)"
ARABIC = "نريد سوقاً محلياً للمنتجين في وسط المدينة كل يوم سبت"
HEBREW = "אנחנו רוצים שוק מקומי ליצרנים במרכז העיר"
GREEK = "Η τοπική αγορά είναι ανοιχτή σε όλους τους παραγωγούς"
MATH = "Si ∀x ∈ ℝ, ∑ xᵢ ≤ ∫ f(t) dt ≈ √2 × π ≠ ∞ alors ⟹ ∅ ⊂ ℕ"
UNDRAWN = "ⵣ"  # TIFINAGH LETTER YAZ: no project font draws it
LONG_COMPOUND = "socio-économiques"
TITLE_300 = (
    "Comment les acteurs socio-économiques du territoire, les collectivités, les associations "
    "d’habitants et les chercheurs peuvent-ils construire ensemble, dans la durée et au-delà des "
    "appels à projets successifs, une stratégie partagée de transition agroécologique et "
    "alimentaire réellement ancrée localement ?"
)
assert len(TITLE_300) >= 300, len(TITLE_300)

HOSTILE_TEXTS = (LONG_URL, EMOJI, ARABIC, HEBREW, GREEK, MATH)


def hostile_workshop() -> dict[str, Any]:
    return {
        "platform": "Plateforme 🌍 « Dynamiques territoriales » — منصة",
        "title": "Atelier 🌱 des transitions : עברית, العربية, Ελληνικά et ∑ des idées",
        "place": "Salle polyvalente de Saint-Pourçain-sur-Sioule — قاعة",
        "questions": [
            {
                "id": "q1",
                "title": TITLE_300,
                "prompts": [f"Voir {LONG_URL}", EMOJI, ARABIC],
                "subgroups": {
                    "count": 2,
                    "objective": "Recueillir les pratiques puis identifier freins et moteurs.",
                    "times": [
                        {"label": "Temps 1", "title": "État des lieux de vos pratiques", "text": "Est-ce que vous " + UNBROKEN[:300]},
                        {
                            "label": "Temps 2",
                            "title": "Comment faire autrement ?",
                            "targets": [{"section": "driver", "min": 3, "max": 5}, {"section": "brake", "min": 3, "max": 5}],
                        },
                    ],
                },
            },
            {"id": "q2", "title": f"{HEBREW} ? {GREEK} ?", "subgroups": {"count": 1}},
        ],
    }


def hostile_contributions() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(row_id: str, **fields: Any) -> None:
        rows.append(contribution(row_id, position=len(rows) + 1, **fields))

    texts = [
        f"Un lien collé depuis le téléphone : {LONG_URL}",
        UNBROKEN,
        EMOJI,
        ARABIC,
        HEBREW,
        f"{GREEK} ; {MATH}",
        f"Un caractère qu’aucune police ne dessine : {UNDRAWN}",
        f"Les acteurs {LONG_COMPOUND} et les enjeux médico-sociaux du changement climatique",
    ]
    for i, text in enumerate(texts, start=1):
        add(f"b{i}", text=text)
    add("b1a", parent="b1", text=f"Précision : {LONG_URL}", link=LONG_URL)
    sheet = {"question": "q1", "phase": "sous-groupe", "group": 1}
    for i, text in enumerate(texts, start=1):
        add(f"sp{i}", section="practice", text=text, **sheet)
        add(f"sr{i}", section="reflection", text=text[::-1] if i == 2 else text, **sheet)
    for i in range(1, 61):  # sixty points in one rubric
        add(f"d{i}", section="driver", text=f"Moteur n° {i} : {texts[i % len(texts)][:180]}", **sheet)
    add("k1", section="brake", text=f"{LONG_URL} {LONG_URL}", **sheet)
    add("a1", section="aside", text=f"Encadré {EMOJI}", link=LONG_URL, **sheet)
    add("q2b1", question="q2", text=f"{HEBREW} {MATH}")
    add("q2s1", question="q2", phase="sous-groupe", group=1, section="brake", text=ARABIC)
    return rows


def hostile_participants() -> list[dict[str, Any]]:
    return [
        participant("p1", name="Yasmina Benali — ياسمينة", organisation="Association 🌱 des jardins partagés de l’agglomération moulinoise"),
        participant("p2", name="Noa Levi — נועה", organisation=UNBROKEN[:160], role="chercheur"),
        participant("p3", name="Ελένη Παπαδοπούλου", organisation="Πανεπιστήμιο", role="elu"),
    ]


def write_hostile_atelier(folder: Path) -> Path:
    return write_atelier(folder, workshop=hostile_workshop(), participants=hostile_participants(), contributions=hostile_contributions())
