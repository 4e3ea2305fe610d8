"""``/admin/network``: the network directory and the keys pinned per site (instance admins)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from service.errors import ValidationError
from service.http.web.admin import instance_admin_required
from service.store.models import db
from service.trust import keys, pins

bp = Blueprint("network", __name__, url_prefix="/admin/network")


def _page(error: str | None = None, status: int = 200) -> Any:
    html = render_template(
        "admin/network.html", keys=pins.site_keys(), own=keys.statements(), error=error
    )
    return html, status


@bp.route("", methods=["GET", "POST"])
@instance_admin_required
def page() -> Any:
    """The keys pinned per site, this instance's own, and the import of a network directory."""
    if request.method == "GET":
        return _page()
    upload = request.files.get("directory")
    if upload is None or not upload.filename:
        return _page("Выберите файл каталога (OPML).", 422)
    try:
        rows = pins.import_directory(upload.read())
    except ValidationError as error:
        db.session.rollback()
        return _page(f"Каталог не прочитан: {error.message}", 422)
    flash(f"Из каталога закреплено ключей участников сети: {len(rows)}.")
    return redirect(url_for("network.page"))
