"""Questions as a kepala asks them (issue 14), through the real Application on both databases.

Every expected figure is computed here from the 2022 demo reports through the queries layer
(``scope_result``, ``ranking``), never copied from what the bot answered. The phrasings are
grouped by kind; every group has typos and phone abbreviations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from storage.data.db import read_scope
from storage.domain.numbers import format_percent, format_rupiah
from storage.domain.periods import latest_ended_quarter, roman
from storage.services.queries import (
    Figure,
    benchmarks,
    latest_quarter,
    list_bidang,
    ranking,
    scope_result,
    years_with_data,
)
from tests.bot_harness import KEPALA, Bot

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPD = 1
YEAR = 2022
BIDANG = ("Sekretariat", "Koperasi", "UMKM", "Perdagangan", "Perindustrian")
# How people type each bidang: full, short, phone abbreviation, typo.
SPELL = {
    "Sekretariat": ("sekretariat", "sekre", "sekertariat", "sekretariat"),
    "Koperasi": ("koperasi", "kop", "koprasi", "bid koperasi"),
    "UMKM": ("umkm", "ukm", "umk", "UMKM"),
    "Perdagangan": ("perdagangan", "dagang", "perdagagan", "bid. perdagangan"),
    "Perindustrian": ("perindustrian", "industri", "perindustian", "ikm"),
}


# --- expected figures from the data -------------------------------------------------------------


class Data:
    """The 2022 figures, read through the queries layer of the bot's own database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with read_scope(engine) as s:
            self.bidang = {b.nama: b.id for b in list_bidang(s, OPD)}
            self.latest = latest_quarter(s, OPD, YEAR)
            self.years = years_with_data(s, OPD)
            self.bench = benchmarks(s)

    def figure(self, bidang: str | None, tw: int) -> Figure:
        with read_scope(self.engine) as s:
            bid = self.bidang[bidang] if bidang else None
            return scope_result(s, OPD, YEAR, tw, bidang_id=bid).item.figure

    def node(self, name: str, tw: int) -> Figure:
        with read_scope(self.engine) as s:
            res = scope_result(s, OPD, YEAR, tw)
            from storage.services.queries import year_data

            data = year_data(s, OPD, YEAR)
            node = next(n for n in data.nodes.values() if n.nama == name)
            assert res is not None
            return data.node_figure(node.id, tw)  # type: ignore[arg-type]

    def ranked(self, tw: int, by: str) -> list[tuple[str, float | None]]:
        with read_scope(self.engine) as s:
            items = ranking(s, OPD, YEAR, tw, by=by)
        return [(i.nama, i.figure.fisik if by == "fisik" else i.figure.serapan) for i in items]


_DATA: dict[int, Data] = {}


def data_of(bot: Bot) -> Data:
    if id(bot.engine) not in _DATA:
        _DATA[id(bot.engine)] = Data(bot.engine)
    return _DATA[id(bot.engine)]


def pct(v: float | None) -> str:
    assert v is not None
    return format_percent(v)


def pts(v: float) -> str:
    return f"{format_percent(abs(v)).rstrip('%')} poin"


def period(tw: int) -> str:
    return f"TW {roman(tw)} {YEAR}"


# --- what each kind of answer must show -----------------------------------------------------------

Check = Callable[[Data, str], None]


def single(bidang: str, tw: int | None) -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        f = d.figure(bidang, q)
        first = out.splitlines()[0]
        assert f"Bidang {bidang}" in first and period(q) in first and "Serapan" in first
        assert f"Serapan: {pct(f.serapan)}" in out
        assert format_rupiah(f.realisasi) in out and format_rupiah(f.pagu) in out

    return check


def period_words(bidang: str, tw: int, words: str) -> Check:
    def check(d: Data, out: str) -> None:
        single(bidang, tw)(d, out)
        assert words in out.splitlines()[0]
        assert "triwulan terakhir yang ada datanya" not in out

    return check


def no_data_quarter(bidang: str, tw: int) -> Check:
    def check(d: Data, out: str) -> None:
        f = d.figure(bidang, tw)
        assert f.realisasi is None  # the data really has nothing for that quarter
        assert period(tw) in out.splitlines()[0]
        assert f"Belum ada data realisasi untuk {period(tw)}" in out
        assert f"data terakhir: {period(d.latest)}" in out
        assert "0,00%" not in out

    return check


def no_data_year(year: int | Callable[[], int]) -> Check:
    def check(d: Data, out: str) -> None:
        y = year() if callable(year) else year
        assert y not in d.years
        assert f"Belum ada data tahun {y}" in out and str(YEAR) in out
        assert "Serapan anggaran" in out.splitlines()[0] or "Perbandingan" in out

    return check


def compare_quarters(bidang: str | None, tw1: int, tw2: int, fisik: bool = False) -> Check:
    def check(d: Data, out: str) -> None:
        a, b = d.figure(bidang, tw1), d.figure(bidang, tw2)
        va, vb = (a.fisik, b.fisik) if fisik else (a.serapan, b.serapan)
        assert va is not None and vb is not None
        first = out.splitlines()[0]
        assert (
            "Perbandingan" in first and f"TW {roman(tw1)} {YEAR} → TW {roman(tw2)} {YEAR}" in first
        )
        assert pct(va) in out and pct(vb) in out
        diff = round(vb - va, 2)
        assert pts(diff) in out
        assert ("naik" if diff > 0 else "turun") in out
        if not fisik:
            rp = b.realisasi - a.realisasi  # type: ignore[operator]
            assert format_rupiah(abs(rp)) in out

    return check


def compare_bidang(b1: str, b2: str, tw: int | None) -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        f1, f2 = d.figure(b1, q), d.figure(b2, q)
        assert f1.serapan is not None and f2.serapan is not None
        first = out.splitlines()[0]
        assert "Perbandingan" in first and b1 in first and b2 in first and period(q) in first
        assert pct(f1.serapan) in out and pct(f2.serapan) in out
        gap = round(f1.serapan - f2.serapan, 2)
        hi, lo = (b1, b2) if gap > 0 else (b2, b1)
        assert f"{hi} {pts(gap)} lebih tinggi daripada {lo}" in out

    return check


def fisik_keuangan(bidang: str, tw: int | None) -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        f = d.figure(bidang, q)
        first = out.splitlines()[0]
        assert "fisik dan keuangan" in first and f"Bidang {bidang}" in first
        assert period(q) in first
        assert f"Realisasi fisik: {pct(f.fisik)}" in out
        assert f"Realisasi keuangan (serapan): {pct(f.serapan)}" in out
        assert f.fisik is not None and f.serapan is not None
        assert pts(round(f.fisik - f.serapan, 2)) in out

    return check


def sisa(bidang: str, tw: int | None) -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        f = d.figure(bidang, q)
        assert f.pagu and f.realisasi is not None
        first = out.splitlines()[0]
        assert "Sisa anggaran" in first and f"Bidang {bidang}" in first and period(q) in first
        left = f.pagu - f.realisasi
        assert f"Sisa anggaran (belum terserap): {format_rupiah(left)}" in out
        assert f"{format_percent(100 * left / f.pagu)} dari pagu {format_rupiah(f.pagu)}" in out

    return check


def pagu(bidang: str, tw: int | None) -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        f = d.figure(bidang, q)
        assert "Pagu anggaran" in out.splitlines()[0]
        assert f"Pagu: {format_rupiah(f.pagu)}" in out

    return check


def spent(bidang: str, tw: int | None) -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        f = d.figure(bidang, q)
        assert "dibelanjakan" in out.splitlines()[0] and period(q) in out.splitlines()[0]
        assert f"Sudah dibelanjakan: {format_rupiah(f.realisasi)}" in out

    return check


def target(bidang: str | None, tw: int | None) -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        f = d.figure(bidang, q)
        assert f.serapan is not None and f.pagu and f.realisasi is not None
        first = out.splitlines()[0]
        assert "target" in first and period(q) in first
        assert (f"Bidang {bidang}" if bidang else "Seluruh dinas") in first
        bench = d.bench[q]
        dev = round(f.serapan - bench, 2)
        word = "di bawah" if dev < 0 else "sesuai/di atas"
        assert f"{word} target nasional {format_percent(bench, 0)}" in out
        assert pts(dev) in out
        gap = f.realisasi - round(f.pagu * bench / 100)
        assert f"{'kurang' if gap < 0 else 'lebih'} {format_rupiah(abs(gap))}" in out

    return check


def ranked(tw: int | None, order: str | None, by: str = "serapan") -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        rows = d.ranked(q, by)
        complete = [(n, v) for n, v in rows if v is not None]
        incomplete = [n for n, v in rows if v is None]
        if order == "asc":
            complete.reverse()
        assert "Peringkat" in out.splitlines()[0] and period(q) in out.splitlines()[0]
        for i, (name, v) in enumerate(complete, 1):
            assert f"{i}. {name}: {pct(v)}" in out
        for name in incomplete:
            assert f"{name}: belum lengkap" not in out
        if incomplete:
            # A bidang with no report of the quarter is "belum lapor" (issue 24), one with
            # some rincian missing "belum lengkap"; neither is ranked.
            assert "(tidak diperingkat)" in out
            assert all(n in out.split("(tidak diperingkat)")[-1] for n in incomplete)
        if len(complete) >= 2:
            if order == "asc":
                assert f"Terendah: {complete[0][0]}." in out and "Tertinggi" not in out
            elif order == "desc":
                assert f"Tertinggi: {complete[0][0]}." in out and "Terendah" not in out
        elif complete:
            assert "peringkat belum bisa dibuat" in out and "Terendah" not in out
        else:
            assert "Belum ada bidang yang datanya lengkap" in out
            assert "Terendah" not in out and "Tertinggi" not in out

    return check


def node(name: str, tw: int | None, kind: str = "Program") -> Check:
    def check(d: Data, out: str) -> None:
        q = tw or d.latest
        f = d.node(name, q)
        first = out.splitlines()[0]
        assert f"{kind}: {name}"[:60] in first and period(q) in first
        if f.realisasi is not None:
            assert pct(f.serapan) in out and format_rupiah(f.realisasi) in out
        else:
            # never named as its own missing part
            assert f"antara lain {name}" not in out and f"rincian: {name}" not in out

    return check


def courtesy(d: Data, out: str) -> None:
    assert "Maaf" not in out and "belum memahami" not in out
    assert "Bapak/Ibu" in out and "misalnya" in out
    assert len(out) < 200


def contains(*parts: str) -> Check:
    def check(d: Data, out: str) -> None:
        for p in parts:
            assert p in out, p
        assert "Traceback" not in out

    return check


def both(*checks: Check) -> Check:
    def check(d: Data, out: str) -> None:
        for c in checks:
            c(d, out)

    return check


# --- the phrasings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    group: str
    text: str
    check: Check

    def __str__(self) -> str:
        return f"{self.group}: {self.text}"


def _cases() -> list[Case]:
    c: list[Case] = []

    def add(group: str, text: str, check: Check) -> None:
        c.append(Case(group, text, check))

    # single figure
    forms = (
        "serapan {b} tw{n}",
        "srpn {b} q{n}",
        "brp serapan {b} triwulan ke {n}",
        "penyerapan anggaran {b} TW {r}",
        "realisasi keuangan {b} trw {n}",
        "serapn {b} tw {n} 2022",
        "tlg info serapan {b} kuartal {n} ya pak",
        "gmn serapan {b} tw{n}?",
    )
    for i, b in enumerate(BIDANG):
        for j, form in enumerate(forms):
            n = (i + j) % 3 + 1
            add("single", form.format(b=SPELL[b][j % 4], n=n, r=roman(n)), single(b, n))
    # period words
    month_forms = (
        ("realisasi anggaran {b} sampai juni", 2, "sampai Juni"),
        ("serapan {b} per 30 juni", 2, "per 30 Juni"),
        ("srpn {b} akhir september", 3, "akhir September"),
        ("serapan {b} semester 1", 2, "semester 1"),
        ("brp serapan {b} smt 1", 2, "semester 1"),
        ("serapan {b} s.d. maret", 1, "Maret"),
        ("serapan {b} per 31 maret 2022", 1, "per 31 Maret"),
        ("serapan {b} sampe sept", 3, "sampai September"),
        ("serapan {b} hingga agustus", 2, "hingga Agustus"),
        ("serapan {b} posisi 15 juni", 1, "posisi 15 Juni"),
    )
    for i, b in enumerate(BIDANG):
        for j, (form, tw, words) in enumerate(month_forms):
            if (i + j) % 5 == 4:
                continue  # a sample keeps the module quick; every form is still used
            add("period", form.format(b=SPELL[b][(i + j) % 4]), period_words(b, tw, words))
    for b in BIDANG:
        add("period", f"serapan {SPELL[b][1]} akhir thn", no_data_quarter(b, 4))
        add("period", f"srpn {SPELL[b][0]} semester 2", no_data_quarter(b, 4))
        add("period", f"serapan {SPELL[b][2]} tw4", no_data_quarter(b, 4))
    add("period", "serapan koperasi tahun lalu", no_data_year(lambda: date.today().year - 1))
    add("period", "srpn umkm thn ini", no_data_year(lambda: date.today().year))

    def last_quarter(d: Data, out: str) -> None:
        y, q = latest_ended_quarter(date.today())
        if y in d.years:
            assert f"TW {roman(q)} {y}" in out
        else:
            assert f"Belum ada data tahun {y}" in out

    add("period", "serapan dagang triwulan lalu", last_quarter)
    add("period", "serapan sekre tw lalu", last_quarter)
    # comparisons
    pairs = ((1, 2), (2, 3), (1, 3))
    cmp_forms = (
        "naik berapa serapan {b} dari tw{a} ke tw{z}",
        "selisih serapan {b} antara tw{a} dan tw{z}",
        "srpn {b} tw{a} vs tw{z}",
        "bandingkan serapan {b} triwulan {a} dengan triwulan {z}",
    )
    for i, b in enumerate(BIDANG):
        for j, form in enumerate(cmp_forms):
            a, z = pairs[(i + j) % 3]
            add("comparison", form.format(b=SPELL[b][j % 4], a=a, z=z), compare_quarters(b, a, z))
    add(
        "comparison",
        "fisik koperasi naik brp dari tw1 ke tw3",
        compare_quarters("Koperasi", 1, 3, True),
    )
    add("comparison", "perbandingan fisik umkm tw2 vs tw3", compare_quarters("UMKM", 2, 3, True))
    add("comparison", "serapan dinas tw1 dibanding tw2", compare_quarters(None, 1, 2))
    bidang_pairs = [(a, z) for k, a in enumerate(BIDANG) for z in BIDANG[k + 1 :]]
    for k, (b1, b2) in enumerate(bidang_pairs):
        tw = (k % 3) + 1
        form = ("{a} vs {z} tw{n}", "bandingkan serapan {a} dan {z} q{n}")[k % 2]
        add("comparison", form.format(a=SPELL[b1][k % 2], z=SPELL[b2][k % 2], n=tw),
            compare_bidang(b1, b2, tw))  # fmt: skip
    fk_forms = (
        "bandingkan fisik dan keuangan {b}",
        "fisik vs keuangan {b} tw{n}",
        "bandingin fisik dgn keuangan {b} tw {n}",
    )
    for i, b in enumerate(BIDANG):
        for j, form in enumerate(fk_forms):
            n = (i + j) % 3 + 1
            add("comparison", form.format(b=SPELL[b][j % 4], n=n),
                fisik_keuangan(b, None if "{n}" not in form else n))  # fmt: skip
    # remaining budget and amounts
    rest_forms = (
        ("sisa anggaran {b} tw{n}", sisa),
        ("sisa pagu {b} q{n}", sisa),
        ("brp anggaran {b} yg blm terserap tw{n}", sisa),
        ("sisanya brp {b} tw {n}", sisa),
        ("berapa pagu {b} tw{n}", pagu),
        ("pagu anggaran {b} trw {n}", pagu),
        ("brp yg udh dibelanjakan {b} tw{n}", spent),
        ("berapa yang sudah terpakai {b} tw{n}", spent),
    )
    for i, b in enumerate(BIDANG):
        for j, (form, fn) in enumerate(rest_forms):
            n = (i + j) % 3 + 1
            add("remainder", form.format(b=SPELL[b][j % 4], n=n), fn(b, n))
    # against targets
    target_forms = (
        "serapan {b} sudah sesuai target? tw{n}",
        "apakah serapan {b} sudah memenuhi target nasional tw{n}",
        "{b} tertinggal brp dr target tw{n}",
        "udh capai target blm {b} q{n}",
        "deviasi {b} tw {n}",
    )
    for i, b in enumerate(BIDANG):
        for j, form in enumerate(target_forms):
            n = (i + j) % 3 + 1
            add("target", form.format(b=SPELL[b][j % 4], n=n), target(b, n))
    add(
        "target",
        "apakah serapan perdagangan sudah memenuhi target nasional",
        target("Perdagangan", None),
    )
    add("target", "serapan dinas sesuai target nasional?", target(None, None))
    # rankings
    rank_forms = (
        ("bidang mana serapannya paling rendah tw{n}", "asc", "serapan"),
        ("bidang mana serapannya plg tinggi tw {n}", "desc", "serapan"),
        ("srpn terendah tw{n}", "asc", "serapan"),
        ("ranking serapan per bidang q{n}", None, "serapan"),
        ("siapa fisik tertinggi tw{n}", "desc", "fisik"),
        ("peringkat fisik tw{n}", None, "fisik"),
    )
    for form, order, by in rank_forms:
        for n in (1, 2, 3, 4):
            add("ranking", form.format(n=n), ranked(n, order, by))
    add("ranking", "bidang mana serapannya paling rendah?", ranked(None, "asc"))
    add("ranking", "bidang dgn serapan tertinggi", ranked(None, "desc"))
    # nodes
    programs = (
        "PROGRAM PENGEMBANGAN EKSPOR",
        "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI",
        "PROGRAM STANDARISASI DAN PERLINDUNGAN KONSUMEN",
        "PROGRAM PENILAIAN KESEHATAN KSP/USP KOPERASI",
    )
    node_forms = ("serapan {p} tw{n}", "srpn {p} q{n}", "brp serapan {p} trw {n}")
    for i, p in enumerate(programs):
        for j, form in enumerate(node_forms):
            n = (i + j) % 3 + 1
            add("node", form.format(p=p.lower(), n=n), node(p, n))
    add("node", "program pengembangan UMKM", node("PROGRAM PENGEMBANGAN UMKM", None))
    add("node", "serapan prog pengembangan umkm tw3", node("PROGRAM PENGEMBANGAN UMKM", 3))
    add("node", "progam pengembangan eksport tw3", node("PROGRAM PENGEMBANGAN EKSPOR", 3))
    add("node", 'serapan "pengembangan ekspor" tw2', node("PROGRAM PENGEMBANGAN EKSPOR", 2))
    add("node", "srpn “standarisasi dan perlindungan” q1",
        node("PROGRAM STANDARISASI DAN PERLINDUNGAN KONSUMEN", 1))  # fmt: skip
    # courtesy
    for text in (
        "terima kasih", "terimakasih pak", "makasih bu", "mksh", "thx", "tq pak",
        "halo", "hallo bot", "selamat pagi", "slamat siang bu", "pagi pak", "assalamualaikum",
        "ok", "oke siap", "siap pak", "baik bu", "ok makasih",
    ):  # fmt: skip
        add("courtesy", text, courtesy)
    # parts that cannot be answered
    add("unanswerable", "serapan koperasi sampai januari",
        both(contains("“sampai Januari”: belum ada triwulan yang berakhir"),
             single("Koperasi", None)))  # fmt: skip
    add("unanswerable", "srpn umkm per 15 feb",
        contains("belum ada triwulan yang berakhir", "Yang ditampilkan"))  # fmt: skip
    add("unanswerable", "serapan kop 2019", no_data_year(2019))
    add("unanswerable", "srpn dagang thn 2025", no_data_year(2025))
    add("unanswerable", "serapan perdagangan dibanding tahun lalu",
        contains("Belum ada data tahun 2021", "Perbandingan belum bisa dibuat"))  # fmt: skip
    add("unanswerable", "serapan sekre 2021 vs 2022",
        contains("TW III 2021: belum ada data", "Perbandingan belum bisa dibuat"))  # fmt: skip
    add("unanswerable", "naik brp serapan koperasi dari tw3 ke tw4",
        contains("TW IV 2022: belum lengkap", "Perbandingan belum bisa dibuat"))  # fmt: skip
    add("unanswerable", "realisasi fisik koperasi sesuai target tw2",
        contains("rencana fisik per triwulan tidak tercatat"))  # fmt: skip
    add("unanswerable", "sisa anggaran umkm tw4",
        contains("Sisa anggaran belum bisa dihitung", "Belum ada data realisasi"))  # fmt: skip
    add("unanswerable", "koperasi vs umkm tw4",
        contains("Perbandingan belum bisa dibuat"))  # fmt: skip
    return c


CASES = _cases()


async def test_enough_phrasings_in_every_group() -> None:
    groups = {c.group for c in CASES}
    assert groups == {
        "single", "period", "comparison", "remainder", "target", "ranking", "node",
        "courtesy", "unanswerable",
    }  # fmt: skip
    assert len(CASES) >= 250
    assert len({c.text for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_question(shared_bot: Bot, case: Case) -> None:
    out = await shared_bot.say(KEPALA, case.text)
    assert out and len(out) < 4096
    assert "Maaf, saya belum memahami" not in out, out
    case.check(data_of(shared_bot), out)


@pytest.mark.parametrize(
    ("text", "scope"), [("serapan koperasi tw4", "Bidang Koperasi"), ("srpn dinas tw 4", None)]
)
async def test_a_quarter_without_data_offers_the_latest(
    shared_bot: Bot, text: str, scope: str | None
) -> None:
    d = data_of(shared_bot)
    out = await shared_bot.say(KEPALA, text)
    assert "Belum ada data realisasi untuk TW IV 2022" in out
    label = f"Lihat {period(d.latest)}"
    data = dict(shared_bot.buttons(KEPALA))[label]
    shown = await shared_bot.press(KEPALA, data)
    bidang = "Koperasi" if scope else None
    f = d.figure(bidang, d.latest)
    assert period(d.latest) in shown.splitlines()[0]
    assert (scope or "Seluruh dinas") in shown.splitlines()[0]
    assert f"Serapan: {pct(f.serapan)}" in shown and "Belum ada data realisasi" not in shown
