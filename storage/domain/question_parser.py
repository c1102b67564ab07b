"""Turn a free-text Indonesian question into a structured monev query.

"serapan anggaran Q2 koperasi" becomes ParsedQuestion(metric=SERAPAN,
scope=<bidang Koperasi>, triwulan=2). The parser is pure: no Telegram, no
database. The caller passes a Catalog of scopes (the office, its bidang and
the program/kegiatan/sub kegiatan nodes); the search index built from it is
cached per Catalog object, so a question costs a few dictionary look-ups plus
rapidfuzz only for words that are not spelled as expected.
"""

import math
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from rapidfuzz import fuzz, process

from storage.domain.periods import (
    MONTHS,
    QUARTER_NUMBERS,
    QUARTER_WORDS,
    SEMESTER_WORDS,
    quarter_ended_by,
    semester_quarter,
)

ScopeKind = Literal["opd", "bidang", "program", "kegiatan", "sub_kegiatan"]
MAX_PARSED = 500  # characters of a question the parser reads: an input bound


@dataclass(frozen=True)
class ScopeEntry:
    kind: ScopeKind
    id: int
    name: str  # canonical name as stored
    aliases: tuple[str, ...] = ()  # extra spellings, e.g. ("kop", "koperasi") for a bidang
    bidang_id: int | None = None  # owning bidang; the bidang's own id for kind="bidang"


@dataclass(frozen=True)
class Catalog:
    entries: tuple[ScopeEntry, ...]  # one "opd" entry plus bidang and nodes
    years: tuple[int, ...] = ()  # years that have data, ascending


class Metric(StrEnum):
    SERAPAN = "serapan"
    FISIK = "fisik"
    CAPAIAN = "capaian"
    STATUS = "status"
    HAMBATAN = "hambatan"
    RANKING = "ranking"
    DEVIASI = "deviasi"
    DAFTAR = "daftar"
    SISA = "sisa"  # pagu - realisasi
    PAGU = "pagu"
    REALISASI = "realisasi"  # rupiah already spent
    PERINGATAN = "peringatan"  # early warning: plan, deviation from it, year-end projection


Compare = Literal["periods", "scopes", "fisik_keuangan"]


class Process(StrEnum):
    """Questions about the reporting process rather than its figures."""

    BATAS = "batas"  # "kapan batas akhir tw4", "berapa hari lagi"
    DIKEMBALIKAN = "dikembalikan"  # "laporan apa yang dikembalikan"
    VERIFIKASI = "verifikasi"  # "siapa yang memverifikasi laporan koperasi tw3"


@dataclass(frozen=True)
class ParsedQuestion:
    text: str  # the input, whitespace-normalised, truncated to MAX_PARSED chars
    metric: Metric | None  # None when no metric word was found
    ranking_metric: Metric = Metric.SERAPAN  # what RANKING/DEVIASI rank by
    order: Literal["asc", "desc"] | None = None  # "terendah" -> asc, "tertinggi" -> desc
    scope: ScopeEntry | None = None  # best confident match
    scope_candidates: tuple[ScopeEntry, ...] = ()  # when ambiguous: up to 5, best first
    triwulan: int | None = None  # 1..4
    tahun: int | None = None  # 4-digit year mentioned
    chart: bool = False  # "grafik", "chart", "diagram", "gambar", "tren"
    trend: bool = False  # "tren", "perkembangan", "per triwulan", two quarters named
    is_garbage: bool = False  # nothing recognisable at all
    quarters: tuple[int, ...] = ()  # every quarter named, in the order written
    years: tuple[int, ...] = ()  # every 4-digit year named, in the order written
    relative_year: int | None = None  # "tahun ini" 0, "tahun lalu" -1 (from today's date)
    previous_quarter: bool = False  # "triwulan lalu": the last quarter ended by today
    period_words: str = ""  # how the period was said, when not as a quarter ("sampai juni")
    compare: Compare | None = None  # what is compared with what
    compare_scopes: tuple[ScopeEntry, ...] = ()  # the two scopes of compare="scopes"
    courtesy: bool = False  # only a greeting or thanks
    unanswerable: tuple[str, ...] = ()  # parts of the question that cannot be answered
    level: ScopeKind | None = None  # "kegiatan apa …": the level of the rows asked for
    # Words that name a scope which is not in the catalogue ("bidang pertanian"): answered
    # by naming them back, never by widening to the office.
    unknown_scope: str = ""
    unknown_kind: ScopeKind | Literal[""] = ""  # the level word said before them, if any
    stray: tuple[str, ...] = ()  # words understood as nothing at all
    process: Process | None = None  # a question about the reporting process, not a figure
    limit: int | None = None  # "5 sub kegiatan …", "top 3": how many rows a ranking shows


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_S, _F, _C, _H = Metric.SERAPAN, Metric.FISIK, Metric.CAPAIAN, Metric.HAMBATAN
# metric -> (strong words, weak words). Strong words name the metric outright; weak ones
# decide only when nothing stronger is present, so "realisasi fisik" is FISIK.
_METRIC_WORDS: dict[Metric, tuple[str, str]] = {
    _S: ("serapan penyerapan terserap diserap menyerap keuangan belanja srpn srapan serap",
         "realisasi anggaran pagu dana uang"),
    _F: ("fisik", "progres progress kemajuan"),
    _C: ("capaian pencapaian indikator", "kinerja tercapai"),
    _H: ("hambatan kendala masalah permasalahan tindak tindaklanjut aksi solusi problem "
         "terhambat hambat kesulitan", ""),
}  # fmt: skip
_STRONG = {w: m for m, (strong, _) in _METRIC_WORDS.items() for w in strong.split()}
_WEAK = {w: m for m, (_, weak) in _METRIC_WORDS.items() for w in weak.split()}
_RANKABLE = (_S, _F, _C)
_RANK = _words(
    "ranking rangking rank peringkat urutan urut urutkan klasemen perbandingan bandingkan"
)
_SUPERLATIVE: dict[str, Literal["asc", "desc"]] = {
    **dict.fromkeys(
        _words("terendah terkecil tersedikit terburuk terjelek terbawah terlemah"), "asc"
    ),
    **dict.fromkeys(
        _words("tertinggi terbesar terbanyak terbaik teratas terbagus tercepat top"), "desc"
    ),
}
_ADJECTIVE: dict[str, Literal["asc", "desc"]] = {
    **dict.fromkeys(_words("rendah kecil sedikit buruk jelek lambat"), "asc"),
    **dict.fromkeys(_words("tinggi besar banyak baik bagus cepat"), "desc"),
}
_INTENSIFIER = _words("paling plg ter")
_DEVIASI = _words("deviasi selisih tertinggal ketinggalan gap meleset ontrack offtrack track")
_TARGET = _words("target jadwal")
# Early warning: "berisiko tidak terserap", "peringatan dini", "proyeksi akhir tahun",
# "tertinggal dari rencana" (a deviation word next to the office's plan).
_PERINGATAN = _words(
    "berisiko risiko resiko beresiko peringatan proyeksi prakiraan prediksi perkiraan ramalan "
    "dini warning"
)
_RENCANA = _words("rencana rencananya penarikan")
_TARGET_CONTEXT = _words(
    "bawah dibawah kurang belum blm tidak tak gak jauh sesuai melebihi atas diatas melampaui "
    "lampaui banding dibanding dibandingkan vs versus capai mencapai tercapai nasional "
    "memenuhi penuhi terpenuhi"
)
_COMPARE = _words(
    "naik turun kenaikan penurunan selisih beda perbedaan banding dibanding dibandingkan "
    "bandingkan perbandingan vs versus lawan ketimbang daripada"
)
_SISA = _words("sisa sisanya tersisa silpa")
_UNSPENT = _words("terserap diserap terpakai dipakai digunakan terealisasi")
_SPENT = _words("dibelanjakan terbelanjakan terpakai dipakai digunakan dikeluarkan terealisasi")
_COURTESY = _words(
    "terima kasih makasih makasi mksh trims trimakasih terimakasih thanks thank thx tq you ok "
    "oke okay okey oce slamat met bot monev"
    " siap baik halo hallo hai hi hey pagi siang sore malam selamat assalamualaikum "
    "assalamu alaikum wr wb mantap sip noted good morning"
)
_RELATIVE = _words("lalu kemarin sebelumnya kemaren lampau")
_THIS = _words("ini berjalan sekarang")
_YEAR_WORDS = _words("tahun thn th ta thun")
_END = _words("akhir ujung penutupan tutup")
_NEGATION = _words("belum blm tidak tdk tak gak ga nggak")
_REACHED = _words("capai mencapai tercapai")
_LAPOR = _words(
    "lapor laporan melapor melaporkan dilaporkan pelaporan kirim mengirim dikirim submit input "
    "setor menyetor isi mengisi diisi upload unggah"
)
_STATUS_MARK = _words("belum blm sudah udah udh sdh telah siapa status terlambat telat")
_LIST = _words("daftar list sebutkan rincian")
_LIST_TAIL = _words("saja aja sj aj apa")
_KIND: dict[str, ScopeKind] = {
    **dict.fromkeys(_words("program progam prog prg"), "program"),
    **dict.fromkeys(_words("kegiatan keg kgt giat"), "kegiatan"),
    **dict.fromkeys(_words("subkegiatan subkeg"), "sub_kegiatan"),
}
_CHART = _words("grafik chart diagram gambar visual visualisasi plot bagan grafis infografis")
_CHART_TREND = _words("tren trend")
_TREND = _words("perkembangan historis riwayat pertriwulan waktu")
_PER = _words("per tiap setiap masing")
_PERMIT = _words("izin ijin")
_POLITE = _words("mohon minta bertanya tanya pak bu bapak ibu ya kak")
_OPD = _words("dinas total kantor opd keseluruhan seluruh seluruhnya skpd")
_ALL = _words("semua seluruh")
_QUARTER = QUARTER_WORDS
_QUARTER_NUM = QUARTER_NUMBERS
_FILLER = _words(
    "apa saja aja sj aj yang yg di ke dari bidang bid berapa brp dong pak bu ibu bapak tolong tlg "
    "mohon minta sekarang skrg untuk utk pada dan mana siapa ya yaa info informasi kah nya lihat "
    "liat tampilkan tunjukkan kasih tau tahu gimana bagaimana bgmn gmn berapakah itu ini ada sudah "
    "belum udah blm sdh kita kami saya aku per persen seperti sampai hingga sd s saat terakhir "
    "terbaru terkini data nilai jumlah dalam bagi atau serta oleh adalah semua hasil mau tanya "
    "bisa apakah tentang mengenai soal terkait punya milik kan deh sih lah nih kak mas mbak "
    "selamat pagi siang sore malam terima makasih thanks halo hai assalamualaikum wr wb the what "
    "is of how much tahun thn th ta thun bagian seksi divisi paling plg ter lebih lbh sangat dgn "
    "dengan posisi angka rupiah rp masuk yth kepala kadis bos ga gak nggak tdk tak hanya cuma "
    "semester caturwulan catur lanjut on bertanya satu bulan melalui berupa para terhadap tiap "
    "setiap masing sebagai secara agar karena"
)
_KEYWORDS = (
    set(_STRONG) | set(_WEAK) | _RANK | set(_SUPERLATIVE) | _DEVIASI | _TARGET | _LAPOR
    | _STATUS_MARK | _LIST | set(_KIND) | {"sub"} | _CHART | _CHART_TREND | _TREND | _QUARTER
    | set(_QUARTER_NUM) | _COMPARE | _SISA | _SPENT | set(MONTHS) | SEMESTER_WORDS
    | _words("nasional memenuhi penuhi terpenuhi") | _PERINGATAN | _RENCANA
)  # fmt: skip
_FUZZY_KEYWORDS = sorted(w for w in _KEYWORDS if len(w) >= 5)
# A level word right before a name: "bidang pertanian", "program ketahanan pangan".
_SCOPE_LEAD: dict[str, ScopeKind] = {
    **dict.fromkeys(_words("bidang bid bagian seksi divisi"), "bidang"),
    **_KIND,
    **dict.fromkeys(_words("dinas opd kantor skpd badan"), "opd"),
}
# Chat words that carry no scope and no figure: never reported as not understood.
_CHAT = _words(
    "harus perlu wajib mesti hari cek coba kira segera kondisi keadaan gambaran mohonkan bantu "
    "tolong kalau kalo jika bila begini gini terus seperti sekali banget dulu lagi saja gitu "
    "gimana kayak kaya ok oke "
    "bisakah tampilkan berikan beri kirimi laporkan sebutkan jelaskan lihatkan kasi minta pls "
    "please tsb dll dsb krn karna sy sya kmi bgmn bgaimana gmana knp"
)
# "kenapa serapan umkm rendah": the reasons reported (hambatan), not the figure again.
_WHY = _words("kenapa mengapa knp penyebab sebab penyebabnya sebabnya")
# Early warning in people's words: "apa saja yang harus dipercepat", "kalau begini terus …
# akhir tahun terserap berapa" (a projection), "paling tertinggal dari rencananya".
_SPEED_UP = _words("dipercepat percepat percepatan digenjot dikejar kejar genjot")
_IF_SO = _words("begini gini terus kalau kalo jika bila tren")
_DEADLINE = _words("batas tenggat deadline tempo")
_WHEN = _words("kapan tanggal tgl")
_RETURNED = _words("dikembalikan kembalikan dikembalikannya ditolak dikembalikn")
_VERIFIED = _words(
    "memverifikasi verifikasi diverifikasi menyetujui disetujui setujui approve approved "
    "verifikator memeriksa diperiksa"
)
_SUFFIXES = ("nya", "kah", "lah", "pun")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGIT_EDGE = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_LEVEL = {"program": 3.0, "kegiatan": 2.0, "sub_kegiatan": 1.0}


def normalise(text: str) -> str:
    """Lowercase, fold accents, drop emoji and punctuation, collapse spaces."""
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return " ".join(_NON_ALNUM.sub(" ", folded).split())


def _tokens(text: str) -> list[str]:
    # "tw2", "Q3", "th2022" are written glued; split letters from digits.
    return _DIGIT_EDGE.sub(" ", normalise(text)).split()


def _content_tokens(name: str) -> list[str]:
    return [
        t
        for t in _tokens(name)
        if len(t) > 1 and not t.isdecimal() and t not in _FILLER and t not in _KIND and t != "sub"
    ]


class _Index:
    """Search structures for one Catalog; built once, reused for every question."""

    def __init__(self, catalog: Catalog) -> None:
        entries = catalog.entries
        self.entries = entries
        self.opd: ScopeEntry | None = next((e for e in entries if e.kind == "opd"), None)
        # Bidang aliases: one-word aliases hit alone, multi-word ones need every word.
        self.alias_single: dict[str, set[int]] = {}
        self.alias_multi: list[tuple[frozenset[str], int]] = []
        bidang_words: set[str] = set()
        for i, e in enumerate(entries):
            if e.kind != "bidang":
                continue
            for alias in (e.name, *e.aliases):
                toks = _content_tokens(alias)
                bidang_words.update(toks)
                if len(toks) == 1:
                    self.alias_single.setdefault(toks[0], set()).add(i)
                elif toks:
                    self.alias_multi.append((frozenset(toks), i))
        opd_name = _content_tokens(self.opd.name) if self.opd else []
        opd_alias = [t for a in (self.opd.aliases if self.opd else ()) for t in _content_tokens(a)]
        self.opd_lead = tuple(opd_name[:2]) if len(opd_name) >= 2 else None
        self.opd_name = frozenset(opd_name)
        self.opd_words = _OPD | set(opd_alias) | (self.opd_name - bidang_words)
        # Generic words say which bidang or office, never which node.
        self.generic = frozenset(bidang_words | self.opd_words | self.opd_name)
        self.nodes = [i for i, e in enumerate(entries) if e.kind not in ("opd", "bidang")]
        self.node_tokens: dict[int, frozenset[str]] = {}
        self.postings: dict[str, list[int]] = {}
        for i in self.nodes:
            node_toks = frozenset(t for a in (entries[i].name, *entries[i].aliases)
                                  for t in _content_tokens(a))  # fmt: skip
            self.node_tokens[i] = node_toks
            for t in node_toks:
                self.postings.setdefault(t, []).append(i)
        n = max(len(self.nodes), 1)
        self.idf = {t: math.log(1 + n / len(p)) for t, p in self.postings.items()}
        self.vocab = frozenset(self.postings) | self.generic
        self.known = self.vocab | _KEYWORDS | _FILLER | _OPD | set(_ADJECTIVE) | _TARGET_CONTEXT
        self.vocab_pool = sorted(self.vocab - _KEYWORDS)
        self.short_pool = sorted(set(self.alias_single) | self.opd_words)
        self._cache: dict[str, tuple[str, bool]] = {}
        self.full_names = [(normalise(e.name), e) for e in entries if e.kind != "opd"]

    def quoted(self, text: str) -> list[ScopeEntry]:
        """Entries whose name contains a quoted part of the question, exactly (normalised)."""
        key = normalise(text)
        if len(key) < 3:
            return []
        exact = [e for name, e in self.full_names if name == key]
        return exact or [e for name, e in self.full_names if key in name]

    def canon(self, tok: str) -> tuple[str, bool]:
        """Map a token to a known word; the flag says whether it was spelled exactly."""
        hit = self._cache.get(tok)
        if hit is None:
            hit = self._lookup(tok)
            if len(self._cache) > 4096:  # random input must not grow memory without bound
                self._cache.clear()
            self._cache[tok] = hit
        return hit

    def _lookup(self, tok: str) -> tuple[str, bool]:
        if tok.isdecimal() or tok in self.known:
            return tok, True
        stem = tok
        for suf in _SUFFIXES:
            if tok.endswith(suf) and len(tok) > len(suf) + 2:
                stem = tok[: -len(suf)]
                if stem in self.known:
                    return stem, True
                break
        if len(stem) < 3:
            return tok, False
        best: tuple[str, float] = (tok, 0.0)
        if len(stem) >= 4:
            m = process.extractOne(stem, _FUZZY_KEYWORDS, scorer=fuzz.ratio, score_cutoff=85)
            if m:
                best = (m[0], m[1])
        # Three-letter words are too easy to confuse with node words; only short aliases
        # ("umk" -> "umkm") are worth guessing.
        pool = self.short_pool if len(stem) == 3 else self.vocab_pool
        cutoff = 80 if len(stem) >= 8 else 85
        m = process.extractOne(stem, pool, scorer=fuzz.ratio, score_cutoff=cutoff)
        if m and m[1] > best[1]:
            best = (m[0], m[1])
        return best[0], False

    def resolve(
        self, content: dict[str, bool], secondary: set[str], kind: ScopeKind | None, opd_hit: bool
    ) -> tuple[ScopeEntry | None, tuple[ScopeEntry, ...]]:
        """Pick the scope; return (scope, ()) when sure, (None, candidates) when not."""
        entries = self.entries
        bidang: dict[int, bool] = {}
        for w, exact in content.items():
            for i in self.alias_single.get(w, ()):
                bidang[i] = bidang.get(i, False) or exact
        for toks, i in self.alias_multi:
            if toks <= content.keys():
                bidang[i] = bidang.get(i, False) or all(content[t] for t in toks)
        bidang_ids = {entries[i].bidang_id or entries[i].id for i in bidang}
        scores: dict[int, list[float]] = {}
        for w, exact in content.items():
            if w in self.generic:
                continue
            for i in self.postings.get(w, ()):
                s = scores.setdefault(i, [0.0, 0.0])
                s[0] += self.idf[w] * (1.0 if exact else 0.8)
                s[1] += exact
        if scores:
            extra = {w for w in content if w in self.generic} | secondary
            for i, s in scores.items():
                e, toks = entries[i], self.node_tokens[i]
                s[0] += sum(0.5 * self.idf.get(w, 1.0) for w in extra & toks)
                s[0] += 1.5 * (e.kind == kind) + 0.5 * (e.bidang_id in bidang_ids)
                # Tie-break only (never decides ambiguity): the umbrella node first, then
                # the name the query covers best.
                s.append(_LEVEL.get(e.kind, 0) + len(content.keys() & toks) / len(toks))
            ranked = sorted(scores, key=lambda i: (-scores[i][0], -scores[i][2]))
            best = ranked[0]
            # A bidang or the office named outright beats a node reached through one common
            # or guessed word ("target nasional" is not the SIINas sub kegiatan): a node
            # must be named by a distinctive part of its name, or by its level word.
            hits = [w for w in content.keys() & self.node_tokens[best] if w not in self.generic]
            weak_node = (
                len(hits) == 1
                and len(content.keys() & self.node_tokens[best]) == 1
                and (not content[hits[0]] or len(self.postings[hits[0]]) > 2)
            )
            named = any(bidang.values()) or (opd_hit and self.opd is not None)
            if weak_node and named and kind is None:
                scores = {}
            # An exact bidang word beats a node reached only through a guessed spelling.
            elif scores[best][1] or not any(bidang.values()):
                close = [i for i in ranked if scores[i][0] >= 0.9 * scores[best][0]]
                if len(close) == 1:
                    return entries[best], ()
                return None, tuple(entries[i] for i in close[:5])
        if bidang:
            sure = [i for i, exact in bidang.items() if exact] or list(bidang)
            if len(sure) == 1:
                return entries[sure[0]], ()
            return None, tuple(entries[i] for i in sorted(sure)[:5])
        if opd_hit and self.opd:
            return self.opd, ()
        return None, ()


_INDEXES: dict[int, tuple[Catalog, _Index]] = {}
_EMPTY_INDEX = _Index(Catalog(()))


def _index(catalog: Catalog) -> _Index:
    # Keyed by identity: hashing a frozen catalogue of ~80 entries per question
    # would cost more than the parse itself. The stored reference keeps the id valid.
    hit = _INDEXES.get(id(catalog))
    if hit is None or hit[0] is not catalog:
        if len(_INDEXES) >= 8:
            _INDEXES.pop(next(iter(_INDEXES)))
        hit = (catalog, _Index(catalog))
        _INDEXES[id(catalog)] = hit
    return hit[1]


def _clean(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return " ".join(text[: MAX_PARSED * 8].split())[:MAX_PARSED]


def _quarters(ws: list[str], used: list[bool]) -> tuple[list[int], bool]:
    """Find "tw 2", "triwulan ke-2", "kuartal kedua"...; also report "per triwulan"."""
    found: list[int] = []
    per = False
    for i, w in enumerate(ws):
        if w not in _QUARTER:
            continue
        j = i + 1 + (i + 1 < len(ws) and ws[i + 1] == "ke")
        if j < len(ws) and ws[j] in _QUARTER_NUM:
            found.append(_QUARTER_NUM[ws[j]])
            used[i : j + 1] = [True] * (j + 1 - i)
        else:
            used[i] = True
            per = per or (i > 0 and ws[i - 1] in _PER)
    return found, per


def parse_triwulan(text: str) -> int | None:
    """Quarter named in the text (1..4); a range "tw1 s/d tw3" gives the later one."""
    ws = [_EMPTY_INDEX.canon(t)[0] for t in _tokens(_clean(text))]
    found, _ = _quarters(ws, [False] * len(ws))
    return found[-1] if found else None


_LEAD = _words("sampai sampe smpai smpe hingga hinga sd per posisi akhir awal tanggal tgl tutup")
_QUOTED = re.compile(r"[\"“”'‘’«»]([^\"“”'‘’«»]{3,120})[\"“”'‘’«»]")
_LEAD_SPELLING = {"sampe": "sampai", "smpai": "sampai", "smpe": "sampai", "hinga": "hingga"}
_MONTH_NAME = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
               "September", "Oktober", "November", "Desember")  # fmt: skip


@dataclass
class _Period:
    quarters: list[int]
    years: list[int]
    words: str = ""
    relative_year: int | None = None
    previous_quarter: bool = False
    unanswerable: list[str] = field(default_factory=list)


def _period_words(ws: list[str], tokens: list[str], used: list[bool]) -> _Period:
    """Months, half-years and relative periods: "sampai juni", "per 30 juni", "semester 1",
    "akhir tahun", "tahun lalu", "triwulan lalu". Named quarters are found by ``_quarters``."""
    out = _Period([], [])
    n = len(ws)
    said: list[str] = []
    for i, w in enumerate(ws):
        nx = ws[i + 1] if i + 1 < n else ""
        if w in MONTHS and not used[i]:
            day = None
            start = i
            if i and tokens[i - 1].isdecimal() and 1 <= int(tokens[i - 1]) <= 31:
                day, start = int(tokens[i - 1]), i - 1
                used[i - 1] = True
            if start and ws[start - 1] == "awal":
                day = day or 1
            if start and ws[start - 1] in _LEAD:
                start -= 1
            used[start : i + 1] = [True] * (i + 1 - start)  # "akhir" is no node's name here
            if i + 1 < n and tokens[i + 1].isdecimal() and len(tokens[i + 1]) == 4:
                out.years.append(int(tokens[i + 1]))
                used[i + 1] = True
            month = MONTHS[w]
            lead = [_LEAD_SPELLING.get(t, t) for t in tokens[start:i]]
            shown = " ".join([*lead, _MONTH_NAME[month - 1]])
            said.append(shown)
            tw = quarter_ended_by(month, day)
            if tw:
                out.quarters.append(tw)
            else:
                out.unanswerable.append(
                    f"“{shown}”: belum ada triwulan yang berakhir sampai saat itu"
                )
        elif w in SEMESTER_WORDS:
            j = i + 1 + (nx == "ke")
            if j < n and _QUARTER_NUM.get(ws[j]) in (1, 2):
                sem = _QUARTER_NUM[ws[j]]
                out.quarters.append(semester_quarter(sem))
                said.append(f"semester {sem}")
                used[i : j + 1] = [True] * (j + 1 - i)
        elif w in _END and nx in _YEAR_WORDS:
            out.quarters.append(4)
            said.append("akhir tahun")
            used[i : i + 2] = [True, True]
        elif w in _YEAR_WORDS and nx in _RELATIVE | _THIS and "lalu" not in ws[i + 2 : i + 3]:
            out.relative_year = -1 if nx in _RELATIVE else 0
            said.append("tahun lalu" if nx in _RELATIVE else "tahun ini")
            used[i : i + 2] = [True, True]
        elif w in _QUARTER and nx in _RELATIVE:
            out.previous_quarter = True
            said.append("triwulan lalu")
            used[i : i + 2] = [True, True]
    out.words = ", ".join(said)
    return out


def _courtesy(tokens: list[str]) -> bool:
    """Only a greeting, thanks or acknowledgement ("terima kasih pak", "ok", "selamat pagi")."""
    return (
        bool(tokens)
        and any(t in _COURTESY for t in tokens)
        and all(
            t in _COURTESY or t in _POLITE or t in _FILLER or t in _words("banyak atas infonya")
            for t in tokens
        )
    )


def parse_question(text: str, catalog: Catalog) -> ParsedQuestion:
    """Parse one question; never raises, whatever the input."""
    clean = _clean(text)
    idx = _index(catalog)
    tokens = _tokens(clean)
    canon = [idx.canon(t) for t in tokens]
    ws = [w for w, _ in canon]
    n = len(ws)
    used = [False] * n
    quarters, per_quarter = _quarters(ws, used)
    said = _period_words(ws, tokens, used)
    quarters += said.quarters
    years = said.years
    for i, t in enumerate(tokens):
        if not used[i] and len(t) == 4 and t.isdecimal() and 2000 <= int(t) <= 2099:
            used[i] = True
            years.append(int(t))
    tahun = years[0] if years else None
    has = set(ws)
    nxt = [*ws[1:], ""]
    opd_hit = False
    for i in range(n - 1):
        if idx.opd_lead and (ws[i], ws[i + 1]) == idx.opd_lead:
            # "Dinas Koperasi ..." is how people name the whole office.
            j = i
            while j < n and (ws[j] in idx.opd_name or ws[j] in _FILLER or ws[j] in idx.generic):
                used[j], j = True, j + 1
            opd_hit = True
        elif ws[i] in _ALL and ws[i + 1] == "bidang":
            opd_hit = True
    order: Literal["asc", "desc"] | None = None
    strong: Metric | None = None
    weak: Metric | None = None
    rank = bool(has & _RANK) or any(
        ws[i] in _PER and nxt[i] == "bidang" for i in range(n)
    )  # "serapan per bidang" compares the bidang
    kind: ScopeKind | None = None
    listing = bool(has & _LIST)
    content: dict[str, bool] = {}
    secondary: set[str] = set()
    mentioned: set[Metric | None] = set()
    for i, (w, exact) in enumerate(canon):
        if used[i]:
            continue
        prev = ws[i - 1] if i else ""
        if w in _PERMIT and (prev in _POLITE or nxt[i] in _POLITE):
            continue  # "mohon izin bertanya" is courtesy, not the izin usaha program
        if w in _SUPERLATIVE:
            order, rank = order or _SUPERLATIVE[w], True
        elif w in _ADJECTIVE and (
            prev in _INTENSIFIER or (bool(has & {"mana", "siapa"}) and w in ("rendah", "tinggi"))
        ):
            order, rank = order or _ADJECTIVE[w], True
            continue
        if strong is None and w in _STRONG:
            strong = _STRONG[w]
        if weak is None and w in _WEAK:
            weak = _WEAK[w]
        if w != "realisasi":  # "realisasi fisik" names fisik only
            mentioned.add(_STRONG.get(w) or _WEAK.get(w))
        if w == "sub" and nxt[i] in _KIND:
            kind = "sub_kegiatan"
            used[i + 1] = True
        elif w in _KIND:
            kind = _KIND[w]
            listing = listing or nxt[i] == "apa"
        elif w in ("apa", "mana") and nxt[i] in _LIST_TAIL:
            listing = True
        if w in _KEYWORDS:
            if w in idx.vocab:
                secondary.add(w)
        elif w in idx.vocab and w not in _FILLER:
            content[w] = content.get(w, False) or exact
    opd_hit = opd_hit or any(w in idx.opd_words for w in content)
    scope, candidates = idx.resolve(content, secondary, kind, opd_hit)
    raw = set(tokens)
    process = _process(tokens, raw, has)
    unknown = [
        not used[i]
        and len(tokens[i]) >= 3
        and tokens[i].isalpha()
        and ws[i] not in idx.known
        and tokens[i] not in _CHAT | _SPEED_UP | _IF_SO | _DEADLINE | _WHEN | _RETURNED
        and tokens[i] not in _VERIFIED | _COURTESY | _POLITE | _PERMIT | _WHY
        for i in range(n)
    ]
    unknown_scope, unknown_kind = "", ""

    def name_word(i: int) -> bool:
        # A word of a name that is not this office's or one of its bidang: "dinas
        # kesehatan", "program ketahanan pangan" (even if a node shares "pangan").
        w = ws[i]
        return (
            not used[i]
            and w in idx.vocab
            and w not in idx.generic
            and w not in _KEYWORDS
            and w not in _FILLER
        )

    def guessed(i: int) -> bool:
        # Spelled like no word of the catalogue: a guess that is not a bidang's or the
        # office's word does not make "bid perikanan" a bidang.
        return not canon[i][1] and ws[i] not in idx.generic and name_word(i)

    for i in range(n - 1):
        lead = _SCOPE_LEAD.get(ws[i])
        if lead is None or used[i]:
            continue
        office = lead == "opd"
        # A bidang's name is one of its aliases, spelled as such: a guess towards a node's
        # word does not make one. Programs and kegiatan are found by their words, guessed
        # or not; only a word that is nobody's makes their name unknown.
        miss = (lambda k: unknown[k] or guessed(k)) if lead == "bidang" else unknown.__getitem__
        j = i + 1
        while j < n and (unknown[j] or guessed(j) or name_word(j)):
            j += 1
        run = range(i + 1, j)
        if not any(miss(k) for k in run) and not (office and j > i + 1):
            continue
        for k in run:
            unknown[k] = False
        unknown_scope = " ".join(tokens[i + 1 : j])
        unknown_kind = "sub_kegiatan" if lead == "kegiatan" and i and ws[i - 1] == "sub" else lead
        break
    stray = tuple(tokens[i] for i in range(n) if unknown[i])
    quoted = [e for q in _QUOTED.findall(clean) for e in idx.quoted(q)]
    if quoted:
        # A name in quotes is taken as written: it beats any reading of single words.
        scope, candidates = (quoted[0], ()) if len(quoted) == 1 else (None, tuple(quoted[:5]))
    if strong == _C and mentioned & {_S}:
        strong = _S  # "capaian serapan": how far the absorption has come, not an indicator
    if raw & _WHY:
        strong = _H
    base = strong or weak
    status = bool(has & _LAPOR and has & _STATUS_MARK) or ("status" in has and base is None)
    deviasi = bool(has & _DEVIASI) or bool(has & _TARGET and has & _TARGET_CONTEXT)
    deviasi = deviasi or bool(has & _NEGATION and has & _REACHED)
    sisa = bool(has & _SISA) or bool(has & _NEGATION and has & _UNSPENT)
    spent = bool(has & _SPENT) and not sisa
    pagu = "pagu" in has and strong is None and "realisasi" not in has
    compare: Compare | None = None
    joined = bool(has & _COMPARE) or bool(has & _words("dan antara"))
    if (
        joined
        and scope is None
        and len(candidates) >= 2
        and all(c.kind == "bidang" for c in candidates)
    ):
        compare = "scopes"
    elif has & _COMPARE and (
        len(set(quarters)) > 1 or len(set(years)) > 1 or said.relative_year == -1
    ):
        compare = "periods"
    elif joined and _F in mentioned and _S in mentioned and not has & _TARGET:
        compare = "fisik_keuangan"
    warn = bool(has & _PERINGATAN) or bool(raw & _SPEED_UP)
    warn = warn or ("akhir tahun" in said.words and bool(raw & _IF_SO))
    early = warn or bool(has & _RENCANA and (deviasi or rank or order))
    # "paling tertinggal", "sisa anggaran terbesar": a ranking by deviation or by sisa.
    ranked = bool(has & _RANK) or order is not None or bool(has & _INTENSIFIER)
    rank_by: Metric | None = None
    if not status and not warn and compare is None and ranked and base != _H:
        if deviasi:
            rank_by, order = Metric.DEVIASI, order or "asc"
        elif sisa:
            rank_by, order = Metric.SISA, order or "desc"
    metric: Metric | None
    if status:
        metric = Metric.STATUS
    elif rank_by is not None:
        metric = Metric.RANKING
    elif early and compare is None:
        metric = Metric.PERINGATAN
    elif compare:
        metric = _F if compare != "fisik_keuangan" and base == _F else _S
    elif sisa:
        metric = Metric.SISA
    elif deviasi:
        metric = Metric.DEVIASI
    elif rank and base != _H:
        metric = Metric.RANKING
    elif spent:
        metric = Metric.REALISASI
    elif pagu:
        metric = Metric.PAGU
    elif strong:
        metric = strong
    elif listing or (kind and base is None and scope and scope.kind in ("opd", "bidang")):
        metric = Metric.DAFTAR
    else:
        metric = weak
    chart = bool(has & (_CHART | _CHART_TREND))
    trend = compare is None and (
        bool(has & (_CHART_TREND | _TREND)) or per_quarter or len(set(quarters)) > 1
    )
    courtesy = metric is None and scope is None and not candidates and _courtesy(tokens)
    garbage = not (
        metric or scope or candidates or quarters or tahun or chart or trend or courtesy
    ) and not (said.words or said.unanswerable)
    return ParsedQuestion(
        text=clean,
        metric=metric,
        ranking_metric=rank_by or (base if base in _RANKABLE else _S),
        order=order,
        scope=scope,
        scope_candidates=() if compare == "scopes" else candidates,
        triwulan=quarters[-1] if quarters else None,
        tahun=tahun,
        chart=chart,
        trend=trend,
        is_garbage=garbage,
        quarters=tuple(quarters),
        years=tuple(years),
        relative_year=said.relative_year,
        previous_quarter=said.previous_quarter,
        period_words=said.words,
        compare=compare,
        compare_scopes=candidates[:2] if compare == "scopes" else (),
        courtesy=courtesy,
        unanswerable=tuple(said.unanswerable),
        level=kind if metric in (Metric.PERINGATAN, Metric.RANKING) else None,
        limit=_limit(tokens, ws, used) if metric == Metric.RANKING else None,
        unknown_scope=unknown_scope
        or (" ".join(stray) if stray and metric and _open_scope(scope, opd_hit) else ""),
        unknown_kind=unknown_kind,  # type: ignore[arg-type]
        stray=stray,
        process=process,
    )


def _limit(tokens: list[str], ws: list[str], used: list[bool]) -> int | None:
    """N of "5 sub kegiatan dengan realisasi terendah", "top 3 program", "3 bidang"."""
    for i, t in enumerate(tokens):
        if used[i] or not t.isdecimal() or not 1 <= int(t) <= 50:
            continue
        nxt = ws[i + 1] if i + 1 < len(ws) else ""
        if nxt in _KIND or nxt in ("sub", "bidang") or (i and ws[i - 1] in ("top", "teratas")):
            return int(t)
    return None


def _open_scope(scope: ScopeEntry | None, opd_hit: bool) -> bool:
    """Whether words left over may be the name the question meant: none was found (the
    office would be a widening), or a node was found through some words only (a nearby
    node is not the one named)."""
    if scope is None:
        return not opd_hit
    return scope.kind not in ("opd", "bidang")


def _process(tokens: list[str], raw: set[str], has: set[str]) -> Process | None:
    """A question about deadlines, returned reports or who verified what."""
    if raw & _DEADLINE or (raw & _WHEN and has & _LAPOR) or {"hari", "lagi"} <= raw:
        return Process.BATAS
    if raw & _RETURNED:
        return Process.DIKEMBALIKAN
    if raw & _VERIFIED and raw & _words("siapa oleh"):
        return Process.VERIFIKASI
    return None


# --- evidence requests (issue 16): "bukti pembangunan pasar tw3", "foto kegiatan koperasi tw2"

_EVIDENCE = _words("bukti foto dokumentasi lampiran")
_EVIDENCE_LEAD = _words("lihat minta tampilkan tunjukkan kirim mana ada")


@dataclass(frozen=True)
class EvidenceRequest:
    """A question asking for the evidence files of a sub kegiatan."""

    name: str  # the words naming the sub kegiatan
    triwulan: int | None
    tahun: int | None


def evidence_request(text: str) -> EvidenceRequest | None:
    """The sub kegiatan and period a plain request for evidence names; None when the text
    does not start with an evidence word (after "lihat", "minta", ...)."""
    ws = _clean(text).split()
    while ws and normalise(ws[0]) in _EVIDENCE_LEAD:
        ws.pop(0)
    if not ws or normalise(ws[0]) not in _EVIDENCE or len(ws) > 20:
        return None
    ws.pop(0)
    if ws and normalise(ws[0]) == "dukung":
        ws.pop(0)
    tahun = tw = None
    rest: list[str] = []
    pending = False  # a quarter word ("tw", "triwulan") waiting for its number
    for w in ws:
        n = normalise(w)
        if len(n) == 4 and n.isdecimal() and 2000 <= int(n) <= 2099:
            tahun, pending = int(n), False
        elif pending and n == "ke":
            continue
        elif pending and (q := parse_triwulan(f"tw {n}")) is not None:
            tw, pending = q, False
        elif (q := parse_triwulan(n)) is not None and tw is None:
            tw = q
        elif n in _QUARTER and tw is None:
            pending = True
        else:
            rest.append(w)
    name = " ".join(rest).strip(" ?.!,")
    return EvidenceRequest(name, tw, tahun)
