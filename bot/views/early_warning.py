"""Early-warning texts: the answer to "program mana yang berisiko tidak terserap", the weekly
digest, and the digest's line in /pengingat. HTML for Telegram; the data comes from
``storage.services.early_warning``."""

from __future__ import annotations

from html import escape

from storage.domain.early_warning import PlanSource
from storage.domain.numbers import format_percent, format_rupiah
from storage.domain.periods import roman
from storage.services.early_warning import WEEKDAYS, EarlyWarning, EwRow

MAX_ROWS = 5  # a short list: one phone screen with every figure of each item
MAX_MESSAGE = 4000  # Telegram allows 4096
NAME_MAX = 90

LEVEL_PLURAL = {
    "program": "Program",
    "kegiatan": "Kegiatan",
    "sub_kegiatan": "Sub kegiatan",
}

TEXTS = {
    "title": "Peringatan dini",
    "source": "Pembanding: <b>{source}</b>{why}.",
    "why_national": " (belum ada rencana penarikan kantor)",
    "why_mixed": " (sebagian sub kegiatan belum punya rencana penarikan)",
    "total": (
        "{scope}: rencana s.d. {period} {rencana}, realisasi {realisasi}, deviasi {deviasi}{flag}."
    ),
    "total_incomplete": (
        "{scope}: realisasi {period} belum lengkap; rencana s.d. {period} {rencana}."
    ),
    "projection": "Proyeksi akhir tahun: <b>{proyeksi}</b> dari pagu {pagu} ({persen}).",
    "head_risk": "<b>{level} berisiko tidak terserap</b> (rupiah berisiko terbesar dulu):",
    "none_risk": "✅ Tidak ada {level} yang diproyeksikan tertinggal dari rencananya.",
    "row": (
        "{n}. <b>{nama}</b>{bidang}\n"
        "   rencana {rencana} · realisasi {realisasi} · deviasi {deviasi}{flag}\n"
        "   proyeksi {proyeksi} · <b>berisiko {berisiko}</b>"
    ),
    "more": "… dan {n} {level} lain yang berisiko.",
    "menyimpang": "⚠️ menyimpang",
    "counts": ("{menyimpang} dari {total} {level} menyimpang lebih dari {tol} poin dari rencana."),
    "incomplete": "Belum lengkap angkanya (tidak diproyeksikan): {names}.",
    "method": (
        "<i>Cara proyeksi: sisa rencana sampai TW IV dikalikan realisasi ÷ rencana sejauh ini, "
        "ditambah realisasi, paling banyak sebesar pagu. Berisiko = rencana TW IV − proyeksi.</i>"
    ),
    "unverified": "⏳ <i>Angka bidang {names} belum disetujui; dapat berubah.</i>",
    "digest_head": "<b>Peringatan dini mingguan</b> · {scope} · {period}",
    "digest_foot": (
        "Tanyakan rinciannya, misalnya <code>program mana yang berisiko tidak terserap</code>. "
        "Mematikan peringatan mingguan: /pengingat."
    ),
    "digest_kab_head": "📅 <b>Peringatan dini mingguan kabupaten</b>",
    "digest_kab_foot": "Mematikan peringatan mingguan: /pengingat.",
    "pengingat_on": "📅 Peringatan dini mingguan: setiap {hari} pukul {jam} WIB.",
    "pengingat_off": "📅 Peringatan dini mingguan: dimatikan.",
    "btn_off": "Matikan peringatan mingguan",
    "btn_on": "Nyalakan peringatan mingguan",
    "turned_off": "Peringatan mingguan dimatikan.",
    "turned_on": "Peringatan mingguan dinyalakan.",
    "see_pengingat": "Pengingat pelaporan lainnya: /pengingat.",
    "only_kepala": (
        "Peringatan dini mingguan dikirim kepada kepala dinas dan pemantau kabupaten; hanya "
        "kepala dan pemantau yang dapat menyalakan atau mematikannya."
    ),
}


def signed_rupiah(value: int) -> str:
    if value == 0:
        return "Rp 0"
    return ("+" if value > 0 else "−") + format_rupiah(abs(value))


def signed_points(value: float | None) -> str:
    if value is None:
        return "-"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{format_percent(abs(value)).rstrip('%')} poin"


def _short(name: str, limit: int = NAME_MAX) -> str:
    name = " ".join(name.split())
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _deviasi(r: EwRow) -> str:
    if r.deviasi is None:
        return "-"
    return f"{signed_rupiah(r.deviasi.rupiah)} ({signed_points(r.deviasi.points)})"


def period(ew: EarlyWarning) -> str:
    return f"TW {roman(ew.triwulan)} {ew.tahun}"


def scope_title(ew: EarlyWarning) -> str:
    if ew.scope_kind == "opd":
        return "Seluruh dinas"
    if ew.scope_kind == "bidang":
        return f"Bidang {escape(ew.scope_name)}"
    label = LEVEL_PLURAL.get(ew.scope_kind, "")
    return f"{label}: {escape(_short(ew.scope_name, 120))}"


def source_line(ew: EarlyWarning) -> str:
    why = {
        PlanSource.NASIONAL: TEXTS["why_national"],
        PlanSource.CAMPURAN: TEXTS["why_mixed"],
    }.get(ew.total.source, "")
    return TEXTS["source"].format(source=escape(ew.source_label), why=why)


def total_lines(ew: EarlyWarning) -> list[str]:
    t, p = ew.total, period(ew)
    scope = "Dinas" if ew.scope_kind == "opd" else scope_title(ew)
    if t.realisasi is None or t.proyeksi is None:
        return [
            TEXTS["total_incomplete"].format(
                scope=scope, period=p, rencana=format_rupiah(t.rencana)
            )
        ]
    flag = f" {TEXTS['menyimpang']}" if t.menyimpang else ""
    return [
        TEXTS["total"].format(
            scope=scope,
            period=p,
            rencana=format_rupiah(t.rencana),
            realisasi=format_rupiah(t.realisasi),
            deviasi=_deviasi(t),
            flag=flag,
        ),
        TEXTS["projection"].format(
            proyeksi=format_rupiah(t.proyeksi.amount),
            pagu=format_rupiah(t.pagu),
            persen=format_percent(t.proyeksi.amount * 100 / t.pagu) if t.pagu else "-",
        ),
    ]


def risk_lines(ew: EarlyWarning, limit: int = MAX_ROWS) -> list[str]:
    level = LEVEL_PLURAL.get(ew.level, "Program")
    risky = ew.at_risk
    if not risky:
        return [TEXTS["none_risk"].format(level=level.lower())]
    lines = [TEXTS["head_risk"].format(level=level)]
    for i, r in enumerate(risky[:limit], start=1):
        lines.append(
            TEXTS["row"].format(
                n=i,
                nama=escape(_short(r.nama)),
                bidang=f" ({escape(r.bidang)})" if r.bidang and ew.scope_kind == "opd" else "",
                rencana=format_rupiah(r.rencana),
                realisasi=format_rupiah(r.realisasi),
                deviasi=_deviasi(r),
                flag=f" {TEXTS['menyimpang']}" if r.menyimpang else "",
                proyeksi=format_rupiah(r.proyeksi.amount if r.proyeksi else None),
                berisiko=format_rupiah(r.berisiko),
            )
        )
    if len(risky) > limit:
        lines.append(TEXTS["more"].format(n=len(risky) - limit, level=level.lower()))
    return lines


def render_early_warning(ew: EarlyWarning, head: str) -> str:
    """The answer body: what was compared with what, the scope's totals, the ranked list."""
    level = LEVEL_PLURAL.get(ew.level, "Program").lower()
    lines = [head, source_line(ew), *total_lines(ew), "", *risk_lines(ew)]
    lines.append(
        TEXTS["counts"].format(
            menyimpang=len(ew.menyimpang),
            total=len(ew.rows),
            level=level,
            tol=format_percent(ew.tolerance, 0).rstrip("%"),
        )
    )
    if ew.incomplete:
        names = ", ".join(escape(_short(r.nama, 50)) for r in ew.incomplete[:5])
        more = f" dan {len(ew.incomplete) - 5} lainnya" if len(ew.incomplete) > 5 else ""
        lines.append(TEXTS["incomplete"].format(names=names + more))
    lines += ["", TEXTS["method"]]
    return "\n".join(lines)


def digest_text(ew: EarlyWarning) -> str:
    """The weekly digest to the kepala (and the office group)."""
    head = TEXTS["digest_head"].format(scope=scope_title(ew), period=period(ew))
    body = render_early_warning(ew, head)
    if ew.unverified:
        body += "\n" + TEXTS["unverified"].format(names=escape(", ".join(ew.unverified)))
    foot = "\n\n" + TEXTS["digest_foot"]
    if len(body) + len(foot) > MAX_MESSAGE:  # long names: cut whole lines, keep the footer
        body = body[: MAX_MESSAGE - len(foot) - 2].rsplit("\n", 1)[0] + "\n…"
    return body + foot


def pengingat_line(*, muted: bool, weekday: int, at: str) -> str:
    if muted:
        return TEXTS["pengingat_off"]
    return TEXTS["pengingat_on"].format(hari=WEEKDAYS[weekday].capitalize(), jam=at)
