"""Word and phoneme timestamps: parsed at the edge, joined across a stream's events."""

from __future__ import annotations

import pytest

from studio.api import ResponseFormatError
from studio.api.models import phoneme_timestamps_from_json, word_timestamps_from_json
from studio.timestamps import PhonemeTimestamps, WordTimestamps


def test_concat_keeps_event_order() -> None:
    a = word_timestamps_from_json({"words": ["Hello"], "start": [0], "end": [0.4]})
    b = word_timestamps_from_json({"words": ["world", "again"], "start": [0.5, 1.0],
                                   "end": [0.9, 1.3]})
    joined = WordTimestamps.concat([a, b])
    assert joined.words == ("Hello", "world", "again")
    assert joined.start == (0.0, 0.5, 1.0) and joined.end == (0.4, 0.9, 1.3)
    assert WordTimestamps.concat([]) == WordTimestamps()
    p = PhonemeTimestamps.concat([
        phoneme_timestamps_from_json({"phonemes": ["h"], "start": [0.0], "end": [0.1]}),
        phoneme_timestamps_from_json({"phonemes": ["ə"], "start": [0.1], "end": [0.2]}),
    ])
    assert p.to_json() == {"phonemes": ["h", "ə"], "start": [0.0, 0.1], "end": [0.1, 0.2]}


@pytest.mark.parametrize(
    ("parse", "body"),
    [
        (word_timestamps_from_json, {"words": ["a", "b"], "start": [0.0], "end": [0.1, 0.2]}),
        (phoneme_timestamps_from_json, {"phonemes": ["a"], "start": [0.0]}),
        (word_timestamps_from_json, {"words": "a", "start": [0.0], "end": [0.1]}),
    ],
)
def test_malformed_timestamps_are_a_format_error(parse, body) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ResponseFormatError):
        parse(body)
