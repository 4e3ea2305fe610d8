"""Command line: ``flask --app wsgi <command>``.

Thin click wrappers over service functions; a :class:`ServiceError` becomes a
message on stderr and exit status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from service import accounts as auth
from service import cities
from service.cli.errors import friendly_errors
from service.cli.mirror import COMMANDS as MIRROR_COMMANDS
from service.cli.network import NETWORK_COMMANDS
from service.entries.service import get_city
from service.errors import QuestionnaireError
from service.questionnaire import collection, importer
from service.store import db
from service.store.models import City, Entry
from service.store.models import db as sqla
from service.vocab import Kind

DEMO_FILE = Path(__file__).parent.parent / "demo" / "omsk-2020.txt"
DEMO_CITY = {"slug": "omsk", "name": "Омск", "region": "Омская область"}


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema and load the topic list."""
    db.init_db()
    click.echo("База данных готова.")


def load_demo() -> list[Entry]:
    """The Omsk sample note and its events, published; nothing if already there."""
    db.init_db()
    city = sqla.session.scalar(select(City).where(City.slug == DEMO_CITY["slug"]))
    if city is None:
        city = cities.add_city(**DEMO_CITY)
        city.latitude, city.longitude = 54.9885, 73.3242
        sqla.session.commit()
    elif sqla.session.scalar(
        select(Entry.id).where(Entry.city_id == city.id, Entry.kind == Kind.PRACTICE).limit(1)
    ):
        return []
    return importer.import_questionnaire(DEMO_FILE.read_text(encoding="utf-8"), city, publish=True)


@click.command("demo")
@with_appcontext
@friendly_errors
def demo_command() -> None:
    """Load the sample Omsk note and its events (once)."""
    created = load_demo()
    if not created:
        click.echo("Демонстрационные данные уже загружены.")
    for entry in created:
        click.echo(entry.uid)


city_cli = AppGroup("city", help="Cities hosted by this instance.")


@city_cli.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--region", default=None, help="Region (subject of the federation).")
@click.option(
    "--time-zone",
    default=None,
    help="IANA zone of admin pages' times (Asia/Omsk); default: from the region or name.",
)
@friendly_errors
def city_add(slug: str, name: str, region: str | None, time_zone: str | None) -> None:
    """Add a city: SLUG is Latin (ulan-ude), NAME Russian (Улан-Удэ)."""
    city = cities.add_city(slug, name, region, time_zone)
    click.echo(f"Город добавлен: {city.slug} ({city.name}), часовой пояс {city.time_zone}")


token_cli = AppGroup("token", help="API tokens.")


@token_cli.command("create")
@click.option("--city", "slug", default=None, help="The city the token writes for.")
@click.option("--all", "operator", is_flag=True, help="An operator token for every city.")
@click.option("--label", default="", help="A note on what the token is for.")
@friendly_errors
def token_create(slug: str | None, operator: bool, label: str) -> None:
    """Make a token and print it once (only its hash is stored)."""
    if operator == (slug is not None):
        raise click.UsageError("Укажите либо --city SLUG, либо --all")
    city = get_city(slug) if slug else None
    _, plain = auth.create_token(city, label)
    click.echo(plain)


admin_cli = AppGroup("admin", help="Logins for the web admin pages.")


PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Пароль", hide_input=True, confirmation_prompt=True))


@admin_cli.command("create")
@click.argument("email")
@click.option("--city", "slug", required=True)
@click.option("--instance-admin", is_flag=True, help="Also manages the instance (subscriptions).")
@PASSWORD_STDIN
@friendly_errors
def admin_create(email: str, slug: str, instance_admin: bool, password_stdin: bool) -> None:
    """Create an admin of a city; the password comes from a prompt or stdin."""
    city = get_city(slug)
    user = auth.create_admin(email, city, _password(password_stdin), instance_admin=instance_admin)
    role = ", администратор сервера" if user.instance_admin else ""
    click.echo(f"Администратор создан: {user.email} ({city.name}{role})")


@admin_cli.command("password")
@click.argument("email")
@PASSWORD_STDIN
@friendly_errors
def admin_password(email: str, password_stdin: bool) -> None:
    """Set a new password for an admin; every session of the admin ends."""
    user = auth.find_admin(email)
    auth.change_password(user, _password(password_stdin))
    click.echo(f"Пароль изменён: {user.email}. Все сеансы этого администратора завершены.")


practice_cli = AppGroup("practice", help="Practice notes.")


@practice_cli.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--city", "slug", required=True)
@click.option("--publish", is_flag=True, help="Publish at once instead of saving drafts.")
@friendly_errors
def practice_import(files: tuple[Path, ...], slug: str, publish: bool) -> None:
    """Turn questionnaires (.txt, .docx, .odt, .rtf) into practice notes and
    event summaries, one transaction per file; a file that cannot be read is
    reported and writes nothing, and the exit status is then 1."""
    city = get_city(slug)
    failed = 0
    for file in files:
        try:
            created = importer.import_document(file.name, file.read_bytes(), city, publish=publish)
        except QuestionnaireError as error:
            sqla.session.rollback()
            failed += 1
            click.echo(f"Ошибка [{error.field}]: файл «{file.name}»: {error.message}", err=True)
            continue
        for entry in created:
            click.echo(f"{entry.kind}\t{entry.uid}")
    if failed:
        if len(files) > 1:
            click.echo(f"Не загружено файлов: {failed} из {len(files)}.", err=True)
        sys.exit(1)


@practice_cli.command("import-collection")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--create-cities", is_flag=True, help="Add the cities the headings name, if missing.")
@click.option("--publish", is_flag=True, help="Publish at once instead of saving drafts.")
@friendly_errors
def practice_import_collection(files: tuple[Path, ...], create_cities: bool, publish: bool) -> None:
    """Import the Association's collection (a .zip or several files of many
    cities): each file's city from its heading, one transaction per file, a
    report line per file; exit status 1 if a file was not imported."""
    reports = collection.import_collection(
        [(file.name, file.read_bytes()) for file in files],
        create_cities=create_cities,
        publish=publish,
    )
    for report in reports:
        if report.ok:
            click.echo(f"ok\t{report.name}\t{report.message}")
        else:
            click.echo(f"Ошибка [file]: файл «{report.name}»: {report.message}", err=True)
    done = sum(r.ok for r in reports)
    click.echo(f"Загружено файлов: {done} из {len(reports)}.")
    if done < len(reports):
        sys.exit(1)


def init_app(app: Flask) -> None:
    for command in (init_db_command, demo_command, city_cli, token_cli, admin_cli, practice_cli,
                    *MIRROR_COMMANDS, *NETWORK_COMMANDS):  # fmt: skip
        app.cli.add_command(command)
