"""Everything the bot says, in one place (Bahasa Indonesia, the register of an office)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from storage.domain.policy import Denied, Role

ROLE_NAMES: dict[str, str] = {
    Role.ADMIN: "admin",
    Role.KEPALA: "kepala dinas",
    Role.VERIFIKATOR: "verifikator",
    Role.OPERATOR: "operator bidang",
    Role.PEMANTAU: "pemantau kabupaten",
    Role.ADMIN_KABUPATEN: "admin kabupaten",
}

# (command, description) as registered with setMyCommands
COMMANDS: list[tuple[str, str]] = [
    ("start", "Mulai dan lihat peran Anda"),
    ("bantuan", "Apa saja yang bisa ditanyakan"),
    ("lapor", "Isi laporan triwulan bidang Anda"),
    ("verifikasi", "Laporan yang menunggu verifikasi Anda"),
    ("riwayat", "Riwayat perubahan angka sebuah sub kegiatan"),
    ("bukti", "Foto dan berkas bukti dukung sebuah sub kegiatan"),
    ("laporan", "Unduh Laporan Kinerja Triwulan (XLSX)"),
    ("grafik", "Grafik serapan, tren dan status pelaporan"),
    ("pengingat", "Pengingat tenggat laporan Anda"),
    ("jadwal", "Tenggat pelaporan tiap triwulan"),
    ("daftar", "Minta akses ke monev-bot"),
    ("batal", "Hentikan langkah yang sedang berjalan"),
]

# The demo office's examples (kept for callers that know no asker); everything a person reads
# uses ``examples_for``: their own office's bidang and their role.
EXAMPLES = [
    "serapan anggaran Q2 koperasi",
    "realisasi fisik tw 3 perdagangan",
    "bidang mana serapannya paling rendah?",
    "siapa yang belum lapor triwulan 3?",
    "hambatan umkm",
    "serapan dinas tw1 2022",
    "program apa saja di perindustrian?",
]
# Bidang that are not a subject of questions (the office's own administration) come last.
_ADMIN_BIDANG = frozenset({"sekretariat", "tatausaha", "tata usaha", "umum"})


@dataclass(frozen=True)
class ExampleSource:
    """What examples are made of: the asker's role, their office's bidang (codes as typed in
    questions), their own bidang, and the short names of the offices (several offices)."""

    role: str | None
    bidang: tuple[str, ...] = ()
    own_bidang: str | None = None
    offices: tuple[str, ...] = ()


def _subjects(bidang: tuple[str, ...]) -> list[str]:
    subjects = [b for b in bidang if b.lower() not in _ADMIN_BIDANG]
    return subjects or list(bidang) or ["dinas"]


def examples_for(src: ExampleSource) -> list[str]:
    """Example questions for this asker: the kabupaten's for the kabupaten roles, /lapor and
    their own bidang for an operator, their own office's bidang for everyone else. The one
    place examples are made (greeting, /bantuan, "belum memahami", courtesy replies)."""
    if src.role in (Role.PEMANTAU, Role.ADMIN_KABUPATEN):
        office = (src.offices[0] if src.offices else "dinkes").lower()
        return [
            "OPD mana yang serapannya paling rendah tw3",
            "OPD mana yang berisiko tidak terserap",
            f"serapan {office} tw3",
            "berapa OPD yang belum lapor tw3",
            f"hambatan {office}",
            "/laporan rekap",
        ]
    b = _subjects(src.bidang)
    pick = [b[i % len(b)] for i in (0, 1, 2, 3)]
    if src.role == Role.OPERATOR:
        own = src.own_bidang or pick[0]
        return [
            "/lapor",
            f"serapan anggaran tw3 {own}",
            f"capaian kinerja {own} tw3",
            f"hambatan {own}",
            f"program apa saja di {own}?",
        ]
    return [
        f"serapan anggaran Q2 {pick[0]}",
        f"realisasi fisik tw 3 {pick[2]}",
        "bidang mana serapannya paling rendah?",
        "siapa yang belum lapor triwulan 3?",
        f"hambatan {pick[1]}",
        "program mana yang berisiko tidak terserap?",
        f"program apa saja di {pick[3]}?",
    ]


def example_list(examples: list[str], n: int = 3) -> str:
    return "\n".join(f"• <code>{escape(e)}</code>" for e in examples[:n])


START_STRANGER = (
    "Selamat datang di <b>monev-bot</b>, layanan monitoring dan evaluasi Laporan Kinerja "
    "Triwulan.\n\nAnda belum terdaftar. Ketik /daftar untuk meminta akses; admin akan "
    "memeriksa permintaan Anda."
)
START_PENDING = (
    "Permintaan akses Anda sedang menunggu persetujuan admin. Anda akan diberi tahu "
    "begitu diputuskan."
)
START_REJECTED = (
    "Anda belum memiliki akses ke monev-bot. Bila ini keliru, ketik /daftar untuk "
    "mengajukan permintaan lagi."
)
START_ACTIVE = (
    "Selamat datang, {nama}.\nAnda terdaftar sebagai <b>{role}</b>{where}.\n\n"
    "Tanyakan apa saja tentang anggaran dan kinerja dengan bahasa sehari-hari, misalnya:\n"
    "{examples}\n\nKetik /bantuan untuk contoh lainnya."
)
START_OPERATOR = (
    "Selamat datang, {nama}.\nAnda terdaftar sebagai <b>operator bidang {bidang}</b>{where}.\n\n"
    "Isi laporan triwulan bidang Anda dengan /lapor: bot menanyakan angka tiap sub kegiatan "
    "satu per satu, lalu Anda periksa dan Kirim ke verifikator.\n\n"
    "Anda juga bisa bertanya tentang bidang Anda, misalnya:\n{examples}\n\n"
    "Ketik /bantuan untuk contoh lainnya."
)
START_KABUPATEN = (
    "Selamat datang, {nama}.\nAnda terdaftar sebagai <b>{role}</b>: Anda dapat melihat data "
    "semua perangkat daerah ({offices}).\n\n"
    "Tanyakan perbandingan antar-OPD, atau sebut OPD-nya untuk data satu OPD, misalnya:\n"
    "{examples}\n\nKetik /bantuan untuk contoh lainnya."
)
_PERIODS = (
    "Triwulan boleh ditulis Q2, TW II, tw2, triwulan 2 atau kuartal kedua. Tanpa tahun, "
    "dipakai tahun terakhir yang ada datanya; tanpa triwulan, triwulan terakhir."
)
NOT_REGISTERED = (
    "Maaf, Anda belum terdaftar sehingga belum bisa melihat data. Ketik /daftar untuk "
    "meminta akses."
)
NOT_ALLOWED = "Maaf, peran Anda tidak diizinkan untuk tindakan ini."
STALE_BUTTON = "Tombol ini sudah tidak berlaku. Silakan ulangi dari awal."
UNKNOWN_COMMAND = "Perintah itu tidak dikenal. Ketik /bantuan untuk melihat yang bisa dilakukan."
NON_TEXT = "Maaf, saya hanya bisa membaca pesan teks. Ketik pertanyaan Anda, misalnya: {example}"
ERROR = (
    "Maaf, terjadi gangguan saat memproses permintaan Anda. Isian Anda tidak hilang; "
    "silakan coba lagi sebentar lagi."
)
DB_DOWN = "Maaf, basis data sedang tidak dapat dihubungi. Silakan coba lagi dalam beberapa saat."
DB_READONLY = (
    "Maaf, basis data sedang tidak bisa ditulis (penyimpanan penuh atau hanya-baca), sehingga "
    "isian terakhir belum tersimpan. Isian sebelumnya aman. Mohon beri tahu admin, lalu coba "
    "lagi nanti."
)
NOTHING_TO_CANCEL = "Tidak ada langkah yang sedang berjalan."

HELP = (
    "<b>Yang bisa ditanyakan</b>\n"
    "• Serapan anggaran: <i>{e0}</i>\n"
    "• Realisasi fisik: <i>{e1}</i>\n"
    "• Peringkat bidang: <i>bidang mana serapannya paling rendah?</i>\n"
    "• Status pelaporan: <i>siapa yang belum lapor triwulan 3?</i>\n"
    "• Capaian kinerja: <i>capaian kinerja {b0} tw3</i>\n"
    "• Hambatan dan tindak lanjut: <i>{e4}</i>\n"
    "• Daftar program: <i>{e6}</i>\n"
    "• Deviasi dari target: <i>bidang mana yang di bawah target tw2?</i>\n"
    "• Peringatan dini: <i>program mana yang berisiko tidak terserap?</i>, "
    "<i>proyeksi serapan akhir tahun {b0}</i>\n\n"
    + _PERIODS
    + "\n\nSemua: /riwayat nama sub kegiatan untuk melihat perubahan angkanya; /bukti nama "
    "sub kegiatan tw untuk foto dan berkas bukti dukungnya; /laporan untuk berkas laporan; "
    "/grafik untuk grafik; /pengingat untuk pengingat Anda.{admin}\n\n"
    "Perintah: /start, /bantuan, /riwayat, /bukti, /laporan, /grafik, /pengingat, /batal."
)
HELP_ADMIN = " Admin: /bukakembali bidang tw tahun, /jadwal."
HELP_DECIDER = " Verifikasi laporan yang masuk: /verifikasi."
HELP_OPERATOR = (
    "<b>Tugas Anda: laporan triwulan bidang {bidang}</b>\n"
    "• /lapor — isi angka tiap sub kegiatan, indikator dan catatan; setiap isian langsung "
    "tersimpan, lalu periksa dan tekan Kirim. Foto/berkas bukti dukung: kirim setelah mengisi "
    "angka sub kegiatannya.\n"
    "• /pengingat — kapan Anda diingatkan tenggat laporan.\n\n"
    "<b>Yang bisa ditanyakan tentang bidang Anda</b>\n"
    "{examples}\n\n"
    + _PERIODS
    + "\n\nPerintah: /lapor, /riwayat, /bukti, /pengingat, /batal, /bantuan."
)
HELP_KABUPATEN = (
    "<b>Pemantauan seluruh OPD</b>\n"
    "• Peringkat serapan: <i>OPD mana yang serapannya paling rendah tw3</i>\n"
    "• Status pelaporan: <i>berapa OPD yang belum lapor tw3</i>\n"
    "• Peringatan dini: <i>OPD mana yang berisiko tidak terserap</i>\n"
    "• Rekap (berkas): /laporan rekap\n\n"
    "<b>Satu OPD</b> — sebut OPD-nya (nama atau singkatan) dalam pertanyaan:\n"
    "• <i>serapan {office} tw3</i>, <i>hambatan {office}</i>, "
    "<i>program mana yang berisiko tidak terserap {office}</i>\n"
    "• /laporan {office} 3 — berkas laporan satu OPD\n"
    "Bila OPD tidak disebut, bot menanyakan OPD mana dengan tombol.\n\n"
    "OPD yang ada: {offices}.\n\n"
    + _PERIODS
    + "\n\n/pengingat — apa yang Anda terima dan kapan. Perintah: /start, /bantuan, "
    "/laporan, /grafik, /pengingat."
)
HELP_STRANGER = (
    "monev-bot hanya dapat dipakai oleh pegawai yang terdaftar. Ketik /daftar untuk meminta "
    "akses, lalu tunggu persetujuan admin."
)

# --- registration ---------------------------------------------------------------------------
REG_ASK_NAME = "Pendaftaran akses monev-bot.\n\nSilakan ketik <b>nama lengkap</b> Anda."
REG_BAD_NAME = "Nama harus 3–80 huruf. Ketik nama lengkap Anda, misalnya: <i>Rina Marlina, S.E.</i>"
REG_ASK_NIP = "Ketik <b>NIP</b> Anda (18 angka), atau tekan <b>Lewati</b> bila tidak ada."
REG_BAD_NIP = (
    "NIP harus 18 angka (spasi boleh), misalnya <i>19800414 199810 2 001</i>. Ketik lagi, "
    "atau tekan Lewati."
)
REG_ASK_BIDANG = "Pilih <b>bidang</b> tempat Anda bertugas:"
REG_NO_BIDANG = "Bukan bidang (pimpinan/sekretariat umum)"
REG_CONFIRM = (
    "Periksa kembali:\nNama: <b>{nama}</b>\nNIP: {nip}\nBidang: {bidang}\n\nKirim permintaan?"
)
REG_SENT = "Permintaan akses sudah dikirim ke admin. Anda akan diberi tahu setelah diputuskan."
REG_NO_ADMIN = (
    "Permintaan Anda tersimpan, tetapi belum ada admin yang terdaftar. Hubungi pengelola "
    "monev-bot di kantor agar permintaan Anda diproses."
)
REG_ALREADY = "Anda sudah terdaftar sebagai {role}. Tidak perlu mendaftar lagi."
REG_CANCELLED = "Pendaftaran dibatalkan. Tidak ada yang dikirim ke admin."
REG_USE_BUTTONS = "Silakan pilih dengan menekan salah satu tombol di atas, atau ketik /batal."
REG_ADMIN_REQUEST = (
    "<b>Permintaan akses baru</b>\nNama: {nama}\nNIP: {nip}\nBidang: {bidang}\n"
    "ID Telegram: <code>{tgid}</code>\n\nBerikan peran:"
)
REG_ADMIN_DONE = "{request}\n\n<b>Diputuskan:</b> {outcome} (oleh {admin})."
REG_ALREADY_DECIDED = "Permintaan ini sudah diputuskan sebelumnya: {outcome}."
RIWAYAT_OLDER = "<i>{n} perubahan yang lebih lama tidak ditampilkan.</i>"
CONTROL_REMOVED = (
    "ℹ️ Karakter kendali dihapus dari {field}. Teks lainnya tersimpan seperti yang Anda ketik."
)
REG_BLOCKED = (
    "Akses Anda ke monev-bot <b>diblokir</b> oleh admin, sehingga permintaan baru tidak dapat "
    "dikirim. Hubungi admin kantor bila ini keliru."
)
REG_COOLING = (
    "Permintaan akses Anda sebelumnya tidak disetujui. Anda dapat mengirim permintaan baru "
    "mulai <b>{when}</b>. Sebelum itu, hubungi admin kantor bila ada pertanyaan."
)
REG_SAME_PENDING = (
    "Permintaan yang sama sudah dikirim ke admin dan masih menunggu keputusan. Anda akan "
    "diberi tahu setelah diputuskan."
)
REG_PENDING_CHANGE = (
    "Permintaan akses Anda{office} masih menunggu keputusan admin. Yang Anda kirim sekarang "
    "menggantikannya (kantor tetap sama); admin melihat versi terbaru pada pesan yang sama.\n\n"
)
REG_TOO_SOON = (
    "Permintaan Anda baru saja diubah dan masih menunggu keputusan admin. Perubahan berikutnya "
    "dapat dikirim mulai <b>{when}</b>; tidak ada yang dikirim ke admin sekarang."
)
REG_OTHER_OFFICE = (
    "Permintaan akses Anda{office} masih menunggu keputusan admin; kantornya tidak dapat "
    "diganti sebelum diputuskan. Tidak ada yang dikirim. Hubungi admin kantor bila keliru."
)
REG_UPDATED = (
    "Permintaan akses Anda diperbarui; admin melihat versi terbaru. Anda akan diberi tahu "
    "setelah diputuskan."
)
REG_ADMIN_UPDATED = (
    "🔄 <i>Diperbarui oleh pemohon (versi {versi}); tombol lama tidak berlaku.</i>\n"
)
REG_REPLACED_NOTE = (
    "Diganti oleh permintaan baru dari orang yang sama (nama/NIP/bidang berubah). "
    "Tombol di pesan ini tidak berlaku lagi; gunakan pesan permintaan terbaru."
)
REG_STALE_TAP = (
    "Permintaan yang Anda lihat sudah diganti; tidak ada yang disetujui. Periksa permintaan "
    "terbaru."
)
REG_CURRENT = "<b>Permintaan saat ini</b>\nNama: {nama}\nNIP: {nip}\nBidang: {bidang}"
REG_BLOCKED_DONE = "diblokir (tidak dapat meminta akses lagi)"
REG_RETIRED_DECIDED = "Diputuskan: {outcome} (oleh {admin})."
REG_APPROVED_USER = (
    "Permintaan akses Anda <b>disetujui</b>. Anda terdaftar sebagai <b>{role}</b>{bidang}.\n"
    "Ketik /bantuan untuk melihat yang bisa ditanyakan."
)
REG_REJECTED_USER = (
    "Mohon maaf, permintaan akses Anda <b>tidak disetujui</b>. Hubungi admin kantor bila "
    "ada pertanyaan."
)

# --- answers ----------------------------------------------------------------------------------
UNKNOWN_QUESTION = (
    "Maaf, saya belum memahami pertanyaan itu. Coba salah satu contoh berikut (ketuk untuk "
    "menyalin), atau ketik /bantuan:\n{examples}"
)
CLARIFY = "Yang Anda maksud yang mana? Pilih salah satu:"
# A scope that does not exist is named back, never answered for the whole office.
NOT_FOUND_LEVEL = {
    "bidang": "Bidang",
    "program": "Program",
    "kegiatan": "Kegiatan",
    "sub_kegiatan": "Sub kegiatan",
    "opd": "OPD",
    "": "",
}
NOT_FOUND = "{level}“{name}” tidak ada di {office}; tidak ada angka yang ditampilkan."
NOT_FOUND_ANY = (
    "Maaf, “{name}” bukan nama bidang, program atau kegiatan di {office}; tidak ada angka yang "
    "ditampilkan."
)
NOT_FOUND_CHOOSE = "Maksud Anda:"
NOT_FOUND_OFFICE = "Bot ini menjawab tentang {office}. Tanyakan misalnya: <code>{example}</code>"
OTHER_OFFICE_SCOPE = (
    "“{name}” adalah bagian dari {other}, bukan {office}. Data perangkat daerah lain tidak "
    "dapat Anda lihat; tidak ada angka yang ditampilkan."
)
COURTESY = "Sama-sama, Bapak/Ibu. Silakan bertanya kapan saja, misalnya: <code>{example}</code>"
GREETING = "Halo, Bapak/Ibu. Silakan bertanya, misalnya: <code>{example}</code>"
ACKNOWLEDGED = "Baik, Bapak/Ibu. Bila ada yang ingin ditanyakan, misalnya: <code>{example}</code>"
LATEST_BUTTON = "Lihat {period}"
# A quarter in progress (issue 24).
PARTIAL_QUARTER = (
    "⏳ {period} baru {n} dari {total} bidang yang lapor ({reported}); jumlah di bawah hanya "
    "atas bidang yang sudah lapor. Belum lapor: {missing}."
)
COMING_QUARTER = "⏳ TW {tw}: {n} dari {total} bidang sudah lapor — {reported}"
NOT_REPORTED = "Realisasi anggaran: <b>belum ada laporan</b> {period} ({names} belum lapor)."
NOT_REPORTED_ROW = "belum lapor"
TOO_LONG = "Pertanyaan terlalu panjang. Tulis singkat saja, misalnya: <i>{example}</i>"

# --- /lapor -----------------------------------------------------------------------------------
LAPOR_ONLY_OPERATOR = (
    "Pengisian laporan dilakukan oleh operator bidang. Bila Anda operator, minta admin "
    "menetapkan bidang Anda."
)
LAPOR_NO_PLAN = (
    "Belum ada tahun yang memiliki rencana (program dan pagu). Minta admin menyiapkan "
    "rencana lebih dulu."
)
LAPOR_PROPOSE = (
    "<b>Laporan triwulan bidang {bidang}</b>\n\nLaporan yang diusulkan: <b>TW {tw} {tahun}</b>."
    "{returned}\n\nLanjutkan dengan triwulan ini, atau pilih yang lain."
)
LAPOR_RETURNED = (
    "\n\n↩️ Laporan ini <b>dikembalikan</b> oleh verifikator dengan alasan: <i>{alasan}</i>"
)
LAPOR_PICK = "Pilih tahun dan triwulan:"
LAPOR_RESUME = (
    "Anda punya draf laporan <b>TW {tw} {tahun}</b> bidang {bidang} ({done} dari {total} "
    "angka terisi, terakhir diubah {when}).\n\nLanjutkan draf itu atau mulai ulang?"
)
LAPOR_STARTED = (
    "Mulai mengisi laporan <b>TW {tw} {tahun}</b> bidang <b>{bidang}</b>: {subs} sub kegiatan, "
    "lalu indikator sasaran dan catatan. Setiap isian langsung tersimpan; bila terputus, "
    "ketik /lapor untuk melanjutkan."
)
LAPOR_CONTINUED = "Melanjutkan draf laporan <b>TW {tw} {tahun}</b> yang sudah ada."
LAPOR_STOPPED = (
    "Pengisian dihentikan. Draf TW {tw} {tahun} tetap tersimpan ({done} dari {total} angka "
    "terisi). Ketik /lapor untuk melanjutkan atau memulai ulang."
)
LAPOR_NOT_YOURS = "Tombol ini milik pengguna lain atau draf yang sudah tidak aktif."
LAPOR_OLD_STEP = "Tombol ini untuk langkah yang sudah lewat. Ini pertanyaan yang sedang aktif:"
LAPOR_USE_BUTTONS = "Silakan gunakan tombol pada ringkasan di atas (Ubah atau Kirim), atau /batal."
LAPOR_SENT = (
    "✅ Laporan TW {tw} {tahun} bidang {bidang} <b>terkirim</b> dan menunggu verifikasi. "
    "Anda akan diberi tahu hasilnya."
)
LAPOR_CONFLICT = (
    "⚠️ Laporan belum dikirim: angka berikut sudah diubah orang lain sejak draf Anda dimulai.\n"
    "{rows}\n\nPeriksa angka itu lalu tekan <b>Ubah</b> pada item tersebut, atau Kirim ulang "
    "setelah menyesuaikan."
)
LAPOR_CANCELLED_DRAFT = "Draf lama dibuang. Mulai dari awal."
VERIF_REQUEST = (
    "<b>Laporan masuk untuk diverifikasi</b>\nBidang {bidang} · TW {tw} {tahun} · versi {versi}\n"
    "Diajukan oleh {oleh}\n\n{summary}"
)
VERIF_CURRENT = (
    "⚠️ Versi laporan yang Anda lihat sudah tidak berlaku; tidak ada yang diputuskan. "
    "Ini versi yang sekarang menunggu verifikasi:\n\n"
    "<b>Bidang {bidang} · TW {tw} {tahun} · versi {versi}</b>\nDiajukan oleh {oleh}\n\n{summary}"
)
VERIF_QUEUE_ITEM = (
    "<b>Menunggu keputusan Anda</b>\nBidang {bidang} · TW {tw} {tahun} · versi {versi}\n"
    "Diajukan oleh {oleh}\n\n{summary}"
)
VERIF_QUEUE_HEAD = "📋 <b>{n} laporan</b> menunggu verifikasi Anda:"
VERIF_NO_SUMMARY = "(Ringkasan angka tidak tersedia; tanyakan angkanya kepada bot.)"
VERIF_QUEUE_EMPTY = "Tidak ada laporan yang menunggu verifikasi Anda saat ini."
VERIF_WAITING_START = (
    "\n\n📋 {n} laporan menunggu verifikasi Anda. Ketik /verifikasi untuk melihatnya."
)
VERIF_RETIRED = (
    "<b>Tidak berlaku lagi:</b> laporan ini {what} oleh {oleh}. Tombolnya sudah dilepas."
)
VERIF_RETIRED_RESUBMITTED = "diajukan ulang (versi {versi})"
VERIF_RETIRED_APPROVED = "disetujui"
VERIF_RETIRED_RETURNED = "dikembalikan"
VERIF_RETIRED_REOPENED = "dibuka kembali"
LAPOR_OVERTAKEN = (
    "⚠️ Laporan Anda <b>belum dikirim</b>: laporan triwulan ini sudah dikirim oleh "
    "<b>{oleh}</b> pada {when} (status: {status}) sejak draf Anda dimulai.\n"
    "Angka yang berbeda (sudah diubah orang lain):\n{rows}\n\n"
    "Pilih <b>Buang draf saya</b>, atau <b>Kirim punya saya menggantikannya</b> "
    "(tercatat di riwayat, dan verifikator diberi tahu)."
)
LAPOR_ALL_DONE = (
    "Semua laporan triwulan bidang {bidang} sudah diajukan atau disetujui; tidak ada yang perlu "
    "diisi sekarang. Bila laporan dikembalikan, /lapor akan mengusulkannya."
)
UNVERIFIED_NOTE = (
    "⏳ <i>Angka {period} bidang {names} belum disetujui (menunggu verifikasi); dapat berubah.</i>"
)
LAPOR_DISCARDED = "Draf laporan TW {tw} {tahun} Anda dibuang; laporan yang sudah dikirim tetap."
STATUS_NAMES = {
    "disetujui": "disetujui",
    "diajukan": "menunggu verifikasi",
    "dikembalikan": "dikembalikan",
    "draft": "draf",
}
VERIF_ASK_REASON = (
    "Ketik <b>alasan pengembalian</b> untuk laporan bidang {bidang} TW {tw} {tahun}. "
    "Alasan ini akan dibaca operator."
)
VERIF_DONE = "{original}\n\n<b>Keputusan:</b> {outcome} oleh {oleh}."
VERIF_APPROVED_OP = "✅ Laporan TW {tw} {tahun} bidang {bidang} <b>disetujui</b> dan dikunci."
VERIF_RETURNED_OP = (
    "↩️ Laporan TW {tw} {tahun} bidang {bidang} <b>dikembalikan</b>.\nAlasan: <i>{alasan}</i>\n\n"
    "Ketik /lapor untuk memperbaikinya; angka yang sudah ada tetap terisi."
)
REOPEN_USAGE = (
    "Cara pakai: <code>/bukakembali bidang tw [tahun]</code>, misalnya "
    "<code>/bukakembali koperasi 3 2022</code>."
)
REOPEN_DONE = (
    "Laporan TW {tw} {tahun} bidang {bidang} dibuka kembali; operator dapat mengubahnya lewat "
    "/lapor."
)
RIWAYAT_FORBIDDEN = (
    "Riwayat perubahan hanya dapat dilihat oleh pimpinan, verifikator, admin, dan operator "
    "bidang pemiliknya."
)
RIWAYAT_USAGE = (
    "Cara pakai: <code>/riwayat nama sub kegiatan</code>, misalnya <code>/riwayat gaji</code>."
)
NODE_CHOICES_SHOWN = 6


def node_choices(command: str, q: str, names: list[str]) -> str:
    """Words that fit several program/kegiatan/sub kegiatan: name them, answer none."""
    shown = "\n".join(f"• {escape(n)}" for n in names[:NODE_CHOICES_SHOWN])
    more = len(names) - NODE_CHOICES_SHOWN
    if more > 0:
        shown += f"\n… dan {more} lainnya"
    return (
        f"“{escape(q)}” cocok dengan {len(names)} rincian. Maksud Anda:\n{shown}\n"
        f"Ketik lagi dengan nama lengkapnya, misalnya <code>{command} {escape(names[0])}</code>."
    )


RIWAYAT_NONE = "Tidak ditemukan program, kegiatan atau sub kegiatan yang cocok dengan '{q}'."
RIWAYAT_EMPTY = "Belum ada perubahan tercatat untuk {nama}."

# --- files ------------------------------------------------------------------------------------
LAPORAN_USAGE = (
    "Cara pakai: <code>/laporan</code> (triwulan terakhir), <code>/laporan 3 2022</code>, "
    "atau <code>/laporan tw3 2022 csv</code> untuk angka mentah."
)
LAPORAN_MARKED = "Baris yang angkanya belum disetujui diberi warna dan ditandai di kolom KET."
LAPORAN_CAPTION = (
    "Laporan Kinerja Triwulan TW {tw} {tahun} (XLSX), siap cetak di kertas F4/A4 mendatar. "
    + LAPORAN_MARKED
)
LAPORAN_CAPTION_CSV = (
    "Angka Laporan Kinerja Triwulan TW {tw} {tahun} (CSV) untuk diolah di spreadsheet: "
    "kolom dipisah titik koma, desimal dengan koma. Untuk dicetak, minta berkas XLSX: "
    "/laporan {n} {tahun}."
)
LAPORAN_FILE = "Laporan Kinerja Triwulan TW {tw} {tahun} ({fmt})"
LAPORAN_NOT_APPROVED = (
    ": semua bidang sudah lapor, tetapi belum semua laporan disetujui — belum untuk dicetak. "
    + LAPORAN_MARKED
)
LAPORAN_PARTIAL_NOTE = (
    "BELUM LENGKAP — baru {n} dari {total} bidang yang lapor; belum lapor: {missing}."
)
LAPORAN_PARTIAL = ": " + LAPORAN_PARTIAL_NOTE + " Belum untuk dicetak. " + LAPORAN_MARKED
LAPORAN_COMING = (
    "TW {tw} {tahun} sedang masuk ({n} dari {total} bidang sudah lapor): /laporan {tw_num} {tahun}."
)

# --- charts -----------------------------------------------------------------------------------
CHART_MENU = (
    "Pilih grafik (triwulan terakhir yang ada datanya; untuk triwulan lain ketik misalnya "
    "<i>grafik serapan tw2 2022</i>):"
)
CHART_BUTTON = "📊 Lihat grafik"
CHART_NODATA_HINT = "Coba triwulan lain, misalnya <i>grafik serapan tw3 2022</i>."

# Why a permission rule (storage.domain.policy) refused; {status} is the report's status.
DENIED: dict[Denied, str] = {
    Denied.NOT_OPERATOR: "Hanya operator bidang yang dapat mengisi laporan.",
    Denied.NOT_VERIFIER: "Hanya verifikator atau kepala yang dapat memverifikasi laporan.",
    Denied.NOT_ADMIN: "Hanya admin yang dapat membuka kembali laporan.",
    Denied.NOT_SUBMITTED: "Laporan ini sudah {status}; tidak ada yang perlu diputuskan.",
    Denied.OWN_SUBMISSION: "Anda tidak dapat memverifikasi laporan yang Anda ajukan sendiri.",
    Denied.NOT_APPROVED: "Laporan itu belum disetujui, jadi tidak perlu dibuka kembali.",
    Denied.NOT_THEIR_BIDANG: RIWAYAT_FORBIDDEN,
    Denied.NOT_THEIR_OFFICE: "Data itu milik perangkat daerah lain; Anda hanya dapat melihat "
    "data perangkat daerah Anda sendiri.",
}


def denied(reason: Denied, *, status: str = "") -> str:
    return DENIED[reason].format(status=status)


def unknown_bidang(text: str, codes: list[tuple[str, str]]) -> str:
    """A bidang named on the command line or the console that the office does not have, and
    the ones it has ((kode, nama), ``users.bidang_codes``); plain text."""
    choices = ", ".join(f"{kode} ({nama})" for kode, nama in codes) or "belum ada bidang"
    return f"Bidang '{text}' tidak dikenal. Bidang yang ada (kode atau nama): {choices}."


# A button naming a report, draft or file outside the sender's office reads as one naming
# nothing: the bot cannot tell (and does not say) which of the two it was.
NOT_IN_SCOPE = (
    "Laporan atau data pada tombol itu tidak ditemukan di perangkat daerah Anda: milik "
    "perangkat daerah lain, atau sudah tidak ada. Anda hanya dapat melihat data perangkat "
    "daerah Anda sendiri."
)


# --- evidence (bukti dukung), issue 16 ---------------------------------------------------------

BUKTI_ONE = "📎 Bukti diterima"
BUKTI_ALBUM = "📎 Album diterima: {n} berkas sejauh ini"
BUKTI_ATTACHED = (
    "{head} untuk sub kegiatan <b>{sub}</b> (TW {tw} {tahun}); bukti sub kegiatan ini "
    "sekarang {count}. Kirim lagi bila ada, atau lanjutkan mengisi."
)
BUKTI_REFUSED = "❗ {reason}\nDraf tidak berubah."
BUKTI_DOWNLOAD_FAILED = (
    "❗ Berkas gagal diunduh dari Telegram (sudah dicoba {n} kali). Draf tidak berubah; "
    "kirim ulang foto atau berkasnya sebentar lagi."
)
BUKTI_FULL = (
    "❗ Sub kegiatan <b>{sub}</b> sudah memiliki {n} bukti (batas). Hapus yang tidak perlu "
    "lewat Hapus bukti di ringkasan sebelum menambah."
)
BUKTI_NO_DRAFT = (
    "Foto dan berkas diterima sebagai bukti dukung laporan. Mulai dengan /lapor, lalu kirim "
    "bukti setelah mengisi angka sub kegiatannya. Untuk bertanya, ketik pertanyaan, "
    "misalnya: {example}"
)
BUKTI_PICK = "Pilih sub kegiatan (tombol Bukti N), lalu kirim foto atau berkasnya."
BUKTI_SEND_FOR = (
    "Foto atau berkas (JPG, PNG, PDF) yang Anda kirim sekarang dilampirkan pada "
    "<b>{sub}</b>. Keterangan foto menjadi catatannya."
)
BUKTI_REMOVED = "🗑 Dihapus: {what}"
BUKTI_MANY_SUBS = "{n} sub kegiatan, bernomor seperti di ringkasan: pilih dengan tombol Bukti N."
BUKTI_FORBIDDEN = (
    "Bukti dukung hanya dapat dilihat oleh pimpinan, verifikator, admin, dan operator bidang "
    "pemiliknya."
)
BUKTI_ZIP_FORBIDDEN = (
    "ZIP laporan dengan bukti dukung semua bidang hanya untuk pimpinan, verifikator dan admin. "
    "Bukti bidang Anda: /bukti nama sub kegiatan."
)
BUKTI_HELD = (
    "📎 {n} foto/berkas diterima dan disimpan, menunggu sub kegiatannya: tekan Bukti N "
    "untuk melampirkannya."
)
BUKTI_HELD_FULL = (
    "❗ Sudah ada 10 berkas yang menunggu sub kegiatannya; berkas terakhir tidak disimpan. "
    "Pilih sub kegiatannya dulu, lalu kirim lagi.\n\n"
)
BUKTI_PLACED = "✅ {n} berkas dilampirkan pada <b>{sub}</b>."
BUKTI_HEAD = "<b>Bukti dukung: {title}</b>\nTW {tw} {tahun} · status laporan: {status} · {n} berkas"
BUKTI_NOT_APPROVED = "\n<i>(laporan belum disetujui)</i>"
BUKTI_NONE = "Belum ada bukti dukung untuk <b>{title}</b>{period}."
BUKTI_USAGE = (
    "Cara pakai: <code>/bukti nama sub kegiatan [tw] [tahun]</code>, misalnya "
    "<code>/bukti sarana distribusi perdagangan tw3 2022</code>. Bisa juga bertanya: "
    "<i>bukti sarana distribusi perdagangan tw3</i>."
)
BUKTI_UNKNOWN = "Sub kegiatan '{q}' tidak dikenal. " + BUKTI_USAGE
BUKTI_SEE = "Lihat bukti"  # a plain label: the count is in the summary above it
BUKTI_CHANGED = (
    "Laporan ini sudah diganti (versi {versi}); bukti di bawah adalah bukti versi terbaru."
)
BUKTI_ZIP_CAPTION = "Laporan TW {tw} {tahun} dengan bukti dukung ({n} berkas), dalam ZIP."
BUKTI_ZIP_TOO_BIG = (
    "ZIP laporan dengan bukti terlalu besar untuk dikirim lewat Telegram ({mb} MB). Minta "
    "admin mengambilnya dengan <code>monev export --tahun {tahun} --tw {tw} --bukti</code>."
)


# --- several offices (kabupaten) ---------------------------------------------------------------

KAB_NO_OFFICE = (
    "Perintah ini dijalankan di dalam satu perangkat daerah (mengisi dan memverifikasi "
    "laporan dilakukan oleh orang OPD itu sendiri), sedangkan akun Anda memantau semua OPD. "
    "Yang bisa Anda lakukan: tanyakan data satu OPD dengan menyebut OPD-nya, misalnya "
    "<code>serapan diskoperindag tw3</code>; lihat <code>berapa OPD yang belum lapor</code> "
    "atau <code>OPD mana yang berisiko tidak terserap</code>; minta rekap "
    "<code>/laporan rekap</code>. Semua contoh: /bantuan."
)
REG_ASK_OPD = "Dari perangkat daerah (OPD) mana Anda? Pilih salah satu:"
REG_ASK_OPD_TYPE = (
    "Dari perangkat daerah (OPD) mana Anda? Ketik nama atau singkatannya, "
    "misalnya <code>diskoperindag</code> atau <code>dinas kesehatan</code>."
)
REG_OPD_UNKNOWN = (
    "OPD “{text}” tidak dikenali. Ketik nama atau singkatan OPD Anda, "
    "misalnya <code>diskoperindag</code>. Yang ada antara lain: {names}."
)
REG_OPD_CHOSEN = "OPD: {nama}."
KAB_ONLY = (
    "Pertanyaan tentang semua OPD hanya untuk pemantau dan admin kabupaten. Tanyakan "
    "data OPD Anda sendiri, misalnya <code>serapan tw3</code>."
)
KAB_OTHER_OFFICE = (
    "Maaf, data {office} hanya dapat dilihat oleh orang OPD itu sendiri dan pemantau "
    "kabupaten. Tanyakan data OPD Anda sendiri, misalnya <code>serapan tw3</code>."
)
KAB_OFFICE_HEAD = "🏢 <b>{office}</b> · "  # the office's short name, once, on the first line
KAB_PICK = (
    "Pertanyaan <i>{question}</i> adalah tentang satu OPD. OPD mana? Pilih salah satu "
    "(lain kali bisa langsung disebut, misalnya <code>{question} {office}</code>):"
)
KAB_PICK_MORE = "\n<i>{n} OPD lain tidak muat di tombol: ketik pertanyaannya dengan nama OPD.</i>"
KAB_NO_OFFICE_LONG = (
    "Pertanyaan itu tentang satu OPD, tetapi OPD-nya tidak disebut. Ketik lagi dengan nama "
    "atau singkatan OPD, misalnya <code>serapan koperasi diskoperindag tw3</code>. "
    "OPD yang ada: {offices}."
)
KAB_PICK_GONE = "OPD pada tombol itu sudah tidak ada. Ketik pertanyaannya lagi dengan nama OPD."
REKAP_USAGE = (
    "Cara pakai: <code>/laporan rekap</code> (triwulan terakhir), "
    "<code>/laporan rekap 3 2022</code>, atau tambahkan <code>csv</code> untuk angka mentah."
)
REKAP_CAPTION = (
    "Rekap serapan anggaran per OPD TW {tw} {tahun} ({fmt}), diurutkan dari serapan tertinggi; "
    "tanda * = sebagian angka belum disetujui."
)
KAB_EXAMPLES = [
    "OPD mana yang serapannya paling rendah tw3",
    "berapa OPD yang belum lapor tw3",
    "serapan dinas koperasi tw2",
    "/laporan rekap",
]

# --- /lapor: the optional spending-plan step (rencana penarikan) ----------------------------
RENCANA_ASK = (
    "<b>Isi rencana penarikan TW I–IV?</b>\n"
    "{lacking} dari {total} sub kegiatan bidang ini belum punya rencana penarikan kantor tahun "
    "{tahun}. Rencana kumulatif per triwulan (anggaran kas) menjadi pembanding peringatan dini: "
    "deviasi dan proyeksi serapan akhir tahun.\n\n"
    "• <b>Isi rencana</b>: satu pesan per sub kegiatan, sebelum angka realisasi.\n"
    "• <b>Lewati</b>: pola nasional {pola} dari pagu tetap dipakai sebagai pembanding.\n\n"
    "Rencana yang diisi disimpan di draf dan baru berlaku saat laporan dikirim (Kirim), "
    "mulai TW {tw} {tahun}."
)
RENCANA_SUB = (
    "Ketik <b>rencana penarikan kumulatif</b> sampai akhir TW I, II, III dan IV: empat angka "
    "dipisah titik koma atau baris baru, misalnya <code>{example}</code>."
)
RENCANA_NOW_DRAFT = "Isian di draf ini: {values}"
RENCANA_NOW_OFFICE = "Rencana kantor yang berlaku: {values}"
RENCANA_NATIONAL = "Pola nasional {pola}: {values}"
RENCANA_SKIPPED = (
    "Rencana penarikan dilewati: pola nasional {pola} dari pagu tetap dipakai sebagai "
    "pembanding peringatan dini."
)
RENCANA_GIVEN = "✔️ Rencana {nama}: {values} (tersimpan di draf)."
RENCANA_GIVEN_NATIONAL = "✔️ Rencana {nama} mengikuti pola nasional: {values} (tersimpan di draf)."
RENCANA_GIVEN_KEPT = "✔️ Rencana {nama} tetap: {values}."
RENCANA_REVIEW_FILLED = (
    "Rencana penarikan: diisi untuk {n} sub kegiatan (disimpan saat Kirim, berlaku mulai TW {tw})."
)
RENCANA_REVIEW_FILLED_SENT = "Rencana penarikan: diisi untuk {n} sub kegiatan (mulai TW {tw})."
RENCANA_REVIEW_SAME = "Rencana penarikan: sama dengan rencana kantor yang berlaku."
RENCANA_REVIEW_SKIPPED = "Rencana penarikan: dilewati (pola nasional {pola} tetap dipakai)."
RENCANA_SAVED = (
    "📈 Rencana penarikan {tahun} disimpan untuk {n} sub kegiatan, berlaku mulai TW {tw}; "
    "peringatan dini kini memakai rencana kantor untuk sub kegiatan itu."
)
RENCANA_NOT_SAVED = "⚠️ Rencana penarikan tidak disimpan untuk {nama}: {why}."


def help_for(src: ExampleSource, *, bidang_name: str = "", offices: str = "") -> str:
    """/bantuan for this asker: the kabupaten's, an operator's, or the office's own."""
    ex = examples_for(src)
    if src.role in (Role.PEMANTAU, Role.ADMIN_KABUPATEN):
        office = escape((src.offices[0] if src.offices else "dinkes").lower())
        return HELP_KABUPATEN.format(office=office, offices=escape(offices or "-"))
    if src.role == Role.OPERATOR:
        return HELP_OPERATOR.format(
            bidang=escape(bidang_name or src.own_bidang or "Anda"),
            examples=example_list(ex[1:], 4),
        )
    b = _subjects(src.bidang)
    extra = (HELP_DECIDER if src.role in (Role.KEPALA, Role.VERIFIKATOR, Role.ADMIN) else "") + (
        HELP_ADMIN if src.role == Role.ADMIN else ""
    )
    return HELP.format(
        e0=escape(ex[0]),
        e1=escape(ex[1]),
        e4=escape(ex[4]),
        e6=escape(ex[6]),
        b0=escape(b[0]),
        admin=extra,
    )
