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
    years = sorted({year for _, year in by_year if isinstance(year, int)})
    topics = [(t.code, t.name) for t in db.session.scalars(select(Topic).order_by(Topic.position))]
    return Counts(
        by_year=Grid(cities, [(y, str(y)) for y in years], by_year),
        by_topic=Grid(topics, cities, by_topic),
        practices=totals.get(Kind.PRACTICE, 0),
        events=totals.get(Kind.EVENT, 0),
    )


# -- SVG ----------------------------------------------------------------------


def _shade(count: int, most: int, colours: tuple[str, ...]) -> str:
    """The colour of a count: the share of the grid's largest count, in steps."""
    if count <= 0:
        return EMPTY
    step = -(-count * len(colours) // max(most, 1)) - 1
    return colours[min(max(step, 0), len(colours) - 1)]


def _ink(fill: str, colours: tuple[str, ...]) -> str:
    """Text colour that stays readable on the fill."""
    return "#ffffff" if fill in colours[1:] else "#1f2328"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


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


def heatmap_svg(grid: Grid, title: str, link: Callable[[Key, Key], str] | None = None) -> Markup:
    """The grid as an SVG heat map; ``link(row, column)`` gives each cell's target."""
    if grid.empty:
        return Markup("")
    label_w = PAD + CHAR_W * max(len(_short(label)) for _, label in grid.rows)
    longest = max(len(_short(label)) for _, label in grid.columns)
    rotate = longest * CHAR_W > CELL_W
    header_h = (longest * CHAR_W * 0.72 + 16) if rotate else FONT + 12
    width = label_w + PAD + len(grid.columns) * (CELL_W + GAP) + (header_h if rotate else PAD)
    width = max(width, LEGEND_W)
    legend_y = header_h + len(grid.rows) * (CELL_H + GAP) + 12
    height = legend_y + CELL_H + PAD
    most_p = max((p for p, _ in grid.cells.values()), default=0)
    most_e = max((e for _, e in grid.cells.values()), default=0)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="system-ui, sans-serif" font-size="{FONT}">',
        f"<title>{escape(title)}</title>",
    ]
    x0 = label_w + PAD
    for j, (_, label) in enumerate(grid.columns):
        cx = x0 + j * (CELL_W + GAP) + CELL_W / 2
        if rotate:
            out.append(
                f'<g transform="translate({cx:.1f},{header_h - 6:.1f}) rotate(-45)">'
                f"<title>{escape(label)}</title>{_text(0, 0, _short(label))}</g>"
            )
        else:
            out.append(_text(cx, header_h - 8, label, text_anchor="middle"))
    for i, (row, row_label) in enumerate(grid.rows):
        y = header_h + i * (CELL_H + GAP)
        out.append(
            f"<g><title>{escape(row_label)}</title>"
            + _text(label_w, y + CELL_H / 2 + 4.5, _short(row_label), text_anchor="end")
            + "</g>"
        )
        for j, (column, column_label) in enumerate(grid.columns):
            x = x0 + j * (CELL_W + GAP)
            practices, events = grid.cell(row, column)
            tip = (
                f"{row_label}, {column_label}: {_plural(practices, PRACTICE_FORMS)}, "
                f"{_plural(events, EVENT_FORMS)}"
            )
            cell = [f"<title>{escape(tip)}</title>"]
            for half, (count, colours, most) in enumerate(
                ((practices, PRACTICE_COLOURS, most_p), (events, EVENT_COLOURS, most_e))
            ):
                fill = _shade(count, most, colours)
                hx = x + half * CELL_W / 2
                cell.append(
                    f'<rect x="{hx:.1f}" y="{y:.1f}" width="{CELL_W / 2:.1f}" '
                    f'height="{CELL_H}" fill="{fill}"/>'
                )
                if count:
                    cell.append(
                        _text(
                            hx + CELL_W / 4,
                            y + CELL_H / 2 + 4.5,
                            str(count),
                            text_anchor="middle",
                            fill=_ink(fill, colours),
                        )
                    )
            body = "".join(cell)
            if link is not None and (practices or events):
                body = f'<a href="{escape(link(row, column))}">{body}</a>'
            out.append(f"<g>{body}</g>")
    x = float(PAD)
    for colours, words in (
        (PRACTICE_COLOURS, "практики (левая половина клетки)"),
        (EVENT_COLOURS, "мероприятия (правая половина)"),
    ):
        out.append(
            f'<rect x="{x:.1f}" y="{legend_y:.1f}" width="14" height="14" fill="{colours[-2]}"/>'
            + _text(x + 20, legend_y + 12, words)
        )
        x += 20 + CHAR_W * len(words) + 16
    out.append("</svg>")
    return Markup("".join(out))
