"""click's own words (help, usage errors) in French: the one place where the `atelier` command's framing is translated.

click marks its messages for gettext (`_()` and `ngettext()` in each of its
modules) but ships no French catalog; `install()` gives those modules a
translation that looks the English text up in FRENCH below and keeps it when
it is unknown (a new click message stays readable, never breaks).  The
French texts take the same `{placeholders}` as click's, so click's own
`.format(...)` fills them.
"""

from __future__ import annotations

import importlib

import click

FRENCH = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Show this message and exit.": "Affiche cette aide et s'arrête.",
    "Show the version and exit.": "Affiche la version et s'arrête.",
    "required": "obligatoire",
    "default: {default}": "par défaut : {default}",
    "env var: {var}": "variable d'environnement : {var}",
    "deprecated": "obsolète",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "« {command} {option} » décrit la commande.",
    "Aborted!": "Interrompu.",
    "Missing command.": "il manque la commande ; « atelier -h » les liste.",
    "No such command {name!r}.": "« {name} » n'est pas une commande d'atelier ; « atelier -h » les liste.",
    "No such option {name!r}.": "l'option « {name} » n'existe pas.",
    "No such option: {name}": "l'option « {name} » n'existe pas.",
    "Did you mean {possibility}?": "Vouliez-vous dire {possibility} ?",
    "(Did you mean one of: {possibilities}?)": "(vouliez-vous dire : {possibilities} ?)",
    "Option {name!r} does not take a value.": "l'option « {name} » ne prend pas de valeur.",
    "Option {name!r} requires an argument.": "l'option « {name} » demande une valeur.",
    "Option {name!r} requires {nargs} arguments.": "l'option « {name} » demande {nargs} valeurs.",
    "Got unexpected extra argument ({args})": "argument en trop : {args}.",
    "Got unexpected extra arguments ({args})": "arguments en trop : {args}.",
    "Missing argument": "il manque l'argument",
    "Missing option": "il manque l'option",
    "Missing parameter": "il manque le paramètre",
    "Missing {param_type}": "il manque {param_type}",
    "Missing parameter: {param_name}": "il manque le paramètre {param_name}.",
    "argument": "l'argument",
    "option": "l'option",
    "parameter": "le paramètre",
    "Invalid value: {message}": "valeur refusée : {message}",
    "Invalid value for {param_hint}: {message}": "valeur refusée pour {param_hint} : {message}",
    "{value!r} is not {choice}.": "« {value} » n'est pas possible ; valeur possible : {choice}.",
    "{value!r} is not one of {choices}.": "« {value} » n'est pas possible ; valeurs possibles : {choices}.",
    "{value!r} does not match the format {format}.": "« {value} » n'est pas une date du calendrier écrite AAAA-MM-JJ, par exemple 2026-06-30.",
    "{value!r} does not match the formats {formats}.": "« {value} » n'est pas une date du calendrier écrite AAAA-MM-JJ, par exemple 2026-06-30.",
    "{value!r} is not a valid {number_type}.": "« {value} » n'est pas un nombre entier.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle permis ({range}).",
    "{value!r} is not a valid boolean. Recognized values: {states}": "« {value} » n'est ni oui ni non ({states}).",
    "{name} {filename!r} does not exist.": "{name} « {filename} » n'existe pas.",
    "{name} {filename!r} is a directory.": "{name} « {filename} » est un dossier, pas un fichier.",
    "{name} {filename!r} is a file.": "{name} « {filename} » est un fichier, pas un dossier.",
    "{name} {filename!r} is not readable.": "{name} « {filename} » ne peut pas être lu (droits).",
    "{name} {filename!r} is not writable.": "{name} « {filename} » ne peut pas être écrit (droits).",
    "{name} {filename!r} is not executable.": "{name} « {filename} » n'est pas exécutable.",
    "Could not open file {filename!r}: {message}": "le fichier « {filename} » ne s'ouvre pas : {message}",
    "file": "le fichier",
    "directory": "le dossier",
    "path": "le chemin",
    "Takes {nargs} values but 1 was given.": "demande {nargs} valeurs, une seule est donnée.",
    "Takes {nargs} values but {len} were given.": "demande {nargs} valeurs, {len} sont données.",
    "Argument {name!r} takes {nargs} values.": "l'argument « {name} » demande {nargs} valeurs.",
    "unknown error": "erreur inconnue",
}

_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui", "utils")


def gettext(message: str) -> str:
    """click's message in French, or as it is when FRENCH does not know it."""
    return FRENCH.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """click's singular or plural message in French."""
    return gettext(singular if count == 1 else plural)


class FrenchHelp(click.HelpFormatter):
    """Help pages with French headings: « Options : », « Commandes : »."""

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading} :\n")


def install() -> None:
    """Make every click module speak French (idempotent)."""
    click.Context.formatter_class = FrenchHelp
    for name in _MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
