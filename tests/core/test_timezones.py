"""The zone list: every zone the tz database defines, by its current name, and no
deprecated alias (Asia/Calcutta, Europe/Kiev, Canada/Eastern); an old name a browser
still reports is read as the zone it now names."""

from importlib.resources import files

import pytest

from blueprints.booking.display import ALL_ZONE_GROUPS
from blueprints.core.timezones import all_zone_names, parse_zone, zone_city, zone_name

DEPRECATED = (
    "Canada/Eastern", "Brazil/East", "Mexico/General", "Australia/ACT", "Asia/Calcutta",
    "Europe/Kiev", "Asia/Saigon", "America/Buenos_Aires", "Asia/Katmandu", "America/Godthab",
    "US/Eastern", "Asia/Rangoon", "Pacific/Truk", "America/Indianapolis", "Europe/Belfast",
)  # fmt: skip


def _tzdata_lines(kind):
    """The zone (``Z``) or link (``L target alias``) lines of the tzdata package's data."""
    text = files("tzdata").joinpath("zoneinfo/tzdata.zi").read_text(encoding="utf-8")
    return [line.split()[1:] for line in text.splitlines() if line.startswith(f"{kind} ")]


def test_no_deprecated_alias_is_offered():
    names = set(all_zone_names())
    listed = {zone.name for _region, zones in ALL_ZONE_GROUPS for zone in zones}
    for alias in DEPRECATED:
        assert alias not in names, alias
        assert alias not in listed, alias


def test_every_zone_the_tz_database_defines_is_offered():
    names = set(all_zone_names())
    zones = {fields[0] for fields in _tzdata_lines("Z")}
    # Etc/GMT+5 and the like, and the old POSIX names (EST5EDT, Factory), are no places.
    places = {z for z in zones if "/" in z and not z.startswith("Etc/")}
    assert places <= names
    assert {"Asia/Kolkata", "Europe/Kyiv", "America/Nuuk", "Asia/Ho_Chi_Minh"} <= names
    assert not {z for z in names if z.startswith("Etc/") or "/" not in z}


def test_a_country_whose_clock_follows_a_neighbours_keeps_its_own_city():
    """Europe/Amsterdam is a link to Europe/Brussels in the data, but it is the
    Netherlands' zone in zone.tab, not a deprecated name: the Dutch look for Amsterdam."""
    names = set(all_zone_names())
    assert {"Europe/Amsterdam", "Europe/Stockholm", "Europe/Oslo", "Asia/Kuwait"} <= names


def test_every_zone_offered_is_a_zone_or_a_countrys_zone_never_a_backward_link():
    zones = {fields[0] for fields in _tzdata_lines("Z")}
    tab = files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    country_zones = {
        line.split("\t")[2] for line in tab.splitlines() if line and not line.startswith("#")
    }
    assert set(all_zone_names()) <= zones | country_zones


@pytest.mark.parametrize(
    "old, current",
    [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("US/Eastern", "America/New_York"),
        ("Canada/Eastern", "America/Toronto"),
        ("America/Godthab", "America/Nuuk"),
    ],
)
def test_an_old_zone_name_is_read_as_the_zone_it_now_names(old, current):
    assert parse_zone(old).key == current


def test_every_link_in_the_data_is_read_as_a_zone_that_is_offered():
    names = set(all_zone_names())
    for _target, alias in _tzdata_lines("L"):
        zone = parse_zone(alias)
        if alias.startswith("Etc/") or "/" not in alias:
            continue  # GMT, UTC, Etc/Zulu: no place; the practitioner's zone is used
        assert zone is not None and zone.key in names, alias


@pytest.mark.parametrize("bad", ["", "Mars/Olympus", "../etc/passwd", "Etc/GMT+5", "EST5EDT",
                                 "x" * 100, None, "asia/kolkata"])  # fmt: skip
def test_anything_else_is_refused(bad):
    assert parse_zone(bad) is None


def test_without_the_tz_source_files_the_list_still_leaves_out_old_country_folders(
    monkeypatch,
):
    from blueprints.core import timezones

    monkeypatch.setattr(timezones, "_tz_file", lambda name: None)
    names, aliases = timezones._zone_data.__wrapped__()
    assert "America/New_York" in names and "Asia/Kolkata" in names
    assert not [n for n in names if n.startswith(("US/", "Etc/", "SystemV/")) or "/" not in n]
    assert aliases == {}


def test_a_booking_stored_under_an_old_name_is_written_with_the_current_one():
    """Bookings made before the list dropped the old names may hold Asia/Calcutta."""
    assert zone_name("Asia/Calcutta") == "Kolkata time"
    assert zone_name("US/Pacific") == "Pacific Time"
    assert zone_city("Europe/Kiev") == "Kyiv"
