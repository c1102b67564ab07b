"""One bot for a whole kabupaten (issue 18), through the real Application on both databases:
two offices with the same bidang names, people bound to their office, a kepala of one office
asking about the other (refused, no figure), the pemantau's ranking and recap."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.console import open_offline
from bot.settings import Settings
from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AppUser,
    Bidang,
    Level,
    Node,
    Pelaporan,
    Role,
    StatusLaporan,
    UserStatus,
)
from storage.domain.numbers import format_percent, format_rupiah_short
from storage.services.office import init_office, revise_pagu
from storage.services.queries import summary
from storage.services.users import find_bidang, set_user
from tests.bot_harness import ADMIN, Bot
from tests.office_pair import office_from_demo

KEP_A, KEP_B, OP_B, PEMANTAU, ADMIN_B, STRANGER = 9701, 9702, 9703, 9704, 9705, 9799
DEMO = 1
SAME_BIDANG = [
    ("koperasi", "Koperasi", ["kop"], [2]),
    ("umkm", "UMKM", [], [3]),
    ("perdagangan", "Perdagangan", [], [4]),
    ("perindustrian", "Perindustrian", [], [5]),
]


def second_office(engine: Engine, folder: Path) -> int:
    """Dinas Kesehatan with the demo office's bidang names, filled with the demo's TW III
    2022 report, one program's pagu raised (so its serapan is lower than the demo's)."""
    opd_id = office_from_demo(
        engine,
        folder,
        nama="Dinas Kesehatan",
        singkatan="Dinkes",
        kepala="dr. Andi",
        bidang=SAME_BIDANG,
    )
    with session_scope(engine) as s:
        program = s.exec(
            select(Node)
            .where(Node.opd_id == opd_id, Node.tahun == 2022, Node.level == Level.PROGRAM)
            .order_by(col(Node.id))
        ).first()
        assert program is not None and program.id is not None
        revise_pagu(s, node_id=program.id, dari_tw=3, pagu=20_000_000_000, actor="test")
    return opd_id


def people(engine: Engine, office_b: int) -> None:
    with session_scope(engine) as s:
        kop_b = find_bidang(s, text="koperasi", opd_id=office_b)
        assert kop_b is not None
        set_user(s, telegram_id=KEP_A, role=Role.KEPALA, nama="Kepala A", actor="t", opd_id=DEMO)
        set_user(
            s, telegram_id=KEP_B, role=Role.KEPALA, nama="Kepala B", actor="t", opd_id=office_b
        )
        set_user(
            s, telegram_id=ADMIN_B, role=Role.ADMIN, nama="Admin B", actor="t", opd_id=office_b
        )
        set_user(
            s, telegram_id=OP_B, role=Role.OPERATOR, bidang_id=kop_b.id, nama="Op B", actor="t"
        )
        set_user(s, telegram_id=PEMANTAU, role=Role.PEMANTAU, nama="Bappeda", actor="t")


@pytest.fixture
async def kab(seeded: Engine, tmp_path: Path) -> AsyncIterator[tuple[Bot, int]]:
    office_b = second_office(seeded, tmp_path)
    people(seeded, office_b)
    settings = Settings(MONEV_ADMIN_IDS=str(ADMIN), DATABASE_URL="", TELEGRAM_BOT_TOKEN="")
    app, api = await open_offline(settings, seeded)
    try:
        yield Bot(app, api, seeded), office_b
    finally:
        await app.stop()
        await app.shutdown()


def _serapan(engine: Engine, opd_id: int) -> str:
    with read_scope(engine) as s:
        return format_percent(summary(s, opd_id, 2022, 3).total.serapan)


def _user(engine: Engine, tgid: int) -> AppUser:
    with read_scope(engine) as s:
        return s.exec(select(AppUser).where(AppUser.telegram_id == tgid)).one()


async def test_people_belong_to_their_office(kab: tuple[Bot, int]) -> None:
    bot, office_b = kab
    assert _user(bot.engine, OP_B).opd_id == office_b
    assert _user(bot.engine, PEMANTAU).opd_id is None
    # the server's admin on a kabupaten deployment is the admin kabupaten
    assert _user(bot.engine, ADMIN).role == Role.ADMIN_KABUPATEN


async def test_each_kepala_sees_own_office_and_is_refused_the_other(
    kab: tuple[Bot, int],
) -> None:
    bot, office_b = kab
    own = await bot.say(KEP_B, "serapan tw3 2022")
    # the office named once, by its short name, on the answer's first line
    assert own.startswith("🏢 Dinkes · ") and _serapan(bot.engine, office_b) in own
    assert "Dinas Kesehatan" not in own
    a = await bot.say(KEP_A, "serapan tw3 2022")
    assert "Diskoperindag" in a and _serapan(bot.engine, DEMO) in a

    for question in ("serapan diskoperindag tw3", "serapan dinas koperasi tw3 2022"):
        refused = await bot.say(KEP_B, question)
        assert "hanya dapat dilihat" in refused
        assert "%" not in refused and "Rp" not in refused
    refused = await bot.say(KEP_A, "realisasi dinkes tw3")
    assert "hanya dapat dilihat" in refused and "Rp" not in refused
    # and no ranking of every office for an office's own kepala
    only = await bot.say(KEP_B, "OPD mana yang serapannya paling rendah tw3")
    assert "pemantau" in only and "%" not in only


async def test_pemantau_ranking_recap_and_one_office(kab: tuple[Bot, int]) -> None:
    bot, office_b = kab
    low_a, low_b = _serapan(bot.engine, DEMO), _serapan(bot.engine, office_b)
    ranking = await bot.say(PEMANTAU, "OPD mana yang serapannya paling rendah tw3")
    assert "TW III 2022" in ranking and "terendah" in ranking
    first, second = ranking.index("1. Dinkes"), ranking.index("2. Diskoperindag")
    assert first < second
    assert low_b in ranking[first:second] and low_a in ranking[second:]

    recap = await bot.say(PEMANTAU, "rekap serapan kabupaten tw3")
    assert "1. Diskoperindag" in recap and "2. Dinkes" in recap and "Total 2 OPD" in recap

    missing = await bot.say(PEMANTAU, "berapa OPD yang belum lapor tw3")
    # both imported a full TW III: nobody is missing; TW IV nobody reported yet
    assert "0 dari 2 OPD" in missing
    missing4 = await bot.say(PEMANTAU, "berapa OPD yang belum lapor tw4 2022")
    assert "2 dari 2 OPD" in missing4 and "Dinas Kesehatan" in missing4

    one = await bot.say(PEMANTAU, "serapan dinas kesehatan tw3 2022")
    assert one.startswith("🏢 Dinkes · ") and low_b in one
    typo = await bot.say(PEMANTAU, "serapan diskoperindg tw3 2022")
    assert "Diskoperindag" in typo and low_a in typo
    # a pemantau's question naming no office asks which one, with a button per office
    asked = await bot.say(PEMANTAU, "serapan tw3")
    assert "OPD mana" in asked and "%" not in asked
    assert ("Dinkes", f"kq:{office_b}:serapan tw3") in bot.buttons(PEMANTAU)


async def test_chart_of_serapan_per_office(kab: tuple[Bot, int]) -> None:
    bot, office_b = kab
    await bot.say(PEMANTAU, "OPD mana yang serapannya paling rendah tw3 2022")
    data = dict(bot.buttons(PEMANTAU))["📊 Lihat grafik"]
    assert data == "gr:kab:3:2022"
    # an office's own kepala cannot draw every office either
    assert "pemantau" in await bot.press(KEP_B, data)
    await bot.say(PEMANTAU, "/grafik")
    assert ("Serapan per OPD", "gr:kab:3:2022") in bot.buttons(PEMANTAU)
    await bot.press(PEMANTAU, data)
    call = bot.api.calls_of("sendPhoto")[-1]
    [(name, png)] = call.files.values()
    assert png.startswith(b"\x89PNG") and name == "serapan-per-opd-2022-tw3.png"
    caption = call.text or ""
    assert f"1. Diskoperindag: {_serapan(bot.engine, DEMO)}" in caption
    assert f"2. Dinkes: {_serapan(bot.engine, office_b)}" in caption


async def test_unapproved_office_is_marked_in_the_ranking(kab: tuple[Bot, int]) -> None:
    bot, office_b = kab
    with session_scope(bot.engine) as s:
        p = s.exec(
            select(Pelaporan)
            .join(Bidang, col(Bidang.id) == col(Pelaporan.bidang_id))
            .where(Bidang.opd_id == office_b, Pelaporan.tahun == 2022, Pelaporan.triwulan == 3)
        ).first()
        assert p is not None
        p.status = StatusLaporan.DIAJUKAN
        s.add(p)
    ranking = await bot.say(PEMANTAU, "opd dengan serapan tertinggi tw3 2022")
    assert "Dinkes *" in ranking and "belum disetujui" in ranking
    assert "Diskoperindag *" not in ranking


async def test_approval_of_another_offices_report_is_refused(kab: tuple[Bot, int]) -> None:
    bot, office_b = kab
    with session_scope(bot.engine) as s:
        op_b = s.exec(select(AppUser).where(AppUser.telegram_id == OP_B)).one()
        p = s.exec(
            select(Pelaporan)
            .join(Bidang, col(Bidang.id) == col(Pelaporan.bidang_id))
            .where(Bidang.opd_id == office_b, Pelaporan.tahun == 2022, Pelaporan.triwulan == 3)
        ).first()
        assert p is not None
        p.status, p.submitted_by, p.version = StatusLaporan.DIAJUKAN, op_b.id, 5
        s.add(p)
        pid = p.id
    for data in (f"vf:ok:{pid}:5", f"vf:ok:{pid}:4", f"vf:back:{pid}:5"):
        out = await bot.press(KEP_A, data)
        assert "perangkat daerah lain" in out and "Rp" not in out
    with read_scope(bot.engine) as s:
        stored = s.get(Pelaporan, pid)
        assert stored is not None and stored.status == StatusLaporan.DIAJUKAN
    # the waiting list of office A does not show office B's report
    assert "Koperasi" not in await bot.say(KEP_A, "/verifikasi")
    # its own kepala decides it
    assert "disetujui" in await bot.press(KEP_B, f"vf:ok:{pid}:5")


async def test_ask_button_of_another_office_is_refused(kab: tuple[Bot, int]) -> None:
    bot, office_b = kab
    with read_scope(bot.engine) as s:
        kop_b = find_bidang(s, text="koperasi", opd_id=office_b)
        assert kop_b is not None
    out = await bot.press(KEP_A, f"ask:bidang:{kop_b.id}:serapan:3:2022")
    assert "perangkat daerah lain" in out and "%" not in out
    out = await bot.press(KEP_A, f"ask:opd:{office_b}:serapan:3:2022")
    assert "perangkat daerah lain" in out and "%" not in out
    assert _serapan(bot.engine, office_b) in await bot.press(
        PEMANTAU, f"ask:opd:{office_b}:serapan:3:2022"
    )


async def test_registration_asks_the_office_then_its_bidang(kab: tuple[Bot, int]) -> None:
    bot, office_b = kab
    await bot.say(STRANGER, "/daftar")
    await bot.say(STRANGER, "Siti Aminah")
    asked = await bot.press(STRANGER, "reg:skip")
    assert "perangkat daerah (OPD) mana" in asked
    labels = [label for label, _ in bot.buttons(STRANGER)]
    assert "Dinas Kesehatan (Dinkes)" in labels and any("Diskoperindag" in x for x in labels)
    data = dict(bot.buttons(STRANGER))["Dinas Kesehatan (Dinkes)"]
    assert "OPD: Dinas Kesehatan" in await bot.press(STRANGER, data)
    bidang = dict(bot.buttons(STRANGER))
    with read_scope(bot.engine) as s:
        kop_b = find_bidang(s, text="koperasi", opd_id=office_b)
        assert kop_b is not None
    # the same bidang name, but the button is office B's Koperasi
    assert bidang["Koperasi"] == f"reg:bidang:{kop_b.id}"
    confirm = await bot.press(STRANGER, bidang["Koperasi"])
    assert "OPD: Dinas Kesehatan (Dinkes)" in confirm
    before_a = len(bot.api.sent(KEP_A))
    await bot.press(STRANGER, "reg:send")
    request = bot.api.last(ADMIN_B)
    assert "Siti Aminah" in (request.text or "") and "Dinas Kesehatan" in (request.text or "")
    assert len(bot.api.sent(KEP_A)) == before_a
    # the admin kabupaten got it too; office A's people did not
    assert "Siti Aminah" in (bot.api.last(ADMIN).text or "")
    approve = next(d for _, d in bot.buttons(ADMIN_B) if d.endswith(f":{kop_b.id}:1"))
    assert "disetujui" in await bot.press(ADMIN_B, approve)
    u = _user(bot.engine, STRANGER)
    assert (u.status, u.role, u.opd_id, u.bidang_id) == (
        UserStatus.ACTIVE,
        Role.OPERATOR,
        office_b,
        kop_b.id,
    )


async def test_typed_office_when_there_are_many(kab: tuple[Bot, int]) -> None:
    bot, _ = kab
    with session_scope(bot.engine) as s:
        for i in range(8):
            init_office(s, nama=f"Badan Contoh {i}", kepala="X", nip="", actor="t")
    await bot.say(STRANGER, "/daftar")
    await bot.say(STRANGER, "Siti Aminah")
    asked = await bot.press(STRANGER, "reg:skip")
    assert "Ketik nama atau singkatannya" in asked
    assert "tidak dikenali" in await bot.say(STRANGER, "dinas pariwisata")
    chosen = await bot.say(STRANGER, "dinkes")
    assert "OPD: Dinas Kesehatan (Dinkes)" in chosen
    assert "Koperasi" in [label for label, _ in bot.buttons(STRANGER)]


async def test_recap_file_lists_both_offices_with_their_summary_figures(
    kab: tuple[Bot, int],
) -> None:
    bot, office_b = kab
    # one office's report: for its own people and the pemantau
    assert "perangkat daerah lain" in await bot.say(KEP_A, "/laporan dinkes 3 2022")
    await bot.say(PEMANTAU, "/laporan dinkes 3 2022")
    doc = bot.api.calls_of("sendDocument")[-1]
    assert doc.chat_id == PEMANTAU
    [(_, content)] = doc.files.values()
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None and sheet["A1"].value == "Dinas Kesehatan"
    assert "Cara pakai" in await bot.say(PEMANTAU, "/laporan dinas pariwisata 3")
    refused = await bot.say(KEP_A, "/laporan rekap 3 2022")
    assert "pemantau" in refused
    await bot.say(PEMANTAU, "/laporan rekap 3 2022")
    doc = bot.api.calls_of("sendDocument")[-1]
    assert doc.chat_id == PEMANTAU and "TW III 2022" in (doc.text or "")
    name, content = next(iter(doc.files.values()))
    assert name == "rekap-kabupaten-2022-tw3.xlsx"
    rows = _rekap_rows(content)
    with read_scope(bot.engine) as s:
        totals = {o: summary(s, o, 2022, 3).total for o in (DEMO, office_b)}
    assert [r[1].split(" (")[0] for r in rows[:2]] == [
        "DINAS KOPERASI, USAHA KECIL MENENGAH, PERINDUSTRIAN DAN PERDAGANGAN KABUPATEN SOLOK",
        "Dinas Kesehatan",
    ]
    for row, o in zip(rows[:2], (DEMO, office_b), strict=True):
        assert (row[2], row[3]) == (totals[o].pagu, totals[o].realisasi)


def _rekap_rows(data: bytes) -> list[tuple]:  # type: ignore[type-arg]
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    return [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]


# --- the command line ------------------------------------------------------------------------


def test_cli_second_office_summary_rekap_and_users(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.main import main

    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0  # the demo office
    bidang = [f"--bidang={k}:{n}:{s[0]}" for k, n, _, s in SAME_BIDANG]
    assert (
        main(
            [
                "init",
                "--opd",
                "Dinas Kesehatan",
                "--singkatan",
                "Dinkes",
                "--kepala",
                "dr. A",
                "--nip",
                "198001012005011001",
                *bidang,
            ]
        )
        == 0
    )
    # a short name another office already answers to is refused
    assert main(["init", "--opd", "Dinas Lain", "--singkatan", "koperindag", "--kepala", "X",
                 "--nip", ""]) == 1  # fmt: skip
    assert "sudah dipakai" in capsys.readouterr().err
    assert main(["opd", "list"]) == 0
    listed = capsys.readouterr().out
    assert "2 perangkat daerah" in listed and "Dinkes" in listed and "Diskoperindag" in listed

    # several offices: a data command without --opd says which there are
    with pytest.raises(SystemExit) as exc:
        main(["summary", "--tw", "3"])
    assert "Dinkes" in str(exc.value) and "--opd" in str(exc.value)

    assert (
        main(["export", "--opd", "koperindag", "--tahun", "2022", "--tw", "3", "-o", "a.xlsx"]) == 0
    )
    # The file names the demo office: into Dinkes only when confirmed (issue 23, case 5).
    assert main(["import", "a.xlsx", "--opd", "dinkes"]) == 1
    assert "--opd-berbeda" in capsys.readouterr().err
    assert main(["import", "a.xlsx", "--opd", "dinkes", "--opd-berbeda"]) == 0
    program = "PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH"
    assert main(["pagu", "--opd", "dinkes", "--node", program, "--tahun", "2022",
                 "--dari-tw", "3", "--pagu", "20.000.000.000", "--tanpa-induk"]) == 0  # fmt: skip
    capsys.readouterr()
    totals: dict[str, str] = {}
    for opd in ("diskoperindag", "DINKES"):
        assert main(["summary", "--opd", opd, "--tahun", "2022", "--tw", "3"]) == 0
        total = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Total"))
        totals[opd.lower()] = total.split()[-1]
    assert totals["diskoperindag"] != totals["dinkes"]

    assert main(["export", "--rekap", "--tahun", "2022", "--tw", "3", "-o", "rekap.xlsx"]) == 0
    rows = _rekap_rows((workdir / "rekap.xlsx").read_bytes())
    assert [r[1].split(" (")[-1] for r in rows] == ["Diskoperindag)", "Dinkes)"]
    shown = [format_percent(r[4] * 100) for r in rows]
    assert shown == [totals["diskoperindag"], totals["dinkes"]]
    ws = load_workbook(workdir / "rekap.xlsx").active
    assert ws is not None
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "REKAPITULASI SERAPAN ANGGARAN PERANGKAT DAERAH TRIWULAN III TAHUN 2022" in cells
    assert "Oktober 2022" in cells and "NIP." in cells
    assert main(["opd", "ttd", "--jabatan", "KEPALA BAPPEDA,", "--nama", "Ir. Budi",
                 "--nip", "197001012000031001", "--tempat", "Arosuka"]) == 0  # fmt: skip
    assert main(["export", "--rekap", "--tahun", "2022", "--tw", "3", "-o", "rekap.xlsx"]) == 0
    ws = load_workbook(workdir / "rekap.xlsx").active
    assert ws is not None
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "Arosuka, Oktober 2022" in cells and "Ir. Budi" in cells
    assert "NIP. 19700101 200003 1 001" in cells

    # people: an office role needs its office; the kabupaten roles have none
    assert main(["user", "add", "--telegram-id", "501", "--peran", "kepala"]) == 1
    assert "Dinkes" in capsys.readouterr().err
    assert (
        main(["user", "add", "--telegram-id", "501", "--peran", "kepala", "--opd", "dinkes"]) == 0
    )
    assert main(["user", "add", "--telegram-id", "502", "--peran", "operator", "--opd", "dinkes",
                 "--bidang", "koperasi"]) == 0  # fmt: skip
    assert main(["user", "add", "--telegram-id", "503", "--peran", "pemantau"]) == 0
    out = capsys.readouterr().out
    assert (
        "501 aktif sebagai kepala di Dinas Kesehatan" in out and "503 aktif sebagai pemantau" in out
    )
    assert main(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "opd=2" in out and "pemantau" in out


# --- deadlines per office, the kabupaten's inherited, and the pemantau's digest ---------------

OP_A = 9801


async def test_per_office_deadlines_and_the_pemantau_digest(seeded: Engine, tmp_path: Path) -> None:
    from datetime import date

    from storage.services.schedule import get_jadwal, set_deadline, set_kabupaten_deadline
    from tests.test_reminders import Clock, close, open_bot, sent_reminders, wib

    office_b = second_office(seeded, tmp_path)
    people(seeded, office_b)
    with session_scope(seeded) as s:
        kop_a = find_bidang(s, text="koperasi", opd_id=DEMO)
        assert kop_a is not None
        set_user(s, telegram_id=OP_A, role=Role.OPERATOR, bidang_id=kop_a.id, actor="t")
        # the kabupaten closes TW IV 2022 on 16 January; office A keeps 10 January
        set_kabupaten_deadline(s, tahun=2022, tw=4, tenggat=date(2023, 1, 16), actor="t")
        set_deadline(s, opd_id=DEMO, tahun=2022, tw=4, tenggat=date(2023, 1, 10), actor="t")
        assert get_jadwal(s, opd_id=office_b, tahun=2022, tw=4).kabupaten
        assert get_jadwal(s, opd_id=office_b, tahun=2022, tw=4).tenggat == date(2023, 1, 16)
        assert get_jadwal(s, opd_id=DEMO, tahun=2022, tw=4).tenggat == date(2023, 1, 10)

    bot = await open_bot(seeded, Clock(wib(2023, 1, 2)))
    try:
        for d in range(2, 21):
            await bot.tick(wib(2023, 1, d, 8, 0))
            await bot.tick(wib(2023, 1, d, 8, 1))

        def first_lines(chat: int) -> list[str]:
            return [(c.text or "").splitlines()[0] for c in sent_reminders(bot.api, chat)]

        def deadline_day(chat: int) -> list[str]:
            return [
                c.text or "" for c in sent_reminders(bot.api, chat) if "hari ini" in (c.text or "")
            ]

        assert len(deadline_day(OP_A)) == 1 and "10 Januari 2023" in deadline_day(OP_A)[0]
        assert len(deadline_day(OP_B)) == 1 and "16 Januari 2023" in deadline_day(OP_B)[0]
        # each kepala's digest follows the office's own deadline, once
        digest_a = [
            c for c in sent_reminders(bot.api, KEP_A) if "Rekap pelaporan" in (c.text or "")
        ]
        digest_b = [
            c for c in sent_reminders(bot.api, KEP_B) if "Rekap pelaporan" in (c.text or "")
        ]
        assert len(digest_a) == 1 and len(digest_b) == 1
        assert "10 Januari 2023" in (digest_a[0].text or "")
        assert "16 Januari 2023" in (digest_b[0].text or "")
        # the pemantau: once, after the kabupaten's deadline, every late office with its own date
        kab = [
            c.text or "" for c in bot.api.sent(PEMANTAU) if "Rekap pelaporan OPD" in (c.text or "")
        ]
        assert len(kab) == 1, first_lines(PEMANTAU)
        assert "2 dari 2 OPD" in kab[0]
        assert (
            "Dinas Kesehatan (Dinkes) — 5 dari 5 bidang belum (batas akhir 16 Januari 2023)"
            in kab[0]
        )
        assert "(batas akhir 10 Januari 2023)" in kab[0]
        # office people never get the kabupaten digest; the pemantau gets no office reminders
        assert not any("Rekap pelaporan OPD" in (c.text or "") for c in bot.api.sent(KEP_A))
        assert all(
            "Rekap pelaporan OPD" in (c.text or "") for c in sent_reminders(bot.api, PEMANTAU)
        )
    finally:
        await close(bot)


async def test_a_bidang_name_that_is_another_offices_acronym_stays_a_bidang(
    kab: tuple[Bot, int],
) -> None:
    bot, _ = kab
    with session_scope(bot.engine) as s:
        init_office(s, nama="Dinas Usaha Mikro Kecil Menengah", kepala="X", nip="", actor="t")
    own = await bot.say(KEP_A, "serapan umkm tw3 2022")
    assert "Bidang UMKM" in own and "14,20%" in own
    # the pemantau, who has no bidang, is asking about that office
    assert "Dinas Usaha Mikro Kecil Menengah" in await bot.say(PEMANTAU, "serapan umkm tw3 2022")


def test_a_submission_is_sent_to_its_own_office_only(seeded: Engine, tmp_path: Path) -> None:
    """Verifiers, admins and reminder recipients of an office are its own people."""
    from storage.services.schedule import _people
    from storage.services.submission import verifiers
    from storage.services.users import admins

    office_b = second_office(seeded, tmp_path)
    people(seeded, office_b)
    with read_scope(seeded) as s:
        op_b = s.exec(select(AppUser).where(AppUser.telegram_id == OP_B)).one()
        assert [u.telegram_id for u in verifiers(s, submitted_by=op_b.id, opd_id=office_b)] == [
            KEP_B
        ]
        assert KEP_A in [u.telegram_id for u in verifiers(s, opd_id=DEMO)]
        assert [u.telegram_id for u in admins(s, opd_id=office_b)] == [ADMIN_B]
        assert {p.telegram_id for p in _people(s, office_b)} == {KEP_B, ADMIN_B, OP_B}
        assert PEMANTAU not in {p.telegram_id for p in _people(s, DEMO)}


# --- the weekly early-warning digest, one per office -------------------------------------------


async def test_each_kepala_gets_the_early_warning_digest_of_own_office(
    seeded: Engine, tmp_path: Path
) -> None:
    from telegram.ext import CallbackContext

    from bot.jobs.early_warning import send_digest
    from tests.test_reminders import Clock, close, open_bot, wib

    office_b = second_office(seeded, tmp_path)
    people(seeded, office_b)
    # Monday 2 January 2023 at the reminder time: the default weekday.
    clock = Clock(wib(2023, 1, 2, 8, 0))
    bot = await open_bot(seeded, clock)
    try:
        await send_digest(CallbackContext(bot.app))
        await send_digest(CallbackContext(bot.app))  # a second run sends nothing again

        def digests(chat: int) -> list[str]:
            return [c.text or "" for c in bot.api.sent(chat) if "Peringatan dini" in (c.text or "")]

        a, b = digests(KEP_A), digests(KEP_B)
        assert len(a) == 1 and len(b) == 1
        assert "Diskoperindag" in a[0] and "Dinkes" not in a[0]
        assert b[0].startswith("🏢 <b>Dinkes</b> · ")
        # the raised pagu of office B shows in its own digest only
        assert a[0] != b[0]
        # the pemantau gets the kabupaten's own digest (test_screens_roles), no office's
        assert [d for d in digests(PEMANTAU) if "kabupaten" not in d] == []
        assert digests(OP_B) == []
    finally:
        await close(bot)


async def test_a_pemantau_button_answers_for_the_office_the_answer_named(
    kab: tuple[Bot, int],
) -> None:
    bot, office_b = kab
    first = await bot.say(PEMANTAU, "peringatan dini dinkes tw2 2022")
    assert first.startswith("🏢 Dinkes · ") and "Peringatan dini" in first
    latest = [data for label, data in bot.buttons(PEMANTAU) if "TW III 2022" in label]
    assert latest, bot.buttons(PEMANTAU)
    pressed = await bot.press(PEMANTAU, latest[0])
    # Office B's own figure, named; never the demo office's.
    assert pressed.startswith("🏢 Dinkes · ") and "TW III 2022" in pressed
    with read_scope(bot.engine) as s:
        pagu_b = summary(s, office_b, 2022, 3).total.pagu
        pagu_a = summary(s, DEMO, 2022, 3).total.pagu
    assert pagu_a != pagu_b
    # the first screen rounds (the exact pagu is on the next page)
    assert format_rupiah_short(pagu_b) in pressed and format_rupiah_short(pagu_a) not in pressed
    # The kepala of the demo office pressing the same button is refused without a figure.
    refused = await bot.press(KEP_A, latest[0])
    assert "Rp" not in refused and "%" not in refused


async def test_the_pemantau_ranking_follows_a_later_write_and_a_new_office(
    kab: tuple[Bot, int],
) -> None:
    bot, office_b = kab
    question = "OPD mana yang serapannya paling rendah tw3 2022"
    before = await bot.say(PEMANTAU, question)
    assert _serapan(bot.engine, office_b) in before
    with session_scope(bot.engine) as s:
        program = s.exec(
            select(Node)
            .where(Node.opd_id == office_b, Node.tahun == 2022, Node.level == Level.PROGRAM)
            .order_by(col(Node.id))
        ).first()
        assert program is not None and program.id is not None
        revise_pagu(s, node_id=program.id, dari_tw=3, pagu=40_000_000_000, actor="test")
    after = await bot.say(PEMANTAU, question)
    assert after != before and _serapan(bot.engine, office_b) in after
    # An office added meanwhile (by the CLI, say) is named in the next answer.
    with session_scope(bot.engine) as s:
        init_office(s, nama="Dinas Pariwisata", singkatan="Dispar", kepala="X", nip="", actor="t")
    status = await bot.say(PEMANTAU, "berapa OPD yang belum lapor tw3 2022")
    assert "Dispar" in status
