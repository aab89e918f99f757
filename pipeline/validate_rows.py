"""The rules that span columns or rows of an atelier's tables: dates, texts, the atelier's vocabulary, nesting, votes, actions."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Iterator

from pipeline import schemas, textrules
from pipeline.problems import Problem
from pipeline.tables import Table
from pipeline.workshop import WORKSHOP_FILE, AtelierError, Workshop, atelier_name, read_workshop_yaml, workshop_from_data

# A point may be written up to a year before the day (preparation) and not in the future.
EARLIEST_BEFORE_DAY = dt.timedelta(days=366)
CLOCK_SKEW = dt.timedelta(days=1)


def table_rows(table: Table | None) -> Iterator[tuple[int, dict[str, str]]]:
    """(starting line, row) of a table; one that could not be read yields nothing (its problem is said)."""
    return table.rows() if table is not None else iter(())


def _timestamp(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _check_dates(
    path: str, line: int, row: dict[str, str], day: dt.date | None, now: dt.datetime, problems: list[Problem]
) -> None:
    created = _timestamp(row.get("created_at", ""))
    if created is None:
        return  # a type error, already reported by frictionless
    if created > now + CLOCK_SKEW:
        problems.append(Problem(path, line, "created_at", f"{row['created_at']} est dans le futur ; vérifiez l'horloge ou la saisie."))
    elif day and created.date() < day - EARLIEST_BEFORE_DAY:
        problems.append(
            Problem(path, line, "created_at", f"{row['created_at']} précède de plus d'un an l'atelier du {day.isoformat()} ; vérifiez la date.")
        )
    updated = _timestamp(row.get("updated_at", ""))
    if updated is not None and updated < created:
        problems.append(
            Problem(path, line, "updated_at", f"{row['updated_at']} précède la création du point ({row['created_at']}).")
        )


def _check_texts(
    path: str, line: int, resource: str, row: dict[str, str], problems: list[Problem]
) -> None:
    """The rules frictionless cannot express (pipeline.textrules), in the form's and the store's words.

    The characters of every free text, and date-times written in UTC with
    « Z »: frictionless reads « +02:00 » as a valid datetime, the store
    refuses it.  An empty cell is left to frictionless's `required`.
    """
    for name in _cell_rule_fields(resource):
        text = row.get(name) or ""
        violation = textrules.check_cell(resource, name, text) if text else None
        if violation is not None:
            problems.append(Problem(path, line, name, violation.message))


@cache
def _cell_rule_fields(resource: str) -> tuple[str, ...]:
    """The free text columns (a pattern or an enum already keeps every invisible character out of the others) and the date-times."""
    return tuple(
        f["name"]
        for f in schemas.table_schema(resource)["fields"]
        if f.get("type", "string") == "datetime"
        or (f.get("type", "string") == "string" and not {"pattern", "enum"} & set(f.get("constraints", {})))
    )


def check_participants(table: Table | None, day: dt.date | None, now: dt.datetime, problems: list[Problem]) -> None:
    for line, row in table_rows(table):
        _check_dates(table.file if table else "", line, row, day, now, problems)
        _check_texts(table.file if table else "", line, "participants", row, problems)


def check_contributions(
    table: Table | None, workshop: Workshop | None, day: dt.date | None, now: dt.datetime, problems: list[Problem]
) -> None:
    """Rules that span columns or rows: the atelier's vocabulary, nesting, dates."""
    name = table.file if table else ""
    nodes: dict[str, tuple[int, str, str, str, str, str]] = {}  # id → line, question, phase, group, section, parent
    for line, row in table_rows(table):
        question, phase, group, section = (row.get(k, "") for k in ("question", "phase", "group", "section"))
        found = workshop.column_problem(question, phase, group, section) if workshop and question and phase and section else None
        if found:
            problems.append(Problem(name, line, found[0], found[1]))
        _check_dates(name, line, row, day, now, problems)
        _check_texts(name, line, "contributions", row, problems)
        if row.get("id"):
            nodes.setdefault(row["id"], (line, question, phase, group, section, row.get("parent", "")))
    _check_nesting(name, nodes, workshop, problems)


def workshop_of(folder: Path) -> Workshop | None:
    try:
        return workshop_from_data(atelier_name(folder), read_workshop_yaml(folder / WORKSHOP_FILE))
    except (AtelierError, KeyError, TypeError, ValueError, AttributeError):
        return None


def check_votes(
    table: Table | None, contributions: Table | None, workshop: Workshop, day: dt.date | None, now: dt.datetime,
    problems: list[Problem],
) -> None:
    """votes.csv: each line names a vote phase, its ballots stay within the rule, its points exist."""
    from pipeline.votes import parse_choices, repeated_points

    name = table.file if table else ""
    points = {row.get("id", ""): row for _line, row in table_rows(contributions)}
    votes = {p.id: p for p in workshop.phases if p.kind == "vote"}
    for line, row in table_rows(table):
        _check_dates(name, line, row, day, now, problems)
        _check_texts(name, line, "votes", row, problems)
        phase = votes.get(row.get("phase", ""))
        if phase is None or phase.vote is None:
            problems.append(Problem(name, line, "phase", f"« {row.get('phase', '')} » n'est pas un temps de vote d'atelier.yaml (votes : {', '.join(votes) or 'aucun'})."))
            continue
        event = row.get("event", "")
        needs_ballot = event in ("ballot", "void")
        if needs_ballot != bool(row.get("ballot")):
            problems.append(Problem(name, line, "ballot", "un bulletin est nommé pour « ballot » et « void », et seulement pour eux." if needs_ballot else f"pas de bulletin pour un événement « {event} » ; laissez ce champ vide."))
        if (event == "merge") != bool(row.get("point") and row.get("into")):
            problems.append(Problem(name, line, "into", "« point » et « into » sont remplis pour un événement « merge », et seulement pour lui."))
        for key in ("point", "into"):
            if row.get(key) and row[key] not in points:
                problems.append(Problem(name, line, key, f"le point « {row[key]} » n'existe pas dans contributions.csv."))
        choices = parse_choices(row.get("choices", ""))
        for point in repeated_points(row.get("choices", "")):
            problems.append(Problem(name, line, "choices", f"le point « {point} » est nommé plusieurs fois ; "
                                    f"nommez chaque point une seule fois, avec toutes ses gommettes (« {point}={choices.get(point, 0)} »)."))
        if choices and event not in ("ballot", "paper"):
            problems.append(Problem(name, line, "choices", f"pas de gommettes pour un événement « {event} » ; laissez ce champ vide."))
        for point in choices:
            found = points.get(point)
            if found is None:
                problems.append(Problem(name, line, "choices", f"le point « {point} » n'existe pas dans contributions.csv."))
            elif not phase.vote.covers(found.get("phase", ""), found.get("section", "")):
                problems.append(Problem(name, line, "choices", f"le point « {point} » (temps « {found.get('phase')} », rubrique « {found.get('section')} ») n'est pas soumis à ce vote."))
        if event == "ballot":
            total = sum(choices.values())
            if total > phase.vote.gommettes:
                problems.append(Problem(name, line, "choices", f"{total} gommettes sur ce bulletin, pour {phase.vote.gommettes} par personne."))
            if not phase.vote.several and any(v > 1 for v in choices.values()):
                problems.append(Problem(name, line, "choices", "plus d'une gommette sur un point, alors que ce vote n'en permet qu'une (« several: false »)."))


def check_actions(
    table: Table | None, contributions: Table | None, workshop: Workshop, day: dt.date | None, now: dt.datetime,
    problems: list[Problem],
) -> None:
    """actions.csv: each action belongs to an action-plan phase and comes from points that exist."""
    name = table.file if table else ""
    points = {row.get("id", "") for _line, row in table_rows(contributions)}
    plans = [p.id for p in workshop.phases if p.kind == "actions"]
    for line, row in table_rows(table):
        _check_dates(name, line, row, day, now, problems)
        _check_texts(name, line, "actions", row, problems)
        if row.get("phase", "") not in plans:
            problems.append(Problem(name, line, "phase", f"« {row.get('phase', '')} » n'est pas un temps « plan d'actions » d'atelier.yaml (temps : {', '.join(plans) or 'aucun'})."))
        if row.get("group") and workshop.group(row["group"]) is None:
            problems.append(Problem(name, line, "group", f"le groupe « {row['group']} » n'est pas déclaré dans atelier.yaml (groupes : {', '.join(g.id for g in workshop.groups) or 'aucun'})."))
        for point in (row.get("points") or "").split():
            if point not in points:
                problems.append(Problem(name, line, "points", f"le point « {point} » n'existe pas dans contributions.csv."))


def _check_nesting(
    name: str, nodes: dict[str, tuple[int, str, str, str, str, str]], workshop: Workshop | None, problems: list[Problem]
) -> None:
    """A child shares its parent's column; no cycles; depth bounded by MAX_DEPTH."""
    depth: dict[str, int] = {}
    for node_id, (line, question, phase, group, section, parent) in nodes.items():
        if not parent or parent not in nodes:
            continue  # no parent, or a missing one (frictionless reports the foreign key)
        p_line, *p_column, _ = nodes[parent]
        if (question, phase, group, section) != tuple(p_column):
            problems.append(
                Problem(
                    name, line, "parent",
                    f"le point parent « {parent} » (ligne {p_line}) est dans une autre colonne "
                    f"({_column(workshop, *p_column)}) que ce point ({_column(workshop, question, phase, group, section)}) ; "
                    "un point s'emboîte dans un point de la même question, du même temps, du même groupe et de la même rubrique.",
                )
            )
    for start in nodes:
        if start in depth:
            continue
        chain: list[str] = []
        on_chain: set[str] = set()
        current: str | None = start
        while current and current in nodes and current not in depth and current not in on_chain:
            chain.append(current)
            on_chain.add(current)
            parent = nodes[current][5]
            current = parent if parent in nodes else None
        if current in on_chain:  # a cycle: report it once, on its first line
            cycle = chain[chain.index(current):]
            first = min(cycle, key=lambda i: nodes[i][0])
            loop = " → ".join(cycle + [cycle[0]])
            problems.append(Problem(name, nodes[first][0], "parent", f"les points forment une boucle ({loop}) ; un point ne peut pas descendre de lui-même."))
            for i in cycle:
                depth[i] = 0
            chain = chain[: chain.index(current)]
            base = 1  # what leads into the loop hangs under it
        else:
            base = depth[current] + 1 if current in depth else 0
        for i in reversed(chain):
            depth[i] = base
            if base >= schemas.MAX_DEPTH:
                problems.append(
                    Problem(
                        name, nodes[i][0], "parent",
                        f"ce point est au niveau {base + 1} d'emboîtement ; {schemas.MAX_DEPTH} niveaux au plus sont permis.",
                    )
                )
            base += 1


def _column(workshop: Workshop | None, question: str, phase: str, group: str, section: str) -> str:
    where = f"{question}, {phase}"
    if group:
        where += f", {workshop.group_label(group) if workshop else group}"
    found = workshop.phase(phase) if workshop else None
    rubric = found.rubric(section) if found else None
    return f"{where}, {rubric.label.lower() if rubric else section}"
