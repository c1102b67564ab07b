"""The domain rules that exist once: capaian rounding and which reported value stands."""

from __future__ import annotations

from storage.domain.numbers import capaian_percent, format_percent, ratio_percent
from storage.domain.reported import quarter_value


def test_capaian_rounds_half_up_like_serapan() -> None:
    assert capaian_percent(1, 8) == 12.5
    assert format_percent(capaian_percent(1, 8)) == "12,50%"
    # binary floats would round 2.675 down to 2.67
    assert round(2.675 / 100 * 100, 2) == 2.67
    assert capaian_percent(2.675, 100) == 2.68
    assert capaian_percent(1, 3) == 33.33
    assert capaian_percent(2, 3) == 66.67
    assert capaian_percent(13.49, 20) == 67.45
    assert capaian_percent(150, 100) == 150.0
    assert capaian_percent(1, 8) == ratio_percent(1, 8)


def test_capaian_needs_a_target_and_a_realisation() -> None:
    assert capaian_percent(None, 100) is None
    assert capaian_percent(50, None) is None
    assert capaian_percent(50, 0) is None
    assert capaian_percent(0, 100) == 0.0


def test_the_quarters_own_report_wins() -> None:
    # TW I value in the TW I report (id 10), restated by the TW II (11) and TW III (12) reports
    values = [(11, 15.46), (10, 15.64), (12, 15.47)]
    assert quarter_value(values, own_report_id=10) == 15.64


def test_without_an_own_report_the_latest_report_wins() -> None:
    values = [(11, 15.46), (12, 15.47), (3, 1.0)]
    assert quarter_value(values, own_report_id=None) == 15.47
    assert quarter_value(values, own_report_id=99) == 15.47


def test_a_value_entered_through_the_bot_wins_over_reports() -> None:
    values = [(10, 15.64), (None, 20.0), (12, 15.47)]
    assert quarter_value(values, own_report_id=10) == 20.0
    assert quarter_value(values, own_report_id=None) == 20.0


def test_no_candidates_no_value() -> None:
    assert quarter_value([], own_report_id=1) is None
    assert quarter_value(iter(()), own_report_id=None) is None
