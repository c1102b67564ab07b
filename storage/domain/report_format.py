"""The office's quarterly report (Laporan Kinerja Triwulan) as a format: its 22 column
headings and how a row names its level. The parser reads it, the export and the plan
template write it, from these same definitions."""

from __future__ import annotations

import re

NCOLS = 22  # columns of the report
# A row's level from its name: "PROGRAM …" (also the offices' typos "PROGAM", "PROGRRAM"),
# "KEGIATAN …", "SUB KEGIATAN …".
PROGRAM_RE = re.compile(r"^PRO[A-Z]{1,4}M\b", re.IGNORECASE)
SUB_RE = re.compile(r"^SUB\s*KEGIATAN\b", re.IGNORECASE)
KEGIATAN_RE = re.compile(r"^KEGIATAN\b", re.IGNORECASE)

# (first column, heading) of the report's header row; quarters span two columns (T, R).
HEADERS: list[tuple[int, str]] = [
    (1, "NO"),
    (2, "SASARAN STRATEGI"),
    (3, "INDIKATOR KINERJA"),
    (4, "TRIWULAN I"),
    (6, "TRIWULAN II"),
    (8, "TRIWULAN III"),
    (10, "TRIWULAN IV"),
    (12, "% CAPAIAN"),
    (13, "AKSI YANG TELAH DILAKUKAN UNTUK MENCAPAI TARGET KINERJA"),
    (14, "HAMBATAN/ PERMASALAHAN DALAM PENCAPAIAN TARGET KINERJA"),
    (15, "TINDAK LANJUT YANG TELAH/ HARUS DILAKUKAN"),
    (16, "PROGRAM/ KEGIATAN/ SUB KEGIATAN"),
    (17, "INDIKATOR PROGRAM/ KEGIATAN/ SUB KEGIATAN"),
    (18, "TARGET"),
    (19, "REALISASI"),
    (20, "ANGGARAN (Rp)"),
    (21, "REALISASI ANGGARAN (Rp)"),
    (22, "KET"),
]
