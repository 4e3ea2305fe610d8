"""Questionnaire files: ``.txt``, ``.docx``, ``.odt`` and ``.rtf`` become the text
the reader reads.

The text is lines, a blank line between blocks (paragraphs, headings, cells),
list items as ``- item`` or ``1. item``, bold and italic runs between the
marks :data:`~service.questionnaire.text.STRONG` and
:data:`~service.questionnaire.text.EMPH` (the reader writes them as
``**...**``/``*...*`` in Markdown).

* ``.docx``: mammoth (its HTML, walked here: mammoth's own Markdown writer is
  deprecated upstream and writes ``__word __``, which CommonMark does not read
  as emphasis); headings, paragraphs, lists, bold and italic, table cells, line
  breaks; images are dropped without being decoded.
* ``.odt``: odfpy; the same blocks, bold and italic from the text styles.
* ``.rtf``: striprtf, in the code page the file declares (``\\ansicpg1251``).
* ``.txt``: UTF-8 (with or without BOM), UTF-16/32 with a BOM, otherwise the
  Cyrillic code page charset-normalizer finds (Windows-1251, KOI8-R, CP866,
  Mac Cyrillic, ISO 8859-5).
* ``.doc`` (Word 97-2003): no maintained converter in PyPI or Debian fits a
  web service (antiword is unmaintained; LibreOffice is a desktop suite), so
  the admin is asked to save the file as ``.docx``.

The format is taken from the content (a ZIP with ``word/document.xml`` or an
OpenDocument ``mimetype``, ``{\\rtf``, the OLE signature of ``.doc``), the
file name only settling plain text. Sizes are bounded: the file
(:data:`MAX_FILE_BYTES`), what a ZIP unpacks to (:data:`MAX_UNPACKED_BYTES`)
and the text (:data:`MAX_TEXT_CHARS`). Every problem is a
:class:`~service.errors.QuestionnaireError` with ``part="file"`` (``"text"`` for
an empty file or document) and a Russian message; the caller names the file.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import charset_normalizer
import lxml.html
import mammoth
from odf.element import Element
from odf.namespaces import FONS, STYLENS, TABLENS, TEXTNS
from odf.opendocument import load as load_odf
from odf.style import Style
from striprtf.striprtf import rtf_to_text

from service.errors import QuestionnaireError
from service.questionnaire.text import EMPH, STRONG, plain, tidy_marks

MAX_FILE_BYTES: Final = 10 * 1024 * 1024
MAX_UNPACKED_BYTES: Final = 64 * 1024 * 1024
MAX_ZIP_MEMBERS: Final = 5000
MAX_TEXT_CHARS: Final = 300_000

#: The formats read, by file extension, with their Russian names.
FORMATS: Final = {
    "txt": "текст (.txt)",
    "docx": "документ Word (.docx)",
    "odt": "документ OpenDocument (.odt)",
    "rtf": "документ RTF (.rtf)",
}
ACCEPTED_EXTENSIONS: Final = tuple(f".{ext}" for ext in FORMATS)

_OLE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODT_MIME: Final = b"application/vnd.oasis.opendocument.text"
_CYRILLIC_CODECS: Final = [
    "utf_8",
    "cp1251",
    "koi8_r",
    "cp866",
    "mac_cyrillic",
    "iso8859_5",
    "utf_16",
    "utf_32",
]
_BOMS: Final = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_MARKS: Final = dict.fromkeys(map(ord, STRONG + EMPH))
#: What reading a damaged ZIP raises.
ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,
    zlib.error,
)


@dataclass(frozen=True)
class Document:
    """A questionnaire file read into text."""

    name: str
    format: str  # a key of FORMATS
    text: str


def _fail(message: str) -> QuestionnaireError:
    """An error about the file (the caller names the file)."""
    return QuestionnaireError(message[:1].upper() + message[1:], part="file")


def extension(name: str) -> str:
    """The lowercased extension of a file name, without the dot ("" if none)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


# --------------------------------------------------------------------------
# Plain text


def decode_text(data: bytes) -> str | None:
    """The text of ``data`` in its encoding, or ``None`` when none fits."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=_CYRILLIC_CODECS).best()
    return None if best is None else str(best)


def _read_txt(data: bytes) -> str:
    text = decode_text(data)
    if text is None or "\x00" in text:
        raise _fail(
            "не удалось прочитать текст: файл не в кодировке UTF-8 или Windows-1251 "
            "либо это не текстовый файл. Сохраните анкету как .docx или как текст в UTF-8.",
        )
    return text.translate(_MARKS)


def _read_rtf(data: bytes) -> str:
    head = data[:4096].decode("latin-1")
    page = re.search(r"\\ansicpg(\d{3,5})", head)
    codec = f"cp{page.group(1)}" if page else "cp1251"
    try:
        "".encode(codec)
    except LookupError:
        codec = "cp1251"
    try:
        text = rtf_to_text(data.decode("latin-1"), encoding=codec, errors="replace")
    except Exception as error:  # striprtf raises bare errors on malformed input
        raise _fail("документ RTF повреждён и не читается.") from error
    paragraphs = [line for line in str(text).translate(_MARKS).split("\n") if line.strip()]
    return join_blocks(paragraphs)


# --------------------------------------------------------------------------
# ZIP containers (.docx, .odt)


def _open_zip(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except ZIP_ERRORS as error:
        raise _fail(f"{what} повреждён и не открывается.") from error
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise _fail(f"{what} слишком велик после распаковки.")
    return archive


def _zip_kind(data: bytes) -> str | None:
    """ "docx", "odt" or ``None`` for a ZIP that is neither (or no ZIP)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "mimetype" in names and archive.read("mimetype").strip() == _ODT_MIME:
                return "odt"
    except (*ZIP_ERRORS, KeyError):
        return None
    return None


# --------------------------------------------------------------------------
# Blocks: what the office formats become


def join_blocks(blocks: list[str]) -> str:
    """The blocks, a blank line between them; but a block that starts with a
    lower-case letter continues the one before (Enter pressed mid-sentence),
    so only a line break parts them and the reader joins them."""
    out: list[str] = []
    for block in blocks:
        if out:
            first = plain(block).lstrip()[:1]
            out.append("\n" if first.islower() else "\n\n")
        out.append(block)
    return "".join(out)


class _Blocks:
    """Collects blocks (paragraphs, list items) of inline text with marks."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self._parts: list[str] = []
        self._strong = 0
        self._emph = 0

    def text(self, value: str) -> None:
        self._parts.append(value.replace("\n", " "))

    def line_break(self) -> None:
        self._parts.append("\n")

    def mark(self, strong: bool, emph: bool) -> Callable[[], None]:
        """Open bold/italic as asked; the returned function closes them."""
        opened = ""
        if strong:
            self._strong += 1
            if self._strong == 1:
                opened += STRONG
        if emph:
            self._emph += 1
            if self._emph == 1:
                opened += EMPH
        self._parts.append(opened)

        def close() -> None:
            closed = ""
            if emph:
                self._emph -= 1
                if self._emph == 0:
                    closed += EMPH
            if strong:
                self._strong -= 1
                if self._strong == 0:
                    closed += STRONG
            self._parts.append(closed)

        return close

    def end_block(self, prefix: str = "") -> None:
        text = "".join(self._parts)
        self._parts = []
        lines = [line for line in tidy_marks(text).split("\n") if plain(line).strip()]
        if lines:
            self.blocks.append(prefix + "\n".join(lines))

    def result(self) -> str:
        return join_blocks(self.blocks)


# --------------------------------------------------------------------------
# .docx through mammoth's HTML

_HTML_BLOCKS: Final = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "li"})
_HTML_STRONG: Final = frozenset({"strong", "b"})
_HTML_EMPH: Final = frozenset({"em", "i"})


def _walk_html(element: Any, out: _Blocks, prefix: str = "", in_item: bool = False) -> None:
    """Blocks of mammoth's HTML: paragraphs, headings, cells, list items."""
    if not isinstance(element.tag, str):  # a comment or processing instruction
        return
    tag = element.tag
    if tag in ("ul", "ol"):
        out.end_block()
        for number, item in enumerate(element.iterchildren("li"), start=1):
            _walk_html(item, out, f"{number}. " if tag == "ol" else "- ")
        return
    if tag == "br":
        out.line_break()
        return
    if tag == "img":
        return
    block = tag in _HTML_BLOCKS and not (in_item and tag == "p")
    if block:
        out.end_block()
    close = out.mark(tag in _HTML_STRONG, tag in _HTML_EMPH)
    if element.text:
        out.text(element.text)
    for child in element:
        if child.tag in ("ul", "ol"):  # a nested list ends the item's own text
            out.end_block(prefix)
            prefix = ""
        _walk_html(child, out, in_item=in_item or tag == "li")
        if child.tail:
            out.text(child.tail)
    close()
    if block:
        out.end_block(prefix)


def _read_docx(data: bytes) -> str:
    _open_zip(data, "документ Word").close()
    no_images = mammoth.images.img_element(lambda image: {})
    try:
        html = mammoth.convert_to_html(io.BytesIO(data), convert_image=no_images).value
    except Exception as error:  # mammoth raises KeyError, XML and ZIP errors alike
        raise _fail("документ Word повреждён и не читается.") from error
    if not html.strip():
        return ""
    out = _Blocks()
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    _walk_html(root, out)
    out.end_block()
    return out.result()


# --------------------------------------------------------------------------
# .odt through odfpy


def _odf_styles(document: Any) -> dict[str, tuple[bool, bool]]:
    """Bold and italic of every text style, by name (parents followed)."""
    own: dict[str, tuple[bool | None, bool | None]] = {}
    parents: dict[str, str] = {}
    for container in (document.styles, document.automaticstyles):
        for style in container.getElementsByType(Style):
            style_name = style.getAttrNS(STYLENS, "name")
            if not style_name:
                continue
            parent = style.getAttrNS(STYLENS, "parent-style-name")
            if parent:
                parents[style_name] = parent
            bold: bool | None = None
            italic: bool | None = None
            for props in style.childNodes:
                if getattr(props, "qname", None) == (STYLENS, "text-properties"):
                    weight = props.getAttrNS(FONS, "font-weight")
                    slant = props.getAttrNS(FONS, "font-style")
                    bold = None if weight is None else weight in ("bold", "600", "700", "800")
                    italic = None if slant is None else slant in ("italic", "oblique")
            own[style_name] = (bold, italic)

    def resolve(style_name: str, depth: int = 0) -> tuple[bool, bool]:
        bold, italic = own.get(style_name, (None, None))
        if (bold is None or italic is None) and style_name in parents and depth < 10:
            parent_bold, parent_italic = resolve(parents[style_name], depth + 1)
            bold = parent_bold if bold is None else bold
            italic = parent_italic if italic is None else italic
        return bool(bold), bool(italic)

    return {style_name: resolve(style_name) for style_name in own}


def _odf_list_numbered(document: Any) -> dict[str, bool]:
    """Whether each list style numbers its items."""
    numbered: dict[str, bool] = {}
    for container in (document.styles, document.automaticstyles):
        for style in container.childNodes:
            if getattr(style, "qname", None) != (TEXTNS, "list-style"):
                continue
            levels = [getattr(c, "qname", None) for c in style.childNodes]
            first = next((qname for qname in levels if qname), None)
            numbered[style.getAttrNS(STYLENS, "name") or ""] = first == (
                TEXTNS,
                "list-level-style-number",
            )
    return numbered


@dataclass
class _OdfWalk:
    out: _Blocks
    styles: dict[str, tuple[bool, bool]]
    numbered: dict[str, bool]

    def children(self, element: Element) -> None:
        for child in element.childNodes:
            self.node(child)

    def node(self, node: Any) -> None:
        if node.nodeType == node.TEXT_NODE:
            self.out.text(str(node.data))
            return
        qname = getattr(node, "qname", None)
        if qname is None:
            return
        handler = _ODF_HANDLERS.get(qname)
        if handler is not None:
            handler(self, node)
        else:
            self.children(node)

    def paragraph(self, node: Element, prefix: str = "") -> None:
        self.out.end_block()
        self.span(node)
        self.out.end_block(prefix)

    def span(self, node: Element) -> None:
        bold, italic = self.styles.get(node.getAttrNS(TEXTNS, "style-name") or "", (False, False))
        close = self.out.mark(bold, italic)
        self.children(node)
        close()

    def list(self, node: Element) -> None:
        style = node.getAttrNS(TEXTNS, "style-name") or ""
        number = 0
        for item in node.childNodes:
            if getattr(item, "qname", None) != (TEXTNS, "list-item"):
                continue
            number += 1
            prefix = f"{number}. " if self.numbered.get(style) else "- "
            for part in item.childNodes:
                if getattr(part, "qname", None) in ((TEXTNS, "p"), (TEXTNS, "h")):
                    self.paragraph(part, prefix)
                    prefix = ""
                else:
                    self.node(part)

    def spaces(self, node: Element) -> None:
        self.out.text(" " * min(int(node.getAttrNS(TEXTNS, "c") or 1), 100))

    def cell(self, node: Element) -> None:
        self.children(node)
        self.out.end_block()

    def skip(self, node: Element) -> None:
        return None


_ODF_HANDLERS: Final[dict[tuple[str, str], Callable[[_OdfWalk, Any], None]]] = {
    (TEXTNS, "p"): _OdfWalk.paragraph,
    (TEXTNS, "h"): _OdfWalk.paragraph,
    (TEXTNS, "span"): _OdfWalk.span,
    (TEXTNS, "list"): _OdfWalk.list,
    (TEXTNS, "s"): _OdfWalk.spaces,
    (TEXTNS, "tab"): lambda walk, node: walk.out.text(" "),
    (TEXTNS, "line-break"): lambda walk, node: walk.out.line_break(),
    (TEXTNS, "note"): _OdfWalk.skip,
    (TEXTNS, "tracked-changes"): _OdfWalk.skip,
    (TABLENS, "table-cell"): _OdfWalk.cell,
}


def _read_odt(data: bytes) -> str:
    _open_zip(data, "документ OpenDocument").close()
    try:
        document = load_odf(io.BytesIO(data))
    except Exception as error:  # odfpy raises KeyError, XML and ZIP errors alike
        raise _fail("документ OpenDocument повреждён и не читается.") from error
    walk = _OdfWalk(_Blocks(), _odf_styles(document), _odf_list_numbered(document))
    walk.children(document.text)
    walk.out.end_block()
    return walk.out.result()


# --------------------------------------------------------------------------
# Entry point

_READERS: Final[dict[str, Callable[[bytes], str]]] = {
    "txt": _read_txt,
    "docx": _read_docx,
    "odt": _read_odt,
    "rtf": _read_rtf,
}


def detect_format(name: str, data: bytes) -> str:
    """The format of a file (a key of :data:`FORMATS`) from its content and name."""
    ext = extension(name)
    if data.startswith(_OLE) or ext == "doc":
        raise _fail(
            "это документ старого формата Word (.doc), он не читается. Откройте его в Word "
            "или LibreOffice, выберите «Файл → Сохранить как» и сохраните как «Документ Word "
            "(.docx)», затем загрузите .docx.",
        )
    if data.startswith(b"PK"):
        kind = _zip_kind(data)
        if kind is not None:
            return kind
        if ext in ("docx", "odt"):
            return ext  # a damaged document: its reader says so
        raise _fail("это архив, а не анкета. Загрузите .docx, .odt, .rtf или .txt.")
    if data.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    if data.startswith(b"%PDF"):
        raise _fail(
            "файлы PDF не читаются. Сохраните анкету как .docx, .odt, .rtf или .txt.",
        )
    if ext in ("docx", "odt", "rtf"):
        raise _fail(f"содержимое не похоже на {FORMATS[ext]}: файл повреждён.")
    if ext not in ("", "txt", "text", "md"):
        raise _fail(
            "этот формат не поддерживается. Загрузите документ Word (.docx), "
            "OpenDocument (.odt), RTF (.rtf) или текст (.txt).",
        )
    return "txt"


def read_document(name: str, data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read a questionnaire file (see the module notes).

    Raises :class:`~service.errors.QuestionnaireError` (``part="file"``) for an
    empty, too large, damaged or unsupported file.
    """
    if len(data) > max_bytes:
        megabytes = max(1, max_bytes // (1024 * 1024))
        raise _fail(f"размер больше {megabytes} МБ, такие файлы не принимаются.")
    if not data.strip():
        raise QuestionnaireError("Файл пуст.", part="text")
    kind = detect_format(name, data)
    text = _READERS[kind](data)
    if len(text) > MAX_TEXT_CHARS:
        raise _fail(f"текст длиннее {MAX_TEXT_CHARS} знаков, это не анкета.")
    if not text.strip(" \n\t\r\ufeff" + STRONG + EMPH):
        raise QuestionnaireError("В документе нет текста.", part="text")
    return Document(name=name, format=kind, text=text)
