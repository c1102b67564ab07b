"""Early-warning texts: the answer to "program mana yang berisiko tidak terserap", the weekly
digest, and the digest's line in /pengingat. HTML for Telegram; the data comes from
``storage.services.early_warning``."""

from __future__ import annotations

from html import escape

from bot.views.budget import fit
from storage.domain.early_warning import Deviation, PlanSource
from storage.domain.numbers import (
    format_percent,
    format_rupiah,
    format_rupiah_short,
    ratio_percent,
)
from storage.domain.periods import roman
from storage.services.early_warning import WEEKDAYS, EarlyWarning, EwRow

MAX_ROWS = 4  # the short list of the first screen
MAX_EXACT = 15  # items with every figure, on the pages after it
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
    "summary": (
        "{scope}: realisasi <b>{realisasi}</b> dari rencana s.d. {period} {rencana}, {where}."
    ),
    "summary_projection": (
        "Proyeksi serapan akhir tahun: <b>{proyeksi}</b> ({persen} dari pagu {pagu})."
    ),
    "behind": "⚠️ tertinggal {points} poin",
    "ahead": "di atas rencana (+{points} poin)",
    "behind_word": "⚠️ tertinggal",
    "ahead_word": "(di atas rencana)",
    "on_plan": "sesuai rencana ({points})",
    "head_risk": (
        "<b>{level} berisiko tidak terserap</b> ({n} dari {total} {lower}, terbesar dulu):"
    ),
    "row_short": "{n}. {nama}{bidang}: berisiko <b>{berisiko}</b>{where}",
    "legend": (
        "<i>Berisiko = rencana setahun yang diproyeksikan tidak terserap. Poin = selisih "
        "realisasi dari rencana s.d. triwulan ini, dalam persen pagu.</i>"
    ),
    "exact_head": "<b>Angka lengkap (rupiah)</b>",
    "none_risk": "✅ Tidak ada {level} yang diproyeksikan tertinggal dari rencananya.",
    "none_risk_behind": (
        "Tidak ada {level} yang diproyeksikan kurang dari rencana akhir tahun, meski realisasi "
        "sejauh ini tertinggal."
    ),
    "row": (
        "{n}. <b>{nama}</b>{bidang}\n"
        "   rencana {rencana} · realisasi {realisasi} · deviasi {deviasi}{flag}\n"
        "   proyeksi {proyeksi} · <b>berisiko {berisiko}</b>"
    ),
    "more": "… dan {n} {level} lain yang berisiko.",
    "counts": (
        "{behind} dari {total} {level} tertinggal dan {ahead} di atas rencana lebih dari "
        "{tol} poin."
    ),
    "incomplete": "Belum lengkap angkanya (tidak diproyeksikan): {names}.",
    "method": (
        "<i>Cara proyeksi: sisa rencana sampai TW IV dikalikan realisasi ÷ rencana sejauh ini, "
        "ditambah realisasi, paling banyak sebesar pagu; proyeksi bidang dan dinas = jumlah "
        "proyeksi programnya. Berisiko = rencana TW IV − proyeksi.</i>"
    ),
    "mixed": "⏳ Angka terakhir tiap program: {parts}.",
    "mixed_part": "TW {tw} untuk {names}",
    "mixed_rest": "TW {tw} untuk yang lain",
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


def direction(d: Deviation | None, tol: float, *, words_only: bool = False) -> str:
    """Where realisation stands against the plan, in words that never contradict the list:
    behind beyond the tolerance is a warning; ahead of plan is not. ``words_only``: beside
    the figures, which already give the points."""
    if d is None or d.points is None:
        return ""
    if words_only:
        if d.points < -tol:
            return TEXTS["behind_word"]
        return TEXTS["ahead_word"] if d.points > tol else ""
    if d.points < -tol:
        return TEXTS["behind"].format(points=format_percent(abs(d.points)).rstrip("%"))
    if d.points > tol:
        return TEXTS["ahead"].format(points=format_percent(d.points).rstrip("%"))
    return TEXTS["on_plan"].format(points=signed_points(d.points))


def _scope_word(ew: EarlyWarning) -> str:
    return "Dinas" if ew.scope_kind == "opd" else scope_title(ew)


def summary_lines(ew: EarlyWarning) -> list[str]:
    """The scope's position in rounded rupiah (exact figures: ``exact_lines``)."""
    t, p = ew.total, period(ew)
    if t.realisasi is None or t.proyeksi is None:
        return [
            TEXTS["total_incomplete"].format(
                scope=_scope_word(ew), period=p, rencana=format_rupiah_short(t.rencana)
            )
        ]
    return [
        TEXTS["summary"].format(
            scope=_scope_word(ew),
            realisasi=format_rupiah_short(t.realisasi),
            period=f"TW {roman(ew.triwulan)}",
            rencana=format_rupiah_short(t.rencana),
            where=direction(t.deviasi, ew.tolerance),
        ),
        TEXTS["summary_projection"].format(
            proyeksi=format_rupiah_short(t.proyeksi.amount),
            persen=format_percent(ratio_percent(t.proyeksi.amount, t.pagu)),
            pagu=format_rupiah_short(t.pagu),
        ),
    ]


def total_lines(ew: EarlyWarning) -> list[str]:
    """The scope's totals to the rupiah."""
    t, p = ew.total, period(ew)
    if t.realisasi is None or t.proyeksi is None:
        return [
            TEXTS["total_incomplete"].format(
                scope=_scope_word(ew), period=p, rencana=format_rupiah(t.rencana)
            )
        ]
    where = direction(t.deviasi, ew.tolerance, words_only=True)
    return [
        TEXTS["total"].format(
            scope=_scope_word(ew),
            period=p,
            rencana=format_rupiah(t.rencana),
            realisasi=format_rupiah(t.realisasi),
            deviasi=_deviasi(t),
            flag=f" {where}" if where else "",
        ),
        TEXTS["projection"].format(
            proyeksi=format_rupiah(t.proyeksi.amount),
            pagu=format_rupiah(t.pagu),
            persen=format_percent(ratio_percent(t.proyeksi.amount, t.pagu)),
        ),
    ]


def _none_risk(ew: EarlyWarning, level: str) -> str:
    behind = ew.total.deviasi is not None and (ew.total.deviasi.points or 0) < -ew.tolerance
    return TEXTS["none_risk_behind" if behind else "none_risk"].format(level=level.lower())


def risk_lines(ew: EarlyWarning, limit: int = MAX_ROWS) -> list[str]:
    """The items at risk, rounded, one line each (the list a phone screen shows)."""
    level = LEVEL_PLURAL.get(ew.level, "Program")
    risky = ew.at_risk
    if not risky:
        return [_none_risk(ew, level)]
    lines = [
        TEXTS["head_risk"].format(
            level=level, n=len(risky), total=len(ew.rows), lower=level.lower()
        )
    ]
    for i, r in enumerate(risky[:limit], start=1):
        where = direction(r.deviasi, ew.tolerance)
        lines.append(
            TEXTS["row_short"].format(
                n=i,
                nama=escape(_short(r.nama, 60)),
                bidang=f" ({escape(r.bidang)})" if r.bidang and ew.scope_kind == "opd" else "",
                berisiko=format_rupiah_short(r.berisiko),
                where=f" · {where}" if where else "",
            )
        )
    if len(risky) > limit:
        lines.append(TEXTS["more"].format(n=len(risky) - limit, level=level.lower()))
    return lines


def exact_lines(ew: EarlyWarning, limit: int = MAX_EXACT) -> list[str]:
    """Every figure to the rupiah: the scope, then each item at risk."""
    level = LEVEL_PLURAL.get(ew.level, "Program")
    lines = [TEXTS["exact_head"], *total_lines(ew), source_line(ew)]
    for i, r in enumerate(ew.at_risk[:limit], start=1):
        where = direction(r.deviasi, ew.tolerance, words_only=True)
        lines.append(
            TEXTS["row"].format(
                n=i,
                nama=escape(_short(r.nama)),
                bidang=f" ({escape(r.bidang)})" if r.bidang and ew.scope_kind == "opd" else "",
                rencana=format_rupiah(r.rencana),
                realisasi=format_rupiah(r.realisasi),
                deviasi=_deviasi(r),
                flag=f" {where}" if where else "",
                proyeksi=format_rupiah(r.proyeksi.amount if r.proyeksi else None),
                berisiko=format_rupiah(r.berisiko),
            )
        )
    if len(ew.at_risk) > limit:
        lines.append(TEXTS["more"].format(n=len(ew.at_risk) - limit, level=level.lower()))
    behind = sum(1 for r in ew.menyimpang if (r.deviasi and (r.deviasi.points or 0) < 0))
    lines.append(
        TEXTS["counts"].format(
            behind=behind,
            ahead=len(ew.menyimpang) - behind,
            total=len(ew.rows),
            level=level.lower(),
            tol=format_percent(ew.tolerance, 0).rstrip("%"),
        )
    )
    if ew.incomplete:
        names = ", ".join(escape(_short(r.nama, 50)) for r in ew.incomplete[:5])
        more = f" dan {len(ew.incomplete) - 5} lainnya" if len(ew.incomplete) > 5 else ""
        lines.append(TEXTS["incomplete"].format(names=names + more))
    return lines


def render_early_warning(ew: EarlyWarning, head: str) -> str:
    """The answer: the position in rounded rupiah, the items at risk, the words explained
    once; then every figure to the rupiah (the pages after the first)."""
    return "\n".join(
        [
            head,
            *mixed_line(ew),
            *summary_lines(ew),
            "",
            *risk_lines(ew),
            TEXTS["legend"],
            "",
            *exact_lines(ew),
            "",
            TEXTS["method"],
        ]
    )


def digest_text(ew: EarlyWarning) -> str:
    """The weekly digest to the kepala (and the office group)."""
    head = TEXTS["digest_head"].format(scope=scope_title(ew), period=period(ew))
    body = "\n".join(
        [
            head,
            *mixed_line(ew),
            *summary_lines(ew),
            source_line(ew),
            "",
            *risk_lines(ew),
            TEXTS["legend"],
        ]
    )
    if ew.unverified:
        body += "\n" + TEXTS["unverified"].format(names=escape(", ".join(ew.unverified)))
    # long names: whole lines cut, the footer kept
    return fit(body, tail="\n\n" + TEXTS["digest_foot"])


def pengingat_line(*, muted: bool, weekday: int, at: str) -> str:
    if muted:
        return TEXTS["pengingat_off"]
    return TEXTS["pengingat_on"].format(hari=WEEKDAYS[weekday].capitalize(), jam=at)


def mixed_line(ew: EarlyWarning) -> list[str]:
    """A quarter in progress: which bidang's programs stand at a later quarter."""
    later: dict[int, list[str]] = {}
    for r in ew.rows + ew.incomplete:
        if r.tw != ew.triwulan and r.bidang not in later.setdefault(r.tw, []):
            later[r.tw].append(r.bidang)
    if not any(later.values()):
        return []
    parts = [
        TEXTS["mixed_part"].format(tw=roman(q), names=escape(", ".join(names)))
        for q, names in sorted(later.items(), reverse=True)
        if names
    ]
    parts.append(TEXTS["mixed_rest"].format(tw=roman(ew.triwulan)))
    return [TEXTS["mixed"].format(parts="; ".join(parts))]


def digest_button(muted: bool) -> tuple[str, str]:
    """The digest's on/off button under /pengingat (label, callback data)."""
    if muted:
        return TEXTS["btn_on"], "peringatan:nyala"
    return TEXTS["btn_off"], "peringatan:mati"


def switch_text(muted: bool, weekday: int, at: str) -> str:
    """The digest's line after its switch was pressed."""
    return pengingat_line(muted=muted, weekday=weekday, at=at) + "\n\n" + TEXTS["see_pengingat"]
