"""Participant pages: ateliers, émargement, idées, fiches de sous-groupe, receipts and corrections, the vote.

The views only parse the request, call `pipeline.participation` (or
`pipeline.votes`, `pipeline.actions`) and render.  One module per family of
pages: `contributing` (émargement, idées, fiches), `corrections` (receipt,
correct, withdraw), `ballots` (vote with gommettes), `proposals` (an action
proposed by a group); `page`, `forms` and `sending` are what they share.
"""

from __future__ import annotations

from flask import Blueprint

bp: Blueprint = Blueprint("participant", __name__, template_folder="templates")

# The pages register themselves on `bp` when imported.
from webform.participant import ballots, contributing, corrections, proposals  # noqa: E402,F401
from webform.participant.ballots import ballot_id  # noqa: E402,F401  (tests name a ballot by its token)
