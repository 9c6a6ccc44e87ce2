"""One way to write a time (issue #19.8): ``format_when`` on every page, email, subject
line and calendar entry: ``Tuesday 8 December, 9:00 am Pacific Time (12:00 pm in New
York)``, never a raw zone id."""

import re
from datetime import UTC, datetime
from pathlib import Path

from blueprints.core.timezones import all_zone_names, format_day_at, format_when, zone_name

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
NINE_PACIFIC = datetime(2026, 12, 8, 17, tzinfo=UTC)  # 9:00 am in Los Angeles


def when(value, zone, home="America/New_York"):
    return format_when(value, zone, home, now=NOW)


def test_her_zone_first_then_dr_browns_clock():
    assert when(NINE_PACIFIC, "America/Los_Angeles") == (
        "Tuesday 8 December, 9:00 am Pacific Time (12:00 pm in New York)"
    )


def test_on_a_day_at_a_time_reads_as_a_sentence():
    """ "On Tuesday 8 December at 9:00 am ...": the same words as format_when, joined by
    "at" for the middle of a sentence."""
    assert format_day_at(NINE_PACIFIC, "America/Los_Angeles", "America/New_York", now=NOW) == (
        "Tuesday 8 December at 9:00 am Pacific Time (12:00 pm in New York)"
    )
    assert format_day_at(NINE_PACIFIC, "America/New_York", "America/New_York", now=NOW) == (
        "Tuesday 8 December at 12:00 pm Eastern Time"
    )


def test_no_template_starts_a_sentence_with_at_and_a_day():
    """ "At Tuesday 8 December, 9:00 am, ..." is not English: a day takes "On" (any
    sentence that opens with "At" and a value is suspect: "At {{ ... }}")."""
    wrong = [
        f"{path.relative_to(TEMPLATES)}: {line.strip()}"
        for path in TEMPLATES.rglob("*.*")
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"\bAt \{\{", line)
    ]
    assert not wrong, wrong


def test_in_dr_browns_own_zone_one_clock_only():
    assert when(NINE_PACIFIC, "America/New_York") == "Tuesday 8 December, 12:00 pm Eastern Time"
    # Toronto's clock reads the same as New York's: nothing to add.
    assert when(NINE_PACIFIC, "America/Toronto") == "Tuesday 8 December, 12:00 pm Eastern Time"


def test_the_other_day_is_named_when_the_clocks_fall_on_different_days():
    late_evening_hawaii = datetime(2026, 12, 9, 6, tzinfo=UTC)  # 8:00 pm on the 8th in Honolulu
    assert when(late_evening_hawaii, "Pacific/Honolulu") == (
        "Tuesday 8 December, 8:00 pm Hawaii Time (1:00 am on Wednesday 9 December in New York)"
    )


def test_a_zone_without_a_common_name_is_named_by_its_city():
    assert when(NINE_PACIFIC, "Europe/Paris") == (
        "Tuesday 8 December, 6:00 pm Paris time (12:00 pm in New York)"
    )
    assert zone_name("America/Argentina/Buenos_Aires") == "Buenos Aires time"


def test_the_year_shows_only_when_it_is_not_this_year():
    next_year = datetime(2027, 1, 5, 17, tzinfo=UTC)
    assert when(next_year, "America/Los_Angeles").startswith("Tuesday 5 January 2027, 9:00 am")


def test_no_zone_is_ever_written_as_its_id():
    for zone in all_zone_names():
        text = when(NINE_PACIFIC, zone)
        assert zone not in text and "_" not in text, zone


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_a_bare_clock_time_appears_only_under_a_line_naming_its_zone():
    """A time written alone (``|time``: ``3:45 pm``) says nothing of whose clock: public
    pages and emails write times the house way (``|when``). Only staff pages list bare
    times, each under a line naming the zone ("Times are Eastern Time.")."""
    names_zone = "Times are {{ zone|zone_name }}"
    bare = re.compile(r"\|\s*time\b(?!_)")
    for template in sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt")):
        text = template.read_text(encoding="utf-8")
        if not bare.search(text):
            continue
        name = template.relative_to(TEMPLATES).as_posix()
        assert name.startswith("admin/"), f"{name} writes a time without its zone"
        pages = [text] if names_zone in text else [
            other.read_text(encoding="utf-8")
            for other in TEMPLATES.rglob("*.html")
            if f'include "{name}"' in other.read_text(encoding="utf-8")
        ]  # fmt: skip
        assert pages and all(names_zone in page for page in pages), name
