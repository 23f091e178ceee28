"""Pronunciation dictionary validation and JSON/CSV/PLS import and export."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.project.lexicon import (
    LexiconError,
    LexiconItem,
    format_lexicon,
    ipa_to_phoneme_string,
    parse_lexicon,
    read_lexicon,
    segment_ipa,
    validate,
    write_lexicon,
)

ITEMS = [
    LexiconItem("Cartesia", "<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>"),
    LexiconItem("cheesecake", "<<ˈ|t͡ʃ|iː|z|ˌ|k|eɪ|k>>"),
    LexiconItem("Tch", "<<t|ʃ>>"),
    LexiconItem("Nguyen, Jr.", "win, junior"),
    LexiconItem("Zoë", 'say "zo-ee"'),
]


@pytest.mark.parametrize("first", ["json", "csv", "pls"])
@pytest.mark.parametrize("second", ["json", "csv", "pls"])
def test_round_trip_between_formats_keeps_unicode_ipa(first, second):
    once = parse_lexicon(format_lexicon(ITEMS, first), first)
    twice = parse_lexicon(format_lexicon(once, second), second)
    assert twice == ITEMS


def test_files_round_trip_by_extension(tmp_path):
    for name in ("d.json", "d.csv", "d.pls", "d.xml"):
        write_lexicon(ITEMS, tmp_path / name)
        assert read_lexicon(tmp_path / name) == ITEMS
    assert (tmp_path / "d.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_unknown_extension_is_sniffed(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text(format_lexicon(ITEMS, "pls"), encoding="utf-8")
    assert read_lexicon(path) == ITEMS


def test_pls_phoneme_segmentation():
    assert segment_ipa("ˈkɑɹ.ti.ʒə") == ["ˈ", "k", "ɑ", "ɹ", "t", "i", "ʒ", "ə"]
    assert segment_ipa("ˈt͡ʃiːzˌkeɪk") == ["ˈ", "t͡ʃ", "iː", "z", "ˌ", "k", "eɪ", "k"]
    assert segment_ipa("pʰãː t ʃ") == ["pʰ", "ãː", "t", "ʃ"]
    assert ipa_to_phoneme_string("<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>") == "kɑɹˈtiʒə"
    assert ipa_to_phoneme_string("<<t|ʃ>>") == "t ʃ"


def test_pls_from_another_tool():
    pls = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
    alphabet="ipa" xml:lang="en-GB">
  <lexeme><grapheme>tomato</grapheme><phoneme>təˈmɑːtəʊ</phoneme></lexeme>
  <lexeme><grapheme>UN</grapheme><grapheme>U.N.</grapheme>
    <alias>United Nations</alias></lexeme>
</lexicon>"""
    assert parse_lexicon(pls) == [
        LexiconItem("tomato", "<<t|ə|ˈ|m|ɑː|t|ə|ʊ>>"),
        LexiconItem("UN", "United Nations"),
        LexiconItem("U.N.", "United Nations"),
    ]


@pytest.mark.parametrize("pls, message", [
    ("<lexicon><lexeme><grapheme>a</grapheme>", "line 1, column"),
    ("<speak/>", "not a PLS <lexicon>"),
    ("<lexicon><lexeme><alias>x</alias></lexeme></lexicon>", "lexeme 1: no <grapheme>"),
    ("<lexicon><lexeme><grapheme>a</grapheme></lexeme></lexicon>",
     "lexeme 1 ('a'): no <alias> or <phoneme>"),
    (('<lexicon alphabet="x-sampa"><lexeme><grapheme>a</grapheme><phoneme>{</phoneme>'
      "</lexeme></lexicon>"), "alphabet 'x-sampa' is not supported"),
])
def test_malformed_pls_messages(pls, message):
    with pytest.raises(LexiconError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_lexicon(pls, "pls")


def test_doctype_and_entities_are_refused():
    bomb = """<?xml version="1.0"?>
<!DOCTYPE lexicon [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>
<lexicon><lexeme><grapheme>&b;</grapheme><alias>x</alias></lexeme></lexicon>"""
    with pytest.raises(LexiconError, match="line 2: DOCTYPE declarations are refused"):
        parse_lexicon(bomb)


def test_csv_variants():
    assert parse_lexicon('\ufefftext,alias\r\n"Smith, J.",<<s|m|ɪ|θ>>\r\n', "csv") == [
        LexiconItem("Smith, J.", "<<s|m|ɪ|θ>>")]
    assert parse_lexicon(b"Cartesia,car-TEE-zhuh\n\nGIF,jif\n", "csv") == [
        LexiconItem("Cartesia", "car-TEE-zhuh"), LexiconItem("GIF", "jif")]


@pytest.mark.parametrize("data, message", [
    ("text,alias\na,b\nc\n", "line 3: expected 2 columns"),
    ("a,b,c\n", "line 1: expected 2 columns .* found 3"),
    ('a,"b\n', "bad CSV"),
    (b"a,\x81\n", "line 1: not UTF-8 .*nor Windows-1252"),
])
def test_malformed_csv_messages(data, message):
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(data, "csv")


@pytest.mark.parametrize("data, message", [
    ('[{"text": "a", "alias": "b"},', "line 1, column .*bad JSON"),
    ('{"name": "x"}', "expected a JSON list"),
    ('[{"text": "a"}]', "item 1: missing 'alias'"),
    ('[{"text": "a", "alias": "b"}, {"text": 3, "alias": "b"}]',
     "item 2: 'text' must be a string"),
])
def test_malformed_json_messages(data, message):
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(data, "json")


def test_json_reads_a_whole_dictionary():
    data = json.dumps({"id": "pd_1", "name": "Brands",
                       "items": [{"text": "Cartesia", "alias": "car-TEE-zhuh"}]})
    assert parse_lexicon(data) == [LexiconItem("Cartesia", "car-TEE-zhuh")]


def test_read_error_names_the_file(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("a,b,c\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"broken.csv: line 1"):
        read_lexicon(path)


def _kinds(items):
    return [(p.index, p.kind) for p in validate(items)]


def test_validation_kinds():
    items = [
        LexiconItem("  ", "x"),                      # 0 empty text
        LexiconItem("York", "yawk"),                 # 1
        LexiconItem("New York", "noo yawk"),         # 2 overlaps 1
        LexiconItem("york", ""),                     # 3 empty alias (case differs: no dup)
        LexiconItem("York", "<<j|ɔ|ɹ|k>>"),          # 4 duplicate of 1
        LexiconItem("A", "<<a|>>"),                  # 5 empty phoneme
        LexiconItem("B", "<<b"),                     # 6 unclosed
        LexiconItem("C", "c>>"),                     # 7 stray close
        LexiconItem("D", "<<D|i|1>>"),               # 8 unknown symbols (warning)
        LexiconItem("E", "<<ɛ|ˈ|t͡ʃ|ã|ə̃ː>>"),        # 9 fine
        LexiconItem("F", "<<>>"),                    # 10 no phonemes
    ]
    assert _kinds(items) == [
        (0, "empty_text"), (2, "overlap"), (3, "empty_alias"), (4, "duplicate"),
        (5, "ipa_syntax"), (6, "ipa_syntax"), (7, "ipa_syntax"), (8, "unknown_symbol"),
        (10, "ipa_syntax"),
    ]
    problems = validate(items)
    unknown = next(p for p in problems if p.kind == "unknown_symbol")
    assert unknown.is_warning and "1 (U+0031)" in unknown.message
    assert not next(p for p in problems if p.kind == "duplicate").is_warning
    assert "entry 2" in next(p for p in problems if p.kind == "duplicate").message


def test_overlap_is_by_whole_words():
    assert _kinds([LexiconItem("York", "a"), LexiconItem("Yorkshire", "b")]) == []
    assert _kinds([LexiconItem("Star Wars Day", "a"), LexiconItem("Wars", "b")]) == [
        (0, "overlap")]


def test_ten_thousand_entries_round_trip_and_validate():
    items = [LexiconItem(f"word{n}", f"<<w|ɜː|d|{n % 7}>>") for n in range(10_000)]
    for fmt in ("json", "csv", "pls"):
        assert parse_lexicon(format_lexicon(items, fmt), fmt) == items
    problems = validate(items)
    assert len(problems) == 10_000  # the digit in each alias is not IPA
    assert {p.kind for p in problems} == {"unknown_symbol"}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.builds(LexiconItem, st.text(), st.text()), max_size=8))
def test_any_text_round_trips_through_json_and_csv(items):
    assert parse_lexicon(format_lexicon(items, "json"), "json") == items
    # A CSV row with nothing in it is a spreadsheet's empty row: skipped on reading.
    kept = [i for i in items if i.text.strip() or i.alias.strip()]
    assert parse_lexicon(format_lexicon(items, "csv"), "csv") == kept


def test_pls_export_refuses_a_control_character_by_entry() -> None:
    items = [LexiconItem("Fine", "fyn"), LexiconItem("Bad\x07", "bell")]
    with pytest.raises(LexiconError, match=r"entry 2 .*control character"):
        format_lexicon(items, "pls")
    assert parse_lexicon(format_lexicon(items, "json"), "json") == items


def test_affricates_without_a_tie_bar_survive_a_pls_round_trip() -> None:
    items = [LexiconItem("Tianjin", "<<t|j|ɛ|n|tɕ|i|n>>"), LexiconItem("Zhou", "<<ʈʂ|oʊ>>")]
    assert parse_lexicon(format_lexicon(items, "pls"), "pls") == items
    assert segment_ipa("tɕʰi") == ["tɕʰ", "i"] and segment_ipa("kæts") == ["k", "æ", "t", "s"]


def test_bad_xml_names_the_position_once() -> None:
    with pytest.raises(LexiconError) as error:
        parse_lexicon('<lexicon version="1.0">\n<lexeme><grapheme>x</lexeme>\n</lexicon>', "pls")
    assert str(error.value).count("line") == 1 and str(error.value).startswith("line 2, column")


def test_spreadsheet_csv_files_semicolons_blank_rows_utf16_and_windows_1252() -> None:
    expected = [LexiconItem("Zoë", "ZOH-ee"), LexiconItem("Nyx", "nicks")]
    semicolons = "text;alias\r\nZoë;ZOH-ee\r\n;\r\nNyx;nicks\r\n;\r\n"
    assert parse_lexicon(semicolons.encode("utf-8-sig"), "csv") == expected
    assert parse_lexicon(semicolons.encode("utf-16"), "csv") == expected
    assert parse_lexicon("Zoë,ZOH-ee\r\nNyx,nicks\r\n".encode("cp1252"), "csv") == expected
    assert parse_lexicon("Zoë,ZOH-ee\n,\n,\nNyx,nicks\n", "csv") == expected


@pytest.mark.parametrize(("data", "fmt", "reason"), [
    ("[" * 100_000 + "]" * 100_000, "json", "nested too deeply"),
    ('[{"text": "a", "alias": "b"}' + "," + "[" * 100_000, "json", "malformed file|bad JSON"),
    (b"\xff\xfe\x00\xd8", None, "not UTF-16"),
])
def test_any_parse_failure_is_a_malformed_file_message(data, fmt, reason):
    with pytest.raises(LexiconError, match=reason):
        parse_lexicon(data, fmt)


def test_a_deeply_nested_json_file_names_the_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LexiconError) as error:
        read_lexicon(path)
    assert str(error.value) == ("deep.json: malformed file: not a readable JSON pronunciation "
                                "dictionary (nested too deeply)")


def test_running_out_of_memory_while_parsing_is_a_malformed_file(monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(json, "loads", exhausted)
    with pytest.raises(LexiconError, match=r"malformed file: .*\(too large to read\)"):
        parse_lexicon("[]", "json")


def test_csv_export_neutralises_formula_cells_and_import_restores_them(tmp_path):
    items = [LexiconItem("=cmd|' /C calc'!A0", "+1"), LexiconItem("-ing", "@home"),
             LexiconItem("\tTabbed", "\rReturn"), LexiconItem("'=quoted", "'plain"),
             LexiconItem("Normal", "nor-mal")]
    text = format_lexicon(items, "csv")
    rows = text.split("\r\n")
    assert rows[1] == "'=cmd|' /C calc'!A0,'+1"
    assert rows[2] == "'-ing,'@home"
    assert rows[4] == "''=quoted,'plain" and rows[5] == "Normal,nor-mal"
    path = tmp_path / "out.csv"
    write_lexicon(items, path)
    assert read_lexicon(path) == items
