"""The take-cache key: what changes the audio changes the key, nothing else does."""

from __future__ import annotations

import copy

from studio.project.cache import take_key

BASE = {"model_id": "sonic-3", "transcript": "Hello  there.\n", "voice": {"mode": "id", "id": "v1"},
        "language": "en", "generation_config": {"speed": 1.0, "volume": 1.0, "emotion": None},
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 44100}}


def changed(path: tuple[str, ...], value: object) -> dict:
    body = copy.deepcopy(BASE)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def test_key_is_stable_and_versioned() -> None:
    assert take_key(BASE, "offline") == take_key(copy.deepcopy(BASE), "offline")
    assert take_key(BASE, "offline").startswith("v1:")


def test_everything_that_changes_the_audio_changes_the_key() -> None:
    key = take_key(BASE, "offline")
    variants = [
        changed(("model_id",), "sonic-2"),
        changed(("transcript",), "Hello there!"),
        changed(("transcript",), 'Hello <break time="1s"/> there.'),
        changed(("voice", "id"), "v2"),
        changed(("language",), "de"),
        changed(("generation_config", "speed"), 1.1),
        changed(("generation_config", "volume"), 0.9),
        changed(("generation_config", "emotion"), "calm"),
        changed(("output_format", "sample_rate"), 24000),
        changed(("output_format", "encoding"), "pcm_f32le"),
        {**BASE, "pronunciation_dict_id": "dict-1"},
    ]
    keys = {take_key(v, "offline") for v in variants}
    assert key not in keys and len(keys) == len(variants)
    assert take_key(BASE, "cloud") != key
    assert take_key(BASE, "offline", [{"text": "Cartesia", "alias": "car-TEE-zha"}]) != key


def test_whitespace_and_unrelated_fields_do_not() -> None:
    key = take_key(BASE, "offline")
    assert take_key(changed(("transcript",), "Hello there."), "offline") == key
    assert take_key({**BASE, "context_id": "abc", "add_timestamps": True}, "offline") == key
