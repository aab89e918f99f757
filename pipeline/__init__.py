"""atelier's library: load, validate, store, compose, render and release an atelier's data."""

from pipeline.workshop import Atelier, AtelierError, Contribution, Participant, Point, Question, Workshop, load_atelier

__all__ = [
    "Atelier",
    "AtelierError",
    "Contribution",
    "Participant",
    "Point",
    "Question",
    "Workshop",
    "load_atelier",
]
