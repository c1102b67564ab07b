"""What the evidence (bukti dukung) screens and captions say."""

from __future__ import annotations

from html import escape

from bot.settings import wib
from bot.views import texts
from bot.views.answers import Keyboard, Reply, short
from bot.views.budget import CAPTION, fit, fits
from bot.views.lapor import cb
from storage.domain.numbers import format_waktu
from storage.domain.periods import roman
from storage.services.bukti import Attached, Item, Picker, Shown

MAX_SUBS = 60  # sub kegiatan listed (with a button each) on the evidence screen


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
    parts.append(format_waktu(wib(it.at)))
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
    return fit("\n".join(lines), CAPTION)


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
    # Bounded for a bidang with very many sub kegiatan: one message (it is edited in
    # place, so it cannot be split) and at most 100 buttons.
    width = 70 if len(plan.subs) <= 30 else 32
    subs = [
        f"{i}. {escape(short(s.nama, width))}: {p.counts.get(s.node_id, 0)} bukti"
        for i, s in enumerate(plan.subs[:MAX_SUBS], 1)
    ]
    if len(plan.subs) > MAX_SUBS:
        subs.append(f"… {len(plan.subs) - MAX_SUBS} sub kegiatan lain: pakai tombol Ubah.")
    kb: Keyboard = []
    row: list[tuple[str, str]] = []
    for i in range(min(len(plan.subs), MAX_SUBS)):
        row.append((f"Bukti {i + 1}", cb(p.draft_id, "review", f"bukti:{i}")))
        if len(row) == 4:
            kb.append(row)
            row = []
    if row:
        kb.append(row)
    tail: list[str] = []
    if p.chosen is not None:
        s = plan.subs[p.chosen]
        tail += ["", texts.BUKTI_SEND_FOR.format(sub=escape(short(s.nama, 120)))]
        # Every file of the sub kegiatan (at most MAX_PER_SUB) can be removed.
        for k, it in enumerate(p.items, 1):
            note = f" — {escape(short(it.caption, 40))}" if it.caption else ""
            tail.append(f"  {k}. {escape(meta(it))}{note}")
            kb.append([(f"Hapus bukti {k}", cb(p.draft_id, "review", f"hapusb:{it.id}"))])
    else:
        tail += ["", texts.BUKTI_PICK]
    if not fits("\n".join(lines + subs + tail)):
        subs = [texts.BUKTI_MANY_SUBS.format(n=len(plan.subs))]
    lines += ["", *subs, *tail]
    back = "Ke ringkasan" if p.at_review else "Lanjutkan mengisi"
    kb.append([(back, cb(p.draft_id, "review", "ringkas"))])
    return Reply(fit("\n".join(lines)), kb)


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
