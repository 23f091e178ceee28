"""Word and phoneme timestamps: parsed at the edge, joined across a stream's events."""

from __future__ import annotations

import pytest

from studio.api import PhonemeTimestamps, ResponseFormatError, WordTimestamps


def test_concat_keeps_event_order() -> None:
    a = WordTimestamps.from_json({"words": ["Hello"], "start": [0], "end": [0.4]})
    b = WordTimestamps.from_json({"words": ["world", "again"], "start": [0.5, 1.0],
                                  "end": [0.9, 1.3]})
    joined = WordTimestamps.concat([a, b])
    assert joined.words == ("Hello", "world", "again")
    assert joined.start == (0.0, 0.5, 1.0) and joined.end == (0.4, 0.9, 1.3)
    assert WordTimestamps.concat([]) == WordTimestamps()
    p = PhonemeTimestamps.concat([
        PhonemeTimestamps.from_json({"phonemes": ["h"], "start": [0.0], "end": [0.1]}),
        PhonemeTimestamps.from_json({"phonemes": ["ə"], "start": [0.1], "end": [0.2]}),
    ])
    assert p.to_json() == {"phonemes": ["h", "ə"], "start": [0.0, 0.1], "end": [0.1, 0.2]}


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (WordTimestamps, {"words": ["a", "b"], "start": [0.0], "end": [0.1, 0.2]}),
        (PhonemeTimestamps, {"phonemes": ["a"], "start": [0.0]}),
        (WordTimestamps, {"words": "a", "start": [0.0], "end": [0.1]}),
    ],
)
def test_malformed_timestamps_are_a_format_error(cls, body) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ResponseFormatError):
        cls.from_json(body)
