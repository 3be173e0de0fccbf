from datetime import UTC, datetime

import pytest

from resonanz.core.timezones import LocalTimeError, local_to_utc


def test_plain_local_time_is_converted_to_utc() -> None:
    assert local_to_utc(datetime(2026, 12, 1, 9, 0), "Europe/Berlin") == datetime(
        2026, 12, 1, 8, 0, tzinfo=UTC
    )
    assert local_to_utc(datetime(2026, 7, 1, 9, 0), "Europe/Berlin") == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_nonexistent_time_in_spring_gap_is_refused() -> None:
    with pytest.raises(LocalTimeError) as err:
        local_to_utc(datetime(2026, 3, 29, 2, 30), "Europe/Berlin")
    assert err.value.code == "nonexistent_local_time"
    assert "2026-03-29 02:30" in err.value.message


def test_ambiguous_time_in_autumn_must_be_resolved() -> None:
    with pytest.raises(LocalTimeError) as err:
        local_to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Berlin")
    assert err.value.code == "ambiguous_local_time"
    first = local_to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Berlin", fold=0)
    second = local_to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Berlin", fold=1)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(LocalTimeError) as err:
        local_to_utc(datetime(2026, 1, 1, 9, 0), "Mars/Olympus")
    assert err.value.code == "unknown_time_zone"
