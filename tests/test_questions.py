"""Tests for storage.domain.question_parser: the free-text question parser."""

import random

import pytest

from storage.domain.question_parser import (
    Catalog,
    Metric,
    ParsedQuestion,
    ScopeEntry,
    normalise,
    parse_question,
    parse_triwulan,
)

OPD_NAME = "Dinas Koperasi, UKM, Perindustrian dan Perdagangan Kabupaten Solok"
BIDANG: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Sekretariat", ("sekretariat", "sekre", "sekretaris", "kesekretariatan", "umum")),
    ("Koperasi", ("kop", "koperasi")),
    ("UMKM", ("ukm", "umkm", "usaha mikro")),
    ("Perdagangan", ("dagang", "perdagangan")),
    ("Perindustrian", ("industri", "perindustrian", "ikm")),
)
# Every program/kegiatan/sub kegiatan of the TW III 2022 report (seed lines 116-217),
# as (sasaran = bidang id, kind, name). Rows shifted by extra tabs in the seed
# (lines 156, 174, 175, 176, 192) are taken from the column that really holds the name;
# unprefixed rows under sasaran 5 are levelled by their budgets.
NODES: tuple[tuple[int, str, str], ...] = (
    (1, "program", "PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH"),
    (1, "kegiatan", "Kegiatan Perencanaan, Penganggaran dan Evaluasi Kinerja Perangkat Daerah"),
    (1, "sub_kegiatan", "Sub Kegiatan Penyusunan Dokumen Perencanaan Perangkat Daerah"),
    (1, "sub_kegiatan", "Sub Kegiatan Koordinasi dan Penyusunan Dokumen RKA-SKPD"),
    (
        1,
        "sub_kegiatan",
        "Sub Kegiatan Koodinasi dan Penyusunan Laporan Capaian Kinerja dan "
        "Ikhtisar ealisasi Kinerja SKPD",
    ),
    (1, "kegiatan", "Kegiatan Administrasi Barang Milik Daerah Pada Perangkat Daerah"),
    (
        1,
        "sub_kegiatan",
        "Sub Kegiatan Rekonsiliasi dan Penyusunan Laporan Barang Milik Daerah pada SKPD",
    ),
    (1, "kegiatan", "Kegiatan Administrasi Umum Perangkat Daerah"),
    (
        1,
        "sub_kegiatan",
        "Sub Kegiatan Penyediaan komponen instalasi listrik/ penerangan bangunan kantor",
    ),
    (1, "sub_kegiatan", "Sub Kegiatan Penyediaan Peralatan dan Perlengkapan Kantor"),
    (1, "sub_kegiatan", "Sub Kegiatan Penyediaan Bahan Logistik Kantor"),
    (1, "sub_kegiatan", "Sub Kegiatan Penyediaan Barang Cetakan dan Penggandaan"),
    (1, "sub_kegiatan", "Sub Kegiatan Penyelenggaraan Rapat Koodinasi dan Konsultasi SKPD"),
    (1, "kegiatan", "Kegiatan Penyediaan Jasa Penunjang Urusan Pemerintah Daerah"),
    (1, "sub_kegiatan", "Sub Kegiatan Penyedia Jasa Surat Menyurat"),
    (1, "sub_kegiatan", "Sub Kegiatan Penyediaan Jasa Komunikasi, Sumber Daya Air dan Listrik"),
    (1, "kegiatan", "Kegiatan Pemeliharaan Barang Milik Daerah Penunjang Urusan Pemerintah Daerah"),
    (
        1,
        "sub_kegiatan",
        "Sub Kegiatan Penyediaan Jasa Pemeliharaan, Biaya Pemeliharaan, Pajak "
        "dan Perizinan Kendaraan Dinas Operasional atau Lapangan",
    ),
    (
        1,
        "sub_kegiatan",
        "Sub Kegiatan Pemeliharaan/Rehabilitasi Gedung Kantor dan Bangunan Lainnya",
    ),
    (
        1,
        "sub_kegiatan",
        "Sub Kegiatan Pemeliharaan/Rehabilitasi Sarana dan Prasarana Gedung "
        "Kantor atau Bangunan Lainnya",
    ),
    (2, "program", "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI"),
    (
        2,
        "kegiatan",
        "Kegiatan Pemeriksaan dan Pengawasan Koperasi, koperasi simpan pinjam/unit "
        "simpan pinjam yang wilayah keanggotaannya dalam daerah kabupaten/kota",
    ),
    (
        2,
        "sub_kegiatan",
        "Sub Kegiatan Pengawasan kekuatan, Kesehatan, Kemandirian, ketang uhan "
        "serta Akuntabilitas koperasi kewenangan Kabupaten/Kota",
    ),
    (2, "program", "PROGRAM PENILAIAN KESEHATAN KSP/USP KOPERASI"),
    (
        2,
        "kegiatan",
        "Kegiatan Penilaian kesehatan koperasi simpan pinjam/unit Simpan Pinjam Kop "
        "yang wilayah keanggotanya dalam daerah Kab.Solok",
    ),
    (2, "program", "PROGRAM PEMBERDAYAAN DAN PELINDUNGAN KOPERASI"),
    (
        2,
        "kegiatan",
        "Kegiatan Pemberdayaan dan perlindungan Koperasi yang keanggotaanya dalam "
        "Daerah Kabupaten/Kota",
    ),
    (
        2,
        "sub_kegiatan",
        "Sub Kegiatan Pemberdayaan peningkatan Produktifitas nilai tambah akses "
        "pasar, akses pembiayaan, penguatan kelembagaan, penataan manajemen, standarisasi dari "
        "pengukuran usaha Koperasi kewenangan Kab/Kota",
    ),
    (3, "program", "PROGRAM PEMBERDAYAAN USAHA MENENGAH, KECIL DAN MIKRO UMKM)"),
    (
        3,
        "kegiatan",
        "Kegiatan Pemberdayaan Usaha Mikro yang dilakukan melalui pendataan, "
        "kemitraan, kemudahan perizinan, Penguatan Kelembagaan dan Koordinasi dengan Para "
        "Pemangku Kepentingan.",
    ),
    (4, "program", "PROGAM PENINGKATAN SARANA DISTRIBUSI PERDAGANGAN"),
    (4, "kegiatan", "Kegiatan Pembangunan dan Pengelolaan Sarana Distribusi Perdagangan"),
    (4, "sub_kegiatan", "Sub Kegiatan Penyediaan sarana distribusi perdagangan"),
    (4, "program", "PROGRAM STANDARISASI DAN PERLINDUNGAN KONSUMEN"),
    (4, "kegiatan", "Kegiatan Pelaksanaan metrologi legal berupa tera, tera ulang dan pengawasan"),
    (4, "sub_kegiatan", "Sub Kegiatan Pelaksanaan metrologi legal berupa tera, tera ulang"),
    (4, "sub_kegiatan", "Sub Kegiatan Pengawasan/penyuluhan metrologi legal"),
    (4, "program", "PROGRAM STABILITASI HARGA BARANG KEBUTUHAN POKOK DAN BARANG PENTING"),
    (4, "program", "PROGRAM PENGEMBANGAN EKSPOR"),
    (
        4,
        "kegiatan",
        "Kegiatan Penyelenggaraan Promosi Dagang Melalui Pameran Dagang dan Misi "
        "Dagang bagi Produk Ekspor Unggulan yang terdapat pada 1 (satu) Daerah Kabupaten/ Kota",
    ),
    (4, "sub_kegiatan", "Sub Kegiatan Misi Dagang Bagi Produk Ekspor Unggulan"),
    (4, "program", "PROGRAM PENGGUNAAN DAN PEMASARAN PRODUK DALAM NEGERI"),
    (
        4,
        "kegiatan",
        "Kegiatan Pelaksanaa promosi, pemasaran dan peningkatan penggunaan produk dalam negeri",
    ),
    (4, "sub_kegiatan", "Sub Kegiatan Peningkatan Sistem dan Jaringan Informasi Perdagangan"),
    (5, "program", "PROGRAM PERENCANAAN DAN PEMBANGUNAN INDUSTRI"),
    (5, "kegiatan", "Penyusunan Dan Evaluasi Rencana Pembangunan Industri Kabupaten /Kota"),
    (5, "sub_kegiatan", "Penyusunan Rencana Pembangunan Industri Kabupaten/Kota"),
    (
        5,
        "sub_kegiatan",
        "Koordinasi, Sinkronisasi dan Pelaksanaan Pembangunan Sarana dan Prasarana Industri",
    ),
    (
        5,
        "sub_kegiatan",
        "Koordinasi, Sinkronisasi dan Pelaksanaan Pemberdayaan Industri dan Peran Serta Masyarakat",
    ),
    (5, "program", "PROGRAM PENGENDALIAN IZIN USAHA INDUSTRI KABUPATEN/ KOTA"),
    (
        5,
        "kegiatan",
        "Penerbitan Izin Usaha Industri (UI), Izin Perluasan Usaha Industri (IPUI), "
        "Izin Usaha Kawasan Industri (IUKI) dan Izin Perluasan Kawasan Industri (IPKI) "
        "Kewenangan Kabupaten/Kota",
    ),
    (
        5,
        "sub_kegiatan",
        "Fasilitasi Pemenuhan Komitmen perolehan IUI,IPUI,IUKI dan Izin "
        "Perluasan Kawasan Industri (IPKI) Kewenangan Kabupaten/Kota dalam Sistem Informasi "
        "Industri Nasional (SIINas) yang terintegrasi dengan Sistem Pelayanan Perizinan Berusaha "
        "secara elektronik",
    ),
)


def build_catalog() -> Catalog:
    entries = [ScopeEntry("opd", 1, OPD_NAME, ("dinas", "total", "kantor", "opd"))]
    entries += [
        ScopeEntry("bidang", i, name, aliases, i) for i, (name, aliases) in enumerate(BIDANG, 1)
    ]
    entries += [
        ScopeEntry(kind, 100 + i, name, (), bidang)  # type: ignore[arg-type]
        for i, (bidang, kind, name) in enumerate(NODES)
    ]
    return Catalog(tuple(entries), (2022,))


CATALOG = build_catalog()
OPD = "opd"  # expected-scope marker for the whole office
M = Metric


def entry(prefix: str) -> ScopeEntry:
    """The one catalogue entry whose name starts with prefix (or the opd for OPD)."""
    if prefix == OPD:
        return CATALOG.entries[0]
    found = [e for e in CATALOG.entries if e.name.startswith(prefix)]
    assert len(found) == 1, f"{prefix!r} matches {len(found)} entries"
    return found[0]


def case(
    question: str,
    metric: Metric | None,
    scope: str | None = None,
    tw: int | None = None,
    *,
    tahun: int | None = None,
    chart: bool = False,
    trend: bool = False,
    candidates: tuple[str, ...] = (),
    order: str | None = None,
    ranking_metric: Metric | None = None,
) -> object:
    expected = {
        "metric": metric,
        "scope": scope,
        "triwulan": tw,
        "tahun": tahun,
        "chart": chart,
        "trend": trend,
        "candidates": candidates,
        "order": order,
        "ranking_metric": ranking_metric,
    }
    return pytest.param(question, expected, id=question[:60])


def check(question: str, expected: dict[str, object]) -> ParsedQuestion:
    p = parse_question(question, CATALOG)
    assert p.metric == expected["metric"]
    scope = expected["scope"]
    assert p.scope == (entry(scope) if isinstance(scope, str) else None)
    assert p.scope_candidates == tuple(entry(c) for c in expected["candidates"])  # type: ignore[attr-defined]
    assert p.triwulan == expected["triwulan"]
    assert p.tahun == expected["tahun"]
    assert p.chart is expected["chart"]
    assert p.trend is expected["trend"]
    if expected["order"] is not None:
        assert p.order == expected["order"]
    if expected["ranking_metric"] is not None:
        assert p.ranking_metric == expected["ranking_metric"]
    assert p.is_garbage is False
    return p


PENGAWASAN = "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI"

REQUIRED = [
    case("serapan anggaran Q2 koperasi", M.SERAPAN, "Koperasi", 2),
    case("realisasi fisik tw 3 perdagangan", M.FISIK, "Perdagangan", 3),
    case(
        "bidang mana serapannya paling rendah?",
        M.RANKING,
        ranking_metric=M.SERAPAN,
        order="asc",
    ),
    case("siapa yang belum lapor triwulan 3?", M.STATUS, None, 3),
    case("hambatan umkm", M.HAMBATAN, "UMKM"),
    case("serapan dinas tw1 2022", M.SERAPAN, OPD, 1, tahun=2022),
    case("program apa saja di perindustrian?", M.DAFTAR, "Perindustrian"),
    case("grafik serapan tw3", M.SERAPAN, None, 3, chart=True),
    case("grafik tren serapan dinas 2022", M.SERAPAN, OPD, tahun=2022, chart=True, trend=True),
    case("serapan program pengawasan koperasi tw2", M.SERAPAN, PENGAWASAN, 2),
    case("realisasi keuangan bid. perdagangan kuartal kedua", M.SERAPAN, "Perdagangan", 2),
    case("penyerapan anggaran industri TW III", M.SERAPAN, "Perindustrian", 3),
]


@pytest.mark.parametrize(("question", "expected"), REQUIRED)
def test_required_examples(question: str, expected: dict[str, object]) -> None:
    check(question, expected)


PARAPHRASES = [
    # serapan, shuffled, cased, polite, abbreviated, misspelt
    case("Pak, tolong info serapan koperasi triwulan kedua ya", M.SERAPAN, "Koperasi", 2),
    case("berapa serapn koprasi tw2?", M.SERAPAN, "Koperasi", 2),
    case("SERAPAN KOPERASI TW II", M.SERAPAN, "Koperasi", 2),
    case("koperasi serapan q2", M.SERAPAN, "Koperasi", 2),
    case("tw2kop serapan", M.SERAPAN, "Koperasi", 2),
    case("serapan anggaran koperasi Q 2", M.SERAPAN, "Koperasi", 2),
    case("serapan anggaran koperasi q2 2022", M.SERAPAN, "Koperasi", 2, tahun=2022),
    case("koperasi q2 serapan anggaran", M.SERAPAN, "Koperasi", 2),
    case("anggaran koperasi Q2 berapa persen terserap?", M.SERAPAN, "Koperasi", 2),
    case("berapa persen penyerapan dana di koperasi pada triwulan 2", M.SERAPAN, "Koperasi", 2),
    case("Bu, serapan bidang perdagangan kuartal ke-2 sudah berapa?", M.SERAPAN, "Perdagangan", 2),
    case("serapan perdagagan triwulan ketiga", M.SERAPAN, "Perdagangan", 3),
    case("serapan dagang tw2", M.SERAPAN, "Perdagangan", 2),
    case("serapan sekertariat triwulan I", M.SERAPAN, "Sekretariat", 1),
    case("serapan skretariat", M.SERAPAN, "Sekretariat"),
    case("serapan sekre", M.SERAPAN, "Sekretariat"),
    case("sekretariat serapan triwulan pertama", M.SERAPAN, "Sekretariat", 1),
    case("serapan kesekretariatan tw kesatu", M.SERAPAN, "Sekretariat", 1),
    case("serapan umum tw 3", M.SERAPAN, "Sekretariat", 3),
    case("serapan bagian umum", M.SERAPAN, "Sekretariat"),
    case("serapan umk tw4", M.SERAPAN, "UMKM", 4),
    case("serapanya umkm", M.SERAPAN, "UMKM"),
    case("serapan usaha mikro", M.SERAPAN, "UMKM"),
    case("serapan ukm tw 2 th 2022", M.SERAPAN, "UMKM", 2, tahun=2022),
    case("kwartal II serapan umkm", M.SERAPAN, "UMKM", 2),
    case("serapan bid. industri tw 1", M.SERAPAN, "Perindustrian", 1),
    case("serapan bid industri tw 1", M.SERAPAN, "Perindustrian", 1),
    case("serapan industry", M.SERAPAN, "Perindustrian"),
    case("serapan ikm", M.SERAPAN, "Perindustrian"),
    case("Q4/2022 serapan industri", M.SERAPAN, "Perindustrian", 4, tahun=2022),
    case("serapan thn 2022 industri", M.SERAPAN, "Perindustrian", tahun=2022),
    case("bid. kop tw 4 serapan", M.SERAPAN, "Koperasi", 4),
    case("tw-2 serapan kop", M.SERAPAN, "Koperasi", 2),
    case("serapan koperasi TW-III/2022", M.SERAPAN, "Koperasi", 3, tahun=2022),
    case("serapan koperasi tahun 2022", M.SERAPAN, "Koperasi", tahun=2022),
    case("koperasinya gimana serapannya", M.SERAPAN, "Koperasi"),
    case(
        "Assalamualaikum pak, mohon izin bertanya, berapa serapan anggaran bidang koperasi "
        "sampai triwulan III tahun 2022?",
        M.SERAPAN,
        "Koperasi",
        3,
        tahun=2022,
    ),
    case("penyerapn dinas", M.SERAPAN, OPD),
    case("triwulan ke-3 serapan dinas", M.SERAPAN, OPD, 3),
    case("serapan dinas koperasi tw 3", M.SERAPAN, OPD, 3),
    case("total serapan tw 3", M.SERAPAN, OPD, 3),
    case("serapan kantor", M.SERAPAN, OPD),
    case("serapan keseluruhan", M.SERAPAN, OPD),
    case("serapan seluruh bidang", M.SERAPAN, OPD),
    case("serapan semua bidang tw 1 2022", M.SERAPAN, OPD, 1, tahun=2022),
    case("realisasi keuangan dinas triwulan IV 2022", M.SERAPAN, OPD, 4, tahun=2022),
    case("serapan th. 2022", M.SERAPAN, tahun=2022),
    case("serapan 3 juta tw 2", M.SERAPAN, None, 2),
    # weak serapan words: realisasi / anggaran / pagu / dana
    case("berapa realisasi koperasi", M.SERAPAN, "Koperasi"),
    case("realisasinya koperasi", M.SERAPAN, "Koperasi"),
    case("realisasi anggaran umkm", M.SERAPAN, "UMKM"),
    case(
        "realisasi anggaran perindustrian thn 2022 tw 2", M.SERAPAN, "Perindustrian", 2, tahun=2022
    ),
    case("pagu koperasi tw3", M.PAGU, "Koperasi", 3),
    case("dana perdagangan", M.SERAPAN, "Perdagangan"),
    case("anggaran sekretariat tw1", M.SERAPAN, "Sekretariat", 1),
    # fisik
    case("realisai fisik perindustian tw 3", M.FISIK, "Perindustrian", 3),
    case("tw3 perdagangan realisasi fisik", M.FISIK, "Perdagangan", 3),
    case("perdagangan, realisasi fisik, tw 3", M.FISIK, "Perdagangan", 3),
    case("Realisasi Fisik Triwulan III Perdagangan", M.FISIK, "Perdagangan", 3),
    case("REALISASI FISIK TW3 PERDAGANGAN!!!", M.FISIK, "Perdagangan", 3),
    case("realisasi   fisik    tw   3   perdagangan", M.FISIK, "Perdagangan", 3),
    case("TW.II perdagangan fisik", M.FISIK, "Perdagangan", 2),
    case("progres fisik industri", M.FISIK, "Perindustrian"),
    case("fisk koperasi", M.FISIK, "Koperasi"),
    case("fisik kesekretariatan", M.FISIK, "Sekretariat"),
    # capaian
    case("capaian kinerja umkm triwulan keempat", M.CAPAIAN, "UMKM", 4),
    case("capain koprasi", M.CAPAIAN, "Koperasi"),
    case("kinerja koperasi", M.CAPAIAN, "Koperasi"),
    case("indikator perdagangan", M.CAPAIAN, "Perdagangan"),
    case("capaian kinerja sekretaris", M.CAPAIAN, "Sekretariat"),
    case("triwulan ke tiga capaian", M.CAPAIAN, None, 3),
    # hambatan
    case("kendala koperasi", M.HAMBATAN, "Koperasi"),
    case("apa saja masalah di bidang perdagangan?", M.HAMBATAN, "Perdagangan"),
    case("tindak lanjut hambatan sekretariat", M.HAMBATAN, "Sekretariat"),
    case("hambatan dan tindak lanjut bidang koperasi tw 3", M.HAMBATAN, "Koperasi", 3),
    case("aksi perdagangan", M.HAMBATAN, "Perdagangan"),
    case("permasalahan perindustrian tw2", M.HAMBATAN, "Perindustrian", 2),
    case("hambtan perdagangan", M.HAMBATAN, "Perdagangan"),
    case("kendla umkm", M.HAMBATAN, "UMKM"),
    case("kuartal 2 hambatan", M.HAMBATAN, None, 2),
    case("hambatan terbesar koperasi", M.HAMBATAN, "Koperasi", order="desc"),
    # ranking
    case("ranking serapan bidang tw3", M.RANKING, None, 3, ranking_metric=M.SERAPAN),
    case("peringkat realisasi fisik", M.RANKING, ranking_metric=M.FISIK),
    case("bidang mana yang fisiknya tertinggi", M.RANKING, ranking_metric=M.FISIK, order="desc"),
    case("urutan capaian kinerja per bidang", M.RANKING, ranking_metric=M.CAPAIAN),
    case(
        "bidang apa yang paling tinggi penyerapannya tw 2",
        M.RANKING,
        None,
        2,
        ranking_metric=M.SERAPAN,
        order="desc",
    ),
    case("serapan per bidang", M.RANKING, ranking_metric=M.SERAPAN),
    case("paling rendah serapan tw 3 bidang mana", M.RANKING, None, 3, order="asc"),
    case("bidang mana paling rendah", M.RANKING, ranking_metric=M.SERAPAN, order="asc"),
    case("siapa paling tinggi realisasi fisiknya", M.RANKING, ranking_metric=M.FISIK, order="desc"),
    case("program mana di koperasi yang serapannya terendah", M.RANKING, "Koperasi", order="asc"),
    case("bidang yg capaiannya paling jelek", M.RANKING, ranking_metric=M.CAPAIAN, order="asc"),
    case("bidang yang paling bagus serapannya", M.RANKING, order="desc"),
    case("serapan terkecil tw3", M.RANKING, None, 3, order="asc"),
    case("top serapan", M.RANKING, order="desc"),
    case("rangking fisik tw 2", M.RANKING, None, 2, ranking_metric=M.FISIK),
    case("peringkat bidang berdasarkan capaian", M.RANKING, ranking_metric=M.CAPAIAN),
    # deviasi
    case("bidang mana yang serapannya di bawah target?", M.DEVIASI, ranking_metric=M.SERAPAN),
    case("deviasi serapan koperasi tw3", M.DEVIASI, "Koperasi", 3),
    case("apakah serapan koperasi on track?", M.DEVIASI, "Koperasi"),
    case(
        "selisih realisasi fisik dengan target perdagangan",
        M.DEVIASI,
        "Perdagangan",
        ranking_metric=M.FISIK,
    ),
    case("yang tertinggal siapa", M.DEVIASI),
    case("realisasi fisik belum mencapai target", M.DEVIASI, ranking_metric=M.FISIK),
    case("apakah serapan dinas sesuai target", M.DEVIASI, OPD),
    case("serapan kop vs target", M.DEVIASI, "Koperasi"),
    case("deviasi fisik per bidang", M.DEVIASI, ranking_metric=M.FISIK),
    case(
        "bidang mana yang fisiknya di bawah target tw 3", M.DEVIASI, None, 3, ranking_metric=M.FISIK
    ),
    case("apakah fisik perdagangan sudah on track", M.DEVIASI, "Perdagangan"),
    # status pelaporan
    case("sudah lapor belum koperasi tw 3", M.STATUS, "Koperasi", 3),
    case("status laporan tw3", M.STATUS, None, 3),
    case("siapa saja yang sudah melapor", M.STATUS),
    case("bidang mana yang belum kirim laporan", M.STATUS),
    case("laporan koperasi sudah masuk?", M.STATUS, "Koperasi"),
    case("siapa yg blm lapor tw 2", M.STATUS, None, 2),
    case("status pelaporan", M.STATUS),
    case("status laporan triwulan 2 tahun 2022", M.STATUS, None, 2, tahun=2022),
    case("siapa saja yang belum mengirim laporan tw 3", M.STATUS, None, 3),
    # daftar
    case("daftar kegiatan koperasi", M.DAFTAR, "Koperasi"),
    case("kegiatan apa saja di umkm", M.DAFTAR, "UMKM"),
    case("list program perdagangan", M.DAFTAR, "Perdagangan"),
    case("sub kegiatan apa aja di sekretariat", M.DAFTAR, "Sekretariat"),
    case("program koperasi", M.DAFTAR, "Koperasi"),
    case("daftar program", M.DAFTAR),
    case("daftar sub kegiatan perindustrian", M.DAFTAR, "Perindustrian"),
    case("program apa saja yang ada di dinas", M.DAFTAR, OPD),
    case("ada program apa di bidang koperasi", M.DAFTAR, "Koperasi"),
    case("kegiatan apa saja di program pengawasan koperasi", M.DAFTAR, PENGAWASAN),
    case("sub kegiatan apa saja dalam kegiatan metrologi", M.DAFTAR, "Kegiatan Pelaksanaan metr"),
    # chart and trend
    case("diagram realisasi fisik sekretariat", M.FISIK, "Sekretariat", chart=True),
    case("gambar capaian perindustrian", M.CAPAIAN, "Perindustrian", chart=True),
    case("grafiknya serapan kop dong", M.SERAPAN, "Koperasi", chart=True),
    case("chart serapan dinas", M.SERAPAN, OPD, chart=True),
    case("gambar grafik serapan bidang tw3", M.SERAPAN, None, 3, chart=True),
    case("tren serapan koperasi", M.SERAPAN, "Koperasi", chart=True, trend=True),
    case("tren capaian umkm 2022", M.CAPAIAN, "UMKM", tahun=2022, chart=True, trend=True),
    case("perkembangan serapan umkm per triwulan", M.SERAPAN, "UMKM", trend=True),
    case(
        "grafik realisasi fisik per triwulan koperasi", M.FISIK, "Koperasi", chart=True, trend=True
    ),
    case(
        "perkembangan realisasi fisik perdagangan dari waktu ke waktu",
        M.FISIK,
        "Perdagangan",
        trend=True,
    ),
    case("serapan sekretariat tiap triwulan", M.SERAPAN, "Sekretariat", trend=True),
    case("serapan koperasi dari tw1 sampai tw3", M.SERAPAN, "Koperasi", 3, trend=True),
    # nodes: only a distinctive part of the name selects one
    case("serapan kegiatan metrologi", M.SERAPAN, "Kegiatan Pelaksanaan metrologi"),
    case("serapan program pengembangan ekspor", M.SERAPAN, "PROGRAM PENGEMBANGAN EKSPOR"),
    case("fisik program stabilisasi harga", M.FISIK, "PROGRAM STABILITASI HARGA"),
    case("serapan kegiatan promosi dagang", M.SERAPAN, "Kegiatan Penyelenggaraan Promosi"),
    case("serapan sub kegiatan rapat koordinasi", M.SERAPAN, "Sub Kegiatan Penyelenggaraan Rapat"),
    case("serapan sub kegiatan rka skpd", M.SERAPAN, "Sub Kegiatan Koordinasi dan Penyusunan"),
    case("serapan perlengkapan kantor", M.SERAPAN, "Sub Kegiatan Penyediaan Peralatan"),
    case("serapan kendaraan dinas", M.SERAPAN, "Sub Kegiatan Penyediaan Jasa Pemeliharaan"),
    case("serapan program izin usaha industri", M.SERAPAN, "PROGRAM PENGENDALIAN IZIN"),
    case(
        "izin pak, serapan program izin usaha industri tw 3",
        M.SERAPAN,
        "PROGRAM PENGENDALIAN IZIN",
        3,
    ),
    case("capaian program perencanaan industri", M.CAPAIAN, "PROGRAM PERENCANAAN DAN PEMBANGUNAN"),
    case(
        "serapan kegiatan penilaian kesehatan koperasi", M.SERAPAN, "Kegiatan Penilaian kesehatan"
    ),
    case("serapan program penilaian kesehatan ksp usp", M.SERAPAN, "PROGRAM PENILAIAN KESEHATAN"),
    case("serapan kegiatan administrasi umum", M.SERAPAN, "Kegiatan Administrasi Umum"),
    case("hambatan usaha kecil menengah", M.HAMBATAN, "PROGRAM PEMBERDAYAAN USAHA MENENGAH"),
    case("realisasi sub kegiatan gaji", M.SERAPAN),
    # ambiguous: no scope, candidates best first
    case(
        "serapan metrologi",
        M.SERAPAN,
        candidates=(
            "Kegiatan Pelaksanaan metrologi",
            "Sub Kegiatan Pengawasan/penyuluhan metrologi",
            "Sub Kegiatan Pelaksanaan metrologi",
        ),
    ),
    case(
        "serapan sub kegiatan metrologi",
        M.SERAPAN,
        candidates=(
            "Sub Kegiatan Pengawasan/penyuluhan metrologi",
            "Sub Kegiatan Pelaksanaan metrologi",
        ),
    ),
    case(
        "serapan listrik",
        M.SERAPAN,
        candidates=("Sub Kegiatan Penyediaan komponen", "Sub Kegiatan Penyediaan Jasa Komunikasi"),
    ),
    case(
        "serapan izin usaha industri",
        M.SERAPAN,
        candidates=("PROGRAM PENGENDALIAN IZIN", "Penerbitan Izin Usaha"),
    ),
    case(
        "serapan misi dagang",
        M.SERAPAN,
        candidates=("Kegiatan Penyelenggaraan Promosi", "Sub Kegiatan Misi Dagang"),
    ),
    case("q mau tanya serapan koperasi", M.SERAPAN, "Koperasi"),
    case("siapa yang paling rendah serapannya", M.RANKING, order="asc"),
    case("berapa serapan?", M.SERAPAN),
    # partial questions: something recognisable, so not garbage
    case("koperasi", None, "Koperasi"),
    case("semester 1 koperasi", None, "Koperasi", 2),
    case("tw 3", None, None, 3),
    case("2022", None, tahun=2022),
    case("grafik", None, chart=True),
    case("serapan caturwulan 2", M.SERAPAN),
    case("serapan tw 5", M.SERAPAN),
    case("serapan tw 2022", M.SERAPAN, tahun=2022),
    case("serapan koperasi 2021 2022", M.SERAPAN, "Koperasi", tahun=2021),
    case("serapan 1999", M.SERAPAN),
]


@pytest.mark.parametrize(("question", "expected"), PARAPHRASES)
def test_paraphrases(question: str, expected: dict[str, object]) -> None:
    check(question, expected)


def test_enough_paraphrases() -> None:
    assert len(PARAPHRASES) >= 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q2", 2),
        ("q 2", 2),
        ("TW II", 2),
        ("tw2", 2),
        ("tw 2", 2),
        ("tw-2", 2),
        ("TW.II", 2),
        ("triwulan 2", 2),
        ("triwulan II", 2),
        ("triwulan kedua", 2),
        ("kuartal 2", 2),
        ("kuartal kedua", 2),
        ("kwartal II", 2),
        ("triwulan pertama", 1),
        ("triwulan kesatu", 1),
        ("TW I", 1),
        ("tw ketiga", 3),
        ("tw iii", 3),
        ("TRIWULAN III", 3),
        ("triwulan ke-3", 3),
        ("triwulan keempat", 4),
        ("TW IV", 4),
        ("Q4/2022", 4),
        ("triwulam 2", 2),
        ("serapan koperasi triwulan  4 ya", 4),
        ("tw 3 2022", 3),
        ("2022 tw 3", 3),
        ("serapan 3 juta tw 2", 2),
        ("rp 1.234.567 tw 1", 1),
        ("tw1 s/d tw3", 3),
        ("caturwulan 2", None),
        ("semester 1", None),
        ("semester 2 tahun 2022", None),
        ("2022", None),
        ("tahun 2022", None),
        ("tw 5", None),
        ("tw 2022", None),
        ("serapan koperasi", None),
        ("q", None),
        ("", None),
    ],
)
def test_parse_triwulan(text: str, expected: int | None) -> None:
    assert parse_triwulan(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sérapan  KOPERASI!!", "serapan koperasi"),
        ("TW.II", "tw ii"),
        ("😀 tw-2 😀", "tw 2"),
        ("Rp 1.234.567", "rp 1 234 567"),
        ("  \t\n ", ""),
        ("KSP/USP", "ksp usp"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


RNG = random.Random(20221010)
RANDOM_4000 = "".join(
    RNG.choice("abcdefghijklmnopqrstuvwxyz0123456789 .,;'!?😀é") for _ in range(4000)
)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀😀😀",
        "🙏" * 4000,
        "'; DROP TABLE users; --",
        "what is the budget absorption",
        "asdfghjkl qwertyuiop",
        "<script>alert(1)</script>",
        "\x00\x01\x02\u200b\u200f",
        "ما هي الميزانية",
        "预算吸收率是多少",
        "1234567890" * 400,
    ],
)
def test_garbage_is_flagged(text: str) -> None:
    p = parse_question(text, CATALOG)
    assert p.is_garbage is True
    assert p.metric is None
    assert p.scope is None and p.scope_candidates == ()
    assert len(p.text) <= 500


@pytest.mark.parametrize(
    "text", ["ok", "halo", "terima kasih", "selamat pagi bu kadis", "makasih banyak pak", "siap"]
)
def test_courtesy_is_not_garbage(text: str) -> None:
    p = parse_question(text, CATALOG)
    assert p.courtesy is True and p.is_garbage is False
    assert p.metric is None and p.scope is None


def test_two_bidang_joined_are_compared() -> None:
    p = parse_question("serapan koperasi dan perdagangan", CATALOG)
    assert p.compare == "scopes" and p.metric == M.SERAPAN
    assert [e.name for e in p.compare_scopes] == ["Koperasi", "Perdagangan"]


@pytest.mark.parametrize(
    ("text", "quarter", "words"),
    [
        ("realisasi anggaran perdagangan sampai juni", 2, "sampai Juni"),
        ("serapan perdagangan per 30 juni", 2, "per 30 Juni"),
        ("serapan perdagangan per 15 juni", 1, "per 15 Juni"),
        ("serapan koperasi akhir september", 3, "akhir September"),
        ("serapan koperasi s.d. agustus", 2, "Agustus"),
        ("serapan koperasi semester 1", 2, "semester 1"),
        ("serapan koperasi semester ii", 4, "semester 2"),
        ("serapan koperasi akhir tahun", 4, "akhir tahun"),
        ("serapan koperasi sampai septmber", 3, "September"),
    ],
)
def test_period_words(text: str, quarter: int, words: str) -> None:
    p = parse_question(text, CATALOG)
    assert p.triwulan == quarter and words in p.period_words


def test_relative_periods_and_an_unanswerable_month() -> None:
    assert parse_question("serapan tahun lalu", CATALOG).relative_year == -1
    assert parse_question("serapan koperasi tahun ini", CATALOG).relative_year == 0
    assert parse_question("serapan umkm triwulan lalu", CATALOG).previous_quarter
    p = parse_question("serapan umkm sampai januari", CATALOG)
    assert p.triwulan is None and p.unanswerable and "Januari" in p.unanswerable[0]


@pytest.mark.parametrize(
    ("text", "compare", "quarters"),
    [
        ("naik berapa serapan koperasi dari tw1 ke tw2", "periods", (1, 2)),
        ("selisih serapan umkm antara tw2 dan tw3", "periods", (2, 3)),
        ("serapan koperasi tw3 dibanding tw2", "periods", (3, 2)),
        ("bandingkan fisik dan keuangan umkm", "fisik_keuangan", ()),
        ("koperasi vs umkm tw2", "scopes", (2,)),
    ],
)
def test_comparisons(text: str, compare: str, quarters: tuple[int, ...]) -> None:
    p = parse_question(text, CATALOG)
    assert p.compare == compare and p.quarters == quarters
    assert p.metric in (M.SERAPAN, M.FISIK)


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("sisa anggaran koperasi tw2", M.SISA),
        ("sisa pagu umkm", M.SISA),
        ("anggaran yang belum terserap perdagangan", M.SISA),
        ("berapa pagu koperasi", M.PAGU),
        ("berapa yang sudah dibelanjakan umkm", M.REALISASI),
    ],
)
def test_remaining_and_amounts(text: str, metric: Metric) -> None:
    assert parse_question(text, CATALOG).metric == metric


def test_bidang_beats_a_common_word_of_a_long_name() -> None:
    p = parse_question("apakah serapan perdagangan sudah memenuhi target nasional", CATALOG)
    assert p.scope is not None and p.scope.name == "Perdagangan"
    assert p.metric == M.DEVIASI


@pytest.mark.parametrize("text", [RANDOM_4000, "serapan " * 1000, "tw 3 koperasi " * 400])
def test_long_input_never_raises(text: str) -> None:
    p = parse_question(text, CATALOG)
    assert isinstance(p, ParsedQuestion)
    assert len(p.text) <= 500


def test_non_string_input_does_not_raise() -> None:
    p = parse_question(None, CATALOG)  # type: ignore[arg-type]
    assert p.is_garbage and p.text == ""


def test_text_is_whitespace_normalised_and_truncated() -> None:
    assert parse_question("  serapan \n\t koperasi  ", CATALOG).text == "serapan koperasi"
    assert len(parse_question("x" * 10_000, CATALOG).text) == 500


def test_scope_is_the_catalogue_entry_itself() -> None:
    p = parse_question("serapan koperasi", CATALOG)
    assert p.scope is entry("Koperasi")
    assert p.scope is not None and p.scope.kind == "bidang" and p.scope.id == 2


def test_equal_catalogues_give_equal_answers() -> None:
    other = build_catalog()
    assert other is not CATALOG
    for q in ("serapan program pengawasan koperasi tw2", "hambatan umkm", "serapan metrologi"):
        assert parse_question(q, other) == parse_question(q, CATALOG)


def test_empty_catalogue() -> None:
    p = parse_question("serapan koperasi tw 2 2022", Catalog(()))
    assert (p.metric, p.scope, p.triwulan, p.tahun) == (M.SERAPAN, None, 2, 2022)
    assert parse_question("serapan dinas", Catalog(())).scope is None


def test_bidang_come_from_the_catalogue_not_the_code() -> None:
    office = ScopeEntry("opd", 7, "Dinas Pariwisata Kabupaten Solok", ("dinas",))
    wisata = ScopeEntry("bidang", 70, "Destinasi", ("wisata", "destinasi"), 70)
    festival = ScopeEntry("program", 700, "PROGRAM PENGEMBANGAN FESTIVAL BUDAYA", (), 70)
    catalog = Catalog((office, wisata, festival), (2023,))
    assert parse_question("serapan wisata tw 1", catalog).scope == wisata
    assert parse_question("serapan festival budaya", catalog).scope == festival
    assert parse_question("serapan dinas", catalog).scope == office
    assert parse_question("serapan koperasi", catalog).scope is None


def test_random_questions_keep_invariants() -> None:
    rng = random.Random(7)
    words = (
        "serapan fisik capaian hambatan lapor belum siapa paling rendah tertinggi target "
        "program kegiatan sub koperasi kop umkm dagang industri dinas metrologi izin "
        "tw q triwulan kuartal ke 1 2 3 4 5 ii iv kedua 2022 1999 grafik tren per"
    )
    pieces = [*words.split(), "😀", "'", ";", "--", "é", "x", ""]
    for _ in range(500):
        q = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        p = parse_question(q, CATALOG)
        assert p.triwulan in (None, 1, 2, 3, 4)
        assert p.tahun is None or 2000 <= p.tahun <= 2099
        assert not (p.scope and p.scope_candidates)
        assert len(p.scope_candidates) <= 5
        # What a ranking ranks by: also deviation from plan and sisa anggaran (issue 24).
        assert p.ranking_metric in (M.SERAPAN, M.FISIK, M.CAPAIAN, M.DEVIASI, M.SISA)
        assert p.is_garbage == (
            p.metric is None and p.scope is None and not p.scope_candidates
            and p.triwulan is None and p.tahun is None and not p.chart and not p.trend
        )  # fmt: skip


def test_long_random_text_keeps_invariants() -> None:
    """A pasted 4000-character blob is parsed like any question (its speed is measured in
    benchmarks/bench_questions.py, not asserted here: a wall-clock limit fails on a busy
    machine without anything being wrong)."""
    rng = random.Random(99)
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 .,") for _ in range(4000))
    p = parse_question(text, CATALOG)
    assert p.triwulan in (None, 1, 2, 3, 4)
    assert p.tahun is None or 2000 <= p.tahun <= 2099
    assert not (p.scope and p.scope_candidates)
    assert len(p.scope_candidates) <= 5


def test_a_quoted_name_is_taken_as_written() -> None:
    p = parse_question('serapan "Pengembangan Ekspor" tw3', CATALOG)
    assert p.scope is not None and p.scope.name == "PROGRAM PENGEMBANGAN EKSPOR"
    assert p.triwulan == 3 and p.metric == M.SERAPAN
    p = parse_question("serapan “koperasi” tw2", CATALOG)
    assert p.scope is not None and p.scope.kind == "bidang" and p.scope.name == "Koperasi"
    p = parse_question("serapan 'usaha' tw2", CATALOG)  # several names: ask which
    assert p.scope is None and len(p.scope_candidates) >= 2
