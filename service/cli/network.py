"""Command line for origin authenticity: ``network import|keys``, ``key show|rotate``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from service.cli.errors import friendly_errors
from service.errors import ValidationError
from service.trust import keys, pins

network_cli = AppGroup("network", help="The network directory: member instances and their keys.")
key_cli = AppGroup("key", help="This instance's signing key.")


@network_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@friendly_errors
def network_import(file: Path) -> None:
    """Pin the keys (and cities) of the member instances a directory (OPML) lists."""
    try:
        data = file.read_bytes()
    except OSError as error:
        raise ValidationError(f"Файл {file} не прочитан: {error.strerror}", field="file") from error
    rows = pins.import_directory(data)
    for row in rows:
        cities = f", города: {row.cities}" if row.cities else ""
        click.echo(f"{row.site}\tключ {row.key_id}\t{row.authority or ''}{cities}")
    click.echo(f"Участников сети в каталоге: {len(rows)}.")


@network_cli.command("keys")
@with_appcontext
def network_keys() -> None:
    """The keys pinned per site, and how each was learned."""
    for row in pins.site_keys():
        state = " (заменён)" if row.retired else ""
        click.echo(f"{row.site}\t{row.key_id}\t{row.authority or ''}\t{row.via}{state}")


@key_cli.command("show")
@with_appcontext
def key_show() -> None:
    """This instance's keys (the last one signs), as /.well-known/asdg.json states them."""
    for statement in keys.statements():
        click.echo(f"{statement.id}\t{statement.public_key}\t{statement.authority}")


@key_cli.command("rotate")
@with_appcontext
def key_rotate() -> None:
    """Make a new signing key, signed by the current one; mirrors follow the rotation."""
    new = keys.rotate()
    click.echo(f"Новый ключ подписи: {new.current_id}.")


NETWORK_COMMANDS = (network_cli, key_cli)
