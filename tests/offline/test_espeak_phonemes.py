"""espeak-ng text-to-phonemes in IPA: the starting point of a dictionary entry's IPA."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from studio.offline import espeak
from studio.project import lexicon


def test_cartesia_in_ipa() -> None:
    assert espeak.text_to_ipa("Cartesia") == "kɑːɹtˈiːʒə"


def test_words_are_separated_by_single_spaces_across_clauses() -> None:
    ipa = espeak.text_to_ipa("Hello, brave new world. How are you?")
    assert ipa == ipa.strip() and "  " not in ipa
    assert len(ipa.split(" ")) == 7
    assert not any(mark in ipa for mark in ",.?")


@pytest.mark.parametrize("text", [
    "Cartesia", "Zhang Wei", "button bottle often", "The year 1984, Mr. Smith.",
    "Ada Lovelace", "thought, judge, church, measure, singing"])
def test_result_makes_a_valid_cartesia_ipa_alias(text: str) -> None:
    ipa = espeak.text_to_ipa(text)
    assert ipa
    segments = lexicon.segment_ipa(ipa)
    assert segments
    alias = "<<" + "|".join(segments) + ">>"
    assert lexicon.ipa_segments(alias) == segments
    # Neither an error nor an unknown-symbol warning: espeak's IPA is all on the chart.
    assert lexicon.validate([lexicon.LexiconItem(text, alias)]) == []


def test_other_languages_follow_their_own_rules() -> None:
    german = espeak.text_to_ipa("Hello", "de")
    assert german and german != espeak.text_to_ipa("Hello", "en-us")
    assert "(" not in espeak.text_to_ipa("brave new world", "de")  # language switches dropped


def test_empty_text_gives_empty_ipa() -> None:
    assert espeak.text_to_ipa("") == ""
    assert espeak.text_to_ipa("  ...  ") == ""


def test_unknown_voice_is_a_clear_error() -> None:
    with pytest.raises(espeak.EspeakError, match="no voice 'no-such-voice'"):
        espeak.text_to_ipa("hello", "no-such-voice")


def test_phonemising_beside_synthesis_neither_crashes_nor_garbles() -> None:
    # Both calls share espeak-ng's global translator; the module lock must keep a
    # phonemisation from landing in the middle of a synthesis (and the other way round).
    text = "First thread speaks this sentence while the other phonemises."
    want_ipa = {word: espeak.text_to_ipa(word) for word in ("Cartesia", "Lovelace")}
    want_words, want_frames = _synthesised(text)
    errors: list[BaseException] = []
    ipa_seen: list[tuple[str, str]] = []
    renders: list[tuple[list[str], int]] = []

    def phonemise() -> None:
        try:
            for _ in range(40):
                for word in want_ipa:
                    ipa_seen.append((word, espeak.text_to_ipa(word)))
        except BaseException as exc:  # noqa: BLE001  # reported in the test thread
            errors.append(exc)

    def synthesise() -> None:
        try:
            for _ in range(4):
                renders.append(_synthesised(text))
        except BaseException as exc:  # noqa: BLE001  # reported in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=phonemise), threading.Thread(target=synthesise),
               threading.Thread(target=phonemise)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(ipa_seen) == 160 and all(ipa == want_ipa[word] for word, ipa in ipa_seen)
    assert len(renders) == 4
    for words, frames in renders:
        assert words == want_words
        # espeak-ng itself varies a pause by ~11 ms from one render to the next.
        assert abs(frames - want_frames) < 0.02 * want_frames


def test_many_phonemisations_leave_the_next_synthesis_whole() -> None:
    # Every voice change queues a command only a synthesis consumes; ~36 of them
    # used to make the next synthesis lose its first word event.
    # espeak's queue is a ring, so which counts show it depends on where it stands.
    for count in (40, 60, 100):
        for _ in range(count):
            espeak.text_to_ipa("Cartesia")
        words, _ = _synthesised("Hello brave new world")
        assert words == ["Hello", "brave", "new", "world"], count


def _synthesised(text: str) -> tuple[list[str], int]:
    """The words espeak reports and the number of frames of one render."""
    blocks: list[np.ndarray] = []
    words: list[str] = []

    def sink(pcm: np.ndarray, events: list[espeak.WordEvent | espeak.PhonemeEvent]) -> bool:
        blocks.append(pcm)
        words.extend(text[e.text_start:e.text_start + e.text_length]
                     for e in events if isinstance(e, espeak.WordEvent))
        return False

    assert espeak.synthesize(text, "en-us", espeak.Prosody(), sink)
    return words, sum(len(b) for b in blocks)
