"""Cartesia IPA aliases as espeak-ng phoneme input (``[[...]]``).

A pronunciation dictionary's IPA alias (``<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>``, see
:mod:`studio.project.lexicon`) is spoken by handing espeak-ng its own phoneme
mnemonics between ``[[`` and ``]]`` (espeak-ng's ``espeakPHONEMES`` input; the
names are Kirshenbaum's ASCII IPA as espeak-ng adapted it, ``docs/phonemes.md``
and ``phsource/ph_english*`` in espeak-ng). Mnemonics are joined with ``|``,
which espeak-ng reads as "next phoneme" and nothing else, so ``e|@`` stays two
vowels instead of the diphthong ``e@``.

Each language has its own phoneme table, and a mnemonic the voice's table lacks
makes espeak-ng drop the rest of the word. So each IPA segment has a list of
candidates, nearest first, and the first one the voice's table (with the tables
it includes) defines is used; the tables are read from espeak-ng's compiled
``phontab``. :data:`_CANDIDATES` was checked against espeak-ng 1.52's English
tables by synthesising every mnemonic and reading back its IPA; other languages
get the same Kirshenbaum names where their tables define them.

For English, Cartesia's IPA table writes the tense vowels without a length mark
(*Cartesia* is ``k|ɑ|ɹ|ˈ|t|i|ʒ|ə``), so there ``i u ɑ ɔ ɜ`` are the long vowels
``i: u: A: O: 3:``.

A segment no candidate fits loses what cannot be said: modifier letters
(aspiration ``ʰ``, ``ʷ``, tones...) and diacritics other than syllabic, nasal and
dental are dropped quietly, and a symbol with no espeak-ng counterpart at all
(clicks, for instance) is dropped with a log line.
"""

from __future__ import annotations

import functools
import logging
import pathlib
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: IPA segment -> espeak-ng mnemonics, nearest first; ``|`` joins a sequence.
_CANDIDATES: dict[str, tuple[str, ...]] = {
    # plosives, nasals, trills, taps
    "p": ("p",), "b": ("b",), "t": ("t",), "d": ("d",), "k": ("k",), "ɡ": ("g",), "g": ("g",),
    "q": ("q", "k"), "ɢ": ("g",), "ʔ": ("?",), "ʡ": ("?",), "c": ("c", "k|j"),
    "ɟ": ("J", "g|j"), "ʈ": ("t.", "t"), "ɖ": ("d.", "d"),
    "m": ("m",), "ɱ": ("m",), "n": ("n",), "ɳ": ("n.", "n"), "ɲ": ("n^", "n|j"),
    "ŋ": ("N",), "ɴ": ("N",),
    "r": ("r",), "ʀ": ('r"', "r"), "ʙ": ("b",), "ɾ": ("*", "t#", "r"), "ⱱ": ("v",),
    "ɽ": ("r.", "*", "r"), "ɺ": ("l",),
    # fricatives
    "ɸ": ("f",), "β": ("B", "v"), "f": ("f",), "v": ("v",), "θ": ("T",), "ð": ("D",),
    "s": ("s",), "z": ("z",), "ʃ": ("S",), "ʒ": ("Z",), "ʂ": ("s.", "S"), "ʐ": ("z.", "Z"),
    "ɕ": ("S;", "S"), "ʑ": ("z;", "Z"), "ç": ("C", "h"), "ʝ": ("J^", "j"),
    "x": ("x", "h"), "ɣ": ("Q", "g"), "χ": ("X", "x", "h"), "ʁ": ('Q"', "r"),
    "ħ": ("h",), "ʕ": ("h",), "h": ("h",), "ɦ": ("h",), "ʜ": ("h",), "ʢ": ("h",),
    "ɧ": ("S",), "ɬ": ("l#", "l"), "ɮ": ("l",),
    # approximants
    "ʋ": ("v#", "v"), "ɹ": ("r",), "ɻ": ("r.", "r"), "j": ("j",), "ɰ": ("w",),
    "l": ("l",), "ɭ": ("l.", "l"), "ʎ": ("l^", "l|j"), "ʟ": ("l",), "ɫ": ("L", "l"),
    "w": ("w",), "ʍ": ("w#", "w"), "ɥ": ("j",),
    # implosives
    "ɓ": ("b",), "ɗ": ("d",), "ʄ": ("J", "j"), "ɠ": ("g",), "ʛ": ("g",),
    # affricates, with and without a tie bar, and the ligatures
    "tʃ": ("tS", "t|S"), "t͡ʃ": ("tS", "t|S"), "ʧ": ("tS", "t|S"),
    "dʒ": ("dZ", "d|Z"), "d͡ʒ": ("dZ", "d|Z"), "ʤ": ("dZ", "d|Z"),
    "t͡s": ("ts", "t|s"), "ʦ": ("ts", "t|s"), "d͡z": ("dz", "d|z"), "ʣ": ("dz", "d|z"),
    "t͡ɕ": ("tS;", "tS", "t|S"), "ʨ": ("tS;", "tS", "t|S"),
    "d͡ʑ": ("dZ;", "dZ", "d|Z"), "ʥ": ("dZ;", "dZ", "d|Z"), "p͡f": ("pF", "p|f"),
    # vowels
    "i": ("i",), "iː": ("i:", "i"), "y": ("y", "i"), "yː": ("y:", "y", "i"),
    "ɨ": ("I#", "I", "i"), "ʉ": ("u:", "u"), "ɯ": ("u",), "u": ("u",), "uː": ("u:", "u"),
    "ɪ": ("I", "i"), "ʏ": ("y", "I", "i"), "ʊ": ("U", "u"), "ᵻ": ("I#", "I", "i"), "ᵿ": ("U", "u"),
    "e": ("e",), "eː": ("e:", "e"), "ø": ("Y", "e"), "øː": ("Y:", "Y", "e"),
    "ɘ": ("@",), "ɵ": ("8", "@"), "ɤ": ("@",), "o": ("o",), "oː": ("o:", "o"), "ə": ("@",),
    "ɛ": ("E", "e"), "ɛː": ("E:", "E", "e"), "œ": ("W", "E", "e"), "ɜ": ("3", "@"),
    "ɜː": ("3:", "3", "@"), "ɞ": ("3", "@"), "ʌ": ("V", "@"), "ɔ": ("O", "o"),
    "ɔː": ("O:", "O", "o"), "æ": ("&", "a"), "ɐ": ("a#", "@", "a"), "a": ("a",),
    "aː": ("a:", "A:", "a"), "ɶ": ("a",), "ɑ": ("A", "A:", "a"), "ɑː": ("A:", "A", "a"),
    "ɒ": ("0", "O", "o"), "ɒː": ("0:", "O:", "0", "O", "o"),
    "ɚ": ("3", "@|r"), "ɝ": ("3:", "3", "@|r"), "ə˞": ("3", "@|r"), "ɜ˞": ("3:", "3", "@|r"),
    # diphthongs Cartesia writes as one segment
    "aɪ": ("aI", "a|I"), "aʊ": ("aU", "a|U"), "eɪ": ("eI", "e|I"), "oʊ": ("oU", "o|U"),
    "ɔɪ": ("OI", "O|I"),
}

#: Cartesia's English table: tense vowels without a length mark.
_ENGLISH: dict[str, tuple[str, ...]] = {
    "i": ("i:",), "u": ("u:",), "ɑ": ("A:",), "ɔ": ("O:",), "ɜ": ("3:",),
}

#: English pairs espeak-ng says as one phoneme: an r-coloured vowel, a centring
#: diphthong or syllabic l where no vowel follows (espeak-ng would link it with an r) (``k|ɑ|ɹ|ˈ|t``
#: -> ``kA@'t``, as espeak-ng spells *Cartesia*); a vowel then ``r`` says the r weakly and too
#: short.
_ENGLISH_CODA: dict[tuple[str, str], str] = {
    **{(v, r): "A@" for v in ("ɑ", "ɑː", "a", "aː") for r in "ɹr"},
    **{(v, r): "O@" for v in ("ɔ", "ɔː", "o", "oː", "oʊ") for r in "ɹr"},
    **{(v, r): "e@" for v in ("ɛ", "ɛː", "e", "eɪ") for r in "ɹr"},
    **{(v, r): "i@3" for v in ("ɪ", "i", "iː") for r in "ɹr"},
    **{(v, r): "U@" for v in ("ʊ", "u", "uː") for r in "ɹr"},
    **{(v, r): "3:" for v in ("ɜ", "ɜː") for r in "ɹr"},
    **{(v, r): "aI3" for v in ("aɪ",) for r in "ɹr"},
    **{(v, "ə"): "i@" for v in ("ɪ", "i", "iː")},
    ("ə", "ɹ"): "3", ("ə", "r"): "3", ("ə", "l"): "@L", ("aɪ", "ə"): "aI@",
}
#: English pairs espeak-ng says as one phoneme wherever they stand.
_ENGLISH_PAIRS: dict[tuple[str, str], str] = {("aɪ", "ɚ"): "aI3"}
_VOWEL_LETTERS = frozenset("iyɨʉɯuɪʏʊeøɘɵɤoəɛœɜɞʌɔæɐaɶɑɒɚɝᵻᵿ")

_STRESS = {"ˈ": "'", "ˌ": ","}
_LENGTH = "ː"
_SYLLABIC = "\u0329\u030d"
_NASAL = "\u0303"
_DENTAL = "\u032a"
_TIE_BARS = "\u0361\u035c"
#: Modifier letters and suprasegmentals that refine a phoneme: dropped quietly.
_REFINEMENTS = set("ʰʱʷʲˠˤⁿˡʼˑ˘‿˥˦˧˨˩↓↑↗↘")


@dataclass(frozen=True, slots=True)
class Inventory:
    """The phoneme mnemonics a voice's table defines, with the tables it includes.

    Attributes:
        tables: the table's name and those it includes, nearest first (``en-us``,
            ``en``, ``base1``, ``base``).
        mnemonics: every mnemonic defined in them.
    """

    tables: tuple[str, ...]
    mnemonics: frozenset[str]

    @property
    def english(self) -> bool:
        return "en" in self.tables

    def has(self, candidate: str) -> bool:
        return all(part in self.mnemonics for part in candidate.split("|"))


def to_phoneme_input(segments: Sequence[str], inventory: Inventory | None) -> tuple[str, list[str]]:
    """espeak-ng mnemonics for Cartesia IPA ``segments``, joined with ``|``.

    ``inventory`` is the voice's (:func:`inventory`); None takes every segment's
    first candidate. Returns the mnemonics (empty when nothing could be said) and
    the symbols dropped for want of a counterpart.
    """
    out: list[str] = []
    dropped: list[str] = []
    cleaned = [unicodedata.normalize("NFC", s.strip()) for s in segments]
    cleaned = [s for s in cleaned if s]
    english = inventory is not None and inventory.english
    skip = False
    for index, segment in enumerate(cleaned):
        if skip:
            skip = False
            continue
        if segment in _STRESS:
            out.append(_STRESS[segment])
            continue
        pair = _english_pair(cleaned, index, inventory) if english else None
        if pair is not None:
            out.append(pair)
            skip = True
            continue
        mnemonic = _segment(segment, inventory)
        if mnemonic is None:
            dropped.append(segment)
        elif mnemonic:
            out.append(mnemonic)
    return "|".join(out), dropped


def _english_pair(segments: Sequence[str], index: int, inventory: Inventory | None) -> str | None:
    """The one English phoneme ``segments[index]`` and the next one make, if any."""
    if index + 1 >= len(segments):
        return None
    pair = (segments[index], segments[index + 1])
    found = _ENGLISH_PAIRS.get(pair)
    if found is None and pair in _ENGLISH_CODA:
        after = next((s for s in segments[index + 2:] if s not in _STRESS), "")
        if not after or after[0] not in _VOWEL_LETTERS:
            found = _ENGLISH_CODA[pair]
    if found is None or (inventory is not None and not inventory.has(found)):
        return None
    return found


def _segment(segment: str, inventory: Inventory | None) -> str | None:
    """The mnemonic(s) for one segment; "" when only refinements were left."""
    found = _lookup(segment, inventory)
    if found is not None:
        return found
    # A stress mark written inside the segment ("ˈa"), then the marks one by one.
    stress = "".join(_STRESS[c] for c in segment if c in _STRESS)
    decomposed = unicodedata.normalize("NFD", segment)
    base = "".join(c for c in decomposed if c not in _STRESS and c not in _REFINEMENTS
                   and c not in "ː˞" and unicodedata.category(c) != "Mn")
    if not base:
        return stress
    marks = set(decomposed)
    if marks & set(_TIE_BARS):
        base = base[0] + _TIE_BARS[0] + base[1:]
    if _LENGTH in marks and _lookup(base + _LENGTH, inventory) is not None:
        base += _LENGTH
    suffixes = [suffix for suffix, wanted in (
        ("-", bool(marks & set(_SYLLABIC))), ("~", _NASAL in marks),
        ("[", _DENTAL in marks), (":", _LENGTH in marks and not base.endswith(_LENGTH)),
    ) if wanted]
    found = next((f for f in (_lookup(base, inventory, s) for s in suffixes) if f), None)
    found = found or _lookup(base, inventory)
    if found is None and len(base) > 1:  # several symbols in one segment: one by one
        parts = [_lookup(c, inventory) for c in base if c not in _TIE_BARS]
        found = "|".join(p for p in parts if p) if all(parts) else None
    if found is None:
        return None
    if "˞" in marks and not found.startswith("3"):
        found = f"{found}|r"
    return stress + found


def _lookup(segment: str, inventory: Inventory | None, suffix: str = "") -> str | None:
    """The first candidate for ``segment`` the inventory has, with espeak-ng's
    ``suffix`` for a syllabic (``n-``), nasal (``A~``), dental (``t[``) or long
    (``e:``) variant when one is asked for."""
    candidates: Iterable[str] = _CANDIDATES.get(segment, ())
    if inventory is not None and inventory.english and segment in _ENGLISH:
        candidates = (*_ENGLISH[segment], *candidates)
    for candidate in candidates:
        if suffix and ("|" in candidate or inventory is None):
            continue
        if inventory is None or inventory.has(candidate + suffix):
            return candidate + suffix
    return None


# --- the voice's phoneme table -------------------------------------------------------------

def _data_path() -> pathlib.Path:
    import espeakng_loader

    return pathlib.Path(espeakng_loader.get_data_path())


# Layout of espeak-ng's compiled phontab (synthdata.c, LoadPhData): a count of
# tables, then per table its phoneme count, the index of the table it includes
# (1-based, 0 for none), two spare bytes, a 32-byte name, and 16 bytes per phoneme
# whose first four hold the mnemonic.
_TABLE_NAME_BYTES = 32
_PHONEME_BYTES = 16


@functools.cache
def _tables() -> dict[str, tuple[frozenset[str], str | None]]:
    """Every phoneme table in espeak-ng's data: name -> (mnemonics, included table)."""
    data = (_data_path() / "phontab").read_bytes()
    count, offset = data[0], 4
    raw: list[tuple[str, int, frozenset[str]]] = []
    for _ in range(count):
        phonemes, includes = data[offset], data[offset + 1]
        offset += 4
        name = data[offset:offset + _TABLE_NAME_BYTES].split(b"\0", 1)[0].decode("ascii")
        offset += _TABLE_NAME_BYTES
        names = set()
        for n in range(phonemes):
            (code,) = struct.unpack_from("<I", data, offset + n * _PHONEME_BYTES)
            mnemonic = struct.pack("<I", code).rstrip(b"\0").decode("latin-1")
            if mnemonic:
                names.add(mnemonic)
        offset += phonemes * _PHONEME_BYTES
        raw.append((name, includes, frozenset(names)))
    return {name: (names, raw[includes - 1][0] if includes else None)
            for name, includes, names in raw}


@functools.cache
def _voice_files() -> dict[str, pathlib.Path]:
    return {path.name.lower(): path for path in (_data_path() / "lang").rglob("*")
            if path.is_file()}


def _table_name(voice: str) -> str | None:
    """The phoneme table espeak-ng uses for ``voice`` (``en-us+f3`` -> ``en-us``): the
    voice file's ``phonemes`` line, else its first ``language``, else the voice name;
    None when there is no such voice file."""
    name = voice.split("+", 1)[0].lower()
    path = _voice_files().get(name)
    if path is None:
        return None
    language = None
    for line in path.read_text("utf-8", "replace").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "phonemes":
            return words[1]
        if len(words) >= 2 and words[0] == "language" and language is None:
            language = words[1]
    return language or name


@functools.cache
def inventory(voice: str) -> Inventory | None:
    """The phoneme inventory espeak-ng ``voice`` speaks with, or None when espeak-ng's
    data cannot be read (then every segment takes its first candidate)."""
    try:
        tables = _tables()
        name = _table_name(voice)
    except (OSError, ValueError, IndexError, struct.error, ImportError) as exc:
        log.warning("cannot read espeak-ng's phoneme tables (%s); IPA aliases use "
                    "English phoneme names", exc)
        return None
    # A regional voice without a table of its own speaks with its language's (pt-br).
    while name is not None and name not in tables and "-" in name:
        name = name.rsplit("-", 1)[0]
    if name is None or name not in tables:
        name = "base1"
    chain: list[str] = []
    mnemonics: set[str] = set()
    current: str | None = name
    while current is not None and current not in chain:
        chain.append(current)
        names, current = tables[current]
        mnemonics |= names
    return Inventory(tuple(chain), frozenset(mnemonics))
