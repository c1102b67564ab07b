"""What the evidence (bukti dukung) screens and captions say."""

from __future__ import annotations

from html import escape

from bot.settings import WIB
from bot.views import texts
from bot.views.answers import Keyboard, Reply, short
from bot.views.lapor import cb
from storage.domain.numbers import format_waktu
from storage.domain.periods import roman
from storage.services.bukti import Attached, Item, Picker, Shown

CAPTION_LIMIT = 1000  # Telegram allows 1024 characters; the margin covers HTML entities


def _kind(mime: str) -> str:
    return {"image/jpeg": "foto JPG", "image/png": "gambar PNG", "application/pdf": "PDF"}.get(
        mime, mime
    )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, round(n / 1024))} KB"


def attached(a: Attached) -> str:
    """Confirmation of one file (or, edited as the items arrive, of an album so far)."""
    t = a.target
    head = texts.BUKTI_ALBUM.format(n=a.album) if a.album else texts.BUKTI_ONE
    return texts.BUKTI_ATTACHED.format(
        head=head,
        sub=escape(short(t.sub, 120)),
        tw=roman(t.triwulan),
        tahun=t.tahun,
        count=a.count,
    )


def meta(it: Item) -> str:
    """Who sent a file, when, and what the camera said (plain text)."""
    parts = [f"{_kind(it.mime)}, {_size(it.size)}", f"dikirim {it.oleh}"]
    parts.append(format_waktu(it.at.astimezone(WIB)))
    if it.exif_time:
        parts.append(f"diambil {it.exif_time[:16].replace(':', '-', 2)}")
    if it.gps is not None:
        parts.append(f"GPS {it.gps[0]:.5f}, {it.gps[1]:.5f}")
    return " · ".join(parts)


def caption(it: Item, n: int, total: int) -> str:
    """An item's caption in an album: sub kegiatan, note, sender, time (≤ 1024 chars)."""
    lines = [f"{n}/{total} — <b>{escape(short(it.sub, 150))}</b>"]
    if it.caption:
        lines.append(f"Catatan: {escape(short(it.caption, 500))}")
    lines.append(escape(meta(it)))
    text = "\n".join(lines)
    return text if len(text) <= CAPTION_LIMIT else escape(short(it.sub, 150))


def picker(p: Picker) -> Reply:
    """'Tambah bukti'/'Hapus bukti' on the review: every sub kegiatan with its count; the
    chosen one lists its files with a 'Hapus' button each."""
    plan = p.plan
    lines = [
        f"<b>Bukti dukung — TW {roman(plan.triwulan)} {plan.tahun}, {escape(plan.bidang.nama)}</b>"
    ]
    if p.removed:
        lines.append(texts.BUKTI_REMOVED.format(what=escape(short(p.removed, 80))))
    if p.placed and p.chosen is not None:
        sub = escape(short(plan.subs[p.chosen].nama, 80))
        lines.append(texts.BUKTI_PLACED.format(n=p.placed, sub=sub))
    if p.held:
        lines.append(texts.BUKTI_HELD.format(n=p.held))
    lines.append("")
    for i, s in enumerate(plan.subs, 1):
        lines.append(f"{i}. {escape(short(s.nama, 70))}: {p.counts.get(s.node_id, 0)} bukti")
    kb: Keyboard = []
    row: list[tuple[str, str]] = []
    for i in range(len(plan.subs)):
        row.append((f"Bukti {i + 1}", cb(p.draft_id, "review", f"bukti:{i}")))
        if len(row) == 4:
            kb.append(row)
            row = []
    if row:
        kb.append(row)
    if p.chosen is not None:
        s = plan.subs[p.chosen]
        lines += ["", texts.BUKTI_SEND_FOR.format(sub=escape(short(s.nama, 120)))]
        for k, it in enumerate(p.items[:20], 1):
            note = f" — {escape(short(it.caption, 60))}" if it.caption else ""
            lines.append(f"  {k}. {escape(meta(it))}{note}")
            kb.append([(f"Hapus bukti {k}", cb(p.draft_id, "review", f"hapusb:{it.id}"))])
    else:
        lines += ["", texts.BUKTI_PICK]
    back = "Ke ringkasan" if p.at_review else "Lanjutkan mengisi"
    kb.append([(back, cb(p.draft_id, "review", "ringkas"))])
    return Reply("\n".join(lines), kb)


def shown_head(s: Shown) -> str:
    """The text above the files of /bukti or 'Lihat bukti'."""
    status = texts.STATUS_NAMES.get(s.status, s.status)
    mark = "" if s.status == "disetujui" else texts.BUKTI_NOT_APPROVED
    lines = [
        texts.BUKTI_HEAD.format(
            title=escape(s.title),
            tw=roman(s.triwulan),
            tahun=s.tahun,
            status=status,
            n=len(s.items),
        )
        + mark
    ]
    for k, it in enumerate(s.items[:40], 1):
        note = f" — {escape(short(it.caption, 80))}" if it.caption else ""
        lines.append(f"{k}. {escape(short(it.sub, 60))}: {escape(meta(it))}{note}")
    if len(s.items) > 40:
        lines.append(f"… dan {len(s.items) - 40} lagi.")
    return "\n".join(lines)
