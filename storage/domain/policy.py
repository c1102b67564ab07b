"""Who may do what with a quarterly report: the one place these rules are written.

Pure: callers pass roles, statuses and ids as plain values (the database rows' fields),
and get back None when the action is allowed, or the ``Denied`` reason when it is not.
What a person is told for each reason is the caller's business (the bot's texts live in
``bot/views/texts.py``).

The rules:

- a bidang's quarter is filled in and submitted by an active operator of that bidang;
- a submitted quarter is approved or returned by an active verifikator, kepala or admin,
  never by the person who submitted it, and only while it is waiting (``diajukan``);
- an approved quarter is reopened by an active admin only;
- a submission is *sent for verification* to every active verifikator and kepala (not to
  admins: they may decide, but are not asked to), except its submitter;
- a node's change history is seen by admin, kepala and verifikator, and by the operators
  of the node's bidang;
- an office's data is seen (and acted on) by its own people only, and read by the
  kabupaten roles (pemantau, admin kabupaten), who belong to no office.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a registered user may do."""

    ADMIN = "admin"
    KEPALA = "kepala"
    VERIFIKATOR = "verifikator"
    OPERATOR = "operator"
    # Kabupaten roles: belong to no office and read every office (Bappeda, Bagian
    # Pembangunan); the admin kabupaten also manages offices and their admins.
    PEMANTAU = "pemantau"
    ADMIN_KABUPATEN = "admin_kabupaten"


class UserStatus(StrEnum):
    """Where a person's access stands (Indonesian like every other status)."""

    PENDING = "menunggu"
    ACTIVE = "aktif"
    REJECTED = "ditolak"
    BLOCKED = "diblokir"  # an admin blocked the person: no new requests


class StatusLaporan(StrEnum):
    DRAFT = "draft"
    DIAJUKAN = "diajukan"
    DIKEMBALIKAN = "dikembalikan"
    DISETUJUI = "disetujui"


class Denied(StrEnum):
    """Why an action is refused."""

    NOT_OPERATOR = "not_operator"  # only an active operator of the bidang fills it in
    NOT_VERIFIER = "not_verifier"  # only an active verifikator, kepala or admin decides
    NOT_ADMIN = "not_admin"  # only an active admin reopens
    NOT_SUBMITTED = "not_submitted"  # the report is not waiting for a decision
    OWN_SUBMISSION = "own_submission"  # nobody decides on what they submitted themselves
    NOT_APPROVED = "not_approved"  # only an approved report can be reopened
    NOT_THEIR_BIDANG = "not_their_bidang"  # the history of another bidang's node
    NOT_THEIR_OFFICE = "not_their_office"  # another office's data


VERIFYING_ROLES: frozenset[Role] = frozenset({Role.VERIFIKATOR, Role.KEPALA})
DECIDING_ROLES: frozenset[Role] = VERIFYING_ROLES | {Role.ADMIN}
OVERSEEING_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.KEPALA, Role.VERIFIKATOR})
KABUPATEN_ROLES: frozenset[Role] = frozenset({Role.PEMANTAU, Role.ADMIN_KABUPATEN})


def _active(status: str | None) -> bool:
    return status == UserStatus.ACTIVE


def may_submit(
    *, role: str | None, status: str | None, user_bidang_id: int | None, bidang_id: int | None
) -> Denied | None:
    """May this user fill in and submit the quarter of ``bidang_id`` (None: their own)?"""
    if role != Role.OPERATOR or not _active(status) or user_bidang_id is None:
        return Denied.NOT_OPERATOR
    if bidang_id is not None and bidang_id != user_bidang_id:
        return Denied.NOT_OPERATOR
    return None


def may_decide_as(*, role: str | None, status: str | None) -> Denied | None:
    """Does the user's role allow approving or returning reports at all?"""
    if role not in DECIDING_ROLES or not _active(status):
        return Denied.NOT_VERIFIER
    return None


def may_decide(
    *,
    role: str | None,
    status: str | None,
    user_id: int | None,
    submitted_by: int | None,
    report_status: str,
) -> Denied | None:
    """May this user approve or return this submitted report now?"""
    if (denied := may_decide_as(role=role, status=status)) is not None:
        return denied
    if report_status != StatusLaporan.DIAJUKAN:
        return Denied.NOT_SUBMITTED
    if submitted_by is not None and submitted_by == user_id:
        return Denied.OWN_SUBMISSION
    return None


def may_reopen(*, role: str | None, status: str | None, report_status: str | None) -> Denied | None:
    """May this user reopen the report (``report_status`` None: there is no report)?"""
    if role != Role.ADMIN or not _active(status):
        return Denied.NOT_ADMIN
    if report_status != StatusLaporan.DISETUJUI:
        return Denied.NOT_APPROVED
    return None


def is_asked_to_verify(
    *, role: str | None, status: str | None, user_id: int | None, submitted_by: int | None = None
) -> bool:
    """Is this user sent (and reminded of) a submission to verify?"""
    if role not in VERIFYING_ROLES or not _active(status):
        return False
    return submitted_by is None or user_id != submitted_by


def may_see_history(
    *, role: str | None, status: str | None, user_bidang_id: int | None, bidang_id: int | None
) -> Denied | None:
    """May this user see who changed the figures of a node of ``bidang_id``?"""
    if _active(status) and role in OVERSEEING_ROLES:
        return None
    if (
        _active(status)
        and role == Role.OPERATOR
        and user_bidang_id is not None
        and user_bidang_id == bidang_id
    ):
        return None
    return Denied.NOT_THEIR_BIDANG


@dataclass(frozen=True)
class Scope:
    """Whose data a person's request may read: the offices inside it. One office for its own
    people, every office for the kabupaten roles, none for someone who is not (or no longer)
    an active user. The data layer (``storage/data/boundary.py``) holds every session of a
    request to it."""

    opd_id: int | None = None  # the one office inside (with ``kabupaten`` False)
    kabupaten: bool = False  # every office (pemantau, admin kabupaten)

    def allows(self, opd_id: int | None) -> bool:
        """Is office ``opd_id`` inside this scope?"""
        if self.kabupaten:
            return True
        return self.opd_id is not None and opd_id is not None and opd_id == self.opd_id


NO_OFFICE = Scope()
KABUPATEN = Scope(kabupaten=True)


def scope_of(*, role: str | None, status: str | None, user_opd_id: int | None) -> Scope:
    """The offices this user reads: their own; every office for an active kabupaten role;
    none for anyone not active, and for a person of an office whose office is not known."""
    if not _active(status) or role is None:
        return NO_OFFICE
    if role in KABUPATEN_ROLES:
        return KABUPATEN
    return Scope(user_opd_id) if user_opd_id is not None else NO_OFFICE


def may_see_office(
    *, role: str | None, status: str | None, user_opd_id: int | None, opd_id: int | None
) -> Denied | None:
    """May this user read (or act within their role on) the data of office ``opd_id``?

    Its own people may; the kabupaten roles read every office. A person of an office whose
    office is not known (``user_opd_id`` None) sees no office at all.
    """
    if scope_of(role=role, status=status, user_opd_id=user_opd_id).allows(opd_id):
        return None
    return Denied.NOT_THEIR_OFFICE


def is_kabupaten(role: str | None, status: str | None) -> bool:
    """Does this user read across offices (pemantau, admin kabupaten)?"""
    return _active(status) and role in KABUPATEN_ROLES
