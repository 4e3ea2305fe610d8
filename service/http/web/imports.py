"""Questionnaires from the web: upload (or paste), review the drafts beside the
source text, publish all or some in one step.

``/admin/import`` takes one or several ``.txt``/``.docx``/``.odt``/``.rtf``
files or pasted text; each becomes drafts (one transaction per file, see
:func:`service.questionnaire.importer.stage_document`) and a review page,
``/admin/import/<id>``, shows them next to the text they came from, with
every guessed value flagged. The admin corrects what is wrong and publishes
the drafts ticked, in one step; a draft with an error keeps every draft as it
was and shows all errors at once.
"""

from __future__ import annotations

import re
import secrets
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from service.entries import service as entries
from service.errors import NotFoundError, QuestionnaireError, ValidationError
from service.fields import labels
from service.http.web import forms, queries
from service.http.web.admin import instance_admin_required, login_required
from service.questionnaire import collection, importer
from service.questionnaire.documents import ACCEPTED_EXTENSIONS, MAX_FILE_BYTES
from service.store.models import AdminUser, Entry, QuestionnaireImport, db
from service.vocab import Kind, Status

bp = Blueprint("imports", __name__, url_prefix="/admin/import")

MAX_FILES = 20
PASTED_NAME = "вставленный текст"
#: The fields the review page edits (others stay as they are; "Изменить" has them all).
REVIEW_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.PRACTICE: ("title", "area", "year", "topics"),
    Kind.EVENT: (
        "title", "stage", "year", "month", "starts_on", "ends_on", "format", "topics", "summary",
    ),
}  # fmt: skip


def _max_bytes() -> int:
    return int(current_app.config.get("QUESTIONNAIRE_MAX_BYTES", MAX_FILE_BYTES))


def allow_uploads() -> None:
    """Before the form is read (the CSRF check reads it): the upload takes
    several files up to the file limit each, more than other forms."""
    if request.method == "POST" and request.endpoint in (
        "imports.upload",
        "imports.collection_upload",
    ):
        request.max_content_length = _max_bytes() * MAX_FILES + 1024 * 1024


def _upload_page(errors: list[tuple[str, str]] | None = None, text: str = "") -> Any:
    admin: AdminUser = g.admin
    html = render_template(
        "admin/import.html",
        errors=errors or [],
        text=text,
        pending=importer.pending_imports(admin.city_id),
        accept=",".join(ACCEPTED_EXTENSIONS),
        max_megabytes=_max_bytes() // (1024 * 1024),
        max_files=MAX_FILES,
    )
    return html, 422 if errors else 200


@bp.route("", methods=["GET", "POST"])
@login_required
def upload() -> Any:
    """The upload form; a post makes one review per readable file."""
    if request.method == "GET":
        return _upload_page()
    try:
        files = [f for f in request.files.getlist("files") if f and f.filename]
        text = request.form.get("text", "")
    except RequestEntityTooLarge:
        return _upload_page([("", f"Файлы вместе больше {MAX_FILES * _max_bytes() // 2**20} МБ.")])
    if not files and not text.strip():
        return _upload_page([("files", "Выберите файл анкеты или вставьте её текст.")])
    if len(files) > MAX_FILES:
        return _upload_page([("files", f"Не больше {MAX_FILES} файлов за раз.")])
    admin: AdminUser = g.admin
    uploads = [(f.filename or "", f.read(_max_bytes() + 1)) for f in files]
    if text.strip():
        uploads.append((f"{PASTED_NAME}.txt", text.encode("utf-8")))
    made: list[QuestionnaireImport] = []
    errors: list[tuple[str, str]] = []
    for name, data in uploads:
        try:
            made.append(importer.stage_document(name, data, admin.city, max_bytes=_max_bytes()))
        except QuestionnaireError as error:
            errors.append((name, error.message))
    if not made:
        return _upload_page(errors, text)
    for name, message in errors:
        flash(f"«{name}» не загружен: {message}")
    if len(made) == 1:
        return redirect(url_for("imports.review", import_id=made[0].id))
    flash(f"Загружено анкет: {len(made)}. Проверьте каждую и опубликуйте.")
    return redirect(url_for("imports.upload"))


# -- review ---------------------------------------------------------------------


def _record(import_id: int) -> QuestionnaireImport:
    admin: AdminUser = g.admin
    try:
        return importer.get_import(import_id, admin.city_id)
    except NotFoundError:
        abort(404)


def _review_page(
    record: QuestionnaireImport,
    drafts: list[Entry],
    values: dict[int, dict[str, Any]],
    errors: forms.FormErrors | None = None,
    chosen: set[int] | None = None,
) -> Any:
    html = render_template(
        "admin/review.html",
        record=record,
        drafts=drafts,
        values=values,
        errors=errors or {},
        flags={entry.id: importer.flags_of(record, entry) for entry in drafts},
        chosen={e.id for e in drafts} if chosen is None else chosen,
        labels={kind: labels(kind) for kind in (Kind.PRACTICE, Kind.EVENT)},
        all_labels={**labels(Kind.PRACTICE), **labels(Kind.EVENT)},
        topics=queries.all_topics(),
    )
    return html, 422 if errors else 200


@bp.route("/<int:import_id>", methods=["GET"])
@login_required
def review(import_id: int) -> Any:
    record = _record(import_id)
    drafts = importer.drafts_of(record)
    return _review_page(record, drafts, {e.id: forms.entry_form(e) for e in drafts})


def _posted(entry: Entry, publish: bool) -> MultiDict[str, str]:
    """The entry's form as saved, with the review page's fields of it as posted."""
    prefix = f"e{entry.id}-"
    base = forms.entry_form(entry)
    posted: MultiDict[str, str] = MultiDict()
    for name, value in base.items():
        if name == "topics":
            continue
        posted[name] = value if isinstance(value, str) else str(value)
    for name in REVIEW_FIELDS[entry.kind]:
        if name == "topics":
            continue
        for key in (name, *(f"{name}-{part}" for part in forms.DATE_PARTS)):
            if prefix + key in request.form:
                posted[key] = request.form[prefix + key]
    posted.setlist("topics", request.form.getlist(prefix + "topics"))
    if entry.status != Status.PUBLISHED:
        posted["status"] = Status.PUBLISHED.value if publish else Status.DRAFT.value
    return posted


@bp.route("/<int:import_id>", methods=["POST"])
@login_required
def save(import_id: int) -> Any:
    """Save the corrections; with "Опубликовать отмеченные", publish the ticked drafts."""
    record = _record(import_id)
    drafts = importer.drafts_of(record)
    publishing = request.form.get("action") == "publish"
    chosen = {int(v) for v in request.form.getlist("publish") if v.isdigit()}
    values: dict[int, dict[str, Any]] = {}
    valid: dict[int, dict[str, Any]] = {}
    errors: forms.FormErrors = {}
    for entry in drafts:
        posted = _posted(entry, publishing and entry.id in chosen)
        values[entry.id] = forms.typed_form(posted)
        try:
            valid[entry.id] = forms.validate(entry.kind, posted)
        except forms.FormInvalid as invalid:
            for name, messages in invalid.errors.items():
                errors[f"e{entry.id}-{name}"] = messages
    if errors:
        return _review_page(record, drafts, values, errors, chosen)
    try:
        for entry in drafts:
            entries.update_entry(entry, valid[entry.id])
    except ValidationError as error:
        db.session.rollback()
        failed = {error.field or "form": [error.message]}
        return _review_page(record, drafts, values, failed, chosen)
    importer.reviewed(record, [entry.id for entry in drafts])
    db.session.commit()
    published = [e for e in drafts if publishing and e.id in chosen]
    if importer.finish_if_done(record):
        flash(f"Опубликовано записей: {len(published)}. Проверка анкеты завершена.")
        return redirect(url_for("admin.dashboard"))
    if published:
        flash(f"Опубликовано записей: {len(published)}; остальные остались черновиками.")
    else:
        flash("Исправления сохранены; записи пока черновики.")
    return redirect(url_for("imports.review", import_id=record.id))


# -- the Association's collection (the instance admin) -------------------------

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_KEEP_UPLOADS = timedelta(days=1)


def _upload_dir() -> Path:
    configured = current_app.config.get("IMPORT_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def _keep(files: list[tuple[str, bytes]]) -> str:
    """Keep a collection on disk until the admin confirms; returns its token."""
    root = _upload_dir()
    root.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).timestamp()
    for old in root.iterdir():
        if old.is_dir() and now - old.stat().st_mtime > _KEEP_UPLOADS.total_seconds():
            shutil.rmtree(old, ignore_errors=True)
    token = secrets.token_urlsafe(24)
    folder = root / token
    folder.mkdir()
    for number, (name, data) in enumerate(files):
        (folder / f"{number:04d}.bin").write_bytes(data)
        (folder / f"{number:04d}.name").write_text(name, encoding="utf-8")
    return token


def _take(token: str) -> list[tuple[str, bytes]] | None:
    if not _TOKEN.match(token):
        return None
    folder = _upload_dir() / token
    if not folder.is_dir():
        return None
    files = [
        ((folder / f"{path.stem}.name").read_text(encoding="utf-8"), path.read_bytes())
        for path in sorted(folder.glob("*.bin"))
    ]
    shutil.rmtree(folder, ignore_errors=True)
    return files


def _collection_page(**context: Any) -> Any:
    html = render_template(
        "admin/collection.html",
        accept=",".join((*ACCEPTED_EXTENSIONS, ".zip")),
        max_megabytes=_max_bytes() // (1024 * 1024),
        **{"errors": [], "missing": [], "reports": None, "token": "", "publish": False, **context},
    )
    return html, 422 if context.get("errors") else 200


@bp.route("/collection", methods=["GET", "POST"])
@instance_admin_required
def collection_upload() -> Any:
    """Many cities' questionnaires at once: a .zip or several files; the cities
    the headings name and the site lacks are created after confirmation."""
    if request.method == "GET":
        return _collection_page()
    publish = request.form.get("publish") == "1"
    token = request.form.get("token", "")
    if token:
        files = _take(token)
        if files is None:
            return _collection_page(errors=["Загрузка устарела: выберите файлы ещё раз."])
        create = request.form.getlist("create")
        reports = collection.import_collection(files, create_cities=create, publish=publish)
        return _collection_page(reports=reports)
    files = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    if not files:
        return _collection_page(errors=["Выберите архив .zip или файлы анкет."])
    missing = collection.missing_cities(files)
    if missing:
        return _collection_page(missing=missing, token=_keep(files), publish=publish)
    return _collection_page(reports=collection.import_collection(files, publish=publish))
