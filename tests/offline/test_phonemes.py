"""Cartesia IPA segments as espeak-ng phoneme input, and a dictionary's aliases as what
espeak-ng is given (no server: the mapping, the voice's phoneme tables, the renderer's
bookkeeping)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from studio.offline import espeak, phonemes, tags
from studio.offline.pronunciation import Pronouncer, espeak_text
from studio.offline.synthesis import _plain
from studio.offline.tags import Replacement
from studio.project import lexicon

VOICES = ["en-us+f3", "de", "fr", "es", "ja", "cmn"]


def _segments(alias: str) -> list[str]:
    return lexicon.ipa_segments(alias)


def test_cartesias_example_becomes_espeaks_own_spelling() -> None:
    mnemonics, dropped = phonemes.to_phoneme_input(
        _segments("<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>"), phonemes.inventory("en-us"))
    assert mnemonics == "k|A@|'|t|i:|Z|@" and dropped == []
    # espeak-ng's own: TextToPhonemes in its mnemonics gives "kA@t'i:Z@" for "Cartesia".


@pytest.mark.parametrize(("segment", "voice", "expected"), [
    ("n̩", "en-us", "n-"),            # syllabic
    ("ɑ̃", "fr", "A~"),               # nasal
    ("t̪", "en-us", "t["),            # dental
    ("tʰ", "en-us", "t"),            # aspiration dropped
    ("t͡ʃ", "en-us", "tS"),           # tie bar
    ("ʧ", "en-us", "tS"),            # ligature
    ("ə˞", "en-us", "3"),            # rhotic hook
    ("ˈa", "en-us", "'a"),           # stress written inside the segment
    ("iː", "de", "i:"),
    ("i", "de", "i"),                # only English reads a bare i as long
    ("ø", "fr", "Y"),
    ("ɾ", "es", "*"),
    ("kɑt", "en-us", "k|A:|t"),      # several phonemes in one segment
])
def test_segments(segment: str, voice: str, expected: str) -> None:
    assert phonemes.to_phoneme_input([segment], phonemes.inventory(voice)) == (expected, [])


def test_english_r_coloured_vowels_and_syllabic_l() -> None:
    inventory = phonemes.inventory("en-us")
    assert phonemes.to_phoneme_input(["k", "ɛ", "ɹ"], inventory)[0] == "k|e@"
    assert phonemes.to_phoneme_input(["b", "ɑ", "ɾ", "ə", "l"], inventory)[0] == "b|A:|*|@L"
    # Before a vowel the r is a consonant of its own.
    assert phonemes.to_phoneme_input(["k", "ɛ", "ɹ", "i"], inventory)[0] == "k|E|r|i:"


def test_symbols_without_a_counterpart_are_dropped() -> None:
    mnemonics, dropped = phonemes.to_phoneme_input(
        ["ǃ", "a", "ʘ", "˥"], phonemes.inventory("en-us")
    )
    assert mnemonics == "a" and dropped == ["ǃ", "ʘ"]  # a tone letter is dropped quietly
    assert phonemes.to_phoneme_input(["ǃ"], phonemes.inventory("en-us")) == ("", ["ǃ"])


@pytest.mark.parametrize("voice", VOICES)
def test_every_chart_symbol_maps_into_the_voices_own_table(voice: str) -> None:
    inventory = phonemes.inventory(voice)
    assert inventory is not None
    mapped = 0
    for symbol in sorted(lexicon.IPA_SYMBOLS):
        mnemonics, _ = phonemes.to_phoneme_input([symbol], inventory)
        for part in filter(None, mnemonics.split("|")):
            assert part.lstrip("',") == "" or inventory.has(part.lstrip("',")), (symbol, part)
        mapped += bool(mnemonics)
    assert mapped >= 90, mapped  # of 118 symbols: clicks, tones and modifiers are not


def _spoken(text: str, voice: str) -> list[str]:
    found: list[str] = []

    def sink(pcm: np.ndarray, events: list[espeak.WordEvent | espeak.PhonemeEvent]) -> bool:
        found.extend(e.ipa for e in events if isinstance(e, espeak.PhonemeEvent) and e.ipa)
        return False

    espeak.synthesize(text, voice, espeak.Prosody(), sink, phonemes=True)
    return found


@pytest.mark.parametrize("voice", ["en-us", "de", "fr", "es"])
def test_no_mapped_symbol_cuts_the_word_short(voice: str) -> None:
    # A mnemonic the voice's table lacks makes espeak-ng drop the rest of the word:
    # the closing "s" of the carrier word must always be heard.
    inventory = phonemes.inventory(voice)
    for symbol in sorted(lexicon.IPA_SYMBOLS):
        mnemonics, _ = phonemes.to_phoneme_input([symbol], inventory)
        if not mnemonics or mnemonics in ("'", ","):
            continue
        said = _spoken(f"[[s|'|a|{mnemonics}|a|s]]", voice)
        assert said and said[-1].startswith("s"), (symbol, mnemonics, said)


def test_inventory_follows_the_voice_files_and_includes() -> None:
    english = phonemes.inventory("en-us+m3")
    assert english is not None and english.tables[:2] == ("en-us", "en") and english.english
    assert {"A@", "tS", "dZ", "i:"} <= english.mnemonics
    portuguese = phonemes.inventory("pt-br")  # no table of its own: its language's
    assert portuguese is not None and portuguese.tables[0] == "pt"
    unknown = phonemes.inventory("no-such-voice")
    assert unknown is not None and unknown.tables[0] == "base1" and not unknown.english


# --- aliases as espeak-ng text ------------------------------------------------------------


@pytest.mark.parametrize(("alias", "expected"), [
    ("<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>", "[[k|A@|'|t|i:|Z|@]]"),
    ("kar-TEE-zhuh", "kar-tee-zhuh"),        # capitals mark stress, not letters to spell
    ("NASA", "NASA"),
    ("the <<b|ɑ|b>> company", "the [[b|A:|b]] company"),
    ("<<kɑɹtˈiʒə>>", "[[k|A@|t|'|i:|Z|@]]"),  # segments run together are split
    ("say [[b'Ab]] <<", "say [ b'Ab]]"),       # no phoneme input from a respelling
])
def test_espeak_text(alias: str, expected: str) -> None:
    assert espeak_text(alias, phonemes.inventory("en-us"))[0] == expected


def test_an_unsayable_alias_keeps_the_text(caplog: pytest.LogCaptureFixture) -> None:
    pronouncer = Pronouncer([("Nyx", "<<ǃ>>"), ("Ada", "<<ǃ|eɪ|d|ə>>")])
    with caplog.at_level(logging.WARNING, "studio.offline.pronunciation"):
        found = pronouncer.replacements("Nyx met Ada.", "en-us")
    assert found == (Replacement(8, 11, "[[eI|d|@]]"),)
    assert "Nyx" in caplog.text and "ǃ" in caplog.text


def test_context_decides_the_sentence_start() -> None:
    pronouncer = Pronouncer([("cartesia", "bob")])
    assert pronouncer.replacements("Cartesia is here.", "en-us") == (
        Replacement(0, 8, "bob"),)
    assert pronouncer.replacements("Cartesia is here.", "en-us", context="I like ") == ()
    assert pronouncer.replacements("Cartesia is here.", "en-us", context="Done. ") == (
        Replacement(0, 8, "bob"),)


# --- replacements in the renderer -----------------------------------------------------------


def test_tags_hand_replacements_to_their_piece() -> None:
    text = 'Ask Ada <break time="1s"/>and Ada.'
    pieces, _ = tags.parse(text, replacements=(Replacement(4, 7, "X"), Replacement(30, 33, "Y")))
    first, pause, last = pieces
    assert isinstance(first, tags.Speech) and isinstance(last, tags.Speech)
    assert isinstance(pause, tags.Pause)
    assert first.replacements == (Replacement(4, 7, "X"),)
    assert last.text == "and Ada." and last.replacements == (Replacement(4, 7, "Y"),)


def test_plain_maps_the_transcripts_words_onto_the_aliases() -> None:
    text = "Fly to New York, then NYC's [[x]]."
    source, tokens, phoneme_input = _plain(text, (
        Replacement(7, 15, "[[g|A:|T|@|m]]"), Replacement(22, 25, "New York City")))
    assert source == "Fly to [[g|A:|T|@|m]], then New York City's [ x]]."
    assert phoneme_input
    spans = {word: source[a:b] for a, b, word in tokens}
    assert spans["New"] == "[[g|A:|T|@|m]]" and spans["York"] == "[[g|A:|T|@|m]],"
    assert spans["NYC's"] == "New York City's"
    assert spans["Fly"] == "Fly" and spans["then"] == "then"
