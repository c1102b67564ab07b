"""Which office (OPD) a person means: by short name, alias, common abbreviation or name.

Pure: callers pass the offices as ``OfficeName`` values. The same words serve the CLI
(``--opd``), registration (typing the office) and questions ("serapan dinas koperasi tw2").
Typing mistakes are forgiven through rapidfuzz, as for bidang names.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from storage.domain.text import normalise as normalise

# Words every office name carries; they say nothing about which office is meant.
GENERIC = frozenset(
    {
        "dinas",
        "badan",
        "kantor",
        "bagian",
        "satuan",
        "unit",
        "dan",
        "kabupaten",
        "kab",
        "daerah",
        "perangkat",
        "opd",
        "urusan",
        "pemerintah",
    }
)
# Words that open a spelled-out office name in a sentence ("dinas koperasi ...").
HEADS = frozenset({"dinas", "badan", "kantor", "inspektorat", "sekretariat", "satpol", "bagian"})

# Abbreviations used across Indonesian local government, as the words of the name they stand
# for: an office whose name has all those words is meant (whatever its own short name).
COMMON: dict[str, tuple[str, ...]] = {
    "dinkes": ("kesehatan",),
    "diskes": ("kesehatan",),
    "disdik": ("pendidikan",),
    "disdikbud": ("pendidikan", "kebudayaan"),
    "pupr": ("pekerjaan", "umum", "penataan", "ruang"),
    "dpupr": ("pekerjaan", "umum", "penataan", "ruang"),
    "diskoperindag": ("koperasi", "perindustrian", "perdagangan"),
    "koperindag": ("koperasi", "perindustrian", "perdagangan"),
    "diskopukm": ("koperasi", "ukm"),
    "diskop": ("koperasi",),
    "disperindag": ("perindustrian", "perdagangan"),
    "dishub": ("perhubungan",),
    "dinsos": ("sosial",),
    "bappeda": ("perencanaan", "pembangunan"),
    "bapelitbangda": ("perencanaan", "pembangunan"),
    "bpkd": ("pengelolaan", "keuangan"),
    "bpkad": ("pengelolaan", "keuangan", "aset"),
    "dpmptsp": ("penanaman", "modal"),
    "disdukcapil": ("kependudukan", "pencatatan", "sipil"),
    "dukcapil": ("kependudukan", "pencatatan", "sipil"),
    "dlh": ("lingkungan", "hidup"),
    "distan": ("pertanian",),
    "bkpsdm": ("kepegawaian",),
    "bkd": ("kepegawaian",),
    "bpbd": ("penanggulangan", "bencana"),
    "diskominfo": ("komunikasi", "informatika"),
    "kominfo": ("komunikasi", "informatika"),
    "dispar": ("pariwisata",),
    "dispora": ("pemuda", "olahraga"),
    "disnaker": ("tenaga", "kerja"),
    "disnakertrans": ("tenaga", "kerja", "transmigrasi"),
    "satpolpp": ("polisi", "pamong", "praja"),
    "dpmd": ("pemberdayaan", "masyarakat", "desa"),
    "dinkan": ("perikanan",),
    "dkp": ("kelautan", "perikanan"),
    "disperkim": ("perumahan", "permukiman"),
    "dispusip": ("perpustakaan", "kearsipan"),
    "setda": ("sekretariat", "daerah"),
    "setwan": ("sekretariat", "dprd"),
}

FUZZY_CUTOFF = 85.0


@dataclass(frozen=True)
class OfficeName:
    """What an office is called: its id, name, short name and other spellings."""

    id: int
    nama: str
    singkatan: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The name as answers print it: "Dinas Kesehatan (Dinkes)"."""
        return f"{self.nama} ({self.singkatan})" if self.singkatan else self.nama

    def short_label(self, limit: int = 60) -> str:
        """The label within ``limit`` characters, the short name always kept (buttons)."""
        if len(self.label) <= limit:
            return self.label
        tail = f" ({self.singkatan})" if self.singkatan else ""
        room = max(limit - len(tail) - 1, 8)
        return f"{self.nama[:room].rstrip()}…{tail}"


# Remembered per name: a question in a province is compared with the names of 800 offices,
# and normalising each name again for every word of every question cost more than the
# answer itself (issue 29).
@functools.lru_cache(maxsize=8192)
def _content(name: str) -> tuple[str, ...]:
    return tuple(w for w in normalise(name).split() if w not in GENERIC)


@functools.lru_cache(maxsize=8192)
def _acronym(name: str) -> str:
    return "".join(w[0] for w in _content(name))


@functools.lru_cache(maxsize=8192)
def _spellings(o: OfficeName) -> tuple[str, ...]:
    out = [normalise(o.nama)]
    if o.singkatan:
        out.append(normalise(o.singkatan))
    out.extend(normalise(a) for a in o.aliases)
    return tuple(s for s in out if s)


@functools.lru_cache(maxsize=8192)
def _fuzzy_spellings(o: OfficeName) -> tuple[str, ...]:
    """Short names and aliases a word may misspell (one word, six letters or more)."""
    return tuple(s for s in _spellings(o)[1:] if len(s) >= 6 and " " not in s)


def match_office(offices: list[OfficeName], text: str) -> list[OfficeName]:
    """The offices ``text`` may mean, best first; one when the match is clear, several when
    it is ambiguous, none when nothing fits. ``text`` may be an id ("3")."""
    key = normalise(text)
    if not key:
        return []
    if key.isdecimal():
        return [o for o in offices if o.id == int(key)]
    exact = [o for o in offices if key in _spellings(o)]
    if exact:
        return exact
    compact = key.replace(" ", "")
    if compact in COMMON:
        found = [o for o in offices if all(w in _content(o.nama) for w in COMMON[compact])]
        if found:
            return found
    acro = [o for o in offices if len(compact) >= 3 and _acronym(o.nama) == compact]
    if acro:
        return acro
    words = [w for w in key.split() if w not in GENERIC]
    if not words:
        return []  # "dinas" alone names no office
    contains = [o for o in offices if all(w in _content(o.nama) for w in words)]
    if contains:
        return contains
    # Typing mistakes: every word like a word of the name ("dinas kesehatn").
    alike = [
        o for o in offices if all(any(_word_like(w, c) for c in _content(o.nama)) for w in words)
    ]
    if alike:
        return alike
    choices: dict[str, OfficeName] = {}
    for o in offices:
        for s in _spellings(o)[1:]:
            choices.setdefault(s, o)
    best = process.extract(compact, list(choices), scorer=fuzz.ratio, limit=3)
    hits = [choices[s] for s, score, _ in best if score >= FUZZY_CUTOFF - 10]
    return list(dict.fromkeys(hits))


def _word_like(a: str, b: str) -> bool:
    return a == b or (len(a) >= 5 and fuzz.ratio(a, b) >= FUZZY_CUTOFF)


@dataclass(frozen=True)
class Mention:
    """An office named inside a sentence, and the sentence without it."""

    office: OfficeName
    rest: str
    words: str = ""  # the words that named it


def find_in_text(offices: list[OfficeName], text: str) -> Mention | None:
    """The office a sentence names ("serapan dinas koperasi tw2", "serapan dinkes tw3"),
    if exactly one is named; ``rest`` is the sentence without the name."""
    words = normalise(text).split()
    # 1. One word: a short name, an alias, a common abbreviation or an acronym.
    for i, w in enumerate(words):
        if len(w) < 3 or w in GENERIC:
            continue
        found = [
            o
            for o in offices
            if w in _spellings(o)
            or (w in COMMON and all(x in _content(o.nama) for x in COMMON[w]))
            or (len(w) >= 4 and _acronym(o.nama) == w)
            or any(_word_like(w, s) for s in _fuzzy_spellings(o))
        ]
        if len(found) == 1:
            return Mention(found[0], " ".join(words[:i] + words[i + 1 :]), w)
    # 2. A spelled-out name after "dinas", "badan", ...: the longest run of words that
    # belongs to the name of exactly one office.
    for i, w in enumerate(words):
        if w not in HEADS:
            continue
        best: tuple[int, OfficeName] | None = None
        for j in range(i + 1, min(len(words), i + 8)):
            run = [x for x in words[i + 1 : j + 1] if x not in GENERIC]
            if not run:
                continue
            found = [
                o
                for o in offices
                if all(any(_word_like(x, c) for c in _content(o.nama)) for x in run)
            ]
            if len(found) == 1:
                best = (j, found[0])
            elif not found:
                break
        if best is not None:
            j, office = best
            return Mention(office, " ".join(words[:i] + words[j + 1 :]), " ".join(words[i : j + 1]))
    return None


# --- the office a file names -------------------------------------------------------------------

_REGION_RE = re.compile(r"\b(?:pemerintah\s+)?(kabupaten|kab|kota)\s+(?P<nama>[a-z0-9 ]+)$")


def split_region(name: str) -> tuple[str, str | None]:
    """("dinas kesehatan", "solok") of "Dinas Kesehatan Kabupaten Solok": the office part and
    the kabupaten/kota it names (None when it names none), both normalised."""
    key = normalise(name)
    m = _REGION_RE.search(key)
    if m is None:
        return key, None
    kind = "kota" if m.group(1) == "kota" else "kabupaten"
    return key[: m.start()].strip(), f"{kind} {m.group('nama').strip()}"


def names_same_office(file_name: str, office: OfficeName) -> bool:
    """Whether the office a file's title names (``file_name``) can be ``office``.

    Loose on spelling (abbreviations, word order, typos, a kabupaten left out on one side),
    strict on what differs: another office's words, or another kabupaten.
    """
    file_part, file_region = split_region(file_name)
    own_part, own_region = split_region(office.nama)
    if file_region and own_region and file_region != own_region:
        return False
    if not file_part:
        return True  # the title names only the kabupaten
    if match_office([OfficeName(office.id, own_part, office.singkatan, office.aliases)], file_part):
        return True
    theirs = [w for w in file_part.split() if w not in GENERIC]
    ours = [w for w in own_part.split() if w not in GENERIC]
    if not theirs or not ours:
        return False
    shorter, longer = sorted((theirs, ours), key=len)
    return all(any(_word_like(w, x) for x in longer) for w in shorter)


def region_of(name: str) -> str | None:
    return split_region(name)[1]
