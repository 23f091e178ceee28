"""Pronunciation dictionaries applied by the offline engine's generation, over loopback:
``/tts/sse``, ``/tts/bytes``, the WebSocket and the official SDK.

Issue #6: "generation applies the items (aliases replace the text; IPA aliases become
espeak-ng phoneme input) with Cartesia's matching rule". Word timestamps keep the
transcript's words (the studio aligns the script on them); phoneme timestamps are what
espeak-ng said, which is how these tests see which pronunciation was used."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import sys
import time
from typing import Any

import httpx
import numpy as np
import pytest
from offline_helpers import VOICE_ID, SocketClient, tts_body

from studio.audio import codecs
from studio.offline import OfflineEngine, espeak
from studio.offline.dict_routes import DictBook, DictStore, StoredDict
from studio.offline.synthesis import transcript_words
from studio.project import lexicon

RATE = 22050
CARTESIA_IPA = "<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>"  # Cartesia's own example


@pytest.fixture
def engine(private_engine: OfflineEngine) -> OfflineEngine:
    """An engine of this module's own, so its dictionaries stay here."""
    return private_engine


class Render:
    """One ``/tts/sse`` render: audio (float32 at 22 050 Hz), words and phonemes with
    their times in seconds."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.audio = codecs.decode(b"".join(
            base64.b64decode(e["data"]) for e in events if e["type"] == "chunk"),
            "pcm_f32le")
        self.words = [w for e in events if e["type"] == "timestamps"
                      for w in zip(*(e["word_timestamps"][k] for k in ("words", "start", "end")),
                                   strict=True)]
        self.phonemes = [p for e in events if e["type"] == "phoneme_timestamps"
                         for p in zip(*(e["phoneme_timestamps"][k]
                                        for k in ("phonemes", "start", "end")), strict=True)]

    @property
    def seconds(self) -> float:
        return len(self.audio) / RATE

    def word(self, text: str, nth: int = 0) -> tuple[float, float]:
        spans = [(s, e) for w, s, e in self.words if w == text]
        return spans[nth]

    def said(self, start: float, end: float) -> list[str]:
        """The phonemes spoken between ``start`` and ``end`` seconds."""
        return [p for p, s, e in self.phonemes if s >= start - 1e-3 and e <= end + 1e-3]

    def spoken(self) -> str:
        return " ".join(p for p, _, _ in self.phonemes)


def render(http: httpx.Client, transcript: str, dict_id: str | None = None) -> Render:
    body = tts_body(transcript, add_timestamps=True, add_phoneme_timestamps=True,
                    output_format={"container": "raw", "encoding": "pcm_f32le",
                                   "sample_rate": RATE})
    if dict_id is not None:
        body["pronunciation_dict_id"] = dict_id
    with http.stream("POST", "/tts/sse", json=body) as response:
        assert response.status_code == 200, response.read()
        events = [json.loads(line[6:]) for line in response.iter_lines()
                  if line.startswith("data: ")]
    assert events[-1]["type"] == "done", events[-1]
    return Render(events)


def make_dict(http: httpx.Client, items: list[tuple[str, str]], name: str = "Test") -> str:
    response = http.post("/pronunciation-dicts/", json={
        "name": name, "items": [{"text": t, "alias": a} for t, a in items]})
    assert response.status_code == 200, response.text
    ident: str = response.json()["id"]
    return ident


# --- sounds-like aliases ------------------------------------------------------------------


def test_a_respelling_changes_the_audio_and_the_words_time(http: httpx.Client) -> None:
    text = "We build voices at Cartesia every day."
    plain = render(http, text)
    with_dict = render(http, text, make_dict(http, [("Cartesia", "kar-TEE-zhuh")]))
    assert len(with_dict.audio) != len(plain.audio) or not np.allclose(
        with_dict.audio, plain.audio, atol=1e-3)
    start, end = plain.word("Cartesia")
    alias_start, alias_end = with_dict.word("Cartesia")
    # "kar-tee-zhuh" is three espeak-ng words: longer than "Cartesia" (0.50 s -> 0.62 s).
    assert (alias_end - alias_start) > 1.1 * (end - start)
    assert "ʌ" in with_dict.said(alias_start, alias_end)  # "zhuh", not espeak's "ə"
    assert "ʌ" not in plain.said(start, end)


def test_word_timestamps_keep_the_transcripts_words(http: httpx.Client) -> None:
    text = "We flew from NYC to Cartesia and New York City last week."
    dict_id = make_dict(http, [("Cartesia", "kar-TEE-zhuh"), ("NYC", "New York City"),
                               ("New York City", "Gotham")])
    result = render(http, text, dict_id)
    assert [w for w, _, _ in result.words] == transcript_words(text)
    starts = [s for _, s, _ in result.words]
    assert starts == sorted(starts) and all(s < e for _, s, e in result.words)
    # One word said as three: "NYC" spans all of "New York City".
    nyc = result.said(*result.word("NYC"))
    assert "j" in nyc and "s" in nyc and "ɪ" in nyc
    # Three words said as one: together they span "Gotham", and only it.
    new, city = result.word("New"), result.word("City")
    gotham = result.said(new[0], city[1])
    assert gotham[:2] == ["ɡ", "ɑː"] and "θ" in gotham and gotham[-1] == "m"
    assert result.word("York")[0] >= new[1] - 1e-3 and result.word("York")[1] <= city[0] + 1e-3


def test_a_multi_word_key_across_a_sentence_end_is_one_synthesis(http: httpx.Client) -> None:
    # split_sentences would cut "Mr. Smith" after "Mr."; the replacement keeps it whole.
    text = "Ask Mr. Smith today."
    result = render(http, text, make_dict(http, [("Mr. Smith", "<<b|ɑ|b>>")]))
    assert [w for w, _, _ in result.words] == ["Ask", "Mr", "Smith", "today"]
    assert result.said(result.word("Mr")[0], result.word("Smith")[1]) == ["b", "ɑː", "b"]


# --- IPA aliases ---------------------------------------------------------------------------


def test_an_ipa_alias_is_spoken_as_its_phonemes(http: httpx.Client) -> None:
    text = "I work at Cartesia now."
    plain = render(http, text)
    bob = render(http, text, make_dict(http, [("Cartesia", "<<ˈ|b|ɑ|b>>")]))
    assert bob.said(*bob.word("Cartesia")) == ["b", "ɑː", "b"]
    assert plain.said(*plain.word("Cartesia"))[:2] == ["k", "ɑːɹ"]
    assert bob.seconds < plain.seconds - 0.1
    assert [w for w, _, _ in bob.words] == transcript_words(text)


def test_an_ipa_alias_of_espeaks_own_pronunciation_sounds_the_same(http: httpx.Client) -> None:
    text = "I work at Cartesia now."
    plain = render(http, text)
    own = "<<" + "|".join(lexicon.segment_ipa(espeak.text_to_ipa("Cartesia"))) + ">>"
    cartesias = render(http, text, make_dict(http, [("Cartesia", CARTESIA_IPA)]))
    espeaks = render(http, text, make_dict(http, [("Cartesia", own)]))
    for result in (cartesias, espeaks):
        assert result.said(*result.word("Cartesia")) == plain.said(*plain.word("Cartesia"))
        assert abs(result.seconds - plain.seconds) < 0.05 * plain.seconds


def test_unknown_ipa_symbols_are_left_out_not_fatal(http: httpx.Client) -> None:
    text = "Say Nyx now."
    result = render(http, text, make_dict(http, [("Nyx", "<<b|ǃ|ɑ|b>>")]))  # a click
    assert result.said(*result.word("Nyx")) == ["b", "ɑː", "b"]


def test_an_alias_nothing_of_which_can_be_said_leaves_the_text(http: httpx.Client) -> None:
    text = "Say Nyx now."
    plain = render(http, text)
    result = render(http, text, make_dict(http, [("Nyx", "<<ǃ|ǀ>>")]))
    assert result.said(*result.word("Nyx")) == plain.said(*plain.word("Nyx"))


def test_the_transcripts_own_brackets_are_not_phoneme_input(http: httpx.Client) -> None:
    text = "Cartesia wrote [[b'Ab]] here."
    result = render(http, text, make_dict(http, [("Cartesia", "<<b|ɑ|b>>")]))
    assert result.said(*result.word("Cartesia")) == ["b", "ɑː", "b"]
    # "b'Ab" is read as text (espeak-ng spells it out), not as the phonemes "bɑːb".
    assert result.spoken().count("b ɑː b") == 1


# --- Cartesia's matching rule ---------------------------------------------------------------


def test_matching_rule_through_the_engine(http: httpx.Client) -> None:
    dict_id = make_dict(http, [("cartesia", "<<b|ɑ|b>>")])
    text = "cartesia speaks. Cartesia speaks too, and so does Cartesia."
    result = render(http, text, dict_id)
    assert result.said(*result.word("cartesia")) == ["b", "ɑː", "b"]
    assert result.said(*result.word("Cartesia", 0)) == ["b", "ɑː", "b"]  # sentence start
    mid = result.said(*result.word("Cartesia", 1))  # mid-sentence: the key is lowercase
    assert mid[:2] == ["k", "ɑːɹ"]
    # Case-sensitive the other way: a capitalised key does not match lowercase text.
    capital = render(http, "well, cartesia speaks.", make_dict(http, [("Cartesia", "<<b|ɑ|b>>")]))
    assert capital.said(*capital.word("cartesia"))[:2] == ["k", "ɑːɹ"]


def test_keys_never_match_inside_tags_or_spell(http: httpx.Client) -> None:
    dict_id = make_dict(http, [("happy", "<<b|ɑ|b>>"), ("ABC", "<<b|ɑ|b>>")])
    text = 'I am <emotion value="happy"/>happy, <spell>ABC</spell> ABC.'
    result = render(http, text, dict_id)
    assert result.spoken().count("ɑː") == 2  # the word "happy" and the last "ABC"


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/tts/bytes", "/tts/sse"])
def test_an_unknown_dictionary_is_a_404_naming_it(http: httpx.Client, path: str) -> None:
    response = http.post(path, json=tts_body("Hello.", pronunciation_dict_id="pdict_nope"))
    assert response.status_code == 404
    body = response.json()
    assert body["error_code"] == "pronunciation_dict_not_found"
    assert "pdict_nope" in body["message"] and body["title"] and body["request_id"]


@pytest.mark.parametrize("bad", [123, "", "  ", ["pdict_1"], {"id": "x"}])
def test_a_malformed_dictionary_id_is_a_400(http: httpx.Client, bad: object) -> None:
    response = http.post("/tts/bytes", json=tts_body("Hello.", pronunciation_dict_id=bad))
    assert response.status_code == 400
    assert "pronunciation_dict_id" in response.json()["message"]


def test_the_sdk_sees_an_unknown_dictionary_as_not_found(sdk: Any) -> None:
    import cartesia

    with pytest.raises(cartesia.NotFoundError, match="pdict_gone"):
        sdk.tts.generate(model_id="sonic-3", transcript="Hello.", voice=VOICE_ID,
                         pronunciation_dict_id="pdict_gone",
                         output_format={"container": "wav", "encoding": "pcm_s16le",
                                        "sample_rate": 8000})


def test_a_websocket_context_with_an_unknown_dictionary_ends_with_an_error(
        open_socket: Any) -> None:
    ws: SocketClient = open_socket()
    ws.send({**tts_body("Hello there.", context_id="bad-dict", pronunciation_dict_id="pdict_x"),
             "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}})
    ws.send({**tts_body("Still fine.", context_id="good"),
             "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}})
    events = ws.until_done("bad-dict", "good")
    error = events["bad-dict"][-1]
    assert error["type"] == "error" and error["status_code"] == 404
    assert "pdict_x" in error["message"] and not any(
        e["type"] == "chunk" for e in events["bad-dict"])
    assert events["good"][-1]["type"] == "done"


# --- editing, deleting, size -----------------------------------------------------------------


def test_editing_the_dictionary_changes_the_next_render(http: httpx.Client) -> None:
    text = "I work at Cartesia now."
    dict_id = make_dict(http, [("Cartesia", "<<b|ɑ|b>>")])
    before = render(http, text, dict_id)
    assert before.said(*before.word("Cartesia")) == ["b", "ɑː", "b"]
    patched = http.patch(f"/pronunciation-dicts/{dict_id}",
                         json={"items": [{"text": "Cartesia", "alias": "<<d|ɪ|d>>"}]})
    assert patched.status_code == 200
    after = render(http, text, dict_id)
    assert after.said(*after.word("Cartesia")) == ["d", "ɪ", "d"]
    assert http.delete(f"/pronunciation-dicts/{dict_id}").status_code == 204
    gone = http.post("/tts/sse", json=tts_body(text, pronunciation_dict_id=dict_id))
    assert gone.status_code == 404


def test_a_ten_thousand_entry_dictionary(http: httpx.Client) -> None:
    items = [(f"Name{n:05d}", f"<<n|ɛ|m|{n % 7}>>") for n in range(9999)]
    items.append(("Cartesia", "<<b|ɑ|b>>"))
    dict_id = make_dict(http, items, "Big")
    started = time.perf_counter()
    first = render(http, "Ask Cartesia about Name00042 today.", dict_id)
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = render(http, "Ask Cartesia about Name00042 today.", dict_id)
    again_seconds = time.perf_counter() - started
    for result in (first, again):
        assert result.said(*result.word("Cartesia")) == ["b", "ɑː", "b"]
        assert result.said(*result.word("Name00042"))[:3] == ["n", "ɛ", "m"]
    assert first_seconds < 5.0 and again_seconds < 5.0


def test_compiling_a_big_dictionary_does_not_block_the_event_loop(tmp_path: Any) -> None:
    items = tuple((f"Word{n}", f"alias {n}") for n in range(10_000))

    async def scenario() -> tuple[float, bool, bool]:
        book = DictBook(DictStore(tmp_path))
        book.dicts, book.loaded = (StoredDict("pdict_big", "Big", items, False, "now"),), True
        gaps: list[float] = []
        running = True

        async def heartbeat() -> None:
            last = time.perf_counter()
            while running:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        first = await book.pronouncer("pdict_big")
        second = await book.pronouncer("pdict_big")
        await book.change((StoredDict("pdict_big", "Big", items[:5], False, "now"),))
        third = await book.pronouncer("pdict_big")
        running = False
        await beat
        return max(gaps), first is second, len(third.items) == 5

    # Compiling takes ~40 ms of pure Python in the pool; what is measured is whether any
    # of it runs on the loop. The pool's thread still competes for the GIL, which the
    # interpreter hands over every 5 ms by default, and a garbage collection stops every
    # thread: both are made small here so that only blocking work would show.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    gc.disable()
    try:
        worst_gap, cached, recompiled = asyncio.run(scenario())
    finally:
        gc.enable()
        sys.setswitchinterval(interval)
    assert cached and recompiled
    assert worst_gap < 0.010, f"the event loop stalled {worst_gap * 1000:.1f} ms"


# --- WebSocket and SDK -----------------------------------------------------------------------


def _socket_render(ws: SocketClient, context_id: str, pushes: list[str], dict_id: str
                   ) -> tuple[list[str], list[tuple[str, float, float]]]:
    """Words and (phoneme, start, end) of a context fed ``pushes`` one by one."""
    base = {**tts_body("", context_id=context_id, pronunciation_dict_id=dict_id,
                       add_timestamps=True, add_phoneme_timestamps=True),
            "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}}
    for text in pushes:
        ws.send({**base, "transcript": text, "continue": True, "max_buffer_delay_ms": 0})
    ws.send({**base, "transcript": "", "continue": False})
    events = ws.until_done(context_id)[context_id]
    assert events[-1]["type"] == "done", events[-1]
    words = [w for e in events if e["type"] == "timestamps" for w in e["word_timestamps"]["words"]]
    phonemes = [p for e in events if e["type"] == "phoneme_timestamps"
                for p in zip(*(e["phoneme_timestamps"][k] for k in ("phonemes", "start", "end")),
                             strict=True)]
    return words, phonemes


def test_websocket_continuations_apply_the_rule_as_one_transcript(
        http: httpx.Client, open_socket: Any) -> None:
    dict_id = make_dict(http, [("cartesia", "<<b|ɑ|b>>")])
    ws: SocketClient = open_socket()
    # Rendered input by input: "Cartesia" opens the second input but not a sentence,
    # and "Cartesia" opens the third input and a sentence.
    words, phonemes = _socket_render(
        ws, "pieces", ["I like ", "Cartesia a lot. ", "Cartesia likes me."], dict_id)
    assert words == transcript_words("I like Cartesia a lot. Cartesia likes me.")
    spoken = " ".join(p for p, _, _ in phonemes)
    assert spoken.count("b ɑː b") == 1 and spoken.count("k ɑːɹ t") == 1
    assert spoken.index("k ɑːɹ t") < spoken.index("b ɑː b")


def test_sdk_generate_sse_and_websocket_with_a_dictionary(http: httpx.Client, sdk: Any) -> None:
    dict_id = make_dict(http, [("Cartesia", CARTESIA_IPA), ("Nyx", "bob")])
    text = "Nyx joined Cartesia."
    events = list(sdk.tts.generate_sse(
        model_id="sonic-3", transcript=text, voice={"mode": "id", "id": VOICE_ID},
        language="en", pronunciation_dict_id=dict_id, add_timestamps=True,
        add_phoneme_timestamps=True,
        output_format={"container": "raw", "encoding": "pcm_f32le", "sample_rate": RATE}))
    assert events[-1].type == "done"
    assert [w for e in events if e.type == "timestamps"
            for w in e.word_timestamps.words] == transcript_words(text)
    spoken = [p for e in events if e.type == "phoneme_timestamps"
              for p in e.phoneme_timestamps.phonemes]
    assert spoken[:3] == ["b", "ɑː", "b"]
    with sdk.tts.websocket_connect() as conn:
        ctx = conn.context(model_id="sonic-3", voice={"mode": "id", "id": VOICE_ID},
                           output_format={"container": "raw", "encoding": "pcm_s16le",
                                          "sample_rate": 16000},
                           language="en", add_timestamps=True, pronunciation_dict_id=dict_id)
        ctx.push("Nyx joined ")
        ctx.push("Cartesia.")
        ctx.no_more_inputs()
        received = list(ctx.receive())
    assert received[-1].type == "done"
    plain = sum(len(e.audio) for e in received if e.type == "chunk")
    assert plain > 0
    assert [w for e in received if e.type == "timestamps"
            for w in e.word_timestamps.words] == transcript_words(text)
