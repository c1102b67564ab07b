"""The phrasing suite (issue 24): questions as a kepala, a sekretaris and Bappeda staff type
them — typos, abbreviations, period words, informal word order — each with the scope, the
period and the figure it must give, or the refusal it must give. Every figure is computed
here from the imported data (tests/monev_key.py, raw tables), never copied from the bot.

Most cases run the question path below Telegram (``questions.answer_text``: parser, service
and view, as the handler calls them, on the demo data); a sample goes through the real
Application (``test_a_sample_through_the_application``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine

from bot.console import html_to_text
from bot.handlers.questions import answer_text
from storage.data.db import read_scope
from tests.bot_harness import KEPALA, Bot
from tests.monev_key import Key, id_percent, id_rupiah, percent

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
YEAR = 2022
Check = Callable[[Key, str], None]

_KEYS: dict[int, Key] = {}


def _key(engine: Engine) -> Key:
    if id(engine) not in _KEYS:
        _KEYS[id(engine)] = Key(engine)
    return _KEYS[id(engine)]


@dataclass(frozen=True)
class Case:
    text: str
    who: str  # whose way of typing: kepala, sekretaris, bappeda
    check: Check

    def __str__(self) -> str:
        return f"{self.who}: {self.text}"


def head(scope: str, tw: int) -> str:
    return f"{scope} · TW {ROMAN[tw]} {YEAR}"


def _no_figure(out: str) -> None:
    assert "Rp" not in out and "%" not in out, out


# --- what an answer must give ----------------------------------------------------------------


def serapan(bidang: str | None, tw: int) -> Check:
    def check(k: Key, out: str) -> None:
        f = k.scope(tw, bidang)
        scope = f"Bidang {bidang}" if bidang else "Seluruh dinas"
        assert head(scope, tw) in out.splitlines()[0], out
        assert f"Serapan: {id_percent(f.serapan)}" in out, out
        assert f"Realisasi anggaran: {id_rupiah(f.realisasi or 0)}" in out

    return check


def fisik(bidang: str | None, tw: int) -> Check:
    def check(k: Key, out: str) -> None:
        f = k.scope(tw, bidang)
        scope = f"Bidang {bidang}" if bidang else "Seluruh dinas"
        first = out.splitlines()[0]
        assert first.startswith("Realisasi fisik") and head(scope, tw) in first, out
        assert f"Realisasi fisik: {id_percent(f.fisik)}" in out, out

    return check


def sisa(bidang: str | None, tw: int) -> Check:
    def check(k: Key, out: str) -> None:
        f = k.scope(tw, bidang)
        scope = f"Bidang {bidang}" if bidang else "Seluruh dinas"
        assert out.startswith("Sisa anggaran") and head(scope, tw) in out.splitlines()[0], out
        assert f"Sisa anggaran (belum terserap): {id_rupiah(f.sisa or 0)}" in out, out

    return check


def program_serapan(name: str, tw: int) -> Check:
    def check(k: Key, out: str) -> None:
        f = k.node(k.named(name), tw)
        first = out.splitlines()[0]
        assert f"TW {ROMAN[tw]} {YEAR}" in first and name.lower()[:40] in first.lower(), out
        assert f"Serapan: {id_percent(f.serapan)}" in out, out

    return check


def bidang_ranking(tw: int, order: str, by: str = "serapan") -> Check:
    def check(k: Key, out: str) -> None:
        rows = []
        for b in k.bidang:
            f = k.scope(tw, b)
            rows.append((b, f.serapan if by == "serapan" else f.fisik))
        rows.sort(key=lambda r: r[1] or 0, reverse=order != "asc")
        first = out.splitlines()[0]
        assert first.startswith("Peringkat bidang") and f"TW {ROMAN[tw]} {YEAR}" in first, out
        for i, (b, v) in enumerate(rows, 1):
            assert f"{i}. {b}: {id_percent(v)}" in out, (b, out)
        word = "Terendah" if order == "asc" else "Tertinggi"
        assert f"{word}: {rows[0][0]}." in out

    return check


def program_ranking(tw: int, order: str, bidang: str | None, limit: int | None) -> Check:
    def check(k: Key, out: str) -> None:
        rows = [(k.nodes[p].nama, k.node(p, tw).serapan) for p in k.programs(tw, bidang)]
        ranked = sorted((r for r in rows if r[1] is not None), key=lambda r: r[1] or 0)
        if order != "asc":
            ranked.reverse()
        shown = ranked[:limit] if limit else ranked
        first = out.splitlines()[0]
        scope = f"Bidang {bidang}" if bidang else "Seluruh dinas"
        assert first.startswith("Peringkat program") and head(scope, tw) in first, out
        for i, (name, v) in enumerate(shown, 1):
            assert f"{i}. {name[:59]}" in out and id_percent(v) in out, (name, out)
        if limit and limit < len(ranked):
            assert f"{i + 1}. " not in out
            assert f"{limit} {'terendah' if order == 'asc' else 'tertinggi'} dari" in out

    return check


def projection(bidang: str | None) -> Check:
    def check(k: Key, out: str) -> None:
        tw = 3  # the latest complete quarter of the demo data
        f = k.scope(tw, bidang)
        proj = k.projection(tw, bidang)
        scope = f"Bidang {bidang}" if bidang else "Seluruh dinas"
        assert out.startswith("Peringatan dini") and head(scope, tw) in out.splitlines()[0], out
        # The first page rounds the rupiah (exact ones are a page away): the share is exact.
        assert f"({id_percent(percent(proj, f.pagu))} dari pagu" in out, out

    return check


def unknown_scope(name: str, level: str = "") -> Check:
    def check(k: Key, out: str) -> None:
        _no_figure(out)
        if level:
            assert f"{level} “{name}” tidak ada di Diskoperindag" in out, out
        else:
            assert f"“{name}” bukan nama bidang, program atau kegiatan" in out, out
        assert "Seluruh dinas" not in out

    return check


def unknown_or_offered(name: str) -> Check:
    """A word spelled like a real one ("perikanan" ~ "pemeriksaan"): named back, or the
    real ones offered as a question — never answered."""

    def check(k: Key, out: str) -> None:
        _no_figure(out)
        assert f"“{name}” bukan nama" in out or "yang mana" in out, out

    return check


def hambatan(bidang: str, tw: int) -> Check:
    def check(k: Key, out: str) -> None:
        first = out.splitlines()[0]
        assert first.startswith("Hambatan dan tindak lanjut"), out
        assert head(f"Bidang {bidang}", tw) in first and "↳" in out  # hambatan ↳ tindak lanjut
        _no_figure(out)

    return check


def not_understood(k: Key, out: str) -> None:
    _no_figure(out)
    assert "belum memahami" in out, out


def deadline(tw: int, year: int, day: str) -> Check:
    def check(k: Key, out: str) -> None:
        assert f"Batas akhir pelaporan TW {ROMAN[tw]} {year}" in out and day in out, out
        assert "Sub kegiatan" not in out and "Serapan" not in out

    return check


def status(tw: int) -> Check:
    def check(k: Key, out: str) -> None:
        assert f"TW {ROMAN[tw]} {YEAR}" in out.splitlines()[0], out
        for b in k.bidang:
            assert b in out

    return check


# --- the questions ---------------------------------------------------------------------------

ALIASES = {
    "Sekretariat": ["sekretariat", "sekre", "kesekretariatan", "setdis"],
    "Koperasi": ["koperasi", "kop", "bid koperasi", "koprasi"],
    "UMKM": ["umkm", "ukm", "usaha mikro", "umk"],
    "Perdagangan": ["perdagangan", "dagang", "perdagngan", "bid perdagangan"],
    "Perindustrian": ["perindustrian", "industri", "ikm", "perindustrain"],
}
MONTH_END = {1: "maret", 2: "juni", 3: "september"}
KEPALA_SERAPAN = [
    "serapan {a} tw{q}",
    "brp serapan {a} triwulan {q}",
    "{a} q{q} serapannya berapa ya",
    "realisasi anggaran bidang {a} triwulan ke-{q} 2022",
    "gimana serapan {a} sampai {m} 2022",
    "tolong info serapan {a} tw {r}",
    "srpn {a} tw{q}",
    "serapn anggaran {a} triwulan {r} thn 2022",
]


def _cases() -> list[Case]:
    c: list[Case] = []
    for b, aliases in ALIASES.items():
        for q in (1, 2, 3):
            for i, form in enumerate(KEPALA_SERAPAN):
                a = aliases[i % len(aliases)]
                text = form.format(a=a, q=q, r=ROMAN[q], m=MONTH_END[q])
                c.append(Case(text, "kepala", serapan(b, q)))
            c.append(Case(f"fisik {aliases[0]} tw{q}", "sekretaris", fisik(b, q)))
            c.append(Case(f"progres fisik {aliases[1]} q{q}", "kepala", fisik(b, q)))
            c.append(
                Case(f"realisasi fisik bidang {b} triwulan {ROMAN[q]}", "bappeda", fisik(b, q))
            )
            c.append(Case(f"sisa anggaran {aliases[0]} tw{q}", "sekretaris", sisa(b, q)))
            c.append(Case(f"sisa dana {aliases[1]} triwulan {q}", "kepala", sisa(b, q)))
    office = [
        "serapan dinas tw{q}",
        "total serapan kantor triwulan {q}",
        "serapan anggaran diskoperindag tw {r}",
        "realisasi keuangan opd s.d. triwulan {r} 2022",
        "berapa persen serapan seluruh bidang q{q}",
        "serapan dinas koperasi ukm perindustrian dan perdagangan triwulan ke {q}",
        "capaian serapan keseluruhan sampai akhir {m}",
    ]
    for q in (1, 2, 3):
        for form in office:
            text = form.format(q=q, r=ROMAN[q], m=MONTH_END[q])
            who = "bappeda" if "opd" in text or "diskoperindag" in text else "kepala"
            c.append(Case(text, who, serapan(None, q)))
        c.append(Case(f"fisik dinas tw{q}", "sekretaris", fisik(None, q)))
        c.append(Case(f"sisa anggaran dinas tw{q}", "sekretaris", sisa(None, q)))
    c.append(Case("serapan semester 1 dinas", "kepala", serapan(None, 2)))
    c.append(Case("serapan koperasi semester satu", "kepala", serapan("Koperasi", 2)))
    c.append(Case("serapan umkm per 30 juni 2022", "bappeda", serapan("UMKM", 2)))
    c.append(
        Case("serapan perdagangan per 30 september 2022", "bappeda", serapan("Perdagangan", 3))
    )
    for q in (1, 2, 3):
        c += [
            Case(f"bidang mana serapannya paling rendah tw{q}", "kepala", bidang_ranking(q, "asc")),
            Case(f"bidang dgn serapan tertinggi q{q}", "kepala", bidang_ranking(q, "desc")),
            Case(f"ranking serapan terendah triwulan {q}", "bappeda", bidang_ranking(q, "asc")),
            Case(
                f"bidang mana yg fisiknya plg tinggi tw {q}",
                "sekretaris",
                bidang_ranking(q, "desc", "fisik"),
            ),
            Case(
                f"program dengan serapan tertinggi tw{q}",
                "kepala",
                program_ranking(q, "desc", None, None),
            ),
            Case(
                f"3 program dengan serapan terendah tw{q}",
                "bappeda",
                program_ranking(q, "asc", None, 3),
            ),
            Case(
                f"program dengan serapan tertinggi di perdagangan tw{q}",
                "kepala",
                program_ranking(q, "desc", "Perdagangan", None),
            ),
            Case(
                f"program perindustrian mana yang serapannya paling rendah tw{q}",
                "sekretaris",
                program_ranking(q, "asc", "Perindustrian", None),
            ),
        ]
    for name in (
        "PROGRAM PENGEMBANGAN EKSPOR",
        "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI",
        "PROGRAM STANDARISASI DAN PERLINDUNGAN KONSUMEN",
    ):
        short = name.lower().replace("program ", "")
        for q in (2, 3):
            c.append(Case(f"serapan program {short} tw{q}", "kepala", program_serapan(name, q)))
            c.append(
                Case(f'serapan "{short}" triwulan {q}', "sekretaris", program_serapan(name, q))
            )
    for b in (None, "Koperasi", "UMKM", "Perdagangan", "Perindustrian"):
        a = b.lower() if b else "dinas"
        c += [
            Case(f"proyeksi akhir tahun {a}", "kepala", projection(b)),
            Case(f"kalau begini terus {a} akhir tahun terserap berapa", "kepala", projection(b)),
            Case(f"prediksi serapan {a} sampai akhir tahun", "bappeda", projection(b)),
        ]
    c.append(Case("apa saja yang harus dipercepat", "kepala", projection(None)))
    c.append(Case("peringatan dini", "kepala", projection(None)))
    # Refusals: a scope the office does not have, never answered for the whole office.
    for name in ("pertanian", "perikanan", "pariwisata", "pendidikan", "perhubungan", "kehutanan"):
        c.append(Case(f"serapan bidang {name} tw2", "kepala", unknown_scope(name, "Bidang")))
        c.append(Case(f"bid {name} serapannya brp tw3", "kepala", unknown_scope(name, "Bidang")))
        c.append(Case(f"serapan {name} tw2", "bappeda", unknown_or_offered(name)))
    for name in ("ketahanan pangan", "jalan desa", "vaksinasi massal"):
        c.append(Case(f"serapan program {name} tw2", "kepala", unknown_scope(name, "Program")))
    c.append(
        Case("fisik kegiatan vaksinasi tw1", "sekretaris", unknown_scope("vaksinasi", "Kegiatan"))
    )
    c.append(Case("serapan dinas kesehatan tw2", "bappeda", unknown_scope("kesehatan", "OPD")))
    c.append(Case("serapan dinas pendidikan tw3", "bappeda", unknown_scope("pendidikan", "OPD")))
    for text in (
        "tolong kirimkan undangan rapat besok",
        "besok ada rapat di aula",
        "undangan rapat koordinasi jam berapa",
        "tolong fotokopi dokumen pengadaan",
        "siapkan mobil dinas untuk kunjungan",
        "makan siang dimana hari ini",
        "printer di ruang sekretariat rusak",
    ):
        c.append(Case(text, "sekretaris", not_understood))
    for tw, year, day in ((1, 2022, "10 April 2022"), (2, 2022, "10 Juli 2022"),
                          (3, 2022, "10 Oktober 2022"), (4, 2022, "10 Januari 2023")):  # fmt: skip
        c.append(
            Case(f"kapan batas akhir laporan tw{tw} {year}", "sekretaris", deadline(tw, year, day))
        )
        c.append(
            Case(f"deadline lapor triwulan {tw} {year} kapan", "kepala", deadline(tw, year, day))
        )
        c.append(Case(f"tenggat tw {ROMAN[tw]} {year}", "bappeda", deadline(tw, year, day)))
    for b in ("UMKM", "Perdagangan", "Koperasi"):
        c.append(Case(f"kenapa serapan {b.lower()} rendah tw3", "kepala", hambatan(b, 3)))
        c.append(Case(f"apa kendala {b.lower()} triwulan 3", "bappeda", hambatan(b, 3)))
    for q in (1, 2, 3):
        c.append(Case(f"siapa yang belum lapor tw{q}", "kepala", status(q)))
        c.append(Case(f"status pelaporan triwulan {q}", "bappeda", status(q)))
    return c


CASES = _cases()


def test_the_suite_is_large_and_varied() -> None:
    assert len(CASES) >= 300, len(CASES)
    assert len({c.text for c in CASES}) == len(CASES)  # no question twice
    assert {c.who for c in CASES} == {"kepala", "sekretaris", "bappeda"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_phrasing(seeded_ro: Engine, case: Case) -> None:
    with read_scope(seeded_ro) as s:
        reply, _, _ = answer_text(s, 1, case.text)
    out = html_to_text(reply.text)
    assert len(reply.text) <= 4096 and "Traceback" not in out
    case.check(_key(seeded_ro), out)


SAMPLE = [c for i, c in enumerate(CASES) if i % 15 == 0]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", SAMPLE, ids=str)
async def test_a_sample_through_the_application(shared_bot: Bot, case: Case) -> None:
    out = await shared_bot.say(KEPALA, case.text)
    case.check(_key(shared_bot.engine), out)
