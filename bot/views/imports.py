"""What an import understood, in words: ``monev import … --coba`` prints it, and the bot sends
it as the preview an admin confirms (HTML, within Telegram's 4096 characters).

The importer's own lines (reports, changes per bidang, refusals, cells not read) come first;
then what was recognised in the file: per column its meaning and two samples, the period,
counts per level, totals per bidang with the explicit "Tanpa bidang" row and the office
total, the programs still without a bidang and how to assign them, and the findings.
"""

from __future__ import annotations

from html import escape

from bot.views.budget import fit
from storage.domain.enums import Level
from storage.domain.numbers import format_percent, format_rupiah
from storage.domain.periods import roman
from storage.files.layout_import import Group, Understood
from storage.files.layouts import Column, Layout, Meaning

MAX_FINDINGS = 12
_LEVEL_WORDS = (
    (Level.PROGRAM, "program"),
    (Level.KEGIATAN, "kegiatan"),
    (Level.SUB_KEGIATAN, "sub kegiatan"),
)


def _columns(layout: Layout) -> list[str]:
    """One line per column; a run of month (or quarter) columns is one line."""
    out: list[str] = []
    cols = layout.columns
    i = 0
    while i < len(cols):
        c = cols[i]
        run = [c]
        if c.meaning in (Meaning.BULAN, Meaning.TW):
            while i + len(run) < len(cols) and cols[i + len(run)].meaning is c.meaning:
                run.append(cols[i + len(run)])
        out.append(_column_line(layout, run))
        i += len(run)
    return out


def _column_line(layout: Layout, run: list[Column]) -> str:
    first, last = run[0], run[-1]
    letters = first.letter if len(run) == 1 else f"{first.letter}–{last.letter}"
    if len(run) == 1:
        meaning = first.label
    elif first.meaning is Meaning.BULAN:
        meaning = f"realisasi bulan {first.period}–{last.period} (tidak kumulatif)"
    else:
        meaning = f"realisasi kumulatif TW {roman(first.period or 1)}–{roman(last.period or 4)}"
    samples = [v for c in run for v in layout.samples.get(c.index, [])][:2]
    shown = " | ".join(samples) if samples else "kosong"
    header = " ".join(first.header.split())
    header = header if len(header) <= 40 else header[:39] + "…"
    given = " (dari --kolom/pemetaan)" if first.given else ""
    return f"  {letters:<6} {header or '-'} → {meaning}{given}; contoh: {shown}"


def _counts(u: Understood) -> str:
    parts = [f"{u.counts.get(lv, 0)} {word}" for lv, word in _LEVEL_WORDS]
    return "Baris per tingkat: " + ", ".join(parts) + "."


def _money(v: int | None) -> str:
    return format_rupiah(v) if v is not None else "-"


def _bidang_table(u: Understood) -> list[str]:
    if u.total is None:
        return []
    out = [f"Serapan TW {roman(u.triwulan)} {u.tahun} per bidang ({u.opd_nama}):"]
    rows = [(b.nama, b.figure) for b in u.bidang] + [("Total dinas", u.total)]
    width = max(len(nama) for nama, _ in rows)
    for nama, f in rows:
        real = _money(f.realisasi) if f.complete else "belum lengkap"
        serapan = format_percent(f.serapan) if f.complete and f.serapan is not None else "-"
        out.append(
            f"  {nama:<{width}}  pagu {_money(f.pagu):>20}  realisasi {real:>20}  {serapan:>8}"
        )
    return out


def _groups(groups: list[Group], dry_run: bool) -> list[str]:
    if not groups:
        return []
    how = f"--bidang NOMOR=BIDANG, misalnya --bidang {groups[0].nomor}=sekretariat"
    out = [
        f"Program tanpa bidang ({len(groups)}; tampil sebagai baris 'Tanpa bidang'; "
        f"tetapkan dengan {how}):"
    ]
    for g in groups:
        names = "; ".join(g.names) or "-"
        out.append(f"  [{g.nomor}] {names} (pagu {_money(g.pagu)})")
    return out


def import_lines(u: Understood, *, dry_run: bool) -> list[str]:
    """The whole account, one line a list item (``monev import`` prints it)."""
    out = list(u.summary.lines())
    lay = u.layout
    if lay is not None:
        out.append(
            f"Bentuk berkas: {lay.kind}; judul kolom {lay.header_rows}; angka ditulis seperti "
            f"{lay.style.example}."
        )
        out.append("Kolom yang dikenali:")
        out.extend(_columns(lay))
        out.append(f"Periode: {lay.period_note}.")
        out.extend(f"  • {s}" for s in lay.skipped_quarters)
        if u.mapping_note:
            out.append(f"Catatan: {u.mapping_note}.")
    out.append(_counts(u))
    out.extend(_bidang_table(u))
    if u.assigned:
        out.append("Bidang yang ditetapkan:" if not dry_run else "Bidang yang akan ditetapkan:")
        out.extend(f"  • {a}" for a in u.assigned)
    out.extend(_groups(u.groups, dry_run))
    if u.findings:
        out.append(f"Temuan validasi tahun {u.tahun} ({len(u.findings)}):")
        out.extend(f"  • {f}" for f in u.findings[:MAX_FINDINGS])
        if len(u.findings) > MAX_FINDINGS:
            out.append(
                f"  … dan {len(u.findings) - MAX_FINDINGS} lagi: monev findings --tahun {u.tahun}"
            )
    return out


def import_text(u: Understood, *, dry_run: bool) -> str:
    return "\n".join(import_lines(u, dry_run=dry_run))


# --- the bot --------------------------------------------------------------------------------


def preview_html(u: Understood, *, file_name: str) -> str:
    """The preview message: what would be imported, and that nothing is written yet."""
    lines = import_lines(u, dry_run=True)
    head = (
        f"<b>Pratinjau impor {escape(file_name)}</b> — belum ada yang disimpan.\n"
        f"Tujuan: {escape(u.opd_nama)}."
    )
    if u.refused:
        foot = (
            "\n<b>Impor ini akan ditolak</b> (lihat alasannya di atas). Perbaiki berkasnya "
            "lalu kirim lagi."
        )
    else:
        foot = "\nTekan <b>Impor</b> untuk menyimpan, atau <b>Batal</b>."
    return _fit(head, [escape(x) for x in lines[1:]], foot)


def done_html(u: Understood, *, file_name: str) -> str:
    lines = import_lines(u, dry_run=False)
    head = f"<b>Impor {escape(file_name)} selesai</b> ke {escape(u.opd_nama)}."
    return _fit(head, [escape(x) for x in lines[1:]], "")


def _fit(head: str, body: list[str], foot: str) -> str:
    """Head, as many body lines as fit, then the foot: never over Telegram's limit."""
    return fit("\n".join([head, *body]), tail=foot, more=_more_lines)


def _more_lines(n: int) -> str:
    return f"… ({n} baris lagi; lengkapnya: monev import --coba)"


IMPORT_REFUSED = "Berkas {name} tidak diimpor: {reason}\nTidak ada yang berubah."
IMPORT_ONLY_ADMIN = (
    "Berkas XLSX, TSV atau teks hanya diterima dari admin perangkat daerah, untuk impor "
    "laporan. Bukti dukung /lapor berupa JPG, PNG atau PDF."
)
IMPORT_KABUPATEN = (
    "Impor berkas lewat bot dilakukan oleh admin perangkat daerah itu sendiri. Untuk OPD lain, "
    "gunakan: monev import BERKAS --opd SINGKATAN"
)
IMPORT_STALE = "Pratinjau ini sudah tidak berlaku (berkas lain dikirim, atau sudah diputuskan)."
IMPORT_CANCELLED = "Impor {name} dibatalkan. Tidak ada yang berubah."
IMPORT_TOO_BIG = "Berkas {name} terlalu besar ({mb} MB); batasnya {limit} MB."
IMPORT_DOWNLOAD_FAILED = "Berkas {name} gagal diunduh dari Telegram. Coba kirim lagi."
IMPORT_GONE = "Berkas pratinjau ini sudah tidak ada. Kirim berkasnya lagi."
BUTTON_IMPORT = "Impor"
BUTTON_IMPORT_OTHER = "Impor walau OPD berbeda"
BUTTON_CANCEL = "Batal"
