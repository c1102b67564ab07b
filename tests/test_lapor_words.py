"""The /lapor checks' reasons are worded once, in ``bot/views/lapor.py``: the exact sentences
users saw when the services wrote them, and the Mini App's JSON carries the very same words."""

from __future__ import annotations

import pytest

from bot.views import lapor as views
from bot.views import webapp as webapp_views
from storage.services import lapor_flow as flow
from storage.services.lapor_form import Checked
from storage.services.submission import (
    Blank,
    Changes,
    IndicatorChange,
    LevelDrop,
    Measure,
    NarasiChange,
    NoPlanYear,
    OutOfRange,
    OverPagu,
    PercentDrop,
    QuarterApproved,
    QuarterClosed,
    QuarterWaiting,
    RupiahDrop,
    SubChange,
    Unparsed,
)

ASK = " Angka kumulatif biasanya tidak turun. Tetap pakai angka ini? (akan dicatat sebagai temuan)"
LEVEL = LevelDrop(
    level="kegiatan",
    nama="Kegiatan Perencanaan",
    whole_bidang=False,
    bidang="Sekretariat",
    prev=66_950_400,
    total=51_677_600,
    triwulan=4,
)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (Unparsed("'x' bukan jumlah rupiah."), "'x' bukan jumlah rupiah."),
        (
            OverPagu(7_000_000, 6_500_000),
            "Realisasi Rp 7.000.000 melebihi pagu Rp 6.500.000. Ketik realisasi kumulatif sampai "
            "akhir triwulan, paling banyak sebesar pagu.",
        ),
        (
            OutOfRange(Measure.FISIK, 120.0),
            "Realisasi fisik 120,00% di luar 0–100%. Ketik angka 0 sampai 100, misalnya 45 "
            "atau 45,5.",
        ),
        (
            OutOfRange(Measure.INDIKATOR, 101.5),
            "Realisasi indikator 101,50% di luar 0–100%. Ketik angka 0 sampai 100, misalnya 45 "
            "atau 45,5.",
        ),
        (
            Blank(hidden=True),
            "Teks itu hanya berisi karakter kendali yang tidak terlihat. Ketik isinya dengan "
            "huruf biasa, atau pilih tombol yang tersedia.",
        ),
        (Blank(hidden=False), "Teks kosong. Ketik isinya, atau pilih tombol yang tersedia."),
    ],
)
def test_a_refused_answer_reads_as_before(reason: object, words: str) -> None:
    assert views.invalid(reason) == words  # type: ignore[arg-type]
    # The chat's refusal and the Mini App's field error are that same sentence.
    assert views.refusal(flow.Refused(invalid=reason)) == words  # type: ignore[arg-type]
    checked = webapp_views.checked_json("anggaran:1", Checked(error=reason))  # type: ignore[arg-type]
    assert checked["galat"] == words


@pytest.mark.parametrize(
    ("drop", "question", "note"),
    [
        (
            RupiahDrop(1_000_000, 5_527_500, nama="Penyusunan Renja"),
            "Realisasi kumulatif Rp 1.000.000 lebih kecil daripada triwulan lalu "
            "(Rp 5.527.500)." + ASK,
            "'Penyusunan Renja': realisasi kumulatif turun dari Rp 5.527.500 menjadi Rp 1.000.000.",
        ),
        (
            PercentDrop(Measure.FISIK, 40.0, 45.5, nama="Penyusunan Renja"),
            "Realisasi fisik kumulatif 40,00% lebih kecil daripada triwulan lalu (45,50%)." + ASK,
            "'Penyusunan Renja': realisasi fisik kumulatif turun dari 45,50% menjadi 40,00%.",
        ),
        (
            PercentDrop(Measure.INDIKATOR, 10.0, 12.5, nama="Indeks kepuasan", sasaran=2),
            "Realisasi indikator kumulatif 10,00% lebih kecil daripada triwulan lalu (12,50%)."
            + ASK,
            "Indikator sasaran 2 'Indeks kepuasan': realisasi turun dari 12,50% menjadi 10,00%.",
        ),
        (
            LEVEL,
            "Dengan angka ini total kegiatan 'Kegiatan Perencanaan' turun dari Rp 66.950.400 "
            "(TW III, dilaporkan di tingkat kegiatan) menjadi Rp 51.677.600." + ASK,
            "Dengan angka ini total kegiatan 'Kegiatan Perencanaan' turun dari Rp 66.950.400 "
            "(TW III, dilaporkan di tingkat kegiatan) menjadi Rp 51.677.600.",
        ),
    ],
)
def test_a_drop_is_asked_and_noted_as_before(drop: object, question: str, note: str) -> None:
    assert views.drop_question(drop) == question  # type: ignore[arg-type]
    assert views.drop_note(drop) == note  # type: ignore[arg-type]
    checked = webapp_views.checked_json("anggaran:1", Checked(value=1, confirm=drop))  # type: ignore[arg-type]
    assert checked["konfirmasi"] == question


def test_a_drop_of_the_whole_bidang_names_the_bidang() -> None:
    whole = LevelDrop("program", "P", True, "Sekretariat & Umum", 10, 5, 2)
    assert views.drop_note(whole).startswith("Dengan angka ini total bidang Sekretariat & Umum ")
    # The chat's message is HTML: a name is escaped there, never sent as markup.
    reply = views.confirm_drop(flow.ConfirmDrop(7, "anggaran:0", whole))
    assert "Sekretariat &amp; Umum" in reply.text and "(TW I," in reply.text


def test_a_closed_quarter_reads_as_before() -> None:
    assert views.closed(NoPlanYear(2031)) == (
        "Tahun 2031 belum memiliki rencana (program dan pagu). Minta admin menyiapkannya."
    )
    assert views.closed(QuarterApproved(2022, 4)) == (
        "Laporan TW IV 2022 bidang ini sudah disetujui dan dikunci. Bila perlu diubah, minta "
        "admin membukanya kembali."
    )
    waiting = (
        "Laporan TW II 2023 sudah diajukan dan sedang menunggu verifikasi. Tunggu hasilnya; bila "
        "dikembalikan, Anda dapat mengubahnya."
    )
    assert views.closed(QuarterWaiting(2023, 2)) == waiting
    assert views.submission_error(QuarterClosed(QuarterWaiting(2023, 2))) == waiting
    assert views.refusal(flow.Refused(closed=QuarterWaiting(2023, 2))) == waiting


def test_changes_since_the_last_submission_read_as_before() -> None:
    changes = Changes(
        3,
        [
            SubChange("Penyusunan Renja", anggaran=(5_000_000, 6_000_000), ket=("", "rapat")),
            SubChange("Evaluasi", fisik=(40.0, 45.5)),
            IndicatorChange(1, "Indeks kepuasan", None, 12.5),
            NarasiChange("tindak_lanjut", 2, "lama", ""),
        ],
        more=4,
    )
    assert views.change_lines(changes) == [
        'Penyusunan Renja: realisasi Rp 5.000.000 → Rp 6.000.000; keterangan "-" → "rapat"',
        "Evaluasi: fisik 40,00% → 45,50%",
        "Indikator sasaran 1 (Indeks kepuasan): - → 12,50%",
        'Tindak lanjut sasaran 2: "lama" → "-"',
        "… dan 4 perubahan lain.",
    ]
