"""How well the reader finds what the questionnaire variants name.

Each variant ``tests/data/questionnaires/variants/NAME.txt`` has its expected
result beside it, ``NAME.json``: the city, the reporting year, the note's main
topic and every event with its title, stage, year, month, optional dates and
format. :func:`measure` compares the reader's result with them;
``python -m tests.questionnaire_figures`` prints the figures (the README
quotes them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.questionnaire.parse import ParsedEvent, parse_questionnaire
from service.questionnaire.topics import note_topics

VARIANTS = Path(__file__).parent / "data" / "questionnaires" / "variants"
#: Written after the rules were settled, and not used to change them.
HELD_OUT = Path(__file__).parent / "data" / "questionnaires" / "heldout"


def key(title: str) -> str:
    return title.lower().replace("ё", "е")


@dataclass
class Figures:
    notes: int = 0
    main_topic_first: int = 0
    expected_events: int = 0
    found_events: int = 0  # all events the reader gave
    matched: int = 0  # expected events found with the exact title
    stage: int = 0  # of the matched: right stage
    year: int = 0
    month: int = 0
    dates: int = 0
    format: int = 0
    misses: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"notes: {self.notes}, main topic first: {self.main_topic_first}/{self.notes}; "
            f"events: {self.matched}/{self.expected_events} found "
            f"({self.found_events - self.matched} extra), of those right: "
            f"stage {self.stage}, year {self.year}, month {self.month}, dates {self.dates}, "
            f"format {self.format}"
        )


def expected(name: str, folder: Path = VARIANTS) -> dict[str, Any]:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def names(folder: Path = VARIANTS) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.txt"))


def _compare(event: ParsedEvent, want: dict[str, Any], figures: Figures, name: str) -> None:
    figures.matched += 1
    checks = {
        "stage": event.stage == want["stage"],
        "year": event.year == want["year"],
        "month": event.month == want["month"],
        "dates": (
            (event.starts_on.isoformat() if event.starts_on else None) == want.get("starts_on")
            and (event.ends_on.isoformat() if event.ends_on else None) == want.get("ends_on")
        ),
        "format": event.format == want["format"],
    }
    for what, right in checks.items():
        if right:
            setattr(figures, what, getattr(figures, what) + 1)
        else:
            figures.misses.append(f"{name}: {want['title']}: {what}")


def measure(folder: Path = VARIANTS) -> Figures:
    figures = Figures()
    for name in names(folder):
        want = expected(name, folder)
        parsed = parse_questionnaire((folder / f"{name}.txt").read_text(encoding="utf-8"))
        figures.notes += 1
        topics = note_topics(parsed)
        if topics[:1] == [want["main_topic"]]:
            figures.main_topic_first += 1
        else:
            figures.misses.append(f"{name}: main topic {topics[:3]} != {want['main_topic']}")
        by_title = {key(e.title): e for e in parsed.events}
        figures.found_events += len(parsed.events)
        figures.expected_events += len(want["events"])
        wanted = {key(w["title"]) for w in want["events"]}
        for title in by_title.keys() - wanted:
            figures.misses.append(f"{name}: extra event {by_title[title].title!r}")
        for event_want in want["events"]:
            event = by_title.get(key(event_want["title"]))
            if event is None:
                figures.misses.append(f"{name}: missed {event_want['title']!r}")
            else:
                _compare(event, event_want, figures, name)
    return figures


if __name__ == "__main__":
    for title, folder in (("variants", VARIANTS), ("held out", HELD_OUT)):
        result = measure(folder)
        print(f"{title}: {result.line()}")
        for miss in result.misses:
            print("  ", miss)
