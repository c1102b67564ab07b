"""The kinds and statuses stored in the tables (``storage.data.models``), as pure values.

They live here, not with the tables, so that the transport (``bot/``) and the domain can
name them without importing a table class. The permission enums (``Role``, ``UserStatus``,
``StatusLaporan``) live with their rules in ``storage.domain.policy``.
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Level of a node in the budget hierarchy."""

    PROGRAM = "program"
    KEGIATAN = "kegiatan"
    SUB_KEGIATAN = "sub_kegiatan"


class Source(StrEnum):
    """Where a figure came from."""

    IMPORT = "import"
    ENTRY = "entry"
    ADMIN = "admin"


class FindingKind(StrEnum):
    CAPAIAN_SUM = "capaian_dijumlah"
    CAPAIAN_RANGE = "persen_di_luar_rentang"
    CUMULATIVE_DOWN = "kumulatif_turun"
    PARENT_MISMATCH = "induk_tidak_sama_anak"
    ABOVE_PAGU = "realisasi_melebihi_pagu"
    REPORTS_DIFFER = "laporan_berbeda"
    FUTURE_QUARTER = "nilai_triwulan_mendatang"
    FUZZY_MATCH = "nama_berbeda"
    INDICATOR_DOWN = "indikator_turun"  # confirmed by the operator when submitting
    STATED = "angka_tertulis"  # a percentage or total a file states that its amounts contradict


class DraftStatus(StrEnum):
    AKTIF = "aktif"
    DIKIRIM = "dikirim"
    DIBATALKAN = "dibatalkan"


class ReminderStatus(StrEnum):
    MENGIRIM = "mengirim"  # claimed, being sent; stays so if the process died mid-send
    TERKIRIM = "terkirim"
    GAGAL = "gagal"
    DIBLOKIR = "diblokir"


class InboxStatus(StrEnum):
    BARU = "baru"  # received, not yet handled (handled again after a restart)
    SELESAI = "selesai"
