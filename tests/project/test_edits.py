"""Non-destructive edits of a take: audio, timestamps, undo by prefix, JSON, copy."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.project.edited_audio import apply_edits, clip_from, edited
from studio.project.edits import (
    Clip,
    Delete,
    Edit,
    EditError,
    Fade,
    Gain,
    InsertSilence,
    Splice,
    Trim,
    crossfade_frames,
    edits_from_json,
    edits_to_json,
)
from studio.project.model import TakeAudio, make_take
from studio.timestamps import PhonemeTimestamps, WordTimestamps

RATE = 1000  # 10 ms crossfade = 10 frames, 5 ms gain ramp = 5 frames
H = 10


def ramp(frames: int) -> np.ndarray:
    return (np.arange(frames, dtype=np.float32) + 1) / frames


def sine(frames: int, rate: int = RATE, hz: float = 50.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(frames) / rate)).astype(np.float32)


def words(*items: tuple[str, float, float]) -> WordTimestamps:
    return WordTimestamps(tuple(w for w, _, _ in items), tuple(s for _, s, _ in items),
                          tuple(e for _, _, e in items))


def as_list(ts: WordTimestamps) -> list[tuple[str, float, float]]:
    return list(zip(ts.words, ts.start, ts.end, strict=True))


def clip_of(audio: np.ndarray, rate: int = RATE, **kw: Any) -> Clip:
    return Clip(id=kw.pop("id", "c1"), source=TakeAudio.of(audio, rate), **kw)


def apply(audio: np.ndarray, edits: list[Edit], ws: WordTimestamps | None = None,
          rate: int = RATE):  # type: ignore[no-untyped-def]
    return apply_edits(audio, rate, ws or WordTimestamps(), PhonemeTimestamps(), edits)


def equal_power(h: int) -> tuple[np.ndarray, np.ndarray]:
    t = (np.arange(h) + 0.5) / h * (np.pi / 2)
    return np.sin(t), np.cos(t)  # fade_in, fade_out


# --- Audio ------------------------------------------------------------------------------


def test_no_edits_gives_a_read_only_view_of_the_input() -> None:
    x = sine(500)
    ws = words(("a", 0.1, 0.2))
    out = apply(x, [], ws)
    assert np.shares_memory(out.audio, x) and not out.audio.flags.writeable
    assert x.flags.writeable
    assert out.words is ws and out.frames == 500 and out.duration == 0.5


def test_delete_crossfades_the_removed_audio_into_what_follows() -> None:
    x = ramp(1000)
    out = apply(x, [Delete(300, 500)]).audio
    fade_in, fade_out = equal_power(H)
    join = x[300:310] * fade_out + x[500:510] * fade_in
    assert out.shape == (800,) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:300], x[:300])
    np.testing.assert_allclose(out[300:310], join, rtol=1e-6)
    np.testing.assert_array_equal(out[310:], x[510:])


def test_delete_shorter_than_the_crossfade_fades_out_what_played_on() -> None:
    """The audio that would have played from the cut (through the removed frames and on)
    fades out under what now follows, so a short cut leaves no dip in level."""
    x = ramp(1000)
    out = apply(x, [Delete(300, 304)]).audio
    fade_in, fade_out = equal_power(H)
    assert out.shape == (996,)
    np.testing.assert_allclose(out[300:310], x[300:310] * fade_out + x[304:314] * fade_in,
                               rtol=1e-6)
    np.testing.assert_array_equal(out[310:], x[314:])


def test_a_one_frame_cut_in_a_tone_keeps_its_level() -> None:
    rate = 8000
    t = np.arange(rate) / rate
    x = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    out = apply(x, [Delete(4000, 4001)], rate=rate).audio
    h = round(0.010 * rate)
    steady = np.sqrt(np.mean(x[1000:1000 + h] ** 2))
    after = np.sqrt(np.mean(out[4000:4000 + h] ** 2))
    assert after > 0.8 * steady


def test_delete_at_the_end_has_no_join_and_an_empty_delete_changes_nothing() -> None:
    x = sine(1000)
    np.testing.assert_array_equal(apply(x, [Delete(600, 1000)]).audio, x[:600])
    np.testing.assert_array_equal(apply(x, [Delete(500, 500)]).audio, x)
    near_end = apply(x, [Delete(600, 995)]).audio  # only 5 frames follow the cut
    fade_in, fade_out = equal_power(5)
    np.testing.assert_allclose(near_end[600:], x[600:605] * fade_out + x[995:] * fade_in,
                               rtol=1e-6)


def test_insert_silence_and_trim() -> None:
    x = sine(1000)
    out = apply(x, [InsertSilence(400, 250)]).audio
    np.testing.assert_array_equal(out, np.concatenate([x[:400], np.zeros(250), x[400:]]))
    np.testing.assert_array_equal(apply(x, [InsertSilence(1000, 5)]).audio[1000:], 0)
    np.testing.assert_array_equal(apply(x, [Trim(123, 877)]).audio, x[123:877])


def test_fade_is_linear_and_touches_only_its_range() -> None:
    x = ramp(1000) + 0.5
    out_in = apply(x, [Fade(100, 300, "in")]).audio
    out_out = apply(x, [Fade(800, 1000, "out")]).audio
    k = np.arange(200)
    np.testing.assert_allclose(out_in[100:300], x[100:300] * k / 200, rtol=1e-6)
    np.testing.assert_allclose(out_out[800:], x[800:] * (199 - k) / 200, rtol=1e-6)
    assert out_in[100] == 0 and out_out[-1] == 0
    np.testing.assert_array_equal(out_in[:100], x[:100])
    np.testing.assert_array_equal(out_in[300:], x[300:])
    np.testing.assert_array_equal(out_out[:800], x[:800])


def test_gain_is_constant_inside_with_short_ramps_at_the_edges() -> None:
    x = np.full(1000, 0.25, np.float32)
    out = apply(x, [Gain(200, 400, 6.0)]).audio
    g = 10 ** (6.0 / 20)
    gains = np.full(200, g)
    gains[:5] = 1 + (g - 1) * np.arange(1, 6) / 6
    gains[-5:] = gains[:5][::-1]
    np.testing.assert_allclose(out[200:400], 0.25 * gains, rtol=1e-6)
    np.testing.assert_array_equal(out[:200], x[:200])
    np.testing.assert_array_equal(out[400:], x[400:])
    assert np.all(np.abs(np.diff(out)) < 0.25 * (g - 1) / 5)  # no step: no click
    tiny = apply(x, [Gain(10, 11, -6.0)]).audio  # too short to ramp
    assert tiny[10] == pytest.approx(0.25 * 10 ** (-6 / 20))


def test_splice_length_is_input_minus_removed_plus_clip() -> None:
    x = sine(1000)
    clip = clip_of(sine(300, hz=80))
    for start, end in [(200, 500), (200, 200), (0, 1000), (990, 1000), (0, 0)]:
        out = apply(x, [Splice(start, end, clip, H)]).audio
        assert out.shape == (1000 - (end - start) + 300,)
        np.testing.assert_array_equal(out[:start], x[:start])
        np.testing.assert_array_equal(out[start + 300:], x[end:])


def test_splice_crossfades_inside_the_clip_region() -> None:
    x = ramp(1000)
    c = sine(300, hz=80) + 0.1
    out = apply(x, [Splice(200, 500, clip_of(c), H)]).audio
    fade_in, fade_out = equal_power(H)
    expected = np.concatenate([x[:200], c, x[500:]])
    expected[200:210] = x[200:210] * fade_out + c[:10] * fade_in
    expected[490:500] = c[-10:] * fade_out + x[490:500] * fade_in
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    np.testing.assert_array_equal(out[210:490], c[10:-10])


def test_splice_over_a_short_span_crossfades_with_the_take_around_it() -> None:
    """A span shorter than the fade (or none: an insertion at a cursor) fades out the
    take as it went on from the cut and fades in the take as it led into the right
    side, so nothing drops to silence at either join; the crossfade is capped at half
    the clip."""
    x = ramp(1000)
    c = np.full(12, 0.5, np.float32)
    out = apply(x, [Splice(300, 303, clip_of(c), 50)]).audio  # h = 12 // 2 = 6
    fade_in, fade_out = equal_power(6)
    np.testing.assert_allclose(out[300:306], x[300:306] * fade_out + c[:6] * fade_in, rtol=1e-6)
    np.testing.assert_allclose(out[306:312], c[6:] * fade_out + x[297:303] * fade_in, rtol=1e-6)
    np.testing.assert_array_equal(out[312:], x[303:])
    inserted = apply(x, [Splice(300, 300, clip_of(c), 50)]).audio
    np.testing.assert_allclose(inserted[300:306], x[300:306] * fade_out + c[:6] * fade_in,
                               rtol=1e-6)
    np.testing.assert_allclose(inserted[306:312], c[6:] * fade_out + x[294:300] * fade_in,
                               rtol=1e-6)
    np.testing.assert_array_equal(inserted[312:], x[300:])


def test_splice_without_crossfade_is_plain_concatenation() -> None:
    x, c = sine(1000), sine(77, hz=120)
    out = apply(x, [Splice(100, 600, clip_of(c), 0)]).audio
    np.testing.assert_array_equal(out, np.concatenate([x[:100], c, x[600:]]))


def test_splice_of_a_clip_at_another_rate_or_empty_is_refused() -> None:
    x = sine(1000)
    with pytest.raises(EditError, match="22050 Hz"):
        apply(x, [Splice(0, 10, clip_of(sine(100), rate=22050), H)])
    with pytest.raises(EditError, match="clip"):
        apply(x, [Splice(0, 10, clip_of(np.zeros(0, np.float32)), H)])


@pytest.mark.parametrize("edit", [
    Delete(100, 1001), InsertSilence(1001, 5), Trim(0, 2000), Fade(900, 1100, "out"),
    Gain(999, 1001, 3.0), Splice(1000, 1001, clip_of(np.ones(4, np.float32)), H),
])
def test_an_edit_past_the_end_is_refused_in_seconds(edit: Edit) -> None:
    with pytest.raises(EditError, match=r"1\.000 s"):
        apply(sine(1000), [edit])


def test_positions_index_the_audio_left_by_earlier_edits() -> None:
    x = sine(1000)
    apply(x, [InsertSilence(1000, 500), Delete(1200, 1500)])  # fits only after the insert
    with pytest.raises(EditError):
        apply(x, [Delete(0, 500), Delete(400, 600)])


@pytest.mark.parametrize("make", [
    lambda: Delete(5, 3), lambda: Delete(-1, 3), lambda: Delete(1.5, 3),  # type: ignore[arg-type]
    lambda: Trim(3, 3), lambda: Fade(4, 4, "in"), lambda: Fade(0, 5, "sideways"),
    lambda: Gain(0, 5, 24.5), lambda: Gain(0, 5, -61), lambda: Gain(0, 5, float("nan")),
    lambda: Gain(0, 0, 1.0), lambda: InsertSilence(0, 0), lambda: InsertSilence(-1, 5),
    lambda: Delete(True, 3), lambda: Splice(0, 1, clip_of(np.ones(4, np.float32)), -1),
    lambda: Splice(0, 1, "c1", 5),  # type: ignore[arg-type]
])
def test_impossible_edits_are_refused_on_construction(make: Any) -> None:
    with pytest.raises(EditError):
        make()


def test_edits_are_hashable_values_and_numpy_positions_become_ints() -> None:
    clip = clip_of(np.ones(4, np.float32))
    assert Delete(np.int64(3), np.int64(5)) == Delete(3, 5)  # type: ignore[arg-type]
    assert type(Delete(np.int64(3), 5).start) is int  # type: ignore[arg-type]
    assert Gain(0, 5, 3) == Gain(0, 5, 3.0)
    assert len({Delete(1, 2), Delete(1, 2), Splice(0, 0, clip, 5), Splice(0, 0, clip, 5)}) == 2
    other = clip_of(np.ones(4, np.float32))
    assert Splice(0, 0, clip, 5) != Splice(0, 0, other, 5)  # clips compare by identity


def test_labels_for_the_undo_menu() -> None:
    assert Delete(0, 420).describe(RATE) == "Delete 0.42 s"
    assert InsertSilence(0, 500).describe(RATE) == "Insert 0.50 s of silence"
    assert Trim(0, 3200).describe(RATE) == "Trim to 3.20 s"
    assert Fade(0, 500, "out").describe(RATE) == "Fade out 0.50 s"
    assert Gain(0, 5, 3).label == "Gain +3.0 dB" and Gain(0, 5, -2.5).label == "Gain -2.5 dB"
    infill = clip_of(np.ones(400, np.float32), kind="infill", transcript="new text")
    assert Splice(10, 20, infill, H).label == "Replace with infill “new text”"
    assert Splice(10, 10, infill, H).label == "Insert infill “new text”"
    assert Splice(10, 20, clip_of(np.ones(420, np.float32)), H).label == "Paste 0.42 s"
    assert Delete(0, 1).label == "Delete" and Fade(0, 1, "in").label == "Fade in"


def test_crossfade_frames_is_ten_milliseconds() -> None:
    assert crossfade_frames(48000) == 480 and crossfade_frames(44100) == 441
    assert crossfade_frames(RATE) == H


def test_the_input_audio_is_never_modified() -> None:
    x = sine(1000)
    before = x.copy()
    clip = clip_of(sine(100, hz=70))
    apply(x, [Gain(0, 1000, 6.0), Fade(0, 100, "in"), Splice(0, 0, clip, H), Delete(0, 50),
              Trim(10, 900), InsertSilence(5, 5)])
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(clip.audio, sine(100, hz=70))


# --- Timestamps ---------------------------------------------------------------------------


WS = words(("one", 0.0, 0.2), ("two", 0.25, 0.45), ("three", 0.5, 0.7), ("four", 0.75, 0.95))


def test_delete_drops_clips_and_shifts_words() -> None:
    out = apply(sine(1000), [Delete(300, 720)], WS).words
    # "two" clipped at 0.3; "three" entirely removed; "four" shifted by 0.42
    assert as_list(out) == [("one", 0.0, 0.2), ("two", 0.25, 0.3), ("four", 0.33, 0.53)]
    out = apply(sine(1000), [Delete(300, 600)], WS).words  # both edges of the cut in words
    assert as_list(out)[1:3] == [("two", 0.25, 0.3), ("three", 0.3, 0.4)]
    out = apply(sine(1000), [Delete(100, 449)], WS).words  # leaves 1 ms of "two"
    assert as_list(out) == [("one", 0.0, 0.1), ("two", 0.1, 0.101), ("three", 0.151, 0.351),
                            ("four", 0.401, 0.601)]
    out = apply(sine(10000, 10000), [Delete(1000, 4495)], WS, rate=10000).words  # 0.5 ms left
    assert [w for w, _, _ in as_list(out)] == ["one", "three", "four"]


def test_a_word_covering_a_delete_gets_shorter() -> None:
    out = apply(sine(1000), [Delete(550, 650)], WS).words
    assert as_list(out)[2:] == [("three", 0.5, 0.6), ("four", 0.65, 0.85)]


def test_insert_silence_shifts_later_words_and_stretches_a_straddling_one() -> None:
    out = apply(sine(1000), [InsertSilence(250, 100), InsertSilence(700, 50)], WS).words
    assert as_list(out) == [("one", 0.0, 0.2), ("two", 0.35, 0.55), ("three", 0.6, 0.85),
                            ("four", 0.9, 1.1)]


def test_trim_keeps_the_words_inside_clipped_and_shifted() -> None:
    out = apply(sine(1000), [Trim(300, 800)], WS).words
    assert as_list(out) == [("two", 0.0, 0.15), ("three", 0.2, 0.4), ("four", 0.45, 0.5)]


def test_fade_and_gain_leave_words_alone() -> None:
    out = apply(sine(1000), [Fade(0, 300, "in"), Gain(100, 900, -3)], WS).words
    assert as_list(out) == as_list(WS)


def test_splice_inserts_the_clips_words_at_its_start() -> None:
    clip = clip_of(sine(400), words=words(("new", 0.05, 0.2), ("words", 0.25, 0.38)))
    out = apply(sine(1000), [Splice(500, 750, clip, H)], WS).words  # replaces "three"
    assert as_list(out) == [("one", 0.0, 0.2), ("two", 0.25, 0.45), ("new", 0.55, 0.7),
                            ("words", 0.75, 0.88), ("four", 0.9, 1.1)]


def test_a_word_cut_by_a_splice_keeps_its_longer_side() -> None:
    clip = clip_of(sine(100), words=words(("x", 0.0, 0.1)))
    out = apply(sine(1000), [Splice(530, 530, clip, H)], WS).words  # mostly after the cut
    assert as_list(out)[2:] == [("x", 0.53, 0.63), ("three", 0.63, 0.8), ("four", 0.85, 1.05)]
    out = apply(sine(1000), [Splice(150, 150, clip, H)], WS).words  # mostly before
    assert as_list(out)[:3] == [("one", 0.0, 0.15), ("x", 0.15, 0.25), ("two", 0.35, 0.55)]


def test_phonemes_move_like_words() -> None:
    ph = PhonemeTimestamps(("w", "ʌ", "n"), (0.0, 0.1, 0.3), (0.1, 0.3, 0.4))
    out = apply_edits(sine(1000), RATE, WordTimestamps(), ph, [Delete(100, 300)])
    assert out.phonemes == PhonemeTimestamps(("w", "n"), (0.0, 0.1), (0.1, 0.2))


def test_words_stay_within_the_edited_audio() -> None:
    late = words(("end", 0.9, 1.2))  # the API's last word may end after the audio
    out = apply(sine(1000), [Delete(0, 100)], late)
    assert as_list(out.words) == [("end", 0.8, 0.9)]


# --- Undo, memo, copy -----------------------------------------------------------------------


EDIT_LIST: list[Edit] = [
    Delete(100, 200), Gain(0, 300, 4.0), InsertSilence(50, 80),
    Splice(400, 450, clip_of(sine(120, hz=90), words=words(("in", 0.01, 0.1))), H),
    Fade(0, 40, "in"), Trim(20, 900),
]


def test_undo_is_applying_a_prefix() -> None:
    x = sine(1000)
    states = [apply(x, EDIT_LIST[:k], WS) for k in range(len(EDIT_LIST) + 1)]
    for k, edit in enumerate(EDIT_LIST):  # step by step from each state gives the next
        step = apply(np.array(states[k].audio), [edit], states[k].words)
        np.testing.assert_array_equal(step.audio, states[k + 1].audio)
        assert step.words == states[k + 1].words
    again = apply(x, EDIT_LIST[:3], WS)  # redo, undo, undo, undo
    np.testing.assert_array_equal(again.audio, states[3].audio)
    assert again.words == states[3].words


def test_edited_take_is_memoised_and_leaves_the_take_audio_alone() -> None:
    x = sine(1000)
    take = make_take(x, RATE, WS, PhonemeTimestamps(), {}, "offline", 0, 1)
    original = take.audio.copy()
    take = dataclasses.replace(take, edits=tuple(EDIT_LIST))
    first = edited(take)
    assert edited(take) is first
    assert edited(dataclasses.replace(take, name="Renamed")) is first  # same state
    shorter = edited(dataclasses.replace(take, edits=tuple(EDIT_LIST[:2])))
    assert shorter is not first and shorter.frames == 1000 - 100
    assert edited(take) is first
    np.testing.assert_array_equal(take.audio, original)
    assert take.audio.flags.writeable and not first.audio.flags.writeable
    plain = edited(dataclasses.replace(take, edits=()))
    assert np.shares_memory(plain.audio, take.audio)


def test_copy_makes_a_paste_clip_with_its_words() -> None:
    state = apply(sine(1000), [], WS)
    clip = clip_from(state, 230, 520, take_id="t1")
    assert clip.kind == "paste" and clip.take_id == "t1" and clip.sample_rate == RATE
    assert clip.frames == 290 and not np.shares_memory(clip.audio, state.audio)
    np.testing.assert_array_equal(clip.audio, state.audio[230:520])
    assert as_list(clip.words) == [("two", 0.02, 0.22), ("three", 0.27, 0.29)]
    assert clip_from(state, 0, 10).id != clip_from(state, 0, 10).id
    pasted = apply(np.array(state.audio), [Splice(1000, 1000, clip, H)], state.words)
    assert pasted.frames == 1290 and pasted.words.words[-2:] == ("two", "three")
    for start, end in [(10, 10), (-1, 5), (900, 1001)]:
        with pytest.raises(EditError):
            clip_from(state, start, end)


# --- JSON -----------------------------------------------------------------------------------


def test_json_round_trip() -> None:
    clip = EDIT_LIST[3].clip  # type: ignore[union-attr]
    data = edits_to_json(EDIT_LIST)
    assert data[3] == {"op": "splice", "start": 400, "end": 450, "clip": "c1", "crossfade": H}
    assert data[0] == {"op": "delete", "start": 100, "end": 200}
    back = edits_from_json(json.loads(json.dumps(data)), {"c1": clip})
    assert back == tuple(EDIT_LIST)


@pytest.mark.parametrize("data", [
    {"op": "delete"}, [1], [{"op": "cut", "start": 0, "end": 1}], [{"start": 0, "end": 1}],
    [{"op": "delete", "start": 0}], [{"op": "delete", "start": 0, "end": 1, "x": 2}],
    [{"op": "delete", "start": 0.0, "end": 1}], [{"op": "delete", "start": 2, "end": 1}],
    [{"op": "delete", "start": True, "end": 1}], [{"op": "fade", "start": 0, "end": 1,
                                                   "direction": ["in"]}],
    [{"op": "gain", "start": 0, "end": 1, "db": "3"}], [{"op": "gain", "start": 0, "end": 1,
                                                         "db": 99}],
    [{"op": "splice", "start": 0, "end": 1, "clip": "missing", "crossfade": 4}],
    [{"op": "splice", "start": 0, "end": 1, "clip": ["c1"], "crossfade": 4}],
    [{"op": ["delete"], "start": 0, "end": 1}],
])
def test_malformed_json_is_refused(data: Any) -> None:
    with pytest.raises(EditError):
        edits_from_json(data, {"c1": clip_of(np.ones(4, np.float32))})


# --- Properties and scale -------------------------------------------------------------------


@st.composite
def edit_lists(draw: st.DrawFn) -> tuple[list[Edit], list[int]]:
    """Delete/InsertSilence/Splice edits that fit, with the expected frames after each."""
    frames = 600
    edits: list[Edit] = []
    lengths = [frames]
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["delete", "silence", "splice"]))
        start = draw(st.integers(0, frames))
        end = draw(st.integers(start, frames))
        if kind == "delete":
            edits.append(Delete(start, end))
            frames -= end - start
        elif kind == "silence":
            n = draw(st.integers(1, 200))
            edits.append(InsertSilence(start, n))
            frames += n
        else:
            n = draw(st.integers(1, 200))
            cuts = sorted(draw(st.lists(st.integers(0, n), min_size=2, max_size=6)))
            ws = words(*((f"w{i}", a / RATE, b / RATE)
                         for i, (a, b) in enumerate(zip(cuts[::2], cuts[1::2], strict=False))))
            clip = clip_of(sine(n, hz=60), words=ws)
            edits.append(Splice(start, end, clip, draw(st.integers(0, 30))))
            frames += n - (end - start)
        lengths.append(frames)
    return edits, lengths


def assert_monotonic(ts: WordTimestamps, duration: float) -> None:
    start, end = np.array(ts.start), np.array(ts.end)
    assert len(ts.words) == start.size == end.size
    assert np.all(start <= end) and np.all(np.diff(start) >= 0) and np.all(np.diff(end) >= 0)
    assert np.all(end[:-1] <= start[1:])
    assert np.all(start >= 0) and np.all(end <= duration + 1e-9)


@settings(max_examples=150, deadline=None)
@given(edit_lists(), st.lists(st.integers(0, 600), min_size=0, max_size=12))
def test_frames_arithmetic_and_word_order_hold_for_any_edit_list(
        case: tuple[list[Edit], list[int]], cuts: list[int]) -> None:
    edits, lengths = case
    cuts = sorted(cuts)
    # An odd number of cuts leaves the last one unpaired.
    pairs = zip(cuts[::2], cuts[1::2], strict=False)
    ws = words(*((f"w{i}", a / RATE, b / RATE) for i, (a, b) in enumerate(pairs)))
    x = sine(600)
    for k in range(len(edits) + 1):
        out = apply(x, edits[:k], ws)
        assert out.frames == lengths[k] and out.audio.dtype == np.float32
        assert_monotonic(out.words, out.duration)


def test_many_edits_on_a_long_take_keep_the_length_arithmetic() -> None:
    rate = 48000
    x = np.zeros(rate * 600, np.float32)  # ten minutes; a 3-hour take scales the same way
    rng = np.random.default_rng(1)
    clip = clip_of(sine(rate, rate), rate=rate)
    edits: list[Edit] = []
    frames = x.size
    for _ in range(300):
        a = int(rng.integers(0, frames - rate))
        op = int(rng.integers(0, 3))
        if op == 0:
            edits.append(Delete(a, a + 2000))
            frames -= 2000
        elif op == 1:
            edits.append(Splice(a, a + 1000, clip, 480))
            frames += rate - 1000
        else:
            edits.append(Gain(a, a + 4000, -3.0))
    out = apply(x, edits, rate=rate)
    assert out.frames == frames
