"""The overview picture: published notes and events per city, per year and per topic.

Counts come from the database; the chart is SVG made here on the server (no
JavaScript, no external service). Each cell of a heat map is split in two:
practice notes on the left, events on the right, the darker the more; a
cell links to the list of those entries and names its numbers in a tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import func, select

from service.store.models import City, Entry, Topic, db, entry_topics
from service.vocab import Kind, Status

CELL_W = 52
CELL_H = 28
GAP = 3
FONT = 13
#: Rough width of a character of the label font, for layout without a font engine.
CHAR_W = 8.0
LABEL_MAX = 34
LEGEND_W = 600
#: The chart's width on a 390 px phone (the page's padding taken off).
PHONE_W = 358
LINE_H = 15
PAD = 8
#: Light to dark: practice notes in blue, events in orange (readable for most colour vision).
PRACTICE_COLOURS = ("#a9c9ec", "#5a95d3", "#1d5aa3", "#0b3470")
EVENT_COLOURS = ("#f8c08a", "#ec8a3a", "#c25a0f", "#8a3d05")
EMPTY = "#f1f2f4"

Key = Hashable


@dataclass(frozen=True)
class Grid:
    """Counts (practice notes, events) per row and column; rows and columns in order."""

    rows: Sequence[tuple[Key, str]]
    columns: Sequence[tuple[Key, str]]
    cells: dict[tuple[Key, Key], tuple[int, int]] = field(default_factory=dict)

    def cell(self, row: Key, column: Key) -> tuple[int, int]:
        return self.cells.get((row, column), (0, 0))

    @property
    def empty(self) -> bool:
        return not self.cells


@dataclass(frozen=True)
class Counts:
    #: Rows: cities (slug, name); columns: years.
    by_year: Grid
    #: Rows: topics (code, name); columns: cities (slug, name).
    by_topic: Grid
    #: Rows: topics (code, name); columns: years: the activity over the years per topic.
    by_topic_year: Grid
    practices: int
    events: int


def _add(
    cells: dict[tuple[Key, Key], tuple[int, int]], key: tuple[Key, Key], kind: str, count: int
) -> None:
    practices, events = cells.get(key, (0, 0))
    if kind == Kind.PRACTICE:
        practices += count
    else:
        events += count
    cells[key] = (practices, events)


def published_counts() -> Counts:
    """Published entries (own and mirrored) counted per city and year, and per topic and city."""
    published = Entry.status == Status.PUBLISHED
    by_year: dict[tuple[Key, Key], tuple[int, int]] = {}
    query = (
        select(City.slug, Entry.year, Entry.kind, func.count(Entry.id))
        .join(City, City.id == Entry.city_id)
        .where(published, Entry.year.is_not(None))
        .group_by(City.slug, Entry.year, Entry.kind)
    )
    for slug, entry_year, kind, count in db.session.execute(query):
        _add(by_year, (slug, entry_year), kind, count)

    by_topic: dict[tuple[Key, Key], tuple[int, int]] = {}
    query = (
        select(entry_topics.c.topic_code, City.slug, Entry.kind, func.count(Entry.id))
        .join(Entry, Entry.id == entry_topics.c.entry_id)
        .join(City, City.id == Entry.city_id)
        .where(published)
        .group_by(entry_topics.c.topic_code, City.slug, Entry.kind)
    )
    for code, city_slug, kind, count in db.session.execute(query):
        _add(by_topic, (code, city_slug), kind, count)

    by_topic_year: dict[tuple[Key, Key], tuple[int, int]] = {}
    query = (
        select(entry_topics.c.topic_code, Entry.year, Entry.kind, func.count(Entry.id))
        .join(Entry, Entry.id == entry_topics.c.entry_id)
        .where(published, Entry.year.is_not(None))
        .group_by(entry_topics.c.topic_code, Entry.year, Entry.kind)
    )
    for code, entry_year, kind, count in db.session.execute(query):
        _add(by_topic_year, (code, entry_year), kind, count)

    totals: dict[str, int] = {
        kind: count
        for kind, count in db.session.execute(
            select(Entry.kind, func.count(Entry.id)).where(published).group_by(Entry.kind)
        )
    }
    used = {slug for slug, _ in by_year} | {slug for _, slug in by_topic}
    cities = [
        (c.slug, c.name)
        for c in db.session.scalars(select(City).where(City.slug.in_(used)).order_by(City.name))
    ]
    years = [(y, str(y)) for y in sorted({y for _, y in by_year if isinstance(y, int)})]
    # Topics nobody wrote on are left out of the charts (the topics page lists them).
    used_topics = {code for code, _ in by_topic}
    topics = [
        (t.code, t.name)
        for t in db.session.scalars(select(Topic).order_by(Topic.position))
        if t.code in used_topics
    ]
    return Counts(
        by_year=Grid(cities, years, by_year),
        by_topic=Grid(topics, cities, by_topic),
        by_topic_year=Grid(topics, years, by_topic_year),
        practices=totals.get(Kind.PRACTICE, 0),
        events=totals.get(Kind.EVENT, 0),
    )


# -- SVG ----------------------------------------------------------------------
#
# Two layouts of the same chart, one shown by CSS at a time: on a wide screen
# row labels sit left of their cells (wrapped onto two lines); on a phone each
# row's label is a line of its own above its cells, so the cells start at the
# left edge and several columns fit. A label too long even so ends in "…"; every
# label and cell has a <title> with the whole text.


@dataclass(frozen=True)
class Layout:
    name: str
    cell_w: int
    #: Characters per line of a row label, and how many lines it may take.
    label_chars: int
    label_lines: int
    #: The row label above its cells (phone) rather than left of them.
    labels_above: bool
    #: Legend entries one under the other.
    legend_stacked: bool
    min_width: int


WIDE = Layout("wide", CELL_W, 26, 2, False, False, LEGEND_W)
NARROW = Layout("narrow", 40, 42, 2, True, True, PHONE_W)


@dataclass(frozen=True)
class Chart:
    """A chart in both layouts (the page shows one of them, by CSS)."""

    wide: Markup
    narrow: Markup


def _shade(count: int, most: int, colours: tuple[str, ...]) -> str:
    """The colour of a count: the share of the grid's largest count, in steps."""
    if count <= 0:
        return EMPTY
    step = -(-count * len(colours) // max(most, 1)) - 1
    return colours[min(max(step, 0), len(colours) - 1)]


def _ink(fill: str, colours: tuple[str, ...]) -> str:
    """Text colour that stays readable on the fill."""
    return "#ffffff" if fill in colours[1:] else "#1f2328"


def _short(label: str, limit: int = LABEL_MAX) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def wrap(label: str, chars: int, lines: int) -> list[str]:
    """``label`` in at most ``lines`` lines of about ``chars`` characters, broken
    between words; what does not fit ends the last line with "…"."""
    out: list[str] = []
    for word in label.split():
        if out and len(out[-1]) + 1 + len(word) <= chars:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = [*out[: lines - 1], _short(" ".join(out[lines - 1 :]), chars)]
    return [_short(line, chars) for line in out] or [""]


def _plural(n: int, forms: tuple[str, str, str]) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} {forms[0]}"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} {forms[1]}"
    return f"{n} {forms[2]}"


PRACTICE_FORMS = ("практика", "практики", "практик")
EVENT_FORMS = ("мероприятие", "мероприятия", "мероприятий")


def _text(x: float, y: float, content: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _lines(x: float, y: float, lines: list[str], **attrs: str) -> str:
    """Lines of text, the first baseline at ``y``."""
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else LINE_H}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{spans}</text>'


def _cell(
    grid: Grid, row: Key, column: Key, x: float, y: float, w: float, most: tuple[int, int]
) -> str:
    """One cell: practice notes in its left half, events in its right half."""
    practices, events = grid.cell(row, column)
    labels = dict(grid.rows)[row], dict(grid.columns)[column]
    tip = f"{labels[0]}, {labels[1]}: {_plural(practices, PRACTICE_FORMS)}, "
    tip += _plural(events, EVENT_FORMS)
    cell = [f"<title>{escape(tip)}</title>"]
    halves = ((practices, PRACTICE_COLOURS, most[0]), (events, EVENT_COLOURS, most[1]))
    for half, (count, colours, top) in enumerate(halves):
        fill = _shade(count, top, colours)
        hx = x + half * w / 2
        cell.append(
            f'<rect x="{hx:.1f}" y="{y:.1f}" width="{w / 2:.1f}" height="{CELL_H}" fill="{fill}"/>'
        )
        if count:
            ink = _ink(fill, colours)
            cell.append(
                _text(hx + w / 4, y + CELL_H / 2 + 4.5, str(count), text_anchor="middle", fill=ink)
            )
    return "".join(cell)


def heatmap_svg(
    grid: Grid,
    title: str,
    link: Callable[[Key, Key], str] | None = None,
    layout: Layout = WIDE,
) -> Markup:
    """The grid as an SVG heat map; ``link(row, column)`` gives each cell's target."""
    if grid.empty:
        return Markup("")
    w = layout.cell_w
    labels = [wrap(label, layout.label_chars, layout.label_lines) for _, label in grid.rows]
    lines = max(len(lines) for lines in labels)
    longest_line = max(len(line) for lines in labels for line in lines)
    longest = max(len(_short(label)) for _, label in grid.columns)
    rotate = longest * CHAR_W > w
    header_h = (longest * CHAR_W * 0.72 + 16) if rotate else FONT + 12
    label_w, label_h, row_h = 0.0, 0.0, 0.0
    if layout.labels_above:
        label_h = lines * LINE_H + 2.0
        row_h = label_h + CELL_H + GAP + 4
    else:
        label_w = PAD + CHAR_W * longest_line
        row_h = max(CELL_H, lines * LINE_H + 4.0) + GAP
    x0 = PAD + (label_w if not layout.labels_above else 0)
    width = x0 + len(grid.columns) * (w + GAP) + (header_h if rotate else PAD)
    width = max(width, layout.min_width)
    legend_y = header_h + len(grid.rows) * row_h + 12
    legend_h = (2 if layout.legend_stacked else 1) * (CELL_H - 6)
    height = legend_y + legend_h + PAD
    most = (
        max((p for p, _ in grid.cells.values()), default=0),
        max((e for _, e in grid.cells.values()), default=0),
    )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{layout.name}" '
        f'role="group" aria-label="{escape(title)}" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="system-ui, sans-serif" font-size="{FONT}">',
        f"<title>{escape(title)}</title>",
    ]
    for j, (_, label) in enumerate(grid.columns):
        cx = x0 + j * (w + GAP) + w / 2
        if rotate:
            out.append(
                f'<g transform="translate({cx:.1f},{header_h - 6:.1f}) rotate(-45)">'
                f"<title>{escape(label)}</title>{_text(0, 0, _short(label))}</g>"
            )
        else:
            out.append(_text(cx, header_h - 8, label, text_anchor="middle"))
    for i, ((row, row_label), row_lines) in enumerate(zip(grid.rows, labels, strict=True)):
        top = header_h + i * row_h
        if layout.labels_above:
            text = _lines(PAD, top + LINE_H - 3, row_lines, font_weight="600")
            y = top + label_h
        else:
            first = top + (row_h - GAP - len(row_lines) * LINE_H) / 2 + LINE_H - 3.5
            text = _lines(label_w, first, row_lines, text_anchor="end")
            y = top + (row_h - GAP - CELL_H) / 2
        out.append(f"<g><title>{escape(row_label)}</title>{text}</g>")
        for j, (column, _) in enumerate(grid.columns):
            body = _cell(grid, row, column, x0 + j * (w + GAP), y, w, most)
            if link is not None and grid.cell(row, column) != (0, 0):
                body = f'<a href="{escape(link(row, column))}">{body}</a>'
            out.append(f"<g>{body}</g>")
    x, y = float(PAD), legend_y
    for colours, words in (
        (PRACTICE_COLOURS, "практики (левая половина клетки)"),
        (EVENT_COLOURS, "мероприятия (правая половина)"),
    ):
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="14" height="14" fill="{colours[-2]}"/>'
            + _text(x + 20, y + 12, words)
        )
        if layout.legend_stacked:
            y += CELL_H - 6
        else:
            x += 20 + CHAR_W * len(words) + 16
    out.append("</svg>")
    return Markup("".join(out))


def chart(grid: Grid, title: str, link: Callable[[Key, Key], str] | None = None) -> Chart:
    """The grid's heat map for wide screens and for phones."""
    return Chart(heatmap_svg(grid, title, link, WIDE), heatmap_svg(grid, title, link, NARROW))
