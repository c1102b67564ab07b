"""Several offices in one deployment: naming them, and their figures side by side.

No Telegram here. The figures of each office are those of its own summary
(``queries.scope_result`` of the office), so the kabupaten ranking, the recap export and
``monev summary --opd X`` always agree. Figures not yet approved are flagged per office.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.data.audit import record
from storage.data.models import Bidang, Node, PerangkatDaerah, Setting, StatusLaporan
from storage.domain.offices import OfficeName, match_office
from storage.domain.periods import default_year
from storage.services.office import SetupError
from storage.services.queries import (
    cached,
    reporting_status,
    resolve_period,
    scope_result,
    years_with_data,
)


class OfficeError(SetupError):
    """An office that cannot be told from what was typed; ``str()`` is Indonesian."""


def office_names(session: Session) -> list[OfficeName]:
    """Every office with its short name and aliases, by id (cached with the figures)."""

    def build() -> list[OfficeName]:
        rows = session.exec(select(PerangkatDaerah).order_by(col(PerangkatDaerah.id))).all()
        return [OfficeName(o.id or 0, o.nama, o.singkatan, tuple(o.alias_list())) for o in rows]

    return list(cached(session, "offices", (), build))


def office_label(session: Session, opd_id: int) -> str:
    """The office's label as answers name it ("Dinas Kesehatan (Dinkes)")."""
    return next((o.label for o in office_names(session) if o.id == opd_id), str(opd_id))


def office_list_text(offices: list[OfficeName]) -> str:
    """ "1: Dinas A (DA); 2: Dinas B" for messages that list the offices."""
    return "; ".join(f"{o.id}: {o.label}" for o in offices)


def resolve_office(session: Session, text: str | None) -> OfficeName:
    """The office named by ``text`` (id, short name, alias, abbreviation or name); without
    ``text`` the only office there is. Raises ``OfficeError`` listing the offices."""
    offices = office_names(session)
    if not offices:
        raise OfficeError(
            "Basis data belum berisi perangkat daerah. Buat dulu dengan: "
            'monev init --opd "NAMA DINAS" --singkatan SINGKATAN --kepala "NAMA" --nip "NIP"'
        )
    if text is None or not text.strip():
        if len(offices) == 1:
            return offices[0]
        raise OfficeError(
            f"Ada {len(offices)} perangkat daerah ({office_list_text(offices)}). "
            "Pilih dengan --opd SINGKATAN atau --opd ID."
        )
    found = match_office(offices, text)
    if not found:
        raise OfficeError(
            f"Perangkat daerah '{text.strip()}' tidak ditemukan. "
            f"Yang ada: {office_list_text(offices)}."
        )
    if len(found) > 1:
        raise OfficeError(
            f"Perangkat daerah '{text.strip()}' cocok dengan lebih dari satu. "
            f"Yang ada: {office_list_text(offices)}."
        )
    return found[0]


def set_office_names(
    session: Session, *, opd_id: int, singkatan: str | None, aliases: list[str] | None, actor: str
) -> OfficeName:
    """Give office ``opd_id`` a short name and other spellings (``None``: kept as they are),
    checked against every other office's names (``office.check_office_names``)."""
    from storage.services.office import check_office_names

    opd = session.get(PerangkatDaerah, opd_id)
    if opd is None:
        raise OfficeError(f"Perangkat daerah {opd_id} tidak ditemukan.")
    short, alias_text = check_office_names(
        session,
        opd.nama,
        singkatan if singkatan is not None else opd.singkatan,
        opd.alias_list() if aliases is None else aliases,
        opd_id=opd_id,
    )
    old = f"{opd.singkatan or '-'} / {opd.aliases or '-'}"
    opd.singkatan, opd.aliases = short, alias_text
    session.add(opd)
    record(
        session,
        actor=actor,
        entity="perangkat_daerah",
        entity_id=opd_id,
        field="singkatan/alias",
        old=old,
        new=f"{short or '-'} / {alias_text or '-'}",
    )
    session.flush()
    return OfficeName(opd_id, opd.nama, opd.singkatan, tuple(opd.alias_list()))


def set_settings(session: Session, *, values: dict[str, str], actor: str) -> None:
    """Store named settings (the kabupaten recap's signer, …), each change in the audit log."""
    for key, value in values.items():
        row = session.get(Setting, key) or Setting(key=key)
        old, row.value = row.value, value
        session.add(row)
        record(
            session, actor=actor, entity="setting", entity_id=None, field=key, old=old, new=value
        )
    session.flush()


def settings_values(session: Session, keys: tuple[str, ...]) -> dict[str, str]:
    """The stored value of each setting of ``keys`` ("" when not set)."""
    return {k: (r.value if (r := session.get(Setting, k)) else "") for k in keys}


# --- figures of every office ---------------------------------------------------------------


@dataclass(frozen=True)
class OfficeFigure:
    """One office at one quarter: its summary total and where its bidang's reports stand."""

    office: OfficeName
    pagu: int | None
    realisasi: int | None  # None: incomplete or no data
    serapan: float | None
    fisik: float | None
    bidang: int  # bidang of the office
    approved: int  # bidang whose quarter is approved
    waiting: int  # submitted or returned: figures entered, not approved
    has_plan: bool  # the office has a plan for the year

    @property
    def reported(self) -> int:
        return self.approved + self.waiting

    @property
    def not_reported(self) -> int:
        return self.bidang - self.reported

    @property
    def unapproved(self) -> bool:
        """Some of the figures are not approved yet (marked wherever shown)."""
        return self.waiting > 0

    @property
    def complete(self) -> bool:
        """Every bidang has reported (approved or waiting)."""
        return self.bidang > 0 and self.not_reported == 0


def office_figure(session: Session, office: OfficeName, tahun: int, tw: int) -> OfficeFigure:
    """The office's total as its own summary shows it, and its reporting status."""
    statuses = reporting_status(session, office.id, tahun, tw)
    approved = sum(1 for r in statuses if r.status == StatusLaporan.DISETUJUI)
    waiting = sum(
        1 for r in statuses if r.status in (StatusLaporan.DIAJUKAN, StatusLaporan.DIKEMBALIKAN)
    )
    if tahun not in years_with_data(session, office.id):
        return OfficeFigure(office, None, None, None, None, len(statuses), 0, 0, False)
    fig = scope_result(session, office.id, tahun, tw).item.figure
    return OfficeFigure(
        office,
        fig.pagu,
        fig.realisasi,
        fig.serapan if fig.complete else None,
        fig.fisik if fig.complete else None,
        len(statuses),
        approved,
        waiting,
        True,
    )


def kabupaten_figures(session: Session, tahun: int, tw: int) -> list[OfficeFigure]:
    """Every office at TW ``tw`` of ``tahun``, in id order: kept in the figure cache as one
    entry (a kabupaten has more office-years than the cache keeps; any write drops it)."""

    def build() -> list[OfficeFigure]:
        return [office_figure(session, o, tahun, tw) for o in office_names(session)]

    return list(cached(session, f"kabupaten:{tahun}:{tw}", (), build))


def ranked(figures: list[OfficeFigure], *, lowest_first: bool = False) -> list[OfficeFigure]:
    """Offices by serapan (highest first unless ``lowest_first``); those without a
    serapan (no plan, incomplete figures) come last, by name."""
    known = [f for f in figures if f.serapan is not None]
    known.sort(key=lambda f: f.serapan or 0.0, reverse=not lowest_first)
    rest = sorted((f for f in figures if f.serapan is None), key=lambda f: f.office.nama)
    return known + rest


def kabupaten_period(session: Session, tahun: int | None, tw: int | None) -> tuple[int, int]:
    """The period a kabupaten question means when it leaves a part out: the latest year
    any office has a plan for, and the latest quarter with realisation in that year."""
    offices = office_names(session)
    years = sorted({y for o in offices for y in years_with_data(session, o.id)})
    year = default_year(tahun, years)
    if year is None or not years:  # no office has a plan, whichever year was named
        raise OfficeError("Belum ada perangkat daerah yang berisi data.")
    if tw is not None:
        return year, tw
    quarters = [
        resolve_period(session, opd_id=o.id, tahun=year).triwulan
        for o in offices
        if year in years_with_data(session, o.id)
    ]
    return year, max(quarters, default=1)


def scope_office(session: Session, kind: str, scope_id: int) -> int | None:
    """The office a button's scope belongs to (None: the office of whoever pressed it)."""
    if kind == "opd":
        return scope_id or None
    if kind == "bidang":
        bidang = session.get(Bidang, scope_id)
        return bidang.opd_id if bidang is not None else None
    node = session.get(Node, scope_id)
    return node.opd_id if node is not None else None


# --- early warning of every office -----------------------------------------------------------


@dataclass(frozen=True)
class OfficeRisk:
    """One office's early warning at a quarter: its projection and the rupiah at risk."""

    office: OfficeName
    pagu: int | None
    proyeksi: int | None  # None: no plan, or realisation incomplete
    berisiko: int | None
    deviasi_points: float | None  # realisasi − rencana so far, in points of pagu
    at_risk: int  # programs projected short of their plan
    programs: int
    unverified: bool
    has_plan: bool


def kabupaten_risk(session: Session, tahun: int, tw: int) -> list[OfficeRisk]:
    """Every office's early warning (``early_warning`` of the whole office), most rupiah at
    risk first; offices without a plan or complete figures last, by name."""
    from storage.services.early_warning import early_warning

    def build() -> list[OfficeRisk]:
        out = []
        for o in office_names(session):
            if tahun not in years_with_data(session, o.id):
                out.append(OfficeRisk(o, None, None, None, None, 0, 0, False, False))
                continue
            ew = early_warning(session, o.id, tahun, tw)
            t = ew.total
            out.append(
                OfficeRisk(
                    o,
                    t.pagu,
                    t.proyeksi.amount if t.proyeksi is not None else None,
                    t.berisiko,
                    t.deviasi.points if t.deviasi is not None else None,
                    len(ew.at_risk),
                    len(ew.rows) + len(ew.incomplete),
                    bool(ew.unverified),
                    True,
                )
            )
        known = sorted((r for r in out if r.berisiko is not None), key=lambda r: -(r.berisiko or 0))
        rest = sorted((r for r in out if r.berisiko is None), key=lambda r: r.office.nama)
        return known + rest

    return list(cached(session, f"kabupaten-risk:{tahun}:{tw}", (), build))
