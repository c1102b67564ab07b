"""The domain rules that exist once: capaian rounding, which reported value stands, and
who may do what with a report."""

from __future__ import annotations

import pytest

from storage.domain.early_warning import PlanSource, deviation, national_label
from storage.domain.numbers import format_percent, ratio_percent
from storage.domain.policy import (
    Denied,
    Role,
    StatusLaporan,
    UserStatus,
    is_asked_to_verify,
    may_decide,
    may_decide_as,
    may_reopen,
    may_see_history,
    may_see_office,
    may_submit,
    scope_of,
)
from storage.domain.reported import quarter_value
from storage.services.early_warning import BacktestRow


def test_capaian_rounds_half_up_like_serapan() -> None:
    assert ratio_percent(1, 8) == 12.5
    assert format_percent(ratio_percent(1, 8)) == "12,50%"
    # binary floats would round 2.675 down to 2.67
    assert round(2.675 / 100 * 100, 2) == 2.67
    assert ratio_percent(2.675, 100) == 2.68
    assert ratio_percent(1, 3) == 33.33
    assert ratio_percent(2, 3) == 66.67
    assert ratio_percent(13.49, 20) == 67.45
    assert ratio_percent(150, 100) == 150.0


def test_one_half_up_percentage_on_an_exact_half() -> None:
    # Rp 2.250.000 of Rp 200.000.000 is 1,125 %: half-up 1,13, Python's half-even round 1,12
    assert round(2_250_000 * 100 / 200_000_000, 2) == 1.12
    assert ratio_percent(2_250_000, 200_000_000) == 1.13
    assert format_percent(ratio_percent(2_250_000, 200_000_000)) == "1,13%"
    assert ratio_percent(-2_250_000, 200_000_000) == -1.13  # a half away from zero
    assert ratio_percent(2_250_000, 20_000_000, 1) == 11.3  # 11,25 to one decimal
    # the early warning's deviation in points of pagu, and its backtest error, the same way
    assert deviation(102_250_000, 100_000_000, 200_000_000).points == 1.13
    assert deviation(97_750_000, 100_000_000, 200_000_000).points == -1.13
    assert BacktestRow("b", 200_000_000, 52_250_000, 50_000_000).error_points == 1.13


def test_capaian_needs_a_target_and_a_realisation() -> None:
    assert ratio_percent(None, 100) is None
    assert ratio_percent(50, None) is None
    assert ratio_percent(50, 0) is None
    assert ratio_percent(0, 100) == 0.0


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


# --- permissions (storage/domain/policy.py) ---------------------------------------------------

A, K, V, OP = Role.ADMIN, Role.KEPALA, Role.VERIFIKATOR, Role.OPERATOR
ACTIVE, PENDING, REJECTED = UserStatus.ACTIVE, UserStatus.PENDING, UserStatus.REJECTED
WAITING, APPROVED, RETURNED = (
    StatusLaporan.DIAJUKAN,
    StatusLaporan.DISETUJUI,
    StatusLaporan.DIKEMBALIKAN,
)


@pytest.mark.parametrize(
    ("role", "status", "user_bidang", "bidang", "expected"),
    [
        (OP, ACTIVE, 2, None, None),
        (OP, ACTIVE, 2, 2, None),
        (OP, ACTIVE, 2, 3, Denied.NOT_OPERATOR),
        (OP, ACTIVE, None, None, Denied.NOT_OPERATOR),
        (OP, PENDING, 2, None, Denied.NOT_OPERATOR),
        (OP, REJECTED, 2, None, Denied.NOT_OPERATOR),
        (A, ACTIVE, 2, None, Denied.NOT_OPERATOR),
        (K, ACTIVE, None, None, Denied.NOT_OPERATOR),
        (V, ACTIVE, None, None, Denied.NOT_OPERATOR),
        (None, None, None, None, Denied.NOT_OPERATOR),
    ],
)
def test_who_may_submit(
    role: Role | None, status: str | None, user_bidang: int | None, bidang: int | None, expected
) -> None:  # type: ignore[no-untyped-def]
    got = may_submit(role=role, status=status, user_bidang_id=user_bidang, bidang_id=bidang)
    assert got == expected


@pytest.mark.parametrize(
    ("role", "status", "user_id", "submitted_by", "report", "expected"),
    [
        (V, ACTIVE, 1, 9, WAITING, None),
        (K, ACTIVE, 1, 9, WAITING, None),
        (A, ACTIVE, 1, 9, WAITING, None),
        (V, ACTIVE, 9, 9, WAITING, Denied.OWN_SUBMISSION),
        (A, ACTIVE, 9, 9, WAITING, Denied.OWN_SUBMISSION),
        (V, ACTIVE, 1, None, WAITING, None),
        (V, ACTIVE, 1, 9, APPROVED, Denied.NOT_SUBMITTED),
        (K, ACTIVE, 1, 9, RETURNED, Denied.NOT_SUBMITTED),
        (V, PENDING, 1, 9, WAITING, Denied.NOT_VERIFIER),
        (K, REJECTED, 1, 9, WAITING, Denied.NOT_VERIFIER),
        (OP, ACTIVE, 1, 9, WAITING, Denied.NOT_VERIFIER),
        (None, None, 1, 9, WAITING, Denied.NOT_VERIFIER),
        # the role is judged before the report: an operator learns nothing about it
        (OP, ACTIVE, 9, 9, APPROVED, Denied.NOT_VERIFIER),
    ],
)
def test_who_may_approve_or_return(  # type: ignore[no-untyped-def]
    role, status, user_id, submitted_by, report, expected
) -> None:
    got = may_decide(
        role=role, status=status, user_id=user_id, submitted_by=submitted_by, report_status=report
    )
    assert got == expected
    assert (may_decide_as(role=role, status=status) is None) == (
        role in (A, K, V) and status == ACTIVE
    )


@pytest.mark.parametrize(
    ("role", "status", "report", "expected"),
    [
        (A, ACTIVE, APPROVED, None),
        (A, ACTIVE, WAITING, Denied.NOT_APPROVED),
        (A, ACTIVE, RETURNED, Denied.NOT_APPROVED),
        (A, ACTIVE, None, Denied.NOT_APPROVED),
        (A, PENDING, APPROVED, Denied.NOT_ADMIN),
        (K, ACTIVE, APPROVED, Denied.NOT_ADMIN),
        (V, ACTIVE, APPROVED, Denied.NOT_ADMIN),
        (OP, ACTIVE, APPROVED, Denied.NOT_ADMIN),
    ],
)
def test_who_may_reopen(role, status, report, expected) -> None:  # type: ignore[no-untyped-def]
    assert may_reopen(role=role, status=status, report_status=report) == expected


@pytest.mark.parametrize(
    ("role", "status", "user_id", "submitted_by", "asked"),
    [
        (V, ACTIVE, 1, 9, True),
        (K, ACTIVE, 1, 9, True),  # kepala is asked even when there is a verifikator
        (A, ACTIVE, 1, 9, False),  # admins may decide but are not asked
        (OP, ACTIVE, 1, 9, False),
        (V, PENDING, 1, 9, False),
        (V, ACTIVE, 9, 9, False),  # never one's own submission
        (K, ACTIVE, 1, None, True),
    ],
)
def test_who_is_asked_to_verify(role, status, user_id, submitted_by, asked) -> None:  # type: ignore[no-untyped-def]
    got = is_asked_to_verify(role=role, status=status, user_id=user_id, submitted_by=submitted_by)
    assert got is asked


@pytest.mark.parametrize(
    ("role", "status", "user_bidang", "bidang", "expected"),
    [
        (A, ACTIVE, None, 3, None),
        (K, ACTIVE, None, 3, None),
        (V, ACTIVE, None, 3, None),
        (OP, ACTIVE, 3, 3, None),
        (OP, ACTIVE, 2, 3, Denied.NOT_THEIR_BIDANG),
        (OP, ACTIVE, None, None, Denied.NOT_THEIR_BIDANG),
        (K, PENDING, None, 3, Denied.NOT_THEIR_BIDANG),
    ],
)
def test_who_may_see_a_nodes_history(role, status, user_bidang, bidang, expected) -> None:  # type: ignore[no-untyped-def]
    got = may_see_history(role=role, status=status, user_bidang_id=user_bidang, bidang_id=bidang)
    assert got == expected


def test_every_denial_has_one_indonesian_message() -> None:
    from bot.views import texts

    assert set(texts.DENIED) == set(Denied)
    assert texts.denied(Denied.NOT_SUBMITTED, status="disetujui") == (
        "Laporan ini sudah disetujui; tidak ada yang perlu diputuskan."
    )


# Every status (and none) x every role (and none) x the person's own office or another: only
# an active person sees an office, their own one, and the kabupaten roles every office.
_STATUSES = [*UserStatus, None]
_ROLES = [*Role, None]


@pytest.mark.parametrize("status", _STATUSES, ids=str)
@pytest.mark.parametrize("role", _ROLES, ids=str)
@pytest.mark.parametrize("own", [True, False], ids=["own office", "other office"])
def test_who_may_see_an_office(status, role, own) -> None:  # type: ignore[no-untyped-def]
    kabupaten = role in (Role.PEMANTAU, Role.ADMIN_KABUPATEN)
    user_office = None if kabupaten else 1
    expected = status == UserStatus.ACTIVE and role is not None and (kabupaten or own)
    got = may_see_office(role=role, status=status, user_opd_id=user_office, opd_id=1 if own else 2)
    assert (got is None) is expected
    if not expected:
        assert got == Denied.NOT_THEIR_OFFICE
    # the session scope of the office boundary is the same rule
    scope = scope_of(role=role, status=status, user_opd_id=user_office)
    assert scope.allows(1 if own else 2) is expected
    # a person of an office whose office is unknown sees none, whatever their status
    if not kabupaten:
        assert may_see_office(role=role, status=status, user_opd_id=None, opd_id=1) is not None


def test_one_national_path_label_from_the_configured_benchmarks() -> None:
    configured = {1: 10.0, 2: 35.0, 3: 65.0, 4: 95.0}
    assert national_label(configured) == "10/35/65/95%"
    assert national_label([10, 35, 65, 95]) == "10/35/65/95%"  # as a /lapor step offered it
    assert national_label() == national_label({}) == "15/40/60/90%"  # nothing configured
    assert PlanSource.NASIONAL.label(configured) == "pola nasional 10/35/65/95%"
    assert PlanSource.CAMPURAN.label(configured).endswith("sisanya pola nasional 10/35/65/95%")


def test_one_lapor_step_id() -> None:
    from storage.domain.lapor_steps import REVIEW, StepId, step_id

    assert step_id("anggaran", 0) == "anggaran:0" and step_id("rencana", "tawar") == "rencana:tawar"
    assert StepId.parse("hambatan:12") == StepId("hambatan", "12")
    assert StepId.parse("hambatan:12").index == 12
    assert StepId.parse("rencana:tawar").index is None
    assert StepId.parse(REVIEW) == StepId("review") and StepId.parse(REVIEW).index is None
    for step in ("ind:3", "rencana:tawar", "review", "tindak_lanjut:0"):
        assert str(StepId.parse(step)) == step
