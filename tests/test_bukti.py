"""Evidence (bukti dukung, issue 16) through the real Application and the offline Bot API:
photos, albums, documents, refusals, a restart between upload and Kirim, the verifier's
'Lihat bukti', /bukti and plain questions, the export ZIP and backup/restore with files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.console import html_to_text, open_offline
from bot.offline.updates import make_document_update, make_photo_update
from bot.settings import Settings
from storage.data import bukti_store
from storage.data.db import read_scope
from storage.data.models import Bukti, Draft, DraftStatus
from tests.bot_harness import ADMIN, KEPALA, Bot
from tests.test_lapor import OP1, OP_DAG, VERIF, _button, _close, _fill_figures, _users

OTHER_KOP = 9405


def _jpeg(seed: int, *, exif: bool = False) -> bytes:
    img = Image.new("RGB", (32, 24), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    buf = io.BytesIO()
    if exif:
        e = Image.Exif()
        e[0x0132] = "2022:12:10 09:15:00"
        gps = {1: "S", 2: (0.0, 35.0, 24.0), 3: "E", 4: (100.0, 21.0, 36.0)}
        e[0x8825] = gps
        img.save(buf, "JPEG", exif=e)
    else:
        img.save(buf, "JPEG")
    return buf.getvalue()


def _pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# A real one-page PDF: evidence is opened with a PDF library, not only sniffed (issue 23).
PDF = _pdf()
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


async def _open(engine: Engine, data_dir: Path, **env: str) -> Bot:
    settings = Settings(
        MONEV_ADMIN_IDS=str(ADMIN),
        DATABASE_URL="",
        TELEGRAM_BOT_TOKEN="",
        MONEV_DATA_DIR=str(data_dir),
        **env,
    )
    app, api = await open_offline(settings, engine)
    return Bot(app, api, engine)


@pytest.fixture
async def bot(seeded: Engine, tmp_path: Path) -> AsyncIterator[Bot]:
    _users(seeded)
    b = await _open(seeded, tmp_path / "data")
    try:
        yield b
    finally:
        await _close(b)


async def _photo(bot: Bot, user: int, content: bytes, **kw: object) -> str:
    before = len(bot.api.sent(user))
    await bot.app.process_update(make_photo_update(bot.app.bot, content, user_id=user, **kw))  # type: ignore[arg-type]
    return html_to_text("\n".join(c.text or "" for c in bot.api.sent(user)[before:]))


async def _doc(bot: Bot, user: int, content: bytes, name: str, mime: str, **kw: object) -> str:
    before = len(bot.api.sent(user))
    update = make_document_update(
        bot.app.bot,
        content,
        user_id=user,
        file_name=name,
        mime_type=mime,
        **kw,  # type: ignore[arg-type]
    )
    await bot.app.process_update(update)
    return html_to_text("\n".join(c.text or "" for c in bot.api.sent(user)[before:]))


async def _start(bot: Bot, user: int) -> None:
    await bot.say(user, "/lapor")
    await bot.press(user, _button(bot, user, "Isi TW IV 2022"))


async def _figures_of_first_sub(bot: Bot, user: int) -> None:
    """Anggaran above last quarter's and a fisik: the bot then asks for keterangan/bukti."""
    await bot.press(user, _button(bot, user, "Sama dengan TW lalu"))
    await bot.press(user, _button(bot, user, "Sama dengan TW lalu"))
    assert "foto/berkas bukti" in (bot.api.last(user).text or "")


async def _to_review(bot: Bot, user: int) -> str:
    for _ in range(60):
        shown = [
            (label, d or "") for row in bot.api.buttons(bot.api.last(user)) for label, d in row
        ]
        if "📨 Kirim" in [label for label, _ in shown]:
            return bot.api.last(user).text or ""
        quick = next(
            (
                d
                for label, d in shown
                if label.startswith(("Sama dengan", "Tetap", "Lewati", "Ya, benar"))
            ),
            None,
        )
        if quick is None:
            quick = next((d for label, d in shown if label == "Kosongkan"), None)
        if quick is not None:
            await bot.press(user, quick)
        else:
            prompt = bot.api.last(user).text or ""
            await bot.say(user, "50" if "persen" in prompt else "1.000")
    raise AssertionError("never reached the review: " + "\n---\n".join(bot.api.texts(user)[-4:]))


def _files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "bukti").rglob("*") if p.is_file()]


async def test_must_show_three_photos_restart_verifier_sees_them_and_export(
    seeded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _users(seeded)
    data = tmp_path / "data"
    bot = await _open(seeded, data)
    await _start(bot, OP_DAG)
    await _figures_of_first_sub(bot, OP_DAG)
    out = await _photo(bot, OP_DAG, _jpeg(1), caption="Los pasar selesai dibangun")
    assert "Bukti diterima" in out and "sekarang 1" in out
    assert "Draf tidak berubah" not in out
    await _photo(bot, OP_DAG, _jpeg(2))
    out = await _photo(bot, OP_DAG, _jpeg(3))
    assert "sekarang 3" in out
    assert len(_files(data)) == 3
    # the bot restarts between upload and Kirim
    await _close(bot)
    bot = await _open(seeded, data)
    await bot.say(OP_DAG, "/lapor")
    await bot.press(OP_DAG, _button(bot, OP_DAG, "Lanjutkan"))
    review = await _to_review(bot, OP_DAG)
    assert "bukti 3" in html_to_text(review)
    before = len(bot.api.sent(VERIF))
    assert "terkirim" in await bot.press(OP_DAG, _button(bot, OP_DAG, "📨 Kirim"))
    request = [c for c in bot.api.sent(VERIF)[before:] if "Laporan masuk" in (c.text or "")][-1]
    assert "Bukti dukung: 3 berkas" in html_to_text(request.text or "")
    see = next(d for row in bot.api.buttons(request) for label, d in row if label == "Lihat bukti")
    await bot.press(VERIF, see)
    albums = [c for c in bot.api.calls_of("sendMediaGroup") if c.chat_id == VERIF]
    assert len(albums) == 1
    media = albums[0].params["media"]
    assert len(media) == 3 and all(m["type"] == "photo" for m in media)
    assert (
        "Los pasar selesai dibangun" in media[0]["caption"] and "Op Dagang" in media[0]["caption"]
    )
    # every album item is the very file the operator sent (re-sent by file_id)
    with read_scope(seeded) as s:
        ids = [b.file_id for b in s.exec(select(Bukti).order_by(Bukti.id)).all()]  # type: ignore[arg-type]
    assert [m["media"] for m in media] == ids[:3]
    await _close(bot)
    # the export ZIP holds the XLSX and the three photos beside it
    out_zip = tmp_path / "ekspor.zip"
    argv = ["export", "--tahun", "2022", "--tw", "4", "--bukti", "-o", str(out_zip)]
    assert _cli(monkeypatch, seeded, data, argv) == 0
    with zipfile.ZipFile(out_zip) as z:
        names = z.namelist()
        xlsx = [n for n in names if n.endswith(".xlsx") and not n.startswith("indeks")]
        photos = [n for n in names if n.startswith("bukti/") and n.endswith(".jpg")]
        assert xlsx and len(photos) == 3, names
        assert {z.read(n) for n in photos} == {_jpeg(1), _jpeg(2), _jpeg(3)}
        assert all("Perdagangan" in n for n in photos)
        from openpyxl import load_workbook

        index = load_workbook(io.BytesIO(z.read("indeks-bukti.xlsx"))).active
        rows = list(index.iter_rows(min_row=2, values_only=True))
        assert len(rows) == 3
        # Times as the office reads them: WIB, said so in the header.
        header = [c.value for c in index[1]]
        assert "Waktu kirim (WIB)" in header and not any("UTC" in str(h) for h in header)
        with read_scope(seeded) as s:
            sent = {b.uploaded_at for b in s.exec(select(Bukti)).all()}
        wib = {
            (t.replace(tzinfo=t.tzinfo or UTC)).astimezone(ZoneInfo("Asia/Jakarta")) for t in sent
        }
        column = header.index("Waktu kirim (WIB)")
        assert {r[column] for r in rows} <= {f"{t:%Y-%m-%d %H:%M}" for t in wib}
        assert any("Los pasar" in str(r) for r in rows)
        linked = [c.hyperlink.target for c in index["C"][1:] if c.hyperlink is not None]
        assert sorted(linked) == sorted(photos)


def _cli(monkeypatch: pytest.MonkeyPatch, engine: Engine, data_dir: Path, argv: list[str]) -> int:
    """``monev ARGV`` on the test's database (its own schema on PostgreSQL)."""
    from bot.cli import common
    from bot.cli.main import main as cli

    monkeypatch.setenv("MONEV_DATA_DIR", str(data_dir))
    monkeypatch.setattr(common, "engine", lambda settings: engine)
    return cli(argv)


async def test_album_is_confirmed_in_one_message(bot: Bot, tmp_path: Path) -> None:
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    before = len(bot.api.calls_of("sendMessage"))
    for i in range(10):
        if i == 5:
            # the operator moves on while the album is still arriving: it stays together
            await bot.press(OP1, _button(bot, OP1, "Lewati"))
        await _photo(bot, OP1, _jpeg(10 + i), media_group_id="album-1")
    confirmations = [
        c for c in bot.api.calls_of("sendMessage")[before:] if "Album diterima" in (c.text or "")
    ]
    assert len(confirmations) == 1
    final = bot.api.message(OP1, confirmations[0].result["message_id"])
    assert final is not None and "10 berkas sejauh ini" in final["text"]
    assert "sekarang 10" in final["text"]
    with read_scope(bot.engine) as s:
        rows = s.exec(select(Bukti)).all()
        assert len(rows) == 10 and len({r.node_id for r in rows}) == 1


async def test_documents_refusals_and_a_retried_download(bot: Bot, tmp_path: Path) -> None:
    data = tmp_path / "data"
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    # an executable renamed .jpg: refused by content
    out = await _doc(bot, OP1, EXE, "foto_pasar.jpg", "image/jpeg")
    assert "bukan JPG, PNG atau PDF" in out and "Draf tidak berubah" in out
    # a text file
    out = await _doc(bot, OP1, b"hello", "catatan.txt", "text/plain")
    assert "bukan JPG, PNG atau PDF" in out
    # too big (announced by Telegram, refused before downloading)
    out = await _doc(bot, OP1, PDF, "besar.pdf", "application/pdf", file_size=25 * 1024 * 1024)
    assert "terlalu besar" in out and "20 MB" in out
    # too big in fact
    big = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024)
    out = await _doc(bot, OP1, big, "besar2.pdf", "application/pdf")
    assert "terlalu besar" in out
    with read_scope(bot.engine) as s:
        assert s.exec(select(Bukti)).all() == []
    assert _files(data) == []
    # a download that fails twice is retried and kept once
    bot.api.fail_next("getFile", status=502, times=2)
    out = await _doc(bot, OP1, PDF, "daftar_hadir.pdf", "application/pdf", caption="Daftar hadir")
    assert "Bukti diterima" in out
    # a download that keeps failing leaves the draft as it was
    bot.api.fail_next("getFile", status=502, times=3)
    out = await _doc(bot, OP1, _jpeg(5), "x.jpg", "image/jpeg")
    assert "gagal diunduh" in out and "Draf tidak berubah" in out
    # a JPEG document keeps its EXIF time and GPS
    out = await _doc(bot, OP1, _jpeg(6, exif=True), "lokasi.jpg", "image/jpeg")
    assert "Bukti diterima" in out
    with read_scope(bot.engine) as s:
        rows = s.exec(select(Bukti).order_by(Bukti.id)).all()  # type: ignore[arg-type]
        assert [(r.kind, r.mime, r.caption) for r in rows] == [
            ("dokumen", "application/pdf", "Daftar hadir"),
            ("dokumen", "image/jpeg", ""),
        ]
        assert rows[1].exif_time == "2022:12:10 09:15:00"
        assert rows[1].gps_lat is not None and abs(rows[1].gps_lat + 0.59) < 0.01
        assert rows[1].gps_lon is not None and abs(rows[1].gps_lon - 100.36) < 0.01
    assert len(_files(data)) == 2
    # a photo from someone without a draft is not evidence of anything
    out = await _photo(bot, KEPALA, _jpeg(7))
    assert "teks" in out


async def test_review_add_and_remove_evidence_then_required_setting(
    seeded: Engine, tmp_path: Path
) -> None:
    _users(seeded)
    data = tmp_path / "data"
    bot = await _open(seeded, data, MONEV_BUKTI_WAJIB="true")
    await _start(bot, OP1)
    await _fill_figures(bot, OP1)  # every realisasi above TW III's
    review = html_to_text(await _to_review(bot, OP1))
    assert "Realisasi naik tanpa bukti" in review
    # Kirim is refused while realisasi rose without evidence
    out = await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    assert "Bukti dukung wajib" in out
    # a photo sent on the review before choosing a sub kegiatan is kept and waits
    out = await _photo(bot, OP1, _jpeg(20), caption="Menunggu")
    assert "menunggu sub kegiatannya" in out
    assert "Bukti 1" in [label for label, _ in bot.buttons(OP1)]
    with read_scope(seeded) as s:
        assert s.exec(select(Bukti)).all() == []
        draft = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
        assert draft.step == "review"
    out = await bot.press(OP1, _button(bot, OP1, "Bukti 1"))
    assert "1 berkas dilampirkan" in out and "Menunggu" in out
    await bot.press(OP1, _button(bot, OP1, "Hapus bukti 1"))  # removed again before Kirim
    with read_scope(seeded) as s:
        assert s.exec(select(Bukti)).all() == []
    await bot.press(OP1, _button(bot, OP1, "Ke ringkasan"))
    out = await bot.press(OP1, _button(bot, OP1, "Tambah bukti"))
    n_subs = sum(1 for label, _ in bot.buttons(OP1) if label.startswith("Bukti "))
    for i in range(n_subs):
        await bot.press(OP1, _button(bot, OP1, f"Bukti {i + 1}"))
        out = await _photo(bot, OP1, _jpeg(30 + i), caption=f"Foto {i + 1}")
        assert "Bukti diterima" in out
    # the picker of the last sub kegiatan lists its file: remove it, then send it again
    await bot.press(OP1, _button(bot, OP1, f"Bukti {n_subs}"))
    out = await bot.press(OP1, _button(bot, OP1, "Hapus bukti 1"))
    assert "Dihapus" in out and f"Foto {n_subs}" in out
    await _photo(bot, OP1, _jpeg(30 + n_subs - 1), caption="Foto lagi")
    await bot.press(OP1, _button(bot, OP1, "Ke ringkasan"))
    review = html_to_text(bot.api.last(OP1).text or "")
    assert "Realisasi naik tanpa bukti" not in review
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    # removal after Kirim: the old picker button acts on nothing
    # (the file of the removed-and-resent photo is shared, never deleted while named)
    with read_scope(seeded) as s:
        rows = s.exec(select(Bukti)).all()
        assert len(rows) == n_subs
        for r in rows:
            assert bukti_store.path_of(data, r.sha256).is_file()
    await _close(bot)


async def test_returned_report_keeps_evidence_and_bukti_command(bot: Bot, tmp_path: Path) -> None:
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    await _photo(bot, OP1, _jpeg(40), caption="Rapat anggota")
    await _to_review(bot, OP1)
    await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    # /bukti by the operator's bidang, by the kepala; refused to another bidang's operator
    with read_scope(bot.engine) as s:
        row = s.exec(select(Bukti)).one()
        from storage.data.models import Node

        sub = s.get(Node, row.node_id)
        assert sub is not None and sub.parent_id is not None
        name = sub.nama
        parent = s.get(Node, sub.parent_id)
        assert parent is not None
        parent_name = parent.nama
    out = await bot.say(KEPALA, f"/bukti {name} tw4 2022")
    assert "Bukti dukung" in out and "Rapat anggota" in out and "belum disetujui" in out
    photos = [c for c in bot.api.calls_of("sendPhoto") if c.chat_id == KEPALA]
    assert len(photos) == 1 and "Operator Satu" in (photos[0].text or "")
    assert photos[0].params["photo"] == row.file_id
    out = await bot.say(OP_DAG, f"/bukti {name} tw4 2022")
    assert "hanya dapat dilihat" in out
    assert not [c for c in bot.api.calls_of("sendPhoto") if c.chat_id == OP_DAG]
    # a plain question
    out = await bot.say(KEPALA, f"bukti {name} tw4")
    assert "Rapat anggota" in out
    out = await bot.say(KEPALA, "/bukti")
    assert "Cara pakai" in out
    # the kegiatan (or program) above it shows the evidence of its sub kegiatan
    out = await bot.say(KEPALA, f"foto {parent_name} tw4")
    assert "Rapat anggota" in out
    out = await bot.say(KEPALA, f"/bukti {name} tw2 2022")
    assert "Belum ada bukti dukung" in out and "TW II 2022" in out
    # returned: the new draft starts with the evidence of the submission
    req = [c for c in bot.api.sent(VERIF) if "Laporan masuk" in (c.text or "")][-1]
    back = next(d for row in bot.api.buttons(req) for _, d in row if d.startswith("vf:back"))
    await bot.press(VERIF, back)
    await bot.say(VERIF, "Foto kurang jelas, tolong tambah")
    await bot.say(OP1, "/lapor")
    await bot.press(OP1, _button(bot, OP1, "Isi TW IV 2022"))
    with read_scope(bot.engine) as s:
        draft = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
        rows = s.exec(select(Bukti).where(Bukti.draft_id == draft.id)).all()
        assert [r.caption for r in rows] == ["Rapat anggota"]


async def test_backup_and_restore_keep_the_files(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    await _photo(bot, OP1, _jpeg(50), caption="Papan nama")
    await _doc(bot, OP1, PDF, "spj.pdf", "application/pdf", caption="SPJ")
    await _to_review(bot, OP1)
    await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    backup_file = tmp_path / "cadangan" / "monev.bak"
    assert _cli(monkeypatch, bot.engine, data, ["backup", "-o", str(backup_file)]) == 0
    assert "Bukti dukung: 2 berkas" in capsys.readouterr().out
    # the data folder is lost; the database and its files come back from the backup
    fresh = tmp_path / "data-baru"
    assert _cli(monkeypatch, bot.engine, fresh, ["restore", "--force", str(backup_file)]) == 0
    assert "2 berkas dipulihkan" in capsys.readouterr().out
    with read_scope(bot.engine) as s:
        for r in s.exec(select(Bukti)).all():
            assert bukti_store.read(fresh, r.sha256) == bukti_store.read(data, r.sha256)
    # a damaged copy in the backup is never restored under a name it does not match
    victim = next(p for p in (tmp_path / "cadangan" / "monev.bak.bukti").rglob("*") if p.is_file())
    victim.write_bytes(b"rusak")
    other = tmp_path / "data-lain"
    assert _cli(monkeypatch, bot.engine, other, ["restore", "--force", str(backup_file)]) == 0
    assert "1 rusak dilewati" in capsys.readouterr().out
    out_zip = tmp_path / "x.zip"
    argv = ["export", "--tahun", "2022", "--tw", "4", "--bukti", "-o", str(out_zip)]
    assert _cli(monkeypatch, bot.engine, fresh, argv) == 0
    with zipfile.ZipFile(out_zip) as z:
        assert sum(1 for n in z.namelist() if n.startswith("bukti/")) == 2


async def test_laporan_bukti_sends_the_zip_to_those_who_oversee(bot: Bot) -> None:
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    await _photo(bot, OP1, _jpeg(60))
    await _to_review(bot, OP1)
    await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    out = await bot.say(OP1, "/laporan 4 2022 bukti")
    assert "hanya untuk pimpinan" in out and not [
        c for c in bot.api.calls_of("sendDocument") if c.chat_id == OP1
    ]
    out = await bot.say(KEPALA, "/laporan 4 2022 bukti")
    doc = [c for c in bot.api.calls_of("sendDocument") if c.chat_id == KEPALA][-1]
    [(name, content)] = doc.files.values()
    assert name == "laporan-kinerja-2022-tw4-bukti.zip" and "1 berkas" in (doc.text or "")
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert [z.read(n) for n in z.namelist() if n.startswith("bukti/")] == [_jpeg(60)]


async def test_verifier_albums_hold_at_most_ten(bot: Bot) -> None:
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    for i in range(12):
        await _photo(bot, OP1, _jpeg(70 + i), media_group_id="a" if i < 10 else "b")
    await _doc(bot, OP1, PDF, "spj.pdf", "application/pdf")
    await _to_review(bot, OP1)
    await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    req = [c for c in bot.api.sent(VERIF) if "Laporan masuk" in (c.text or "")][-1]
    see = next(d for row in bot.api.buttons(req) for label, d in row if label == "Lihat bukti")
    # Telegram refuses a file_id (another bot token after a restore): uploaded from disk
    bot.api.fail_next(
        "sendMediaGroup",
        status=400,
        description="Bad Request: wrong file identifier/HTTP URL specified",
    )
    await bot.press(VERIF, see)
    albums = [c for c in bot.api.calls_of("sendMediaGroup") if c.chat_id == VERIF]
    assert [len(c.params["media"]) for c in albums] == [10, 10, 2]
    assert not albums[0].ok and len(albums[1].files) == 10 and not albums[2].files
    assert sorted(content for _, content in albums[1].files.values()) == sorted(
        _jpeg(70 + i) for i in range(10)
    )
    docs = [c for c in bot.api.calls_of("sendDocument") if c.chat_id == VERIF]
    assert len(docs) == 1 and "13/13" in (docs[0].text or "")
    # someone of another bidang may not look
    out = await bot.press(OP_DAG, see)
    assert "hanya dapat dilihat" in out and not [
        c for c in bot.api.calls_of("sendMediaGroup") if c.chat_id == OP_DAG
    ]


def test_store_refuses_by_content_and_keeps_once(tmp_path: Path) -> None:
    assert bukti_store.sniff(_jpeg(1)) == "image/jpeg"
    assert bukti_store.sniff(PDF) == "application/pdf"
    assert bukti_store.sniff(EXE) is None
    a = bukti_store.store(tmp_path, _jpeg(1))
    b = bukti_store.store(tmp_path, _jpeg(1))
    assert a.sha256 == b.sha256 and len(_files(tmp_path)) == 1
    assert bukti_store.path_of(tmp_path, a.sha256).read_bytes() == _jpeg(1)
    with pytest.raises(bukti_store.RefusedFile, match="terlalu besar"):
        bukti_store.store(tmp_path, _jpeg(2), max_bytes=10)
    assert not [p for p in (tmp_path / "bukti").rglob(".*")]  # no temporary file left


async def test_files_named_by_a_submitted_version_are_never_pruned(
    bot: Bot, tmp_path: Path
) -> None:
    from storage.data.db import session_scope
    from storage.services import bukti

    data = tmp_path / "data"
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    await _photo(bot, OP1, _jpeg(90))
    await _to_review(bot, OP1)
    await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    with read_scope(bot.engine) as s:
        [row] = s.exec(select(Bukti)).all()
    with session_scope(bot.engine) as s:
        assert not bukti.prune(s, data, row.sha256, min_age_s=0)
    assert bukti_store.path_of(data, row.sha256).is_file()
    with session_scope(bot.engine) as s:
        s.delete(s.get(Bukti, row.id))
    with session_scope(bot.engine) as s:
        assert bukti.prune(s, data, row.sha256, min_age_s=0)
    assert not bukti_store.path_of(data, row.sha256).is_file()


async def test_strangers_get_nothing(bot: Bot) -> None:
    stranger = 9199
    out = await bot.say(stranger, "/bukti pasar tw4")
    assert "/daftar" in out
    out = await _photo(bot, stranger, _jpeg(99))
    assert "/daftar" in out
    out = await bot.press(stranger, "bk:1:1")
    assert "/daftar" in out
    assert not bot.api.calls_of("sendMediaGroup") and not bot.api.calls_of("getFile")


def test_evidence_screen_stays_one_message_for_a_large_bidang() -> None:
    from datetime import UTC, datetime

    from bot.views.bukti import picker
    from storage.data.models import Bidang
    from storage.services.bukti import Item, Picker
    from storage.services.submission import DraftPlan, SubItem

    subs = [
        SubItem(
            i, "Sub Kegiatan " + "sangat panjang " * 10 + str(i), "P", "K", 1, "", None, None, 0
        )
        for i in range(1, 81)
    ]
    plan = DraftPlan(Bidang(id=1, opd_id=1, nama="Besar", kode="besar"), 2022, 4, subs, [], [])
    its = [
        Item(
            k,
            1,
            "s",
            "foto",
            "image/jpeg",
            2048,
            "",
            "F",
            "ab" * 32,
            "catatan " * 30,
            "Operator",
            datetime.now(UTC),
            "",
            None,
        )
        for k in range(30)
    ]
    reply = picker(Picker(7, plan, {1: 30}, 0, its))
    assert len(reply.text) <= 4096
    labels = [label for row in reply.keyboard for label, _ in row]
    assert len(labels) <= 100 and "Hapus bukti 30" in labels and "Bukti 60" in labels


async def test_offline_api_albums_keep_telegrams_limits() -> None:
    from telegram import InputMediaDocument, InputMediaPhoto
    from telegram.error import BadRequest
    from telegram.ext import ApplicationBuilder

    from bot.offline.api import OfflineBotAPI

    api = OfflineBotAPI()
    app = ApplicationBuilder().token("123456:TEST").request(api).build()
    await app.initialize()
    try:
        ids = [api.add_photo(_jpeg(i))[-1]["file_id"] for i in range(11)]
        sent = await app.bot.send_media_group(OP1, [InputMediaPhoto(i) for i in ids[:3]])
        assert len({m.media_group_id for m in sent}) == 1 and len(sent) == 3
        assert [m.photo[-1].file_id for m in sent] == ids[:3]
        with pytest.raises(BadRequest, match="number of media"):
            await app.bot.send_media_group(OP1, [InputMediaPhoto(i) for i in ids])
        doc = api.add_file(PDF, file_name="a.pdf")["file_id"]
        with pytest.raises(BadRequest, match="mixed"):
            await app.bot.send_media_group(OP1, [InputMediaPhoto(ids[0]), InputMediaDocument(doc)])
        with pytest.raises(BadRequest, match="caption is too long"):
            await app.bot.send_media_group(
                OP1, [InputMediaPhoto(ids[0], caption="x" * 1025), InputMediaPhoto(ids[1])]
            )
        f = await app.bot.get_file(ids[4])
        assert bytes(await f.download_as_bytearray()) == _jpeg(4)
    finally:
        await app.shutdown()


async def test_a_restart_in_the_middle_of_an_album_loses_nothing(
    seeded: Engine, tmp_path: Path
) -> None:
    _users(seeded)
    data = tmp_path / "data"
    bot = await _open(seeded, data)
    await _start(bot, OP1)
    await _figures_of_first_sub(bot, OP1)
    for i in range(4):
        await _photo(bot, OP1, _jpeg(200 + i), media_group_id="album-r")
    [first] = [c for c in bot.api.calls_of("sendMessage") if "Album diterima" in (c.text or "")]
    await _close(bot)
    bot = await _open(seeded, data)
    for i in range(4, 10):
        await _photo(bot, OP1, _jpeg(200 + i), media_group_id="album-r")
    # the rest of the album edits the same confirmation, counting on from where it stood
    edits = [c for c in bot.api.calls_of("editMessageText") if c.chat_id == OP1]
    assert edits and all(c.params["message_id"] == first.result["message_id"] for c in edits)
    assert "10 berkas sejauh ini" in (edits[-1].text or "")
    assert not [c for c in bot.api.calls_of("sendMessage") if "Album" in (c.text or "")]
    with read_scope(seeded) as s:
        assert len(s.exec(select(Bukti)).all()) == 10
    await _close(bot)
