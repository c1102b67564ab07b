"""Reminder texts: the deadline reminders the minute job sends, and the /pengingat outlook.

``storage.services.schedule`` decides who is reminded of what (typed notices); this module
says it in Indonesian, in Telegram HTML, with the "Lapor sekarang" button of an operator's
reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.settings import wib
from bot.views.answers import Keyboard
from storage.domain.numbers import format_tanggal, format_waktu
from storage.domain.policy import Role, StatusLaporan
from storage.services.schedule import (
    DigestNotice,
    GroupNotice,
    KabupatenNotice,
    KabupatenOutlook,
    OperatorNotice,
    Reminder,
    ReminderOutlook,
    VerifyNotice,
    Window,
    WindowOutlook,
    label,
)

MAX_LISTED = 8  # sub kegiatan listed in a reminder before "dan N lainnya"
BUTTON_LABEL = "Lapor sekarang"

_STATUS_WORDS = {
    None: "belum mengajukan laporan",
    StatusLaporan.DRAFT: "belum mengajukan laporan (masih draf)",
    StatusLaporan.DIKEMBALIKAN: "laporan dikembalikan, belum diajukan ulang",
}
_SLOT_WORDS = {
    "H-7": "7 hari sebelum batas akhir",
    "H-3": "3 hari sebelum batas akhir",
    "H-1": "sehari sebelum batas akhir",
}


def _short(name: str, width: int = 90) -> str:
    name = " ".join(name.split())
    if len(name) <= width:
        return name
    return name[: width - 1].rsplit(" ", 1)[0] + "…"


def _bullets(items: Sequence[str], limit: int = MAX_LISTED) -> str:
    lines = [f"• {escape(_short(i))}" for i in items[:limit]]
    if len(items) > limit:
        lines.append(f"• … dan {len(items) - limit} lainnya")
    return "\n".join(lines)


def _salam(nama: str, fallback: str) -> str:
    return f"Yth. Bapak/Ibu {escape(nama) if nama.strip() else fallback},"


# --- the reminders ------------------------------------------------------------------------------


def reminder_text(r: Reminder) -> str:
    """The message of a reminder (Telegram HTML)."""
    n = r.notice
    if isinstance(n, OperatorNotice):
        return _operator(n)
    if isinstance(n, DigestNotice):
        return _digest(n)
    if isinstance(n, GroupNotice):
        return _group(n)
    if isinstance(n, KabupatenNotice):
        return _kabupaten(n)
    return _verify(n)


def reminder_button(r: Reminder) -> tuple[str, str] | None:
    """(label, callback data) of the reminder's button: an operator goes straight to /lapor
    of the quarter (``lp:new:<tahun>.<tw>:go``, bot/handlers/lapor)."""
    if isinstance(r.notice, OperatorNotice):
        w = r.notice.window
        return BUTTON_LABEL, f"lp:new:{w.tahun}.{w.triwulan}:go"
    return None


def _operator(n: OperatorNotice) -> str:
    w = n.window
    bidang = escape(n.bidang)
    tenggat = format_tanggal(w.tenggat)
    days = (w.tenggat - n.today).days
    lines = [f"<b>Pengingat pelaporan {w.label}</b>", ""]
    salam = _salam(n.nama, f"operator bidang {bidang}")
    if days > 0:
        sisa = "besok" if days == 1 else f"{days} hari lagi"
        lines.append(
            f"{salam}\nbatas akhir pelaporan bidang <b>{bidang}</b> untuk <b>{w.label}</b> "
            f"adalah <b>{tenggat}</b> ({sisa})."
        )
        closing = "Mohon laporan diajukan sebelum batas waktu tersebut. Terima kasih."
    elif days == 0:
        lines.append(
            f"{salam}\nhari ini, <b>{tenggat}</b>, adalah batas akhir pelaporan bidang "
            f"<b>{bidang}</b> untuk <b>{w.label}</b>."
        )
        closing = "Mohon laporan diajukan hari ini. Terima kasih."
    else:
        late = n.late_working_days
        ago = f"{late} hari kerja yang lalu" if late else "baru saja"
        lines.append(
            f"{salam}\nbatas akhir pelaporan bidang <b>{bidang}</b> untuk <b>{w.label}</b> "
            f"telah lewat pada <b>{tenggat}</b> ({ago}), dan laporannya belum kami terima."
        )
        closing = (
            "Mohon laporan segera diajukan. Bila ada kendala, silakan hubungi Sekretariat. "
            "Terima kasih."
        )
    lines.append("")
    if n.returned:
        lines.append(
            "Laporan yang diajukan sebelumnya <b>dikembalikan</b> oleh verifikator. Mohon "
            "diperbaiki lalu diajukan kembali."
        )
    if n.missing:
        lines.append(f"Sub kegiatan yang belum berisi realisasi {w.label} ({len(n.missing)}):")
        lines.append(_bullets(n.missing))
    elif n.total:
        lines.append(
            "Semua sub kegiatan sudah berisi angka, tetapi bidang ini "
            f"belum mengajukan laporan {w.label}."
        )
    else:
        lines.append(f"Bidang {bidang} belum mengajukan laporan {w.label}.")
    lines += ["", closing]
    return "\n".join(lines)


def _digest(n: DigestNotice) -> str:
    w = n.window
    done = [escape(b) for b in n.done]
    lines = [f"<b>Rekap pelaporan {w.label}</b>", "", _salam(n.nama, "Kepala Dinas")]
    if n.late:
        lines.append(
            f"batas akhir pelaporan {w.label} jatuh pada {format_tanggal(w.tenggat)}. Hingga "
            f"{format_waktu(n.now)}, {len(n.late)} dari {n.total} bidang belum "
            "mengajukan laporan:"
        )
        lines += [
            f"• {escape(b.nama)} — {_STATUS_WORDS.get(b.status, 'belum mengajukan')}"
            for b in n.late
        ]
        if done:
            lines.append(f"\nSudah mengajukan: {', '.join(done)}.")
        lines.append("\nOperator bidang yang terlambat menerima pengingat setiap hari kerja.")
    else:
        lines.append(
            f"seluruh {n.total} bidang telah mengajukan laporan {w.label} hingga batas "
            f"akhir {format_tanggal(w.tenggat)}. Terima kasih."
        )
    return "\n".join(lines)


def _group(n: GroupNotice) -> str:
    w = n.window
    late = [escape(b) for b in n.late]
    tenggat = format_tanggal(w.tenggat)
    if w.tenggat == n.today:
        head = f"Hari ini, <b>{tenggat}</b>, adalah batas akhir pelaporan <b>{w.label}</b>."
    elif w.tenggat > n.today:
        head = f"Batas akhir pelaporan <b>{w.label}</b> adalah <b>{tenggat}</b>."
    else:
        head = f"Batas akhir pelaporan <b>{w.label}</b> ({tenggat}) telah lewat."
    if late:
        body = (
            f"Bidang yang belum mengajukan laporan: {', '.join(late)}.\n"
            "Mohon operator bidang tersebut segera mengajukan laporan melalui bot ini. "
            "Terima kasih."
        )
    else:
        body = "Seluruh bidang telah mengajukan laporan. Terima kasih atas kerja samanya."
    office = f" — {escape(n.office)}" if n.office else ""
    return f"<b>Pelaporan {w.label}{office}</b>\n\n{head}\n{body}"


KAB_DIGEST_SHOWN = 40  # a kabupaten has some 30-40 offices; the message stays < 4096


def _kabupaten(n: KabupatenNotice) -> str:
    w = n.window
    lines = [f"<b>Rekap pelaporan OPD {w.label}</b>", "", _salam(n.nama, "Pemantau")]
    if not n.late:
        lines.append(
            f"seluruh {n.total} OPD telah mengajukan laporan {w.label} "
            f"(batas akhir kabupaten {format_tanggal(w.tenggat)}). Terima kasih."
        )
        return "\n".join(lines)
    lines.append(
        f"hingga {format_waktu(n.now)}, {len(n.late)} dari {n.total} OPD belum mengajukan "
        f"laporan {w.label} secara lengkap:"
    )
    for o in n.late[:KAB_DIGEST_SHOWN]:
        lines.append(
            f"• {escape(o.nama[:80])} — {o.late} dari {o.total} bidang belum "
            f"(batas akhir {format_tanggal(o.tenggat)})"
        )
    if len(n.late) > KAB_DIGEST_SHOWN:
        lines.append(f"… dan {len(n.late) - KAB_DIGEST_SHOWN} OPD lainnya.")
    lines.append(f"\nRekap serapan semua OPD: <code>/laporan rekap {w.triwulan} {w.tahun}</code>")
    return "\n".join(lines)


def _verify(n: VerifyNotice) -> str:
    return (
        "<b>Laporan menunggu pemeriksaan</b>\n\n"
        f"{_salam(n.nama, 'verifikator')}\n"
        f"laporan <b>{label(n.tahun, n.triwulan)}</b> bidang <b>{escape(n.bidang)}</b> "
        f"diajukan pada {format_waktu(n.submitted)} dan sudah lebih dari "
        f"{n.after_working_days} hari kerja menunggu pemeriksaan. Mohon laporan "
        "tersebut segera diperiksa. Terima kasih."
    )


# --- /pengingat -----------------------------------------------------------------------------------


def outlook_text(o: ReminderOutlook) -> str:
    """What a person will be reminded of (/pengingat, Telegram HTML)."""
    if o.role is None:
        return "Anda belum terdaftar sebagai pengguna aktif."
    jam = o.reminder_time.strftime("%H.%M")
    lines = ["<b>Pengingat pelaporan</b>", ""]
    if o.role == Role.ADMIN:
        lines.append(
            "Sebagai admin, Anda tidak menerima pengingat pribadi. Batas akhir pelaporan dapat "
            "diubah dengan /jadwal."
        )
        lines.append(
            "Grup kantor sudah terdaftar untuk pengumuman hari H dan H+1."
            if o.group_registered
            else "Grup kantor belum terdaftar: kirim /grupkantor di grup kantor untuk "
            "menerima pengumuman hari H dan H+1."
        )
        return "\n".join(lines)
    if o.muted:
        lines.append(
            "Pengingat untuk Anda sedang <b>dimatikan</b>: tidak ada pengingat yang dikirim "
            "kepada Anda sampai dinyalakan kembali."
        )
    else:
        lines.append(f"Pengingat untuk Anda <b>aktif</b>; dikirim pukul {jam} WIB.")
    lines.append("")
    if o.role == Role.VERIFIKATOR:
        lines.append(
            "Anda diingatkan bila sebuah laporan menunggu pemeriksaan lebih dari "
            f"{o.after_working_days} hari kerja. Saat ini {o.waiting} laporan "
            "menunggu pemeriksaan."
        )
        return "\n".join(lines)
    if o.role == Role.KEPALA:
        # Kepala are asked to verify too (policy.is_asked_to_verify), so they get both.
        lines.append(
            "Anda menerima rekap bidang yang belum melapor sehari kerja setelah batas akhir, "
            "dan pengingat bila sebuah laporan menunggu pemeriksaan lebih dari "
            f"{o.after_working_days} hari kerja."
        )
        lines.append("")
    for w in o.windows:
        lines += _window_lines(o, w, jam)
        lines.append("")
    return "\n".join(lines).rstrip()


def _window_lines(o: ReminderOutlook, wo: WindowOutlook, jam: str) -> list[str]:
    w = wo.window
    lines = [
        f"<b>{w.label}</b>: dibuka {format_tanggal(w.buka)}, batas akhir "
        f"<b>{format_tanggal(w.tenggat)}</b>."
    ]
    if not wo.planned:
        lines.append(
            f"Tahun {w.tahun} belum memiliki rencana (program dan pagu); pengingat baru "
            "dikirim setelah admin menyiapkannya."
        )
    elif o.role == Role.KEPALA:
        lines.append(
            "Rekap bidang yang belum melapor dikirim pada "
            f"{format_tanggal(wo.digest_day)} pukul {jam} WIB."
        )
    elif wo.reported_bidang is not None:
        lines.append(
            f"Laporan bidang {escape(wo.reported_bidang)} sudah diajukan; tidak ada pengingat "
            "untuk triwulan ini."
        )
    else:
        overdue = (
            f"Setelah batas akhir: setiap hari kerja pukul {jam} WIB, paling banyak "
            f"{o.max_overdue} kali, selama laporan belum diajukan."
        )
        if wo.upcoming:
            lines.append("Pengingat berikutnya:")
            lines += [
                f"• {format_tanggal(s.day)} pukul {jam} WIB "
                f"({_SLOT_WORDS.get(s.kind, 'hari batas akhir')})"
                for s in wo.upcoming
            ]
        lines.append(overdue)
    return lines


def kabupaten_outlook_text(o: KabupatenOutlook, *, role: str, jam: str) -> str:
    """/pengingat of a pemantau or admin kabupaten: what they receive, and when."""
    lines = [f"<b>Yang Anda terima sebagai {escape(role)}</b>", ""]
    if o.window is not None and o.digest_day is not None:
        when = (
            f" Berikutnya: {o.window.label}, batas akhir {format_tanggal(o.window.tenggat)}, "
            f"rekap {format_tanggal(o.digest_day)}."
        )
    else:
        when = ""
    state = "<b>dimatikan</b>" if o.muted else "aktif"
    lines.append(
        "• <b>Rekap OPD yang belum lapor</b>: sekali tiap triwulan, hari kerja pertama setelah "
        f"batas akhir kabupaten, pukul {jam} WIB ({state}).{when}"
    )
    lines.append(
        "• Grup kabupaten juga menerimanya."
        if o.group_registered
        else "• Grup kabupaten belum terdaftar (admin kabupaten: /grupkantor di grup itu)."
    )
    return "\n".join(lines)


# --- /jadwal, /pengingat, /grupkantor --------------------------------------------------------

TEXTS: dict[str, str] = {
    "not_admin_jadwal": (
        "Maaf, pengaturan jadwal pelaporan hanya dapat dilakukan oleh admin. Untuk melihat "
        "kapan Anda akan diingatkan, ketik /pengingat."
    ),
    "not_registered": (
        "Maaf, Anda belum terdaftar sehingga belum menerima pengingat. Ketik /daftar untuk "
        "meminta akses."
    ),
    "jadwal_head": "<b>Jadwal pelaporan {tahun}</b>",
    "jadwal_row": "• <b>{label}</b>: dibuka {buka}, batas akhir <b>{tenggat}</b> ({asal})",
    "jadwal_default": "bawaan",
    "jadwal_custom": "diubah {waktu}",
    "jadwal_pick": "Pilih triwulan yang batas akhirnya ingin diubah.",
    "jadwal_ask": (
        "Ketik batas akhir baru untuk <b>{label}</b> (saat ini {tenggat}), misalnya "
        "<i>{contoh}</i>, <i>{contoh_angka}</i> atau <i>{contoh_iso}</i>.\n\n"
        "Ketik /batal untuk membatalkan."
    ),
    "jadwal_bad": "{error}\n\nSilakan ketik lagi, atau /batal untuk membatalkan.",
    "jadwal_done": (
        "Batas akhir <b>{label}</b> diubah dari {lama} menjadi <b>{baru}</b>. Pengingat "
        "mengikuti batas akhir yang baru."
    ),
    "jadwal_same": "Batas akhir <b>{label}</b> tetap {baru}; tidak ada yang berubah.",
    "jadwal_past": (
        "\n\nCatatan: tanggal itu sudah lewat, sehingga bidang yang belum melapor langsung "
        "dianggap terlambat."
    ),
    "jadwal_closed": "Pengaturan jadwal ditutup.",
    "jadwal_cancel": "Perubahan jadwal dibatalkan; batas akhir tidak berubah.",
    "mute_on": "Matikan pengingat",
    "mute_off": "Nyalakan pengingat",
    "muted": "Pengingat dimatikan.",
    "unmuted": "Pengingat dinyalakan kembali.",
    "grup_private": (
        "Perintah ini dipakai di grup kantor: tambahkan bot ke grup tersebut, lalu admin "
        "mengirim /grupkantor di grup itu. Grup akan menerima pengumuman pada hari batas "
        "akhir pelaporan (H) dan pada hari kerja sesudahnya (H+1).\n\n{status}"
    ),
    "grup_status_set": "Saat ini sudah ada grup kantor yang terdaftar untuk kantor Anda.",
    "grup_status_none": "Saat ini belum ada grup kantor yang terdaftar untuk kantor Anda.",
    "grup_not_admin": "Maaf, hanya admin monev-bot yang dapat mendaftarkan grup kantor.",
    "grup_done": (
        "Grup ini terdaftar sebagai grup kantor perangkat daerah Anda. Pengumuman batas akhir "
        "pelaporan (hari H dan H+1) dan peringatan dini mingguan kantor ini akan dikirim ke "
        "sini. Untuk berhenti, admin dapat mengirim /grupkantor hapus."
    ),
    "grup_done_kab": (
        "Grup ini terdaftar sebagai grup kabupaten: rekap OPD yang belum lapor (untuk "
        "pemantau) akan dikirim ke sini. Untuk berhenti, kirim /grupkantor hapus."
    ),
    "grup_same": "Grup ini sudah terdaftar sebagai grup kantor Anda; tidak ada yang diubah.",
    "grup_taken": (
        "Grup ini sudah terdaftar sebagai grup kantor perangkat daerah lain (satu grup hanya "
        "untuk satu kantor); tidak ada yang diubah. Daftarkan grup lain untuk kantor Anda."
    ),
    "grup_removed": "Grup ini tidak lagi menerima pengumuman pelaporan.",
    "grup_not_this": "Grup ini bukan grup kantor Anda yang terdaftar; tidak ada yang diubah.",
    "btn_done": "Selesai",
    "btn_cancel": "Batal",
}


def jadwal_view(windows: list[Window], tahun_label: str) -> tuple[str, Keyboard]:
    """The deadlines of a year, a button per quarter to change it, and "Selesai"."""
    lines = [TEXTS["jadwal_head"].format(tahun=tahun_label), ""]
    for w in windows:
        asal = (
            TEXTS["jadwal_custom"].format(waktu=format_waktu(wib(w.updated_at)))
            if w.custom and w.updated_at
            else TEXTS["jadwal_default"]
        )
        lines.append(
            TEXTS["jadwal_row"].format(
                label=w.label,
                buka=format_tanggal(w.buka),
                tenggat=format_tanggal(w.tenggat),
                asal=asal,
            )
        )
    lines += ["", TEXTS["jadwal_pick"]]
    buttons = [(w.label, f"jadwal:ubah:{w.tahun}:{w.triwulan}") for w in windows]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(TEXTS["btn_done"], "jadwal:selesai")])
    return "\n".join(lines), rows


def jadwal_ask(w: Window) -> tuple[str, Keyboard]:
    """Ask for the new deadline of the quarter picked, with a "Batal" button."""
    contoh = w.tenggat
    text = TEXTS["jadwal_ask"].format(
        label=w.label,
        tenggat=format_tanggal(w.tenggat),
        contoh=format_tanggal(contoh),
        contoh_angka=f"{contoh.day}/{contoh.month}/{contoh.year}",
        contoh_iso=contoh.isoformat(),
    )
    return text, [[(TEXTS["btn_cancel"], "jadwal:batal")]]


def pengingat_view(muted: bool, role: Role | None) -> Keyboard:
    """/pengingat's mute/unmute button (none for admins)."""
    if role == Role.ADMIN:
        return []  # admins receive no personal reminders: nothing to mute
    if muted:
        return [[(TEXTS["mute_off"], "pengingat:nyala")]]
    return [[(TEXTS["mute_on"], "pengingat:mati")]]
