"""The ctypes binding to espeak-ng: audio, events, errors, thread safety."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from studio.offline import espeak


def _run(text: str, voice: str = "en-us", prosody: espeak.Prosody | None = None):  # type: ignore[no-untyped-def]
    blocks: list[np.ndarray] = []
    events: list[espeak.WordEvent | espeak.PhonemeEvent] = []

    def sink(pcm: np.ndarray, evs: list[espeak.WordEvent | espeak.PhonemeEvent]) -> bool:
        blocks.append(pcm)
        events.extend(evs)
        return False

    completed = espeak.synthesize(text, voice, prosody or espeak.Prosody(), sink)
    return completed, np.concatenate(blocks), events


def test_sample_rate_is_espeaks_native_rate() -> None:
    assert espeak.sample_rate() == 22050


def test_word_events_point_at_the_words() -> None:
    text = "Hello brave new world"
    completed, audio, events = _run(text)
    assert completed
    assert audio.dtype == np.int16 and audio.ndim == 1
    words = [e for e in events if isinstance(e, espeak.WordEvent)]
    assert [text[w.text_start:w.text_start + w.text_length] for w in words] == text.split()
    samples = [w.sample for w in words]
    assert samples == sorted(samples) and samples[-1] < len(audio)
    phonemes = [e.ipa for e in events if isinstance(e, espeak.PhonemeEvent) and e.ipa]
    assert "h" in phonemes and len(phonemes) >= 12


def test_audio_is_speech_not_silence() -> None:
    _, audio, _ = _run("This should be clearly audible speech.")
    samples = audio.astype(np.float32) / 32768.0
    assert 1.0 < len(samples) / 22050 < 4.0
    assert float(np.sqrt(np.mean(samples**2))) > 0.03


def test_rate_changes_duration() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    _, slow, _ = _run(text, prosody=espeak.Prosody(rate=100))
    _, fast, _ = _run(text, prosody=espeak.Prosody(rate=300))
    assert len(slow) > 2 * len(fast)


def test_sink_can_stop_synthesis() -> None:
    calls = []

    def sink(pcm: np.ndarray, events: list[object]) -> bool:
        calls.append(len(pcm))
        return True

    assert espeak.synthesize("A long sentence that would take several blocks to render fully.",
                             "en-us", espeak.Prosody(), sink) is False
    assert len(calls) == 1


def test_unknown_voice_raises() -> None:
    with pytest.raises(espeak.EspeakError, match="no-such-voice"):
        _run("hello", voice="no-such-voice")


def _envelope(audio: np.ndarray, frame: int = 441) -> np.ndarray:
    """RMS per 20 ms frame."""
    x = audio[: len(audio) // frame * frame].astype(np.float64).reshape(-1, frame)
    return np.sqrt(np.mean(x**2, axis=1))


def _signature(text: str, voice: str):  # type: ignore[no-untyped-def]
    _, audio, events = _run(text, voice)
    return audio, [(e.text_start, e.sample) for e in events if isinstance(e, espeak.WordEvent)]


def test_concurrent_callers_get_the_same_audio_as_sequential() -> None:
    # espeak-ng's noise source makes fricatives differ run to run, so compare
    # words, timing (within 10 ms) and the overall waveform, not every sample.
    jobs = [("First thread speaks this sentence.", "en-us+f3"),
            ("Second thread says something else entirely.", "en-us+m3")]
    expected = [_signature(*job) for job in jobs]
    results: dict[int, list] = {0: [], 1: []}  # type: ignore[type-arg]
    errors: list[Exception] = []

    def work(i: int) -> None:
        try:
            for _ in range(4):
                results[i].append(_signature(*jobs[i]))
        except Exception as exc:  # noqa: BLE001  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    for i in range(2):
        want_audio, want_words = expected[i]
        assert len(results[i]) == 4
        for audio, words in results[i]:
            assert [w[0] for w in words] == [w[0] for w in want_words]
            for (_, got), (_, want) in zip(words, want_words, strict=True):
                assert abs(got - want) < 0.01 * 22050
            assert abs(len(audio) - len(want_audio)) < 0.01 * 22050
            got_env, want_env = _envelope(audio), _envelope(want_audio)
            n = min(len(got_env), len(want_env))
            assert np.corrcoef(got_env[:n], want_env[:n])[0, 1] > 0.9
