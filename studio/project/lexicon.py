"""Pronunciation dictionary items: validation and import/export. Qt-free.

A pronunciation dictionary is a list of :class:`LexiconItem` (``text`` → ``alias``), the
``PronunciationDictItem`` of the Cartesia API (``cartesia-openapi.yaml``: "A phonetic
representation or text to be said in place of the original text"). An alias is either a
sounds-like respelling ("kar-TEE-zhuh") or IPA in Cartesia's form: phonemes separated by
``|`` inside ``<<`` and ``>>``, as in Cartesia's "IPA Phonemes" guide
(docs.cartesia.ai/build-with-cartesia/capability-guides/phonemes): *Cartesia* is
``<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>``. The seeds in this project name the item fields but not the IPA
form; that guide is its source. Note the guide puts a stress mark in its own segment and
writes diphthongs and affricates (``aɪ``, ``dʒ``) as one segment.

Formats (:data:`Format`):

``json``
    Cartesia's items, ``[{"text": ..., "alias": ...}]``; an object with an ``items`` list
    (a whole ``PronunciationDict``) is also read.
``csv``
    Two columns ``text,alias``, header optional on reading (written), UTF-8 with or without
    a BOM (written with one, so spreadsheet programs show IPA correctly), RFC 4180 quoting.
    A cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is written with a leading
    ``'`` (OWASP CSV injection: a spreadsheet would run it as a formula); reading takes
    that ``'`` off again.
``pls``
    W3C Pronunciation Lexicon Specification 1.0 (www.w3.org/TR/pronunciation-lexicon/), as
    ElevenLabs uses: ``<lexeme><grapheme>`` with ``<alias>`` or ``<phoneme>`` (IPA only).
    A PLS phoneme string becomes a Cartesia IPA alias by :func:`segment_ipa`; a Cartesia
    IPA alias becomes a phoneme string by :func:`ipa_to_phoneme_string`. Other aliases are
    PLS ``<alias>``. DOCTYPE and ENTITY declarations are refused outright: ``defusedxml`` is
    not installed and ElementTree expands internal entities, so a "billion laughs" file
    could exhaust memory.

Every reader raises :class:`LexiconError` (a ``ValueError``) naming the line, item or
lexeme at fault; a parser's own failure (nesting too deep, a bad encoding, out of
memory) is a "malformed file" :class:`LexiconError` too. Reading and validation are
linear in the number of items.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "IPA_SYMBOLS",
    "VOWELS",
    "WARNING_KINDS",
    "Format",
    "LexiconError",
    "LexiconItem",
    "Problem",
    "ProblemKind",
    "format_lexicon",
    "ipa_segments",
    "ipa_to_phoneme_string",
    "is_ipa_alias",
    "parse_lexicon",
    "read_lexicon",
    "segment_ipa",
    "sniff_format",
    "validate",
    "write_lexicon",
]

Format = Literal["json", "csv", "pls"]
ProblemKind = Literal[
    "empty_text", "empty_alias", "duplicate", "overlap", "ipa_syntax", "unknown_symbol"]

#: Kinds that do not stop a dictionary from being used; the rest are errors.
WARNING_KINDS: frozenset[str] = frozenset({"overlap", "unknown_symbol"})

PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# The IPA chart (International Phonetic Association, 2020 revision): pulmonic and
# non-pulmonic consonants, other symbols, vowels, suprasegmentals, tones, plus the
# diacritics (any combining mark, U+0300–U+036F, is accepted in a segment).
_CONSONANTS = (
    "pbtdʈɖcɟkɡgqɢʔmɱnɳɲŋɴʙrʀⱱɾɽɸβfvθðszʃʒʂʐçʝxɣχʁħʕhɦɬɮʋɹɻjɰlɭʎʟ"
    "ʘǀǃǂǁɓɗʄɠʛʍwɥʜʢʡɕʑɺɧʦʣʧʤʨʥ"
)
_VOWELS = "iyɨʉɯuɪʏʊeøɘɵɤoəɛœɜɞʌɔæɐaɶɑɒɚɝᵻᵿ"
#: The vowel letters of the IPA chart (a segment starting with one is a vowel).
VOWELS = _VOWELS
_SUPRASEGMENTALS = "ˈˌːˑ˘‿"
_MODIFIERS = "ʰʷʲˠˤⁿˡʼ˞ʱ̴"
_TONES = "˥˦˧˨˩↓↑↗↘"
#: Every symbol a segment of a Cartesia IPA alias may contain without a warning.
IPA_SYMBOLS: frozenset[str] = frozenset(
    _CONSONANTS + _VOWELS + _SUPRASEGMENTALS + _MODIFIERS + _TONES)

_STRESS = "ˈˌ"
# Characters that belong to the segment before them: length marks, modifier letters,
# tone letters. Combining marks (Unicode category Mn) attach too.
_ATTACHING = set("ːˑ" + _MODIFIERS + _TONES)
_TIE_BARS = "\u0361\u035c"
# Multi-letter phonemes written without a tie bar in Cartesia's English table.
_MULTI = ("aɪ", "aʊ", "eɪ", "oʊ", "ɔɪ", "dʒ", "tʃ",
          # Affricates written without a tie bar whose parts never stand for two phonemes
          # (Mandarin, Polish, Russian transcriptions); not "ts"/"dz", which may.
          "tɕ", "dʑ", "tʂ", "dʐ", "ʈʂ", "ɖʐ")


class LexiconError(ValueError):
    """A lexicon file or string that cannot be read; the message names where."""


@dataclass(frozen=True, slots=True)
class LexiconItem:
    """One dictionary entry: ``text`` in a transcript is said as ``alias``.

    Matching is case-sensitive (Cartesia). ``alias`` is a sounds-like respelling or IPA in
    Cartesia's ``<<p|h|o|n|e|m|e|s>>`` form.
    """

    text: str
    alias: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation finding for the item at ``index`` (its position in the list).

    Attributes:
        index: Position of the item the problem is about.
        kind: One of :data:`ProblemKind`; kinds in :data:`WARNING_KINDS` are warnings.
        message: A sentence for the user.
    """

    index: int
    kind: ProblemKind
    message: str

    @property
    def is_warning(self) -> bool:
        return self.kind in WARNING_KINDS


# --- IPA ---------------------------------------------------------------------------------

def is_ipa_alias(alias: str) -> bool:
    """True when the alias is exactly one ``<<…>>`` group (surrounding spaces allowed)."""
    stripped = alias.strip()
    return (stripped.startswith("<<") and stripped.endswith(">>")
            and stripped.count("<<") == 1 and stripped.count(">>") == 1)


def ipa_segments(alias: str) -> list[str]:
    """The phoneme segments of an IPA alias (``"<<k|ɑ>>"`` → ``["k", "ɑ"]``).

    Raises:
        LexiconError: the alias is not exactly one ``<<…>>`` group.
    """
    if not is_ipa_alias(alias):
        raise LexiconError(f"{alias!r} is not an IPA alias of the form <<p|h|o|n|e>>")
    return alias.strip()[2:-2].split("|")


def _ipa_syntax_errors(alias: str) -> tuple[list[str], list[str]]:
    """Syntax errors of every ``<<…>>`` group in ``alias``, and its segments."""
    errors: list[str] = []
    segments: list[str] = []
    pos = 0
    while True:
        opening = alias.find("<<", pos)
        closing = alias.find(">>", pos)
        if opening < 0:
            if closing >= 0:
                errors.append(f"'>>' at character {closing + 1} has no '<<' before it")
            return errors, segments
        if 0 <= closing < opening:
            errors.append(f"'>>' at character {closing + 1} has no '<<' before it")
        end = alias.find(">>", opening + 2)
        if end < 0:
            errors.append(f"'<<' at character {opening + 1} is never closed with '>>'")
            return errors, segments
        body = alias[opening + 2:end]
        if "<<" in body:
            errors.append(f"'<<' at character {opening + 1} is opened again before '>>'")
        elif not body.strip():
            errors.append(f"'<<>>' at character {opening + 1} has no phonemes")
        else:
            for number, segment in enumerate(body.split("|"), 1):
                if not segment.strip():
                    errors.append(f"phoneme {number} between '|' is empty")
                elif segment != segment.strip() or any(c.isspace() for c in segment):
                    errors.append(f"phoneme {number} ({segment!r}) contains a space")
                else:
                    segments.append(segment)
        pos = end + 2


def segment_ipa(phonemes: str) -> list[str]:
    """Split an IPA string (a PLS ``<phoneme>``) into Cartesia segments.

    The rule: whitespace separates segments explicitly and ``.`` (a syllable break, which
    Cartesia's form has no place for) is dropped. Within a run, each segment starts at a
    base symbol; a stress mark ``ˈ``/``ˌ`` is a segment of its own (Cartesia writes
    ``<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>``); the diphthongs and affricates of Cartesia's English table
    (``aɪ aʊ eɪ oʊ ɔɪ dʒ tʃ``) and the affricates ``tɕ dʑ tʂ dʐ ʈʂ ɖʐ`` are one segment; a tie bar
    (U+0361, U+035C) joins the next symbol (``t͡ʃ``); combining diacritics, length marks (``ː ˑ``),
    modifier letters (``ʰ ʷ ʲ ˠ ˤ ⁿ ˡ ʼ ˞``) and tone letters stay with the segment before them.

    Example: ``"ˈt͡ʃiːzˌkeɪk"`` → ``["ˈ", "t͡ʃ", "iː", "z", "ˌ", "k", "eɪ", "k"]``.
    """
    segments: list[str] = []
    for run in phonemes.split():
        segments.extend(_segment_run(run.replace(".", "")))
    return segments


def _segment_run(run: str) -> list[str]:
    segments: list[str] = []
    i, n = 0, len(run)
    while i < n:
        if run[i] in _STRESS:
            segments.append(run[i])
            i += 1
            continue
        segment = next((m for m in _MULTI if run.startswith(m, i)), run[i])
        i += len(segment)
        while i < n:
            char = run[i]
            if char in _TIE_BARS and i + 1 < n:
                segment += run[i:i + 2]
                i += 2
            elif char in _ATTACHING or unicodedata.category(char) == "Mn":
                segment += char
                i += 1
            else:
                break
        segments.append(segment)
    return segments


def ipa_to_phoneme_string(alias: str) -> str:
    """The PLS phoneme string for a Cartesia IPA alias.

    Segments are joined without spaces when :func:`segment_ipa` splits the result back
    into the same segments, and with spaces otherwise (``<<t|ʃ>>`` → ``"t ʃ"``), so an
    alias survives a PLS round trip exactly.

    Raises:
        LexiconError: the alias is not an IPA alias.
    """
    segments = ipa_segments(alias)
    joined = "".join(segments)
    return joined if segment_ipa(joined) == segments else " ".join(segments)


def _unknown_symbols(segment: str) -> list[str]:
    # Decomposed, so a precomposed "ã" is checked as "a" plus a combining tilde.
    return [c for c in unicodedata.normalize("NFD", segment)
            if c not in IPA_SYMBOLS and unicodedata.category(c) != "Mn"]


# --- validation ------------------------------------------------------------------------

def validate(items: Sequence[LexiconItem]) -> list[Problem]:
    """Problems with a dictionary, in item order.

    Errors: ``empty_text``, ``empty_alias``, ``duplicate`` (the same text, compared
    case-sensitively as Cartesia matches, ignoring surrounding spaces; reported on the
    later item) and ``ipa_syntax`` (``<<``/``>>`` unbalanced or nested, no phonemes, an
    empty phoneme between ``|``, a space inside a phoneme).
    Warnings (:data:`WARNING_KINDS`): ``overlap`` (an item's text contains another item's
    text as a whole-word sequence; where both match, the longer wins; reported on
    the longer item) and ``unknown_symbol`` (a character outside :data:`IPA_SYMBOLS` and
    the combining diacritics, checked after NFD decomposition).
    """
    problems: list[Problem] = []
    first_index: dict[str, int] = {}
    words_index: dict[tuple[str, ...], int] = {}
    for index, item in enumerate(items):
        key = item.text.strip()
        if not key:
            problems.append(Problem(index, "empty_text", "The text is empty."))
        elif key in first_index:
            problems.append(Problem(
                index, "duplicate",
                f"{key!r} is already entry {first_index[key] + 1}."))
        else:
            first_index[key] = index
            words_index.setdefault(tuple(key.split()), index)
        if not item.alias.strip():
            problems.append(Problem(index, "empty_alias", "The alias is empty."))
            continue
        errors, segments = _ipa_syntax_errors(item.alias)
        problems.extend(Problem(index, "ipa_syntax", f"IPA: {e}.") for e in errors)
        unknown = sorted({c for s in segments for c in _unknown_symbols(s)})
        if unknown:
            listed = " ".join(f"{c} (U+{ord(c):04X})" for c in unknown)
            problems.append(Problem(
                index, "unknown_symbol", f"Not on the IPA chart: {listed}."))
    problems.extend(_overlaps(items, first_index, words_index))
    problems.sort(key=lambda p: p.index)
    return problems


def _overlaps(items: Sequence[LexiconItem], first_index: dict[str, int],
              words_index: dict[tuple[str, ...], int]) -> list[Problem]:
    # Each key is checked against every shorter run of its own words: linear in the
    # number of items for keys of a few words.
    problems: list[Problem] = []
    for key, index in first_index.items():
        words = tuple(key.split())
        found: set[int] = set()
        for length in range(1, len(words)):
            for start in range(len(words) - length + 1):
                other = words_index.get(words[start:start + length])
                if other is not None and other != index and other not in found:
                    found.add(other)
                    problems.append(Problem(
                        index, "overlap",
                        f"Contains {items[other].text.strip()!r} (entry {other + 1}); "
                        "where both match, the longer entry wins."))
    return problems


# --- reading -----------------------------------------------------------------------------

def sniff_format(data: str) -> Format:
    """The format a file's text looks like: JSON, PLS (XML) or else CSV."""
    head = data.lstrip("\ufeff \t\r\n")
    if head.startswith(("[", "{")):
        return "json"
    if head.startswith("<"):
        return "pls"
    return "csv"


_SUFFIX_FORMATS: dict[str, Format] = {".json": "json", ".csv": "csv", ".pls": "pls",
                                      ".xml": "pls"}


def _format_of_path(path: Path) -> Format | None:
    return _SUFFIX_FORMATS.get(path.suffix.lower())


def _decode(data: bytes, fmt: Format | None) -> str:
    """Text of a lexicon file: UTF-16 with its BOM, or UTF-8 (with or without a BOM);
    a CSV file that is not UTF-8 is read as Windows-1252 (a spreadsheet's "CSV" on
    Windows; it cannot hold IPA, so only respellings come that way)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LexiconError(f"not UTF-16 text (bad bytes at offset {exc.start})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f"line {line}: not UTF-8 (byte 0x{data[exc.start]:02X} at offset {exc.start})"
        if fmt == "csv" or (fmt is None and data.lstrip()[:1] not in (b"{", b"[", b"<")):
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:
                raise LexiconError(f"{where}, nor Windows-1252 text") from None
        raise LexiconError(where) from None


def parse_lexicon(data: str | bytes, fmt: Format | None = None) -> list[LexiconItem]:
    """Items from the text (or UTF-8 bytes) of a lexicon file; ``fmt`` sniffed if None.

    Raises:
        LexiconError: malformed input, with the line, item or lexeme named.
    """
    text = _decode(data, fmt) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    fmt = fmt or sniff_format(text)
    try:
        if fmt == "json":
            return _parse_json(text)
        if fmt == "csv":
            return _parse_csv(text)
        if fmt == "pls":
            return _parse_pls(text)
    except LexiconError:
        raise
    # A parser's own limits (nesting past the recursion limit, a lone surrogate, a file
    # too big to hold) are a malformed file too, never a traceback past the UI.
    except (RecursionError, MemoryError, UnicodeError, ValueError) as exc:
        raise LexiconError(f"malformed file: not a readable {_FORMAT_NAMES[fmt]} "
                           f"pronunciation dictionary ({_failure(exc)})") from None
    raise LexiconError(f"unknown lexicon format {fmt!r}")


_FORMAT_NAMES: dict[str, str] = {"json": "JSON", "csv": "CSV", "pls": "PLS"}


def _failure(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, MemoryError):
        return "too large to read"
    if isinstance(exc, UnicodeError):
        return "invalid text encoding"
    return str(exc) or type(exc).__name__


def read_lexicon(path: str | Path) -> list[LexiconItem]:
    """Items from a ``.json``, ``.csv``, ``.pls`` or ``.xml`` file (else sniffed).

    Raises:
        LexiconError: malformed file; the message starts with the file name.
        OSError: the file cannot be read.
    """
    path = Path(path)
    try:
        return parse_lexicon(path.read_bytes(), _format_of_path(path))
    except LexiconError as exc:
        raise LexiconError(f"{path.name}: {exc}") from None


def _parse_json(text: str) -> list[LexiconItem]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LexiconError(f"line {exc.lineno}, column {exc.colno}: bad JSON: {exc.msg}"
                           ) from None
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list):
        raise LexiconError('expected a JSON list of {"text": ..., "alias": ...} items')
    items: list[LexiconItem] = []
    for number, entry in enumerate(data, 1):
        if not isinstance(entry, dict):
            raise LexiconError(f"item {number}: expected an object with text and alias")
        values = []
        for field in ("text", "alias"):
            if field not in entry:
                raise LexiconError(f"item {number}: missing {field!r}")
            if not isinstance(entry[field], str):
                raise LexiconError(f"item {number}: {field!r} must be a string")
            values.append(entry[field])
        items.append(LexiconItem(values[0], values[1]))
    return items


def _parse_csv(text: str) -> list[LexiconItem]:
    # Spreadsheets in many locales separate with ";" (or a tab): the first line with
    # something on it decides, its quoted parts aside.
    first = next((line for line in text.splitlines() if line.strip(" ,;\t")), "")
    bare = re.sub(r'"[^"]*"', "", first)
    delimiter = max(",;\t", key=lambda d: (bare.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    items: list[LexiconItem] = []
    try:
        for row in reader:
            row = [_unquote_cell(cell) for cell in row]
            if not any(cell.strip() for cell in row):
                continue  # a blank line, or a spreadsheet's empty row (",")
            if (reader.line_num == 1 and len(row) == 2
                    and [c.strip().lower() for c in row] == ["text", "alias"]):
                continue
            if len(row) != 2:
                raise LexiconError(
                    f"line {reader.line_num}: expected 2 columns (text,alias), "
                    f"found {len(row)}")
            items.append(LexiconItem(row[0], row[1]))
    except csv.Error as exc:
        raise LexiconError(f"line {reader.line_num}: bad CSV: {exc}") from None
    return items


#: Characters XML 1.0 cannot hold (its ``Char`` production): C0 controls but tab, LF, CR.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parse_pls(text: str) -> list[LexiconItem]:
    declaration = _DECLARATION.search(text)
    if declaration:
        line = text.count("\n", 0, declaration.start()) + 1
        raise LexiconError(
            f"line {line}: {declaration.group(1).upper()} declarations are refused "
            "(entity expansion could exhaust memory); remove it and import again")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, column = exc.position
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))  # said once, below
        raise LexiconError(f"line {line}, column {column + 1}: bad XML: {reason}") from None
    if _local(root.tag) != "lexicon":
        raise LexiconError(f"the root element is <{_local(root.tag)}>, not a PLS <lexicon>")
    default_alphabet = root.get("alphabet", "ipa")
    items: list[LexiconItem] = []
    lexemes = [child for child in root if _local(child.tag) == "lexeme"]
    for number, lexeme in enumerate(lexemes, 1):
        graphemes = [(g.text or "").strip() for g in lexeme if _local(g.tag) == "grapheme"]
        if not any(graphemes):
            raise LexiconError(f"lexeme {number}: no <grapheme>")
        where = f"lexeme {number} ({graphemes[0]!r})"
        pronunciation = next(
            (p for p in lexeme if _local(p.tag) in ("alias", "phoneme")), None)
        if pronunciation is None:
            raise LexiconError(f"{where}: no <alias> or <phoneme>")
        content = (pronunciation.text or "").strip()
        if _local(pronunciation.tag) == "phoneme":
            alphabet = pronunciation.get("alphabet", default_alphabet)
            if alphabet.lower() != "ipa":
                raise LexiconError(
                    f"{where}: phoneme alphabet {alphabet!r} is not supported (only ipa)")
            segments = segment_ipa(content)
            if not segments:
                raise LexiconError(f"{where}: <phoneme> is empty")
            alias = "<<" + "|".join(segments) + ">>"
        else:
            alias = content
        items.extend(LexiconItem(g, alias) for g in graphemes if g)
    return items


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# --- writing -----------------------------------------------------------------------------

def format_lexicon(items: Iterable[LexiconItem], fmt: Format, *,
                   language: str = "en-US") -> str:
    """The text of a lexicon file (no BOM). ``language`` is the PLS ``xml:lang``."""
    if fmt == "json":
        return json.dumps([{"text": i.text, "alias": i.alias} for i in items],
                          ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["text", "alias"])
        writer.writerows([_quote_cell(i.text), _quote_cell(i.alias)] for i in items)
        return out.getvalue()
    if fmt == "pls":
        return _format_pls(items, language)
    raise LexiconError(f"unknown lexicon format {fmt!r}")


# A cell a spreadsheet would run as a formula (OWASP "CSV injection": one starting with
# =, +, -, @, tab or CR), or one already quoted that way, gets a leading apostrophe on
# export; reading a CSV takes one off again, so such entries come back unchanged.
_FORMULA_CELL = re.compile("'*[=+\\-@\t\r]")


def _quote_cell(cell: str) -> str:
    return "'" + cell if _FORMULA_CELL.match(cell) else cell


def _unquote_cell(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and _FORMULA_CELL.match(cell) else cell


def _format_pls(items: Iterable[LexiconItem], language: str) -> str:
    # The namespace is a plain attribute: ElementTree's default_namespace option refuses
    # the unqualified attributes PLS uses.
    root = ET.Element("lexicon", {"version": "1.0", "xmlns": PLS_NAMESPACE,
                                  "alphabet": "ipa", _XML_LANG: language})
    for number, item in enumerate(items, 1):
        if _XML_FORBIDDEN.search(item.text + item.alias):
            raise LexiconError(f"entry {number} ({item.text!r}) has a control character, which "
                               "an XML (PLS) file cannot hold; remove it or export as JSON or CSV")
        lexeme = ET.SubElement(root, "lexeme")
        ET.SubElement(lexeme, "grapheme").text = item.text
        if is_ipa_alias(item.alias) and not _ipa_syntax_errors(item.alias)[0]:
            ET.SubElement(lexeme, "phoneme").text = ipa_to_phoneme_string(item.alias)
        else:
            ET.SubElement(lexeme, "alias").text = item.alias
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def write_lexicon(items: Iterable[LexiconItem], path: str | Path,
                  fmt: Format | None = None) -> None:
    """Write a lexicon file, its format from ``fmt`` or the extension (default JSON).

    UTF-8; CSV starts with a BOM so spreadsheet programs read IPA correctly.
    """
    path = Path(path)
    fmt = fmt or _format_of_path(path) or "json"
    text = format_lexicon(items, fmt)
    path.write_text(("\ufeff" if fmt == "csv" else "") + text, encoding="utf-8",
                    newline="")
