"""The Association's yearly collection: many cities' questionnaires at once.

A collection is a ``.zip`` of questionnaire files or several files. Each file
is read on its own, its city taken from its heading (``ОМСК`` -> the hosted
city named Омск; names compared without case, ``ё`` as ``е``), and stored in
one transaction of its own: a file that cannot be read, or whose city is not
hosted here (unless cities may be created), writes nothing, and the others
go on. A created city gets a Latin slug by the Wikipedia transliteration
(iuliia): Южно-Сахалинск -> ``yuzhno-sakhalinsk``.

Bounds: at most :data:`MAX_FILES` files, each within the questionnaire file
limit, a ZIP's members within :data:`~service.questionnaire.documents.MAX_UNPACKED_BYTES`
in all; folders, hidden files, Word's ``~$`` lock files and macOS ``__MACOSX``
copies are skipped; a ZIP inside the ZIP is reported, not opened.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

import iuliia
from sqlalchemy import select

from service.errors import QuestionnaireError
from service.language import fold
from service.questionnaire import importer
from service.questionnaire.documents import (
    MAX_FILE_BYTES,
    MAX_UNPACKED_BYTES,
    ZIP_ERRORS,
    read_document,
)
from service.questionnaire.parse import ParsedQuestionnaire, parse_questionnaire
from service.store.models import City, db
from service.vocab import Kind, Status

MAX_FILES = 500
_UTF8_NAMES = 0x800


@dataclass(frozen=True)
class FileReport:
    """What became of one file of a collection."""

    name: str
    ok: bool
    message: str  # Russian, for the report
    city: str | None = None
    city_created: bool = False
    notes: int = 0
    events: int = 0


@dataclass(frozen=True)
class _File:
    name: str
    data: bytes | None  # None: not read (``problem`` says why)
    problem: str | None = None


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name; names from Russian Windows are CP866, not CP437."""
    if info.flag_bits & _UTF8_NAMES:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("cp866")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _skipped(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return name.endswith("/") or name.startswith("__MACOSX/") or base.startswith((".", "~$"))


def _unzip(name: str, data: bytes) -> list[_File]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not _skipped(_member_name(m))]
    except ZIP_ERRORS:
        return [_File(name, None, "архив повреждён и не открывается.")]
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES or len(members) > MAX_FILES:
        return [_File(name, None, "архив слишком велик после распаковки.")]
    out: list[_File] = []
    for member in members:
        label = f"{name}/{_member_name(member)}"
        if member.file_size > MAX_FILE_BYTES:
            out.append(_File(label, None, "файл слишком велик."))
        elif _member_name(member).lower().endswith(".zip"):
            out.append(_File(label, None, "архив внутри архива не открывается: распакуйте его."))
        else:
            try:
                out.append(_File(label, archive.read(member)))
            except ZIP_ERRORS:
                out.append(_File(label, None, "файл в архиве повреждён и не читается."))
    return out


def _is_collection_zip(name: str, data: bytes) -> bool:
    if not data.startswith(b"PK") or name.lower().endswith((".docx", ".odt")):
        return False
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except ZIP_ERRORS:
        return name.lower().endswith(".zip")
    return "word/document.xml" not in names and "mimetype" not in names


def expand(files: Iterable[tuple[str, bytes]]) -> list[_File]:
    """The questionnaire files of a collection, ZIPs opened."""
    out: list[_File] = []
    for name, data in files:
        out.extend(_unzip(name, data) if _is_collection_zip(name, data) else [_File(name, data)])
    if len(out) > MAX_FILES:
        return [_File("", None, f"в собрании больше {MAX_FILES} файлов.")]
    return out


# --------------------------------------------------------------------------
# Cities


def city_slug(name: str) -> str:
    """A Latin slug for a city name (Wikipedia transliteration)."""
    latin = iuliia.WIKIPEDIA.translate(name).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", latin).strip("-")
    return slug[:60] or "city"


def find_city(name: str) -> City | None:
    """The hosted city called ``name`` (case and ё/е aside)."""
    wanted = fold(name.strip())
    for city in db.session.scalars(select(City).where(City.local.is_(True))):
        if fold(city.name) == wanted:
            return city
    return None


def _new_city(name: str) -> City:
    base = city_slug(name)
    slug, n = base, 1
    while db.session.scalar(select(City.id).where(City.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    city = City(slug=slug, name=name.strip(), local=True)
    db.session.add(city)
    db.session.flush()
    return city


# --------------------------------------------------------------------------
# Reading and storing


def _read(file: _File) -> ParsedQuestionnaire:
    if file.problem is not None or file.data is None:
        raise QuestionnaireError(file.problem or "файл не прочитан.", part="file")
    return parse_questionnaire(read_document(file.name, file.data).text)


def missing_cities(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """The cities the readable files name that are not hosted here, in order."""
    return _missing(expand(files))


def _missing(files: list[_File]) -> list[str]:
    found: list[str] = []
    for file in files:
        try:
            name = _read(file).city_name
        except QuestionnaireError:
            continue
        if find_city(name) is None and fold(name) not in {fold(n) for n in found}:
            found.append(name)
    return found


def _import_one(file: _File, create: set[str], publish: bool) -> FileReport:
    try:
        parsed = _read(file)
    except QuestionnaireError as error:
        return FileReport(file.name, False, error.message)
    city = find_city(parsed.city_name)
    created = city is None
    if city is None and fold(parsed.city_name) not in create:
        return FileReport(
            file.name,
            False,
            f"город «{parsed.city_name}» здесь не ведётся: добавьте его или разрешите создать.",
            city=parsed.city_name,
        )
    status = Status.PUBLISHED.value if publish else Status.DRAFT.value
    try:
        city = city or _new_city(parsed.city_name)
        entries = importer.store_parsed(parsed, city, status)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    events = sum(entry.kind == Kind.EVENT for entry in entries)
    what = "опубликованы" if publish else "сохранены черновиками"
    return FileReport(
        file.name,
        True,
        f"{city.name}: практика и мероприятий {events} {what}"
        + (" (город добавлен)" if created else "")
        + ".",
        city=city.name,
        city_created=created,
        notes=1,
        events=events,
    )


def import_collection(
    files: Iterable[tuple[str, bytes]],
    *,
    create_cities: bool | Iterable[str] = False,
    publish: bool = False,
) -> list[FileReport]:
    """Import every questionnaire of a collection, one transaction per file.

    ``create_cities``: True to create every city that is missing, or the
    names of the cities that may be created (the ones an admin confirmed).
    """
    expanded = expand(files)
    if create_cities is True:
        create = {fold(name) for name in _missing(expanded)}
    else:
        create = {fold(name) for name in (create_cities or [])}
    return [_import_one(file, create, publish) for file in expanded]
