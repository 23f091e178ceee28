"""Rendering pieces to audio with word and phoneme timestamps (no server)."""

from __future__ import annotations

import itertools

import numpy as np

from studio.audio import codecs
from studio.offline import tags
from studio.offline.delivery import Delivery
from studio.offline.formats import AudioFormat
from studio.offline.synthesis import Rendered, Renderer, Voicing, transcript_words, word_of

RATE = 22050
VOICE = Voicing("en-us+f3")


class Result:
    def __init__(self, blocks: list[Rendered], completed: bool) -> None:
        self.completed = completed
        self.audio = codecs.decode(b"".join(b.audio for b in blocks), "pcm_f32le")
        self.words = [w for b in blocks
                      for w in zip(b.words.words, b.words.start, b.words.end, strict=True)]
        self.phonemes = [p for b in blocks
                         for p in zip(b.phonemes.phonemes, b.phonemes.start, b.phonemes.end,
                                      strict=True)]
        self.blocks = blocks

    @property
    def seconds(self) -> float:
        return len(self.audio) / RATE

    @property
    def rms(self) -> float:
        return float(np.sqrt(np.mean(self.audio**2)))


def render(
    transcript: str, delivery: Delivery | None = None, renderer: Renderer | None = None
) -> Result:
    renderer = renderer or Renderer(AudioFormat("raw", "pcm_f32le", RATE))
    blocks: list[Rendered] = []
    pieces, _ = tags.parse(transcript)
    completed = renderer.render(pieces, VOICE, delivery or Delivery(), blocks.append, lambda: False)
    renderer.finish(blocks.append)
    return Result(blocks, completed)


def test_word_of_strips_outer_punctuation_only() -> None:
    assert word_of("Hello,") == "Hello"
    assert word_of('"quoted!"') == "quoted"
    assert word_of("I'm") == "I'm"
    assert word_of("$5.50") == "$5.50"
    assert word_of("...") == ""


def test_words_match_the_transcript() -> None:
    text = "Hello, world! I'm rendering 42 words on the offline engine."
    result = render(text)
    assert result.completed
    assert [w for w, _, _ in result.words] == transcript_words(text)


def test_timestamps_are_monotonic_and_inside_the_audio() -> None:
    result = render("The first sentence is here. And then a second one follows it.")
    starts = [s for _, s, _ in result.words]
    assert starts == sorted(starts)
    for _, start, end in result.words:
        assert 0.0 <= start < end <= result.seconds + 1e-3
    for (_, _, e1), (_, s2, _) in itertools.pairwise(result.words):
        assert e1 <= s2 + 1e-3
    assert result.phonemes
    for _, start, end in result.phonemes:
        assert 0.0 <= start <= end <= result.seconds + 1e-3


def test_plausible_duration_per_word() -> None:
    text = "Voiceover artists read scripts for documentaries, advertisements and games."
    result = render(text)
    per_word = result.seconds / len(text.split())
    assert 0.2 < per_word < 0.8
    assert result.rms > 0.03


def test_tags_are_not_words() -> None:
    result = render(
        'Wait <break time="300ms"/> for <emotion value="happy"/>it <spell>AB</spell> now.'
    )
    assert [w for w, _, _ in result.words] == ["Wait", "for", "it", "AB", "now"]


def test_break_adds_its_length_in_silence() -> None:
    plain = render("One. Two.")
    paused = render('One. <break time="1s"/> Two.')
    assert abs((paused.seconds - plain.seconds) - 1.0) < 0.15
    # The silence sits between the words.
    one, two = paused.words[0], paused.words[1]
    gap = paused.audio[int(one[2] * RATE):int(two[1] * RATE)]
    assert len(gap) / RATE >= 1.0
    assert float(np.max(np.abs(gap[int(0.4 * RATE):int(0.9 * RATE)]))) == 0.0


def test_speed_changes_duration() -> None:
    text = "Speed should change how long this sentence takes to say."
    slow = render(text, Delivery(speed=0.6))
    fast = render(text, Delivery(speed=1.5))
    assert fast.seconds < slow.seconds * 0.7
    tagged = render('<speed ratio="1.5"/>' + text)
    assert abs(tagged.seconds - fast.seconds) < 0.05


def test_volume_changes_loudness() -> None:
    text = "Loudness follows the volume ratio."
    quiet, loud = render(text, Delivery(volume=0.5)), render(text, Delivery(volume=2.0))
    assert loud.rms > 2.5 * quiet.rms
    assert float(np.max(np.abs(loud.audio))) <= 1.0


def test_emotion_changes_the_audio() -> None:
    text = "Emotions change the delivery of this line."
    neutral, sad = render(text), render(text, Delivery(emotion="sad"))
    assert sad.seconds > neutral.seconds


def test_spell_spells_characters() -> None:
    spelled = render("<spell>ABC</spell>")
    word = render("ABC")
    assert [w for w, _, _ in spelled.words] == ["ABC"]
    assert spelled.seconds > 0.5
    assert len(spelled.phonemes) >= 5  # ei, b, i:, s, i:
    assert word.seconds > 0


def test_timestamps_continue_across_renders_of_one_renderer() -> None:
    renderer = Renderer(AudioFormat("raw", "pcm_f32le", RATE))
    first = render("First part.", renderer=renderer)
    second = render("Second part.", renderer=renderer)
    assert second.words[0][1] >= first.words[-1][2]
    assert second.words[0][1] >= len(first.audio) / RATE * 0.99 - 0.05


def test_cancel_stops_rendering_early() -> None:
    renderer = Renderer(AudioFormat("raw", "pcm_f32le", RATE))
    blocks: list[Rendered] = []
    pieces, _ = tags.parse("Sentence one is long enough. Sentence two as well. And a third. " * 5)
    completed = renderer.render(pieces, VOICE, Delivery(), blocks.append, lambda: len(blocks) >= 3)
    assert completed is False
    assert 3 <= len(blocks) <= 4
