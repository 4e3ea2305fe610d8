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
from service.http.web.admin import login_required
from service.questionnaire import importer
from service.questionnaire.documents import ACCEPTED_EXTENSIONS, MAX_FILE_BYTES
from service.store.models import AdminUser, Entry, QuestionnaireImport, db
from service.vocab import Kind, Status

bp = Blueprint("imports", __name__, url_prefix="/admin/import")

MAX_FILES = 20
PASTED_NAME = "вставленный текст"
#: The fields the review page edits (others stay as they are; "Изменить" has them all).
REVIEW_FIELDS = {
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
    if request.method == "POST" and request.endpoint == "imports.upload":
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
