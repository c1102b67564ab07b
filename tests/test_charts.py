"""Charts: every kind renders the real 2022 figures as a readable PNG, partial data shows
"belum lengkap" (never 0), nothing to draw raises NoData in Indonesian, no text is cut or
overlapping even with the longest real names, and rendering is thread-safe and does not
leak memory. How fast it renders is measured in benchmarks/bench_charts.py, not here: a
wall-clock limit fails on a busy machine without anything being wrong."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from PIL import Image

from charts import render
from charts.format import points_signed, rupiah_short, wrap_label
from charts.render import (
    Bar,
    ChartMeta,
    MoneyBar,
    NoData,
    PairBar,
    StatusBar,
    fisik_vs_keuangan,
    program_pagu_realisasi,
    serapan_per_bidang,
    status_pelaporan,
    tren_serapan,
)

OPD = "Dinas Koperasi, UKM, Perindustrian dan Perdagangan Kab. Solok"
OPD_DB = "DINAS KOPERASI, USAHA KECIL MENENGAH, PERINDUSTRIAN DAN PERDAGANGAN KABUPATEN SOLOK"
BENCHMARKS = {1: 15.0, 2: 40.0, 3: 60.0, 4: 90.0}

# Serapan per bidang at TW III 2022 (tests/test_queries.py: TW3).
BIDANG_TW3 = [
    Bar("Sekretariat", 64.70),
    Bar("Koperasi", 74.81),
    Bar("UMKM", 14.20),
    Bar("Perdagangan", 17.69),
    Bar("Perindustrian", 33.48),
]
# Office serapan per quarter of 2022; TW IV has no report.
TREND_2022: list[tuple[int, float | None]] = [(1, 6.46), (2, 27.11), (3, 45.22), (4, None)]
# Perdagangan's programs in the TW III report: name as written (typo included), pagu,
# realisasi anggaran. Their realisasi fisik (column 19) equals the serapan in the seed.
PERDAGANGAN_TW3 = [
    ("PROGAM PENINGKATAN SARANA DISTRIBUSI PERDAGANGAN", 1_883_197_079, 221_060_437),
    ("PROGRAM STANDARISASI DAN PERLINDUNGAN KONSUMEN", 209_059_508, 48_628_601),
    (
        "PROGRAM STABILITASI HARGA BARANG KEBUTUHAN POKOK DAN BARANG PENTING",
        67_969_000,
        28_203_300,
    ),
    ("PROGRAM PENGEMBANGAN EKSPOR", 187_041_690, 107_373_034),
    ("PROGRAM PENGGUNAAN DAN PEMASARAN PRODUK DALAM NEGERI", 99_999_480, 27_756_750),
]
PERDAGANGAN_SERAPAN = [11.74, 23.26, 41.49, 57.41, 27.76]
LONG_UMKM = "PROGRAM PEMBERDAYAAN USAHA MENENGAH, KECIL DAN MIKRO UMKM)"
LONG_SUB = (
    "Sub Kegiatan Penyediaan Jasa Pemeliharaan, Biaya Pemeliharaan, Pajak dan Perizinan "
    "Kendaraan Dinas Operasional atau Lapangan"
)


def meta(title: str, period: str = "TW III 2022", opd: str = OPD) -> ChartMeta:
    return ChartMeta(title, f"{period} · {opd}")


def money_bars() -> list[MoneyBar]:
    return [MoneyBar(n, p, r) for n, p, r in PERDAGANGAN_TW3]


def pair_bars() -> list[PairBar]:
    return [
        PairBar(n, s, s) for (n, _, _), s in zip(PERDAGANGAN_TW3, PERDAGANGAN_SERAPAN, strict=True)
    ]


STATUS_TW4 = [
    StatusBar("Sekretariat", "disetujui"),
    StatusBar("Koperasi", "diajukan"),
    StatusBar("UMKM", None),
    StatusBar("Perdagangan", "dikembalikan"),
    StatusBar("Perindustrian", "draft"),
]

# name -> (public renderer, internal builder), both on the demo data.
Chart = tuple[Callable[[], bytes], Callable[[], Figure]]
DEMO: dict[str, Chart] = {
    "serapan_per_bidang": (
        lambda: serapan_per_bidang(BIDANG_TW3, 60.0, meta("Serapan anggaran per bidang")),
        lambda: render._build_serapan(BIDANG_TW3, 60.0, meta("Serapan anggaran per bidang")),
    ),
    "tren_serapan": (
        lambda: tren_serapan(TREND_2022, BENCHMARKS, meta("Tren serapan anggaran", "2022")),
        lambda: render._build_tren(TREND_2022, BENCHMARKS, meta("Tren serapan anggaran", "2022")),
    ),
    "program_pagu_realisasi": (
        lambda: program_pagu_realisasi(money_bars(), meta("Pagu dan realisasi · Perdagangan")),
        lambda: render._build_pagu_realisasi(money_bars(), meta("Pagu dan realisasi")),
    ),
    "fisik_vs_keuangan": (
        lambda: fisik_vs_keuangan(pair_bars(), meta("Realisasi fisik dan keuangan")),
        lambda: render._build_fisik_keuangan(pair_bars(), meta("Realisasi fisik dan keuangan")),
    ),
    "status_pelaporan": (
        lambda: status_pelaporan(STATUS_TW4, meta("Status pelaporan", "TW IV 2022")),
        lambda: render._build_status(STATUS_TW4, meta("Status pelaporan", "TW IV 2022")),
    ),
}


def png_image(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(data))
    img.load()  # decodes every pixel: a truncated or corrupt PNG fails here
    assert img.format == "PNG"
    return img


def texts_of(fig: Figure) -> list[str]:
    return [t.get_text() for t in render._drawn_texts(fig)]


# --- every chart renders the demo data -------------------------------------------------------


@pytest.mark.parametrize("name", list(DEMO))
def test_demo_chart_renders_a_wide_png(name: str) -> None:
    img = png_image(DEMO[name][0]())
    assert img.width >= 1000
    assert 300 <= img.height <= 3000


@pytest.mark.parametrize("name", list(DEMO))
def test_demo_chart_layout_is_clean(name: str) -> None:
    fig = DEMO[name][1]()
    assert render._check_layout(fig) == []
    sizes = [t.get_fontsize() for t in render._drawn_texts(fig)]
    assert min(sizes) >= 12
    assert max(sizes) > 13  # the title is larger than the labels


def test_serapan_chart_shows_indonesian_numbers_and_the_target() -> None:
    texts = texts_of(DEMO["serapan_per_bidang"][1]())
    for expected in ("64,70%", "74,81%", "14,20%", "17,69%", "33,48%", "Target nasional 60%"):
        assert expected in texts
    assert "TW III 2022 · " + OPD in texts  # scope, quarter and year in the header
    assert render.ChartMeta("x", "y").source in texts
    assert {"0%", "20%", "100%"} <= set(texts)


def test_trend_chart_shows_values_targets_and_missing_quarter() -> None:
    texts = texts_of(DEMO["tren_serapan"][1]())
    assert {"6,46%", "27,11%", "45,22%", "15%", "40%", "60%", "90%"} <= set(texts)
    assert {"TW I", "TW II", "TW III", "TW IV"} <= set(texts)
    assert "belum\nlengkap" in texts


def test_money_chart_uses_short_rupiah() -> None:
    texts = texts_of(DEMO["program_pagu_realisasi"][1]())
    assert "Rp 221 jt dari Rp 1,9 M (11,74%)" in texts
    assert "Rp 107 jt dari Rp 187 jt (57,41%)" in texts
    assert {"Rp 0", "Rp 500 jt", "Rp 1 M", "Rp 1,5 M"} <= set(texts)


def test_fisik_chart_annotates_the_difference() -> None:
    bars = [PairBar("Program A", 40.0, 43.2), PairBar("Program B", 60.0, 48.95)]
    texts = texts_of(render._build_fisik_keuangan(bars, meta("Fisik vs keuangan")))
    assert {"+3,20 poin", "-11,05 poin", "Fisik − keuangan", "43,20%", "48,95%"} <= set(texts)


def test_status_chart_makes_belum_lapor_stand_out() -> None:
    fig = DEMO["status_pelaporan"][1]()
    texts = texts_of(fig)
    assert "⚠ BELUM LAPOR" in texts
    assert "Sudah lapor 2 dari 5 bidang · belum lapor 1" in texts
    belum = next(t for t in render._drawn_texts(fig) if t.get_text() == "⚠ BELUM LAPOR")
    assert belum.get_fontweight() == "bold"


# --- partial data ------------------------------------------------------------------------------


def test_incomplete_bidang_is_an_empty_bar_not_zero() -> None:
    bars = [Bar("Sekretariat", 64.70), Bar("UMKM", None), Bar("Koperasi", 74.81, "sementara")]
    fig = render._build_serapan(bars, 60.0, meta("Serapan"))
    assert render._check_layout(fig) == []
    texts = texts_of(fig)
    assert "belum lengkap" in texts
    assert "74,81% · sementara" in texts
    assert not any(t.startswith("0,00%") for t in texts)
    ax = fig.axes[0]
    drawn = [b for c in ax.containers if isinstance(c, BarContainer) for b in c]
    assert len(drawn) == 2  # no bar at all for UMKM
    png_image(serapan_per_bidang(bars, 60.0, meta("Serapan")))


def test_partial_money_fisik_and_trend_render() -> None:
    money = [*money_bars()[:2], MoneyBar(LONG_UMKM, 228_520_610, None)]
    fig = render._build_pagu_realisasi(money, meta("Pagu dan realisasi"))
    assert render._check_layout(fig) == []
    assert "pagu Rp 229 jt · realisasi belum lengkap" in texts_of(fig)

    pairs = [PairBar("Program A", 11.74, None), PairBar("Program B", None, 30.0)]
    fig = render._build_fisik_keuangan(pairs, meta("Fisik vs keuangan"))
    assert render._check_layout(fig) == []
    assert texts_of(fig).count("belum lengkap") == 2
    assert texts_of(fig).count("-") == 2  # no difference without both figures

    trend = [(1, None), (2, 27.11), (3, None), (4, 95.0)]
    fig = render._build_tren(trend, BENCHMARKS, meta("Tren", "2022"))
    assert render._check_layout(fig) == []
    assert texts_of(fig).count("belum\nlengkap") == 2

    for data in (
        program_pagu_realisasi(money, meta("x")),
        fisik_vs_keuangan(pairs, meta("x")),
        tren_serapan(trend, BENCHMARKS, meta("x")),
    ):
        assert png_image(data).width >= 1000


# --- nothing to draw --------------------------------------------------------------------------

NO_DATA_CASES: dict[str, Callable[[ChartMeta], bytes]] = {
    "serapan_empty": lambda m: serapan_per_bidang([], 90.0, m),
    "serapan_all_none": lambda m: serapan_per_bidang([Bar("A", None), Bar("B", None)], 90.0, m),
    "serapan_nan": lambda m: serapan_per_bidang([Bar("A", float("nan"))], 90.0, m),
    "tren_empty": lambda m: tren_serapan([], BENCHMARKS, m),
    "tren_all_none": lambda m: tren_serapan([(1, None), (4, None)], BENCHMARKS, m),
    "money_empty": lambda m: program_pagu_realisasi([], m),
    "money_all_none": lambda m: program_pagu_realisasi([MoneyBar("A", 100, None)], m),
    "fisik_empty": lambda m: fisik_vs_keuangan([], m),
    "fisik_all_none": lambda m: fisik_vs_keuangan([PairBar("A", None, None)], m),
    "status_empty": lambda m: status_pelaporan([], m),
}


@pytest.mark.parametrize("case", list(NO_DATA_CASES))
def test_nothing_to_draw_raises_nodata_in_indonesian(case: str) -> None:
    with pytest.raises(NoData) as exc:
        NO_DATA_CASES[case](meta("Serapan", "TW IV 2022"))
    msg = str(exc.value)
    assert msg.startswith("Belum ada data ")
    assert "TW IV 2022" in msg and OPD in msg
    assert isinstance(exc.value, ValueError)


def test_nodata_message_without_subtitle() -> None:
    with pytest.raises(NoData, match=r"^Belum ada data serapan anggaran untuk grafik ini\.$"):
        serapan_per_bidang([], 60.0, ChartMeta("Serapan", ""))


def test_nobody_reported_is_data_for_the_status_chart() -> None:
    bars = [StatusBar("Sekretariat", None), StatusBar("Koperasi", None)]
    fig = render._build_status(bars, meta("Status", "TW IV 2022"))
    assert render._check_layout(fig) == []
    assert texts_of(fig).count("⚠ BELUM LAPOR") == 2
    png_image(status_pelaporan(bars, meta("Status", "TW IV 2022")))


# --- hard layouts: long names, many rows, odd values --------------------------------------------

SUB_KEGIATAN = [
    LONG_SUB,
    "Sub Kegiatan Penyediaan Gas Pemerintahan",
    "Sub Kegiatan Penyediaan Bahan Logistik Kantor",
    "Sub Kegiatan Penyusunan Dokumen Perencanaan Perangkat Daerah",
    "Sub Kegiatan Koordinasi dan Penyusunan Laporan Capaian Kinerja dan Ikhtisar Realisasi "
    "Kinerja SKPD",
    "Sub Kegiatan Pengadaan Pakaian Dinas Beserta Atribut Kelengkapannya",
    "Sub Kegiatan Penyediaan Jasa Surat Menyurat",
    "Sub Kegiatan Penyediaan Jasa Komunikasi, Sumber Daya Air dan Listrik",
    "Sub Kegiatan Penyediaan Jasa Pelayanan Umum Kantor",
    "Sub Kegiatan Pemeliharaan/Rehabilitasi Gedung Kantor dan Bangunan Lainnya",
    LONG_UMKM,
    "X" * 90,  # a name without spaces still wraps
]

HARD: dict[str, Callable[[], Figure]] = {
    "serapan_long_names_many_rows": lambda: render._build_serapan(
        [
            Bar(n, v)
            for n, v in zip(
                SUB_KEGIATAN,
                [52.35, 22.92, None, 100.0, 0.0, 59.9, 60.1, 61.0, 1.0, 99.99, 14.2, 57.41],
                strict=True,
            )
        ],
        60.0,
        meta("Serapan per sub kegiatan · Sekretariat", opd=OPD_DB),
    ),
    "serapan_single_bar_over_100": lambda: render._build_serapan(
        [Bar("Koperasi", 109.94)], 60.0, meta("Serapan")
    ),
    "serapan_seed_typo_1349_percent": lambda: render._build_serapan(
        [Bar("Perdagangan", 1349.06), Bar("UMKM", 14.2)], 90.0, meta("Serapan")
    ),
    "serapan_benchmark_at_edges": lambda: render._build_serapan(
        [Bar("A", 0.0), Bar("B", 100.0), Bar("C", 99.0)], 100.0, meta("Serapan")
    ),
    "serapan_benchmark_zero": lambda: render._build_serapan(
        [Bar("A", 1.0), Bar("B", None)], 0.0, meta("Serapan")
    ),
    "serapan_negative": lambda: render._build_serapan(
        [Bar("A", -5.0), Bar("B", 30.0)], 15.0, meta("Serapan")
    ),
    "serapan_long_title": lambda: render._build_serapan(
        BIDANG_TW3,
        60.0,
        ChartMeta(
            "Serapan anggaran per bidang dibandingkan dengan target nasional kumulatif "
            "triwulan ketiga tahun anggaran 2022",
            f"TW III 2022 · {OPD_DB} · {LONG_UMKM} · {LONG_SUB}",
            "Sumber: monev-bot, Laporan Kinerja Triwulan; angka belum diverifikasi oleh "
            "Sekretariat dan dapat berubah setelah APBD Perubahan",
        ),
    ),
    "tren_close_values": lambda: render._build_tren(
        [(1, 15.2), (2, 39.5), (3, 60.4), (4, 89.0)], BENCHMARKS, meta("Tren", "2022")
    ),
    "tren_low_start_near_target": lambda: render._build_tren(
        [(1, 9.5), (2, 1.0), (3, 58.0), (4, 91.0)], BENCHMARKS, meta("Tren", "2022")
    ),
    "tren_single_point_above_100": lambda: render._build_tren(
        [(2, 120.5)], BENCHMARKS, meta("Tren", "2022")
    ),
    "tren_no_benchmarks": lambda: render._build_tren(
        [(1, 6.46), (2, None)], {}, meta("Tren", "2022")
    ),
    "money_long_names": lambda: render._build_pagu_realisasi(
        [
            MoneyBar(n, p, r)
            for n, p, r in [
                (LONG_SUB, 185_228_600, 96_959_383),
                (LONG_UMKM, 228_520_610, 32_449_550),
                ("PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH", 4_737_119_557, 3_064_862_971),
                ("Sub Kegiatan Penyediaan Gas Pemerintahan", 900_000, 0),
            ]
        ],
        meta("Pagu dan realisasi"),
    ),
    "money_single_and_over_pagu": lambda: render._build_pagu_realisasi(
        [MoneyBar("Program A", 1_000_000, 1_250_000)], meta("Pagu")
    ),
    "money_zero_pagu": lambda: render._build_pagu_realisasi(
        [MoneyBar("Program A", 0, 0), MoneyBar("Program B", 0, None)], meta("Pagu")
    ),
    "money_equal_big_bars": lambda: render._build_pagu_realisasi(
        [MoneyBar(f"Program {i}", 2_000_000_000, 1_999_000_000) for i in range(6)], meta("Pagu")
    ),
    "fisik_long_names": lambda: render._build_fisik_keuangan(
        [PairBar(n, 30.0 + i, 95.0 - 7 * i) for i, n in enumerate(SUB_KEGIATAN[:8])],
        meta("Fisik vs keuangan", opd=OPD_DB),
    ),
    "fisik_over_100": lambda: render._build_fisik_keuangan(
        [PairBar("Program A", 100.0, 109.94), PairBar("Program B", 0.0, 0.0)], meta("Fisik")
    ),
    "status_many_and_unknown": lambda: render._build_status(
        [
            StatusBar(n, s)
            for n, s in zip(
                SUB_KEGIATAN,
                [
                    "disetujui",
                    None,
                    "diajukan",
                    "DRAFT",
                    "dikembalikan",
                    "ditolak",
                    None,
                    None,
                    "disetujui",
                    "",
                    None,
                    "diajukan",
                ],
                strict=True,
            )
        ],
        meta("Status", "TW IV 2022"),
    ),
}


@pytest.mark.parametrize("case", list(HARD))
def test_hard_layouts_have_no_cut_or_overlapping_text(case: str) -> None:
    fig = HARD[case]()
    assert render._check_layout(fig) == []
    assert fig.bbox.width >= 1000


def test_height_grows_with_the_number_of_rows() -> None:
    small = render._build_serapan(BIDANG_TW3[:2], 60.0, meta("Serapan"))
    large = render._build_serapan(BIDANG_TW3 * 4, 60.0, meta("Serapan"))
    assert large.bbox.height > small.bbox.height * 2
    assert large.bbox.width == small.bbox.width == 1100


def test_long_labels_wrap_to_three_lines_with_an_ellipsis() -> None:
    fig = HARD["serapan_long_names_many_rows"]()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert all(label.count("\n") <= 2 for label in labels)
    long = labels[0]
    assert long.startswith("Sub Kegiatan Penyediaan Jasa")
    assert long.endswith("…")
    assert labels[-1].count("\n") == 2  # the 90 letters without a space


def test_check_layout_catches_cut_and_overlapping_text() -> None:
    fig = render._build_serapan(BIDANG_TW3, 60.0, meta("Serapan"))
    fig.text(0.98, 0.5, "terpotong di tepi kanan", fontsize=14)
    fig.text(0.5, 0.5, "tumpang", fontsize=14)
    fig.text(0.5, 0.5, "tindih", fontsize=14)
    fig.text(0.3, 0.02, "kecil", fontsize=8)
    problems = render._check_layout(fig)
    assert any("terpotong" in p and "cut off" in p for p in problems)
    assert any("tumpang" in p and "tindih" in p and "overlap" in p for p in problems)
    assert any("kecil" in p and "pt" in p for p in problems)


# --- short Indonesian number formats -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "Rp 0"),
        (999, "Rp 999"),
        (900_000, "Rp 900 rb"),
        (250_000_000, "Rp 250 jt"),
        (32_449_550, "Rp 32,4 jt"),
        (1_500_000_000, "Rp 1,5 M"),
        (4_737_119_557, "Rp 4,7 M"),
        (1_000_000_000.0, "Rp 1 M"),
        (999_960_000, "Rp 1 M"),  # not "Rp 1.000 jt"
        (12_345_000_000_000, "Rp 12,3 T"),
        (None, "-"),
        (float("nan"), "-"),
    ],
)
def test_rupiah_short(value: float | None, expected: str) -> None:
    assert rupiah_short(value) == expected


def test_rupiah_short_fixed_digits_and_sign() -> None:
    assert rupiah_short(4_737_119_557, digits=2) == "Rp 4,74 M"
    assert rupiah_short(250_000_000, digits=0) == "Rp 250 jt"
    assert rupiah_short(-5_000_000) == "Rp -5 jt"
    assert rupiah_short(1_234_567_890_123_456) == "Rp 1.235 T"


def test_points_signed() -> None:
    assert points_signed(3.2) == "+3,20 poin"
    assert points_signed(-11.049) == "-11,05 poin"
    assert points_signed(0.001) == "0,00 poin"
    assert points_signed(None) == "-"


def test_wrap_label() -> None:
    assert wrap_label("UMKM") == "UMKM"
    assert wrap_label("  <b>PROGRAM\tPENGEMBANGAN   EKSPOR</b> ") == "PROGRAM PENGEMBANGAN EKSPOR"
    wrapped = wrap_label(LONG_SUB)
    assert wrapped.split("\n") == [
        "Sub Kegiatan Penyediaan Jasa",
        "Pemeliharaan, Biaya Pemeliharaan,",
        "Pajak dan Perizinan Kendaraan Dinas…",
    ]
    assert all(len(line) <= 38 for line in wrapped.split("\n"))
    assert wrap_label("") == "-"


# --- engineering: no pyplot, no global state, threads, speed, memory -----------------------------


def test_no_pyplot_and_no_global_state() -> None:
    code = (
        # "backend" is left out: merely reading it resolves the backend by importing pyplot.
        "import sys, matplotlib\n"
        "p = matplotlib.rcParams\n"
        "def rc(): return {k: p[k] for k in p if k != 'backend'}\n"
        "before = rc()\n"
        "from charts.render import serapan_per_bidang, Bar, ChartMeta\n"
        "serapan_per_bidang([Bar('A', 50.0)], 60.0, ChartMeta('t', 's'))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "assert rc() == before, 'rcParams changed'\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)


def test_rcparams_untouched_in_process() -> None:
    def rc() -> dict[str, object]:
        return {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}

    before = rc()
    for renderer, _ in DEMO.values():
        renderer()
    assert rc() == before


def test_concurrent_renders_equal_sequential_ones() -> None:
    expected = {name: renderer() for name, (renderer, _) in DEMO.items()}
    jobs = list(DEMO) * 2  # ten renders on four threads: every kind drawn beside another
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda name: (name, DEMO[name][0]()), jobs))
    for name, data in got:
        assert data == expected[name], name


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_rendering_60_charts_does_not_leak() -> None:
    """A leaked figure would cost at least its 3-4 MB pixel buffer: 60 of them add about
    190 MB (measured by keeping the drawn figures). What remains is the allocator's plateau
    (pending cyclic garbage and free lists), within about 20 MB after fifteen warm-up charts.
    Measured in a process of its own: earlier tests in this one would move its memory for
    reasons of their own."""
    script = (
        "from tests.test_charts import DEMO, _rss_bytes\n"
        "rs = [r for r, _ in DEMO.values()]\n"
        "for r in rs * 3: r()\n"
        "before = _rss_bytes()\n"
        "for i in range(60): rs[i % len(rs)]()\n"
        "print(_rss_bytes() - before)\n"
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    growth = int(proc.stdout.strip().splitlines()[-1])
    print(f"RSS growth over 60 charts: {growth / 2**20:.1f} MiB")
    assert growth < 40 * 2**20  # a leaked figure per chart would be ~190 MiB
