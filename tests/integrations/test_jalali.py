"""Affili's Jalali (Tehran) times to UTC, and Gregorian filter values."""
import datetime as dt

import pytest

from integrations.affili.jalali import TEHRAN, gregorian_filter, jalali_to_utc
from tests.fakes.affili import to_jalali


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(("text", "expected"), [
    # The documented sample: 17 Farvardin 1399 is 5 April 2020, Tehran then on DST (+04:30).
    ("1399-01-17 12:46:38", utc(2020, 4, 5, 8, 16, 38)),
    ("1399-02-10 19:30:50", utc(2020, 4, 29, 15, 0, 50)),
    # Summer 1399 (+04:30) and winter 1399 (+03:30).
    ("1399-04-10 12:00:00", utc(2020, 6, 30, 7, 30)),
    ("1399-10-11 12:00:00", utc(2020, 12, 31, 8, 30)),
    # Summer 1401 was Iran's last with DST; from 1402 (2023) summer stays on +03:30.
    ("1401-04-10 12:00:00", utc(2022, 7, 1, 7, 30)),
    ("1402-04-10 12:00:00", utc(2023, 7, 1, 8, 30)),
    ("1404-05-01 00:00:00", utc(2025, 7, 22, 20, 30)),
    # 1399 is a Jalali leap year: Esfand has 30 days.
    ("1399-12-30 23:59:59", utc(2021, 3, 20, 20, 29, 59)),
])
def test_jalali_tehran_time_becomes_exact_utc(text, expected):
    converted = jalali_to_utc(text)

    assert converted == expected
    assert converted.tzinfo is dt.UTC


@pytest.mark.parametrize("text", [
    "1399/01/17 12:46:38", "1399-01-17T12:46:38", "1399-1-17 12:46:38", "۱۳۹۹-۰۱-۱۷ ۱۲:۴۶:۳۸",
    "1399-01-17 12:46:38.000000", " 1399-01-17 12:46:38 ",
])
def test_written_variants_of_the_same_moment_are_read(text):
    assert jalali_to_utc(text) == utc(2020, 4, 5, 8, 16, 38)


def test_missing_seconds_and_missing_time_are_zero():
    assert jalali_to_utc("1399-01-17 12:46") == utc(2020, 4, 5, 8, 16)
    assert jalali_to_utc("1402-01-17") == utc(2023, 4, 5, 20, 30)  # midnight of 6 April in Tehran


@pytest.mark.parametrize("text", [
    "1400-12-30 00:00:00",  # 1400 is not a leap year
    "1399-13-01 00:00:00", "1399-01-17 25:00:00", "2020-04-05 08:16:38", "yesterday", "", None, 1399,
])
def test_what_is_not_a_jalali_date_time_is_refused(text):
    with pytest.raises(ValueError):
        jalali_to_utc(text)


def test_the_repeated_hour_when_dst_ended_is_read_as_its_first_occurrence():
    # 30 Shahrivar 1401 (21 Sep 2022): clocks went from 24:00 back to 23:00, so 23:30 happened twice.
    assert jalali_to_utc("1401-06-30 23:30:00") == utc(2022, 9, 21, 19, 0)


def test_every_moment_round_trips_through_affilis_notation():
    moment = utc(2019, 1, 1)
    while moment < utc(2025, 1, 1):
        local = moment.astimezone(TEHRAN)
        ambiguous = local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
        if not ambiguous:
            assert jalali_to_utc(to_jalali(moment)) == moment, moment
        moment += dt.timedelta(hours=7, minutes=13, seconds=11)


def test_filters_are_gregorian_tehran_wall_clock():
    assert gregorian_filter(utc(2020, 4, 5, 8, 16, 38)) == "2020-04-05 12:46:38"
    assert gregorian_filter(utc(2023, 7, 1, 8, 30)) == "2023-07-01 12:00:00"
    assert gregorian_filter(dt.date(2023, 7, 1)) == "2023-07-01 00:00:00"


def test_a_naive_datetime_is_not_turned_into_a_filter():
    with pytest.raises(ValueError):
        gregorian_filter(dt.datetime(2023, 7, 1, 12))  # noqa: DTZ001 - the naive value is the point
