"""Writes the XLSX fixtures of this folder (run: python tests/data/layouts/make_xlsx.py).

Invented offices of Kabupaten Solok in the layouts other offices hold (issue 25); nothing
here comes from the seed. The TSV and text fixtures beside them were typed by hand.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
BOLD = Font(bold=True)


def kinerja_dinsos() -> Workbook:
    """A kinerja-app page: months as columns (Jan..Des) under a merged "Realisasi Keuangan",
    "Kegiatan :" / "Sub-Kegiatan :" label rows, typed numbers; January to July filled."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Pengukuran Kinerja"
    ws["A1"] = "PENGUKURAN KINERJA TAHUN 2024"
    ws["A2"] = "Perangkat Daerah : Dinas Sosial Kabupaten Solok"
    months = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agt", "Sep", "Okt", "Nov", "Des"]
    head = ["No", "Uraian", "Indikator Kinerja", "Target", "Alokasi Anggaran (Rp)"]
    for c, text in enumerate(head, 1):
        ws.cell(row=4, column=c, value=text).font = BOLD
        ws.merge_cells(start_row=4, start_column=c, end_row=5, end_column=c)
    ws.cell(row=4, column=6, value="Realisasi Keuangan").font = BOLD
    ws.merge_cells(start_row=4, start_column=6, end_row=4, end_column=17)
    for k, m in enumerate(months):
        ws.cell(row=5, column=6 + k, value=m).font = BOLD
    for c, text in ((18, "Jumlah"), (19, "Realisasi (%)")):
        ws.cell(row=4, column=c, value=text).font = BOLD
        ws.merge_cells(start_row=4, start_column=c, end_row=5, end_column=c)
    rows: list[tuple] = [
        (None, "Kegiatan : Rehabilitasi Sosial Dasar Penyandang Disabilitas Terlantar, Anak "
         "Terlantar, Lanjut Usia Terlantar, serta Gelandangan Pengemis di Luar Panti Sosial",
         None, None, "640,000,000.00", {}),
        (1, "Sub-Kegiatan : Penyediaan Permakanan", "Jumlah penerima permakanan", "250 Orang",
         400_000_000, {1: 30_000_000, 2: 32_000_000, 3: 34_000_000, 4: 33_000_000,
                       5: 35_000_000, 6: 36_000_000, 7: 31_000_000}),
        (2, "Sub-Kegiatan : Pemberian Layanan Data dan Pengaduan", "Jumlah pengaduan yang "
         "ditangani", "120 Laporan", 240_000_000,
         {2: 12_000_000, 3: 18_000_000, 4: 20_000_000, 5: 20_000_000, 6: 22_000_000}),
        (None, "Kegiatan : Pengelolaan Data Fakir Miskin Cakupan Daerah Kabupaten/Kota", None,
         None, 210_000_000, {}),
        (3, "Sub-Kegiatan : Pengumpulan, Pengolahan, Analisis dan Pemutakhiran Data Fakir "
         "Miskin dan Orang Tidak Mampu", "Jumlah data terverifikasi", "1 Dokumen",
         210_000_000, {3: 42_000_000, 6: 63_000_000}),
    ]  # fmt: skip
    r = 6
    for no, name, ind, target, alokasi, by_month in rows:
        ws.cell(row=r, column=1, value=no)
        c = ws.cell(row=r, column=2, value=name)
        c.font = Font(bold=no is None)
        ws.cell(row=r, column=3, value=ind)
        ws.cell(row=r, column=4, value=target)
        ws.cell(row=r, column=5, value=alokasi)
        for m, v in by_month.items():
            ws.cell(row=r, column=5 + m, value=v)
        if by_month:
            total = sum(by_month.values())
            ws.cell(row=r, column=18, value=total)
            assert isinstance(alokasi, int)
            ws.cell(row=r, column=19, value=round(total / alokasi * 100, 2))
        r += 1
    return wb


_DPUPR: dict[str, list[tuple[str, str, int, int, float | None]]] = {
    "Sekretariat": [
        ("1.03", "URUSAN PEMERINTAHAN BIDANG PEKERJAAN UMUM DAN PENATAAN RUANG", 9_790_000_000,
         5_930_560_000, None),
        ("1.03.01", "PROGRAM PENUNJANG URUSAN PEMERINTAHAN DAERAH KABUPATEN/KOTA", 2_140_000_000,
         1_489_310_000, None),
        ("1.03.01.2.01", "Perencanaan, Penganggaran, dan Evaluasi Kinerja Perangkat Daerah",
         140_000_000, 96_600_000, None),
        ("1.03.01.2.01.0001", "Penyusunan Dokumen Perencanaan Perangkat Daerah", 85_000_000,
         63_750_000, 80.0),
        ("1.03.01.2.01.0007", "Evaluasi Kinerja Perangkat Daerah", 55_000_000, 32_850_000, 60.0),
        ("1.03.01.2.02", "Administrasi Keuangan Perangkat Daerah", 2_000_000_000,
         1_392_710_000, None),
        ("1.03.01.2.02.0001", "Penyediaan Gaji dan Tunjangan ASN", 2_000_000_000, 1_392_710_000,
         75.0),
    ],
    "Bina Marga": [
        ("1.03.10", "PROGRAM PENYELENGGARAAN JALAN", 6_500_000_000, 3_905_000_000, None),
        ("1.03.10.2.01", "Penyelenggaraan Jalan Kabupaten/Kota", 6_500_000_000, 3_900_000_000,
         None),
        ("1.03.10.2.01.0016", "Rehabilitasi Jalan", 4_200_000_000, 2_730_000_000, 70.0),
        ("1.03.10.2.01.0033", "Pemeliharaan Berkala Jalan", 2_300_000_000, 1_170_000_000, 55.0),
    ],
    "Cipta Karya": [
        ("1.03.03", "PROGRAM PENGELOLAAN DAN PENGEMBANGAN SISTEM PENYEDIAAN AIR MINUM",
         1_150_000_000, 536_250_000, None),
        ("1.03.03.2.01", "Pengelolaan dan Pengembangan Sistem Penyediaan Air Minum (SPAM) di "
         "Daerah Kabupaten/Kota", 1_150_000_000, 536_250_000, None),
        ("1.03.03.2.01.0011", "Pembangunan SPAM Jaringan Perpipaan di Kawasan Perdesaan",
         750_000_000, 375_000_000, 52.5),
        ("1.03.03.2.01.0032", "Penyediaan Jasa Pelayanan Umum dan Jasa Pelayanan Teknis SPAM",
         400_000_000, 161_250_000, 45.0),
    ],
}  # fmt: skip


def sipd_dpupr(*, two_realisations: bool = False) -> Workbook:
    """A budget-system export: a sheet per bidang, a header over three rows with merged
    cells (Realisasi > Keuangan > Rp / %, Fisik), codes that give the level."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for bidang, lines in _DPUPR.items():
        ws = wb.create_sheet(bidang)
        ws["A1"] = "LAPORAN REALISASI FISIK DAN KEUANGAN"
        ws["A2"] = "S.D. TRIWULAN III TAHUN ANGGARAN 2024"
        ws["A3"] = "DINAS PEKERJAAN UMUM DAN PENATAAN RUANG KABUPATEN SOLOK"
        ws["A4"] = f"Bidang : {bidang}"
        for c, text in ((1, "Kode"), (2, "Uraian"), (3, "Pagu (Rp)")):
            ws.cell(row=6, column=c, value=text).font = BOLD
            ws.merge_cells(start_row=6, start_column=c, end_row=8, end_column=c)
        shift = 1 if two_realisations else 0
        if two_realisations:
            ws.cell(row=6, column=4, value="Realisasi s.d. TW Lalu (Rp)").font = BOLD
            ws.merge_cells(start_row=6, start_column=4, end_row=8, end_column=4)
        ws.cell(row=6, column=4 + shift, value="Realisasi").font = BOLD
        ws.merge_cells(start_row=6, start_column=4 + shift, end_row=6, end_column=6 + shift)
        ws.cell(row=7, column=4 + shift, value="Keuangan").font = BOLD
        ws.merge_cells(start_row=7, start_column=4 + shift, end_row=7, end_column=5 + shift)
        ws.cell(row=7, column=6 + shift, value="Fisik").font = BOLD
        ws.cell(row=8, column=4 + shift, value="Rp").font = BOLD
        ws.cell(row=8, column=5 + shift, value="%").font = BOLD
        ws.cell(row=8, column=6 + shift, value="%").font = BOLD
        ws.cell(row=6, column=7 + shift, value="Keterangan").font = BOLD
        ws.merge_cells(start_row=6, start_column=7 + shift, end_row=8, end_column=7 + shift)
        r = 9
        for code, name, pagu, real, fisik in lines:
            ws.cell(row=r, column=1, value=code)
            c = ws.cell(row=r, column=2, value=name)
            c.alignment = Alignment(indent=max(code.count(".") - 2, 0), wrap_text=True)
            ws.cell(row=r, column=3, value=pagu).number_format = "#,##0"
            if two_realisations:
                ws.cell(row=r, column=4, value=int(real * 0.6)).number_format = "#,##0"
            ws.cell(row=r, column=4 + shift, value=real).number_format = "#,##0"
            pct = ws.cell(row=r, column=5 + shift, value=round(real / pagu, 4))
            pct.number_format = "0.00%"
            ws.cell(row=r, column=6 + shift, value=fisik)
            r += 1
    return wb


_DLH = [  # code, name, pagu Jan-Mei, pagu Juni (APBD shift), cumulative realisation by month
    ("1.11.03", "PROGRAM PENGENDALIAN PENCEMARAN DAN/ATAU KERUSAKAN LINGKUNGAN HIDUP"),
    ("1.11.03.2.01", "Pencegahan Pencemaran dan/atau Kerusakan Lingkungan Hidup"),
    ("1.11.03.2.01.0001", "Koordinasi, Sinkronisasi dan Pelaksanaan Pencegahan Pencemaran "
     "Lingkungan Hidup"),
    ("1.11.03.2.01.0003", "Pengelolaan Limbah dan Sampah di Daerah"),
    ("1.11.11", "PROGRAM PENGELOLAAN PERSAMPAHAN"),
    ("1.11.11.2.01", "Pengelolaan Sampah"),
    ("1.11.11.2.01.0004", "Penyediaan Sarana dan Prasarana Pengelolaan Sampah"),
]  # fmt: skip
_DLH_LEAVES = {  # code -> (pagu, pagu from June, cumulative Jan..Jun in millions)
    "1.11.03.2.01.0001": (450_000_000, 450_000_000,
                          [15, 40, 67.5, 90, 135, 180]),
    "1.11.03.2.01.0003": (1_000_000_000, 1_100_000_000,
                          [50, 110, 150, 210, 280, 400]),
    "1.11.11.2.01.0004": (2_250_000_000, 2_250_000_000,
                          [0, 75, 225, 300, 450, 675]),
}  # fmt: skip
MONTH_NAMES = ["Januari", "Februari", "Maret", "April", "Mei", "Juni"]


def sipd_dlh_monthly() -> Workbook:
    """A budget-system export with a sheet per month, each cumulative to that month's end,
    numbers as text in the English style; June carries a budget shift (APBD Perubahan)."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for k, month in enumerate(MONTH_NAMES):
        ws = wb.create_sheet(month)
        ws["A1"] = "DINAS LINGKUNGAN HIDUP KABUPATEN SOLOK"
        ws["A2"] = "REALISASI ANGGARAN TAHUN 2024"
        ws.append([])
        ws.append(["Kode", "Uraian", "Pagu (Rp)", "Realisasi s.d. Bulan Ini (Rp)", "%"])
        leaf: dict[str, tuple[int, int]] = {}
        for code, (pagu, pagu_june, cumul) in _DLH_LEAVES.items():  # type: ignore[misc]
            leaf[code] = (pagu_june if k == 5 else pagu, int(cumul[k] * 1_000_000))
        for code, name in _DLH:
            kids = [v for c, v in leaf.items() if c.startswith(code + ".") or c == code]
            pagu = sum(p for p, _ in kids)
            real = sum(r for _, r in kids)
            ws.append([code, name, f"{pagu:,}", f"{real:,}", f"{real / pagu * 100:.2f}"])
    return wb


def main() -> None:
    kinerja_dinsos().save(HERE / "kinerja-dinsos-2024.xlsx")
    sipd_dpupr().save(HERE / "sipd-dpupr-2024.xlsx")
    sipd_dpupr(two_realisations=True).save(HERE / "sipd-dpupr-dua-realisasi.xlsx")
    sipd_dlh_monthly().save(HERE / "sipd-dlh-bulanan-2024.xlsx")


if __name__ == "__main__":
    main()
