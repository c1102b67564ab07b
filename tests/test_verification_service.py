"""Verification and registration as services: plain values in, typed outcomes out (SQLite
and PostgreSQL), and the one encoder/decoder of the verification buttons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.views.verification import VfAction, VfButton
from storage.data.db import read_scope, session_scope
from storage.data.models import Pelaporan, row_id
from storage.domain.policy import Denied, Role, StatusLaporan
from storage.services import conversation, registration, verification
from storage.services.conversation import Flow
from storage.services.registration import Gate, Verdict
from storage.services.users import find_bidang, get_user, set_user
from tests.bot_harness import ADMIN, KEPALA, OPERATOR_KOP, STRANGER, add_users

VERIF = 9010
TAHUN, TW = 2030, 1  # a quarter of its own: nothing of the seed is there


# --- the buttons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "button",
    [
        VfButton(VfAction.APPROVE, 1, 0),
        VfButton(VfAction.RETURN, 123456, 7),
        VfButton(VfAction.APPROVE, 42, None),  # sent before versions existed
    ],
)
def test_a_button_reads_back_what_it_wrote(button: VfButton) -> None:
    data = button.encode()
    assert data.startswith("vf:") and len(data.encode()) <= 64  # Telegram's callback limit
    assert VfButton.decode(data) == button


def test_the_words_of_old_buttons_still_read() -> None:
    assert VfButton.decode("vf:ok:5:3") == VfButton(VfAction.APPROVE, 5, 3)
    assert VfButton.decode("vf:back:5") == VfButton(VfAction.RETURN, 5, None)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "vf:",
        "vf:ok",
        "vf:ok:",
        "vf:ok:abc",
        "vf:ok:1:",
        "vf:ok:1:x",
        "vf:ok:1:2:3",
        "vf:maybe:1:2",
        "vf:OK:1:2",
        "vf:ok:-1:2",
        "vf:ok: 1:2",
        "xvf:ok:1:2",
        "vf:ok:1:2\n",
        "vf:ok:1234567890123456789:1",  # more digits than any id
        "vf:ok:1:1234567890",  # more digits than any version
        "lp:1:anggaran.0:same",
    ],
)
def test_anything_else_is_no_verification_button(data: str) -> None:
    assert VfButton.decode(data) is None


# --- verification ------------------------------------------------------------------------------


def _submitted(engine: Engine, *, by: int = OPERATOR_KOP, version: int = 2) -> int:
    """A report of the koperasi bidang waiting for verification, submitted by ``by``."""
    add_users(engine)
    with session_scope(engine) as s:
        set_user(s, telegram_id=VERIF, role=Role.VERIFIKATOR, nama="Verif", actor="test")
        set_user(s, telegram_id=ADMIN, role=Role.ADMIN, nama="Admin", actor="test")
        kop = find_bidang(s, text="koperasi", opd_id=1)
        submitter = get_user(s, telegram_id=by)
        assert kop is not None and submitter is not None
        p = Pelaporan(
            bidang_id=row_id(kop),
            tahun=TAHUN,
            triwulan=TW,
            status=StatusLaporan.DIAJUKAN,
            submitted_by=submitter.id,
            submitted_at=datetime.now(UTC),
            version=version,
        )
        s.add(p)
        s.flush()
        return row_id(p)


def _status(engine: Engine, pid: int) -> str:
    with read_scope(engine) as s:
        p = s.get(Pelaporan, pid)
        assert p is not None
        return p.status


def test_a_decision_acts_only_on_the_version_shown(seeded: Engine) -> None:
    pid = _submitted(seeded)
    with session_scope(seeded) as s:
        for shown in (1, None):
            old = verification.decide(
                s, telegram_id=KEPALA, pelaporan_id=pid, version=shown, approve=True
            )
            assert isinstance(old, verification.Current)
            assert (old.card.pelaporan_id, old.card.version) == (pid, 2)
            assert old.card.review is None and old.card.oleh == "Op Kop"
    assert _status(seeded, pid) == StatusLaporan.DIAJUKAN
    with session_scope(seeded) as s:
        verification.remember_card(
            s, pelaporan_id=pid, version=2, chat_id=VERIF, message_id=77, text="kartu"
        )
        done = verification.decide(s, telegram_id=KEPALA, pelaporan_id=pid, version=2, approve=True)
    assert isinstance(done, verification.Decided) and done.approved
    assert (done.by, done.operator, done.tahun, done.triwulan) == (
        "Kepala Dinas",
        OPERATOR_KOP,
        TAHUN,
        TW,
    )
    assert [(m.chat_id, m.message_id, m.text) for m in done.retired] == [(VERIF, 77, "kartu")]
    assert _status(seeded, pid) == StatusLaporan.DISETUJUI
    with session_scope(seeded) as s:
        again = verification.decide(s, telegram_id=VERIF, pelaporan_id=pid, version=2, approve=True)
        assert again == verification.Forbidden(Denied.NOT_SUBMITTED, status="disetujui")
        # Its buttons went with the decision: nothing is left to retire.
        assert verification.retire(s, pelaporan_id=pid) == []


def test_returning_asks_the_reason_then_needs_one(seeded: Engine) -> None:
    pid = _submitted(seeded)
    with session_scope(seeded) as s:
        asked = verification.ask_reason(s, telegram_id=VERIF, pelaporan_id=pid, version=2)
        kop = find_bidang(s, text="koperasi", opd_id=1)
        assert kop is not None and asked == verification.AskReason(kop.nama, TAHUN, TW)
        state = conversation.get(s, telegram_id=VERIF)
        assert state is not None and state.flow == Flow.REASON
        assert state.payload == {"pelaporan_id": pid, "version": 2}
        stale = verification.ask_reason(s, telegram_id=VERIF, pelaporan_id=pid, version=1)
        assert isinstance(stale, verification.Current)
        empty = verification.decide(
            s, telegram_id=VERIF, pelaporan_id=pid, version=2, approve=False, alasan="  "
        )
        assert isinstance(empty, verification.NoReason)
        back = verification.decide(
            s,
            telegram_id=VERIF,
            pelaporan_id=pid,
            version=2,
            approve=False,
            alasan="Angka TW salah",
        )
        assert isinstance(back, verification.Decided) and not back.approved
        assert back.alasan == "Angka TW salah"
        # The reason flow ends with the decision, in the same transaction.
        assert conversation.get(s, telegram_id=VERIF) is None
    assert _status(seeded, pid) == StatusLaporan.DIKEMBALIKAN


def test_who_may_verify_is_one_rule(seeded: Engine) -> None:
    pid = _submitted(seeded, by=KEPALA)
    with session_scope(seeded) as s:
        own = verification.decide(s, telegram_id=KEPALA, pelaporan_id=pid, version=2, approve=True)
        assert own == verification.Forbidden(Denied.OWN_SUBMISSION, status="diajukan")
        operator = verification.ask_reason(s, telegram_id=OPERATOR_KOP, pelaporan_id=pid, version=2)
        assert operator == verification.Forbidden(Denied.NOT_VERIFIER, status="diajukan")
        stranger = verification.decide(
            s, telegram_id=STRANGER, pelaporan_id=pid, version=2, approve=True
        )
        assert isinstance(stranger, verification.NotActive)
        missing = verification.decide(
            s, telegram_id=VERIF, pelaporan_id=pid + 1000, version=2, approve=True
        )
        assert isinstance(missing, verification.NotFound)
    assert _status(seeded, pid) == StatusLaporan.DIAJUKAN


def test_waiting_for_me_is_one_definition(seeded: Engine) -> None:
    pid = _submitted(seeded, by=KEPALA)
    with read_scope(seeded) as s:
        # The kepala submitted it: it waits for the verifikator (and the admin), not for them.
        assert verification.waiting_count(s, telegram_id=KEPALA, opd_id=1) == 0
        assert verification.waiting_count(s, telegram_id=VERIF, opd_id=1) == 1
        assert verification.waiting_count(s, telegram_id=OPERATOR_KOP, opd_id=1) == 0
        queue = verification.queue(s, telegram_id=ADMIN, opd_id=1)
        assert isinstance(queue, list) and [c.pelaporan_id for c in queue] == [pid]
        refused = verification.queue(s, telegram_id=OPERATOR_KOP, opd_id=1)
        assert refused == verification.Forbidden(Denied.NOT_VERIFIER)
        assert verification.waiting_count(s, telegram_id=VERIF, opd_id=2) == 0


def test_reopening_an_approved_quarter(seeded: Engine) -> None:
    pid = _submitted(seeded)
    with session_scope(seeded) as s:
        early = verification.reopen_quarter(
            s, telegram_id=ADMIN, opd_id=1, bidang="koperasi", tw=TW, tahun=TAHUN
        )
        assert early == verification.Forbidden(Denied.NOT_APPROVED)
        verification.decide(s, telegram_id=KEPALA, pelaporan_id=pid, version=2, approve=True)
        unknown = verification.reopen_quarter(
            s, telegram_id=ADMIN, opd_id=1, bidang="tidak ada", tw=TW, tahun=TAHUN
        )
        assert unknown == verification.UnknownBidang("tidak ada")
        by_kepala = verification.reopen_quarter(
            s, telegram_id=KEPALA, opd_id=1, bidang="koperasi", tw=TW, tahun=TAHUN
        )
        assert by_kepala == verification.Forbidden(Denied.NOT_ADMIN)
        done = verification.reopen_quarter(
            s, telegram_id=ADMIN, opd_id=1, bidang="koperasi", tw=TW, tahun=TAHUN
        )
        assert isinstance(done, verification.Reopened) and (done.tahun, done.triwulan) == (
            TAHUN,
            TW,
        )
    assert _status(seeded, pid) == StatusLaporan.DIKEMBALIKAN


# --- registration --------------------------------------------------------------------------------


def _request(engine: Engine, telegram_id: int, nama: str) -> registration.Sending:
    with session_scope(engine) as s:
        conversation.start(s, telegram_id=telegram_id, flow=Flow.REGISTRATION, step="konfirmasi")
        return registration.send_request(
            s, telegram_id=telegram_id, nama=nama, nip="", bidang_id=None, opd_id=None
        )


def _decide(engine: Engine, telegram_id: int, verdict: Verdict, version: int, **kw: object):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return registration.decide(
            s,
            admin_telegram_id=ADMIN,
            admin_opd_id=1,
            telegram_id=telegram_id,
            verdict=verdict,
            version=version,
            **kw,  # type: ignore[arg-type]
        )


def test_a_request_is_decided_once_on_the_version_shown(seeded: Engine) -> None:
    with session_scope(seeded) as s:
        set_user(s, telegram_id=ADMIN, role=Role.ADMIN, nama="Admin", actor="test")
    sent = _request(seeded, STRANGER, "Budi Santoso")
    assert isinstance(sent, registration.Requested) and sent.version == 1
    assert ADMIN in sent.admin_ids and sent.live == [] and sent.nama == "Budi Santoso"
    with read_scope(seeded) as s:  # the flow ended with the request
        assert conversation.get(s, telegram_id=STRANGER) is None
    assert isinstance(_request(seeded, STRANGER, "Budi Santoso"), registration.SamePending)
    assert _decide(seeded, STRANGER, Verdict.APPROVE, 0, role=Role.KEPALA) == registration.Replaced(
        "Budi Santoso", "-", "-"
    )
    assert isinstance(_decide(seeded, STRANGER + 1, Verdict.REJECT, 1), registration.UnknownRequest)
    # An operator needs a bidang of the office.
    no_bidang = _decide(seeded, STRANGER, Verdict.APPROVE, 1, role=Role.OPERATOR, bidang_id=999999)
    assert isinstance(no_bidang, registration.UnknownRequest)
    with read_scope(seeded) as s:
        kop = find_bidang(s, text="koperasi", opd_id=1)
        assert kop is not None
    done = _decide(seeded, STRANGER, Verdict.APPROVE, 1, role=Role.OPERATOR, bidang_id=kop.id)
    assert isinstance(done, registration.Done) and done.telegram_id == STRANGER
    assert done.outcome == registration.Approved(Role.OPERATOR, kop.nama)
    again = _decide(seeded, STRANGER, Verdict.REJECT, 1)
    assert again == registration.AlreadyDecided(registration.Approved(Role.OPERATOR))
    assert isinstance(_request(seeded, STRANGER, "Budi"), registration.AlreadyActive)


def test_a_rejected_person_waits_and_a_blocked_one_asks_no_more(seeded: Engine) -> None:
    with session_scope(seeded) as s:
        set_user(s, telegram_id=ADMIN, role=Role.ADMIN, nama="Admin", actor="test")
    for who, verdict, outcome, gate in (
        (STRANGER, Verdict.REJECT, registration.Rejected(), Gate.COOLING),
        (STRANGER + 1, Verdict.BLOCK, registration.Blocked(), Gate.BLOCKED),
    ):
        sent = _request(seeded, who, "Orang Baru")
        assert isinstance(sent, registration.Requested)
        done = _decide(seeded, who, verdict, sent.version)
        assert isinstance(done, registration.Done) and done.outcome == outcome
        assert _decide(seeded, who, Verdict.APPROVE, sent.version, role=Role.KEPALA) == (
            registration.AlreadyDecided(outcome)
        )
        refused = _request(seeded, who, "Orang Baru")
        assert isinstance(refused, registration.GateClosed) and refused.gate.gate == gate


def test_an_admin_of_another_office_decides_nothing(seeded: Engine) -> None:
    with session_scope(seeded) as s:
        set_user(s, telegram_id=ADMIN, role=Role.ADMIN, nama="Admin", actor="test")
    sent = _request(seeded, STRANGER, "Budi Santoso")
    assert isinstance(sent, registration.Requested)
    with session_scope(seeded) as s:
        other = registration.decide(
            s,
            admin_telegram_id=ADMIN,
            admin_opd_id=2,  # acting in an office the request is not for
            telegram_id=STRANGER,
            verdict=Verdict.APPROVE,
            version=sent.version,
            role=Role.KEPALA,
        )
    assert isinstance(other, registration.NotTheirOffice)
