"""The `atelier` command: parses arguments and calls the library; nothing else."""

from __future__ import annotations

import datetime as dt
import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import click

from pipeline import cli_french, clock
from pipeline.french import fr, fr_quoting, plural
from pipeline.workshop import TABLE_FILES, AtelierError, own_file

if TYPE_CHECKING:  # the renderer (WeasyPrint) is imported only by the commands that print
    from pipeline.render import InvalidAtelier

cli_french.install()

DATA_DIR = Path("data")


def echo(message: object = "", err: bool = False) -> None:
    """Print one line of the `atelier` command, in French typography (`french.fr`: no-break spaces inside
    « », narrow ones before ; : ! ?), whoever wrote its parts: every line the command prints goes here.

    What stands between guillemets (a cell's value, a name the person typed) is printed byte for byte:
    only the spaces that frame it become no-break spaces, so it can be searched in the file."""
    click.echo(fr_quoting(str(message)), err=err)


class FrenchCommand(click.Command):
    """A command whose help (`-h`) is set in French typography, as its other lines (`echo`)."""

    def get_help(self, ctx: click.Context) -> str:
        return fr(super().get_help(ctx))


class Failure(click.ClickException):
    """A French error for the organiser: « Erreur : … » on stderr, exit code 1."""

    def show(self, file: object = None) -> None:
        echo(f"Erreur : {self.format_message()}", err=True)


def invalid(error: InvalidAtelier, nothing: str) -> Failure:
    """An invalid atelier: its problems on stderr, one a line, then « DIR : N problèmes ; `nothing` »."""
    for problem in error.problems:
        echo(str(problem), err=True)
    return Failure(f"{error.folder} : {plural(len(error.problems), 'problème')} ; {nothing}.")


class Commands(click.Group):
    """The `atelier` group: whatever a command lets through of the library's errors becomes a French line.

    The library raises AtelierError (a French sentence naming file and line);
    the system raises OSError (a file that cannot be written).  No traceback
    reaches an organiser.
    """

    command_class = FrenchCommand
    group_class = type  # a sub-group (atelier vote) is a Commands too: its help is set the same way

    def get_help(self, ctx: click.Context) -> str:
        return fr(super().get_help(ctx))

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's own error lines (« Usage: … Error: … ») in French: « Erreur : … », exit code 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as e:
            hint = f" (« {e.ctx.command_path} -h » décrit la commande)" if e.ctx is not None else ""
            # Our own refusals are French sentences; click's « Invalid value for … » prefix is not.
            own = isinstance(e, click.BadParameter) and not isinstance(e, click.MissingParameter)
            message = e.message if own else e.format_message()
            echo(f"Erreur : {message}{hint}", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except click.Abort:
            echo("Interrompu.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AtelierError as e:
            raise Failure(str(e)) from None
        except OSError as e:
            where = f"{e.filename} : " if e.filename else ""
            said = SYSTEM_ERRORS.get(e.errno or 0, "le système a refusé l'opération")
            raise Failure(f"{where}{said} ; rien n'a été écrit de plus.") from None


# What the system says when a file cannot be read or written, in French (the strerror is English).
SYSTEM_ERRORS = {
    errno.ENOENT: "ce fichier ou son dossier n'existe pas",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.EACCES: "accès refusé (droits du fichier ou du dossier)",
    errno.EPERM: "opération interdite (droits du fichier ou du dossier)",
    errno.EROFS: "le disque est en lecture seule",
    errno.ENOSPC: "le disque est plein",
    errno.EEXIST: "ce fichier existe déjà",
}


class Folder(click.ParamType):
    """An existing folder, refused with a French message (exit code 2)."""

    name = "DOSSIER"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(str(value))
        if path.is_file():
            self.fail(f"« {value} » est un fichier ; indiquez le dossier de l'atelier, « {path.parent} ».", param, ctx)
        if not path.is_dir():
            self.fail(f"le dossier « {value} » n'existe pas.", param, ctx)
        return path


EXISTING_DIR = Folder()


class Output(click.ParamType):
    """A file a command writes (-o, --html): never one of an atelier's own files, nor a folder.

    Refusals (exit code 2): « « participants.csv » est un fichier de l'atelier : … choisissez un autre nom »,
    « « x » est un dossier : … », « « x » est un fichier, pas un dossier : … ».
    """

    name = "FICHIER"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(str(value))
        if own_file(path):
            self.fail(
                f"« {value} » est un fichier de l'atelier : l'écrire effacerait ses données ; "
                "choisissez un autre nom, hors du dossier de l'atelier par exemple.",
                param,
                ctx,
            )
        if path.is_dir():
            self.fail(f"« {value} » est un dossier ; indiquez le fichier à écrire, par exemple « {path / 'sortie'}{path.suffix} ».", param, ctx)
        if path.resolve().parent.is_file():
            self.fail(f"« {path.parent} » est un fichier, pas un dossier ; choisissez un autre chemin.", param, ctx)
        return path  # a missing folder is created, as build and kit always did


OUTPUT = Output()


def shown(folder: Path) -> Path:
    """How messages name a folder: as given, or by its real path when given as `.` or `..`."""
    return folder.resolve() if folder.name in ("", "..") else folder


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="atelier", message="atelier %(version)s")
def main() -> None:
    """atelier : du formulaire d'un atelier participatif à son compte-rendu PDF."""


@main.command()
@click.argument("folders", nargs=-1, type=EXISTING_DIR)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github"]),
    default="text",
    show_default=True,
    help="text : une ligne par problème ; github : annotations ::error pour GitHub Actions.",
)
def validate(folders: tuple[Path, ...], output_format: str) -> None:
    """Valide les dossiers d'atelier (par défaut, tous ceux de data/).

    Code de sortie : 0 valide, 1 invalide, 2 erreur d'utilisation.
    """
    from pipeline.validate import font_warnings, people_warnings, validate_atelier

    if not folders:
        folders = tuple(sorted(p.parent for p in DATA_DIR.glob("*/atelier.yaml")))
        if not folders:
            raise click.UsageError("aucun dossier d'atelier dans data/ ; indiquez le dossier à valider.")
    invalid = 0
    for folder in folders:
        problems = validate_atelier(folder)
        cautions = people_warnings(folder) + font_warnings(folder)
        if output_format == "github":
            # GitHub shows at most 10 error and 10 warning annotations per step; the full list follows as text.
            for problem in problems[:10] + cautions[:10]:
                click.echo(problem.github())  # machine-read by GitHub: the file name and the text byte for byte
        for problem in problems:
            echo(str(problem), err=output_format == "github")
        for caution in cautions:
            echo(f"Avertissement : {caution}", err=True)
        if problems:
            invalid += 1
            echo(f"{shown(folder)} : {plural(len(problems), 'problème')}.", err=True)
        else:
            echo(f"{shown(folder)} : valide.")
    sys.exit(1 if invalid else 0)


@main.command()
@click.argument("slug")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DATA_DIR,
    show_default=True,
    help="Dossier qui contient les ateliers.",
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Jour de l'atelier (AAAA-MM-JJ) ; par défaut aujourd'hui.",
)
@click.option(
    "--format",
    "format_name",
    default="moulins",
    show_default=True,
    help="Format prêt à l'emploi dont partir (temps, rubriques, groupes) ; « atelier formats » les liste.",
)
def new(slug: str, data_dir: Path, day: dt.datetime | None, format_name: str) -> None:
    """Crée le dossier d'un nouvel atelier, valide et ouvert, à partir d'un format prêt à l'emploi commenté."""
    from pipeline.scaffold import new_atelier

    try:
        folder = new_atelier(data_dir, slug, (day or clock.now().astimezone()).date(), format_name)
    except AtelierError as e:
        raise Failure(str(e)) from None
    echo(f"Atelier créé dans {folder}/ : modifiez {folder}/atelier.yaml puis lancez « atelier validate {folder} ».")


@main.command()
def formats() -> None:
    """Liste les formats prêts à l'emploi d'« atelier new --format », un par ligne."""
    from pipeline.scaffold import ready_formats

    found = ready_formats()
    width = max(len(f.name) for f in found)
    for f in found:
        echo(f"{f.name.ljust(width)}  {f.summary}")


@main.command()
@click.argument("folder", type=EXISTING_DIR)
def summary(folder: Path) -> None:
    """Affiche le résumé d'un atelier : questions et nombre de points par colonne."""
    from pipeline.summary import summarize
    from pipeline.workshop import load_atelier

    try:
        echo(summarize(load_atelier(folder)))
    except AtelierError as e:
        raise Failure(str(e)) from None


@main.command()
@click.argument("folders", nargs=-1, required=True, type=EXISTING_DIR)
def datapackage(folders: tuple[Path, ...]) -> None:
    """Régénère datapackage.json à partir des schémas du projet (schemas/)."""
    from pipeline.workshop import write_datapackage

    for folder in folders:
        echo(f"{write_datapackage(folder)} : régénéré.")


@main.command()
@click.argument("folders", nargs=-1, required=True, type=EXISTING_DIR)
def normalize(folders: tuple[Path, ...]) -> None:
    """Réenregistre participants.csv et contributions.csv comme atelier les écrit (après un tableur).

    Lit un fichier en UTF-8 avec BOM ou en Windows-1252, séparé par « ; », des
    tabulations ou des virgules, en fins de ligne Windows ; l'écrit en UTF-8,
    séparé par des virgules, sans ses lignes vides, VRAI/FAUX/oui/non écrits
    true/false et une qualité accentuée (« élue ») écrite comme le schéma (elu). Les colonnes sont reprises par leur nom : une
    colonne renommée ou en trop est refusée, sans rien écrire.
    """
    from pipeline.tables import normalize as rewrite

    for folder in folders:
        changed = rewrite(folder)
        for path in changed:
            echo(f"{path} : réenregistré.")
        if not changed:
            echo(f"{folder} : rien à changer.")


@main.command("export")
@click.argument("folder", type=EXISTING_DIR)
@click.option(
    "-o",
    "--output",
    "out",
    type=OUTPUT,
    required=True,
    help="Fichier à écrire ; son extension choisit le format : .zip (paquet de données complet), "
    ".xlsx (classeur, une feuille par table) ou .csv (une table, pour un tableur).",
)
@click.option(
    "--table",
    type=click.Choice(list(TABLE_FILES)),  # every table of an atelier, as the web exports
    default="contributions",
    show_default=True,
    help="Table à exporter au format .csv.",
)
def export_command(folder: Path, out: Path, table: str) -> None:
    """Exporte les données d'un atelier pour ses organisateurs (les formules sont neutralisées pour les tableurs)."""
    from pipeline import export

    makers = {
        ".zip": lambda: export.export_zip(folder),
        ".xlsx": lambda: export.export_xlsx(folder),
        ".csv": lambda: export.export_spreadsheet_csv(folder, table),
    }
    make = makers.get(out.suffix.lower())
    if make is None:
        raise click.BadParameter(
            f"« {out.name} » : extension inconnue ; choisissez .zip, .xlsx ou .csv.", param_hint="--output"
        )
    try:
        data = make()
        out.parent.mkdir(parents=True, exist_ok=True)  # as build and kit do
        out.write_bytes(data)
    except AtelierError as e:
        raise Failure(str(e)) from None
    echo(f"{out} : écrit.")


# ---- atelier serve (web form) --------------------------------------------


@main.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DATA_DIR,
    show_default=True,
    help="Dossier qui contient les ateliers servis par le formulaire.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute (127.0.0.1 : cette machine seule).")
@click.option("--port", default=5000, type=click.IntRange(1, 65535), show_default=True, help="Port d'écoute.")
def serve(data_dir: Path, host: str, port: int) -> None:
    """Sert le formulaire des participants, pour un usage local (un seul processus).

    En production, utilisez gunicorn derrière un proxy inverse (voir le README).
    """
    import os
    import secrets

    from werkzeug.serving import run_simple

    from webform import ConfigurationError, create_app

    config = {"DATA_DIR": str(data_dir.resolve())}
    if not os.environ.get("FLASK_SECRET_KEY"):
        # One process signs and checks every token: a key per run is enough here.
        config["SECRET_KEY"] = secrets.token_urlsafe(32)
    code = None
    if not os.environ.get("FLASK_FACILITATOR_SECRET"):
        code = config["FACILITATOR_SECRET"] = secrets.token_urlsafe(12)  # shown below, valid for this run
    try:
        app = create_app(config)
    except ConfigurationError as e:
        raise Failure(str(e)) from None
    echo(f"Formulaire des participants : http://{host}:{port}/ (Ctrl+C pour arrêter)")
    from pipeline.workshop import SLUG, slug_problem

    for slug in sorted(p.parent.name for p in data_dir.glob("*/atelier.yaml")):
        if SLUG.fullmatch(slug):
            echo(f"Animation de {slug} : http://{host}:{port}/{slug}/animation/")
        else:
            echo(f"Avertissement : {slug_problem(slug, data_dir / slug)} Il n'est pas servi.", err=True)
    if code:
        echo(f"Code d'animation de cette session : {code}")
    run_simple(host, port, app, threaded=True)


# ---- atelier build (compte-rendu) ------------------------------------------


@main.command()
@click.argument("folder", type=EXISTING_DIR)
@click.option(
    "-o",
    "--output",
    "out",
    type=OUTPUT,
    required=True,
    help="Fichier PDF à écrire (PDF/A-3b, données de l'atelier jointes).",
)
@click.option(
    "--html",
    "html_out",
    type=OUTPUT,
    default=None,
    help="Écrit aussi la page HTML mise en page, pour la relire.",
)
@click.option("--draft", is_flag=True, help="Ajoute le filigrane « PROJET — document de travail » sur chaque page.")
def build(folder: Path, out: Path, html_out: Path | None, draft: bool) -> None:
    """Compose le compte-rendu d'un atelier en PDF (et en HTML avec --html).

    Les données sont d'abord validées : un atelier invalide ne produit pas de PDF.
    """
    from pipeline.render import InvalidAtelier, build_pdf, load_valid

    try:
        path = build_pdf(load_valid(folder), out, draft=draft, html_out=html_out)
    except InvalidAtelier as e:
        raise invalid(e, "le compte-rendu n'a pas été produit") from None
    except AtelierError as e:
        raise Failure(str(e)) from None
    echo(f"Compte-rendu écrit dans {path}")
    if html_out:
        echo(f"Page HTML écrite dans {html_out}")


@main.command()
@click.argument("folder", type=EXISTING_DIR)
@click.option(
    "-o",
    "--output",
    "out",
    type=OUTPUT,
    required=True,
    help="Fichier PDF du kit à écrire (A4, à imprimer).",
)
@click.option(
    "--url",
    default=None,
    metavar="URL",
    help="Adresse du formulaire de l'atelier (http:// ou https://), imprimée en QR code sur la couverture et la liste d'émargement.",
)
@click.option(
    "--attendees",
    type=click.IntRange(min=0, max=2000),
    default=None,
    help="Nombre de personnes attendues, pour les lignes d'émargement ; par défaut 8 par groupe de la question qui en compte le plus.",
)
@click.option(
    "--html",
    "html_out",
    type=OUTPUT,
    default=None,
    help="Écrit aussi la page HTML du kit, pour la relire.",
)
def kit(folder: Path, out: Path, url: str | None, attendees: int | None, html_out: Path | None) -> None:
    """Imprime le kit d'animation : affiches des questions, consignes, une grille par groupe, post-it et liste d'émargement.

    L'atelier est d'abord validé : un atelier invalide ne produit pas de kit.
    """
    from pipeline.kit import build_kit
    from pipeline.render import InvalidAtelier, load_valid

    try:
        atelier = load_valid(folder)
    except InvalidAtelier as e:
        raise invalid(e, "le kit n'a pas été imprimé") from None
    except AtelierError as e:
        raise Failure(str(e)) from None
    if url is None:
        echo("Attention : pas d'adresse de formulaire (--url) ; le kit est imprimé sans QR code.", err=True)
    try:
        path = build_kit(atelier, out, url=url, attendees=attendees, html_out=html_out)
    except AtelierError as e:
        raise Failure(str(e)) from None
    echo(f"Kit d'animation écrit dans {path}")
    if html_out:
        echo(f"Page HTML écrite dans {html_out}")


# ---------------------------------------------------------------- review, release, verify, sync
# (pull-request review of data changes and the versioned release of the compte-rendu)


def _repo_and_data(data_dir: Path) -> tuple[Path, str]:
    """The git repository around `data_dir`, and `data_dir` relative to its top."""
    from pipeline.history import repo_root

    folder = data_dir.resolve()
    repo = repo_root(folder if folder.exists() else Path.cwd())
    try:
        return repo, folder.relative_to(repo).as_posix()
    except ValueError:
        raise AtelierError(f"{data_dir} n'est pas dans le dépôt git {repo}.") from None


@main.command()
@click.option("--base", required=True, help="Révision git de référence (par exemple origin/main).")
@click.option(
    "--head",
    default=None,
    help="Révision git proposée ; par défaut l'arbre de travail (fichiers sur le disque, validés ou non).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DATA_DIR,
    show_default=True,
    help="Dossier des ateliers, dans le dépôt.",
)
@click.option(
    "-o",
    "--output",
    type=OUTPUT,
    default=None,
    help="Écrit le résumé dans ce fichier au lieu de la sortie standard.",
)
@click.option(
    "--fail-on-invalid",
    is_flag=True,
    help="Code de sortie 1 si les données proposées sont invalides (le résumé est produit quand même).",
)
@click.option(
    "--list",
    "list_only",
    is_flag=True,
    help="Affiche seulement les ateliers modifiés, un par ligne.",
)
def review(
    base: str, head: str | None, data_dir: Path, output: Path | None, fail_on_invalid: bool, list_only: bool
) -> None:
    """Résumé en Markdown, pour une demande de fusion, des données d'atelier modifiées depuis BASE."""
    from pipeline import review as reviewing

    try:
        repo, data = _repo_and_data(data_dir)
        if list_only:
            for slug in reviewing.changed(repo, base, head, data_dir=data):
                echo(slug)
            return
        result = reviewing.review(repo, base, head, data_dir=data)
    except AtelierError as e:
        raise Failure(str(e)) from None
    if output is None:
        click.echo(result.markdown, nl=False)  # the review typesets its own Markdown (participants' text quoted as typed)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(result.markdown, encoding="utf-8")
    if fail_on_invalid and not result.valid:
        sys.exit(1)


REPORTS_DIR = Path("reports")


@main.command()
@click.argument("folders", nargs=-1, type=EXISTING_DIR)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPORTS_DIR,
    show_default=True,
    help="Dossier des comptes-rendus publiés (un sous-dossier par atelier).",
)
@click.option("--commit", "make_commit", is_flag=True, help="Fait un commit git des nouvelles versions.")
@click.option("--tag", "make_tags", is_flag=True, help="Crée aussi les étiquettes annotées <atelier>-vN (avec --commit).")
def release(folders: tuple[Path, ...], reports_dir: Path, make_commit: bool, make_tags: bool) -> None:
    """Publie une nouvelle version du compte-rendu des ateliers dont les données ont changé (par défaut, tous ceux de data/).

    Code de sortie : 0 publié ou inchangé, 1 données invalides (rien n'est écrit).
    """
    from pipeline import release as releasing
    from pipeline.french import fr, say

    if make_tags and not make_commit:
        raise click.UsageError("--tag demande --commit : une étiquette désigne le commit de la version.")
    if not folders:
        folders = tuple(sorted(p.parent for p in DATA_DIR.glob("*/atelier.yaml")))
        if not folders:
            raise click.UsageError("aucun dossier d'atelier dans data/ ; indiquez les dossiers à publier.")
    try:
        outcomes = releasing.release(list(folders), reports_dir)
        for outcome in outcomes:
            echo(outcome.message())
        if make_commit:
            made = releasing.commit_release(outcomes, tag=make_tags)
            if made is None:
                echo(fr("Aucune nouvelle version : pas de commit."))
            else:
                echo(say("Commit {commit} : {title}", commit=made[:10], title=releasing.commit_title(outcomes)))
                tags = [o.tag for o in outcomes if o.released]
                if make_tags:
                    echo(fr("Étiquettes créées : ") + " ".join(tags))
                else:
                    echo(fr("Étiquettes à créer : ") + " ".join(tags))
    except releasing.ReleaseError as e:
        echo(str(e), err=True)
        sys.exit(1)
    except AtelierError as e:
        raise Failure(str(e)) from None


@main.command()
@click.argument("report_dir", type=EXISTING_DIR)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier des ateliers ; par défaut data/ à côté du dossier reports/.",
)
def verify(report_dir: Path, data_dir: Path | None) -> None:
    """Reconstruit la dernière version publiée depuis les données et compare son sha256 (0 identique, 1 différent)."""
    from pipeline import release as releasing

    try:
        verdict = releasing.verify(report_dir, data_dir or report_dir.resolve().parent.parent / "data")
    except AtelierError as e:
        raise Failure(str(e)) from None
    echo(verdict.message, err=not verdict.same)
    sys.exit(0 if verdict.same else 1)


@main.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DATA_DIR,
    show_default=True,
    help="Dossier des ateliers que sert le formulaire.",
)
@click.option("--remote", default="origin", show_default=True, help="Dépôt distant où pousser.")
@click.option(
    "--branch", default="donnees-formulaire", show_default=True, help="Branche des données (celle de la demande de fusion)."
)
def sync(data_dir: Path, remote: str, branch: str) -> None:
    """Sur le serveur du formulaire : commit des nouvelles données sur une branche, push, demande de fusion."""
    from pipeline.sync import sync as synchronise

    try:
        result = synchronise(data_dir, remote=remote, branch=branch)
    except AtelierError as e:
        raise Failure(str(e)) from None
    echo(result.message())


# ---- atelier open / close (the facilitator's switch, also on /<atelier>/animation/) ----


def _set_form_status(folder: Path, status: str) -> None:
    from pipeline.opening import set_status

    try:
        changed = set_status(folder, status)
    except AtelierError as e:
        raise Failure(str(e)) from None
    state = "ouvert" if status == "open" else "clos"
    echo(f"{folder} : formulaire {state}." if changed else f"{folder} : le formulaire était déjà {state}.")


@main.command("open")
@click.argument("folder", type=EXISTING_DIR)
def open_form(folder: Path) -> None:
    """Ouvre le formulaire d'un atelier (status: open dans atelier.yaml ; le reste du fichier est gardé tel quel)."""
    _set_form_status(folder, "open")


@main.command("close")
@click.argument("folder", type=EXISTING_DIR)
def close_form(folder: Path) -> None:
    """Clôt le formulaire d'un atelier : il n'accepte plus de réponses (status: closed dans atelier.yaml)."""
    _set_form_status(folder, "closed")


# ---- atelier vote open / close / reveal (also on /<atelier>/animation/) ----


@main.group("vote")
def vote_group() -> None:
    """Ouvre, ferme ou dévoile le vote aux gommettes d'un atelier (temps de genre « vote »)."""


def _vote_state(folder: Path, event: str, phase: str | None) -> None:
    from pipeline.votes import change_state

    try:
        echo(f"{folder} : {change_state(folder, event, phase)}")
    except AtelierError as e:
        raise Failure(str(e)) from None


PHASE_OPTION = click.option("--phase", default=None, help="Identifiant du temps de vote, quand l'atelier en a plusieurs.")


@vote_group.command("open")
@click.argument("folder", type=EXISTING_DIR)
@PHASE_OPTION
def vote_open(folder: Path, phase: str | None) -> None:
    """Ouvre le vote : les participants peuvent donner et changer leurs gommettes."""
    _vote_state(folder, "open", phase)


@vote_group.command("close")
@click.argument("folder", type=EXISTING_DIR)
@PHASE_OPTION
def vote_close(folder: Path, phase: str | None) -> None:
    """Ferme le vote : les bulletins ne changent plus (les gommettes papier peuvent encore être saisies)."""
    _vote_state(folder, "close", phase)


@vote_group.command("reveal")
@click.argument("folder", type=EXISTING_DIR)
@PHASE_OPTION
def vote_reveal(folder: Path, phase: str | None) -> None:
    """Dévoile les résultats au mur (pour un vote dont le décompte est masqué)."""
    _vote_state(folder, "reveal", phase)
