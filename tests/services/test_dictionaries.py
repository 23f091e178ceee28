"""``DictionaryService`` against a private offline engine over loopback: CRUD, entries
with errors held back, saves serialised and coalesced (counted at a gated transport),
failed saves kept and retried, dictionaries deleted on the server, IPA suggestions and
Say it; and ``LexiconChecker`` giving exactly ``validate``'s answer incrementally."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.api import BadRequestError, CartesiaClient
from studio.offline import OfflineEngine
from studio.project.lexicon import LexiconItem, validate
from studio.services.dictionaries import (
    DictionaryError,
    DictionaryMissingError,
    DictionaryService,
    LexiconChecker,
    espeak_voice_for,
    has_error,
    ipa_alias,
)

T = TypeVar("T")
CARTESIA = LexiconItem("Cartesia", "<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>")
NYX = LexiconItem("Nyx", "nicks")
DICT_ROUTE = "/pronunciation-dicts/{id}"


def run(qloop: Any, awaitable: Awaitable[T], timeout: float = 60.0) -> T:
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))  # type: ignore[no-any-return]


class GatedTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that records every ``method`` request and, while
    :attr:`gate` is closed, holds them before they are sent (or, ``answered``, holds
    the server's answer)."""

    def __init__(self, method: str = "PATCH", answered: bool = False) -> None:
        self.method = method
        self.answered = answered
        self.inner = httpx.AsyncHTTPTransport()
        self.gate = asyncio.Event()
        self.gate.set()
        self.patches: list[httpx.Request] = []  # the requests of ``method``
        self.in_flight = 0
        self.most_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != self.method:
            return await self.inner.handle_async_request(request)
        self.patches.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.answered:
                response = await self.inner.handle_async_request(request)
                await response.aread()
                await self.gate.wait()
                return response
            await self.gate.wait()
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def engine(private_engine: OfflineEngine) -> OfflineEngine:
    """A private engine: faults injected here never reach other modules' tests."""
    return private_engine


@pytest.fixture
def client(loopback_client: Any, engine: OfflineEngine) -> CartesiaClient:
    return loopback_client(engine)  # type: ignore[no-any-return]


@pytest.fixture
def other_client(loopback_client: Any, engine: OfflineEngine) -> CartesiaClient:
    """Another user of the same account (a second studio, the web playground)."""
    return loopback_client(engine)  # type: ignore[no-any-return]


@pytest.fixture
def service(qtbot: Any, qloop: Any, client: CartesiaClient) -> Iterator[DictionaryService]:
    service = DictionaryService()
    service.set_client(client, "offline")
    yield service
    service.shutdown()
    qloop.run_until_complete(asyncio.sleep(0))


def server_items(qloop: Any, client: CartesiaClient, dict_id: str) -> tuple[LexiconItem, ...]:
    found = run(qloop, client.pronunciation_dicts.get(dict_id))
    return tuple(LexiconItem(i.text, i.alias) for i in found.items)


# --- CRUD ------------------------------------------------------------------------------


def test_create_rename_pin_unpin_delete_round_trip(qloop: Any, qtbot: Any,
                                                   service: DictionaryService,
                                                   client: CartesiaClient) -> None:
    brands = run(qloop, service.create("  Brands ", [CARTESIA, NYX]))
    names = run(qloop, service.create("Names", [LexiconItem("Aoife", "EE-fa")]))
    assert brands.name == "Brands"
    assert service.items(brands.id) == (CARTESIA, NYX)
    assert service.save_state(brands.id) == "saved" and not service.unsaved(brands.id)

    fresh = DictionaryService()
    fresh.set_client(client, "offline")
    run(qloop, fresh.refresh())
    assert {brands.id, names.id} <= {d.id for d in fresh.dictionaries()}
    assert fresh.items(brands.id) == (CARTESIA, NYX)  # Unicode IPA survives the trip

    run(qloop, service.rename(brands.id, "Brand names"))
    assert service.dictionary(brands.id).name == "Brand names"  # type: ignore[union-attr]
    assert run(qloop, client.pronunciation_dicts.get(brands.id)).name == "Brand names"

    run(qloop, service.pin(brands.id))
    assert service.dictionary(brands.id).pinned  # type: ignore[union-attr]
    run(qloop, service.pin(names.id))  # one pinned dictionary at a time
    assert service.dictionary(names.id).pinned  # type: ignore[union-attr]
    assert not service.dictionary(brands.id).pinned  # type: ignore[union-attr]
    run(qloop, service.unpin(names.id))
    assert not service.dictionary(names.id).pinned  # type: ignore[union-attr]

    with qtbot.waitSignal(service.dictionaries_changed, timeout=5000):
        run(qloop, service.delete(brands.id))
    assert service.dictionary(brands.id) is None and service.items(brands.id) is None
    assert brands.id not in {d.id for d in run(qloop, client.pronunciation_dicts.list())}
    fresh.shutdown()


def test_no_backend_and_bad_names_are_errors_for_the_user(qloop: Any) -> None:
    service = DictionaryService()
    with pytest.raises(DictionaryError, match="Not connected"):
        run(qloop, service.refresh())
    with pytest.raises(DictionaryError, match="needs a name"):
        run(qloop, service.create("   "))
    with pytest.raises(DictionaryError, match="No dictionary"):
        service.edit_items("pdict_nope", [NYX])


def test_server_refusal_is_a_dictionary_error_naming_the_reason(
        qloop: Any, service: DictionaryService, engine: OfflineEngine) -> None:
    engine.inject_faults("/pronunciation-dicts/", [422])
    with pytest.raises(DictionaryError, match=r"Could not create “Refused”.*422") as caught:
        run(qloop, service.create("Refused"))
    assert isinstance(caught.value.__cause__, BadRequestError)


# --- saving ----------------------------------------------------------------------------


def test_edits_are_local_at_once_and_entries_with_errors_are_held_back(
        qloop: Any, service: DictionaryService, client: CartesiaClient) -> None:
    made = run(qloop, service.create("Held back"))
    seen: list[str] = []
    service.items_changed.connect(seen.append)
    broken_ipa = LexiconItem("Vex", "<<v|ɛ|k|s")
    edited = (CARTESIA, LexiconItem("", "nothing"), broken_ipa, NYX,
              LexiconItem("Nyx", "nix again"), LexiconItem("Qoph", "<<q|ʘ|ɸ|ⱷ>>"))
    service.edit_items(made.id, edited)
    assert seen == [made.id] and service.items(made.id) == edited  # before any request
    run(qloop, service.wait_saved(made.id))
    # Sent: the valid entries and the one with only a warning (an unknown symbol).
    assert server_items(qloop, client, made.id) == (CARTESIA, NYX, edited[5])
    assert service.held_back(made.id) == 3
    assert service.save_state(made.id) == "saved" and service.unsaved(made.id)
    assert service.items(made.id) == edited  # nothing lost locally

    fixed = (CARTESIA, LexiconItem("Vex", "<<v|ɛ|k|s>>"), NYX)
    run(qloop, service.save_items(made.id, fixed))
    assert server_items(qloop, client, made.id) == fixed
    assert not service.unsaved(made.id)


def test_rapid_edits_send_one_request_in_flight_then_only_the_latest(
        qloop: Any, engine: OfflineEngine, loopback_client: Any) -> None:
    transport = GatedTransport()
    client = loopback_client(engine, transport=transport)
    service = DictionaryService()
    service.set_client(client, "offline")
    try:
        made = run(qloop, service.create("Coalesced"))
        transport.gate.clear()
        service.edit_items(made.id, [LexiconItem("one", "1")])
        run(qloop, asyncio.sleep(0.2))  # the first save is now held at the gate
        assert len(transport.patches) == 1 and service.save_state(made.id) == "saving"
        for n in range(2, 12):
            service.edit_items(made.id, [LexiconItem("one", str(n))])
            run(qloop, asyncio.sleep(0.01))
        assert len(transport.patches) == 1  # nothing more sent while one is in flight
        transport.gate.set()
        run(qloop, service.wait_saved(made.id))
        assert len(transport.patches) == 2 and transport.most_in_flight == 1
        assert b'"alias":"11"' in transport.patches[-1].content.replace(b" ", b"")
        assert server_items(qloop, client, made.id) == (LexiconItem("one", "11"),)
        assert service.save_state(made.id) == "saved"
    finally:
        service.shutdown()
        run(qloop, client.aclose())


def test_a_failed_save_keeps_the_entries_and_is_sent_again(
        qloop: Any, qtbot: Any, service: DictionaryService, client: CartesiaClient,
        engine: OfflineEngine) -> None:
    made = run(qloop, service.create("Flaky", [NYX]))
    path = f"/pronunciation-dicts/{made.id}"
    engine.inject_faults(path, [500])
    with qtbot.waitSignal(service.error, timeout=10000) as failed:
        service.edit_items(made.id, [NYX, CARTESIA])
        run(qloop, service.wait_idle())
    assert "“Flaky” not saved" in failed.args[0] and "500" in failed.args[0]
    assert service.save_state(made.id) == "failed" and service.unsaved(made.id)
    assert "500" in service.save_error(made.id)
    assert service.items(made.id) == (NYX, CARTESIA)
    assert server_items(qloop, client, made.id) == (NYX,)

    engine.inject_faults(path, [502])
    with pytest.raises(DictionaryError, match=r"not saved.*502"):
        run(qloop, service.wait_saved(made.id))  # sends again, and fails again
    assert service.items(made.id) == (NYX, CARTESIA)
    service.retry()
    run(qloop, service.wait_idle())
    assert service.save_state(made.id) == "saved" and service.save_error(made.id) == ""
    assert server_items(qloop, client, made.id) == (NYX, CARTESIA)


def test_the_next_edit_retries_a_failed_save(qloop: Any, service: DictionaryService,
                                             client: CartesiaClient,
                                             engine: OfflineEngine) -> None:
    made = run(qloop, service.create("Next edit", [NYX]))
    engine.inject_faults(f"/pronunciation-dicts/{made.id}", [503])
    service.edit_items(made.id, [CARTESIA])
    run(qloop, service.wait_idle())
    assert service.save_state(made.id) == "failed"
    service.edit_items(made.id, [CARTESIA, NYX])
    run(qloop, service.wait_saved(made.id))
    assert server_items(qloop, client, made.id) == (CARTESIA, NYX)
    assert service.save_error(made.id) == ""


def test_edits_without_a_backend_wait_for_the_next_one(qloop: Any, service: DictionaryService,
                                                       client: CartesiaClient) -> None:
    made = run(qloop, service.create("Offline for a while", [NYX]))
    service.set_client(None)
    service.edit_items(made.id, [NYX, CARTESIA])
    assert service.save_state(made.id) == "unsaved"
    with pytest.raises(DictionaryError, match="Not connected"):
        run(qloop, service.wait_saved(made.id))
    service.set_client(client, "offline")  # the same backend again: sent now
    run(qloop, service.wait_idle())
    assert server_items(qloop, client, made.id) == (NYX, CARTESIA)


def test_another_kind_of_backend_has_other_dictionaries(qloop: Any, service: DictionaryService,
                                                        client: CartesiaClient) -> None:
    run(qloop, service.create("Offline only"))
    assert service.dictionaries()
    service.set_client(client, "cloud")
    assert service.dictionaries() == []


def test_refresh_keeps_unsaved_entries_and_takes_the_servers_otherwise(
        qloop: Any, service: DictionaryService, client: CartesiaClient,
        other_client: CartesiaClient) -> None:
    mine = run(qloop, service.create("Mine", [NYX]))
    theirs = run(qloop, service.create("Theirs", [NYX]))
    run(qloop, other_client.pronunciation_dicts.update(theirs.id, items=[]))
    service.set_client(None)
    service.edit_items(mine.id, [NYX, LexiconItem("", "")])  # held back, and not sent
    service.set_client(client, "offline")
    run(qloop, service.refresh())
    assert service.items(theirs.id) == ()  # changed elsewhere, nothing here: theirs
    assert service.items(mine.id) == (NYX, LexiconItem("", ""))  # never lost


def test_a_listing_older_than_a_create_or_delete_does_not_undo_them(
        qloop: Any, engine: OfflineEngine, loopback_client: Any) -> None:
    transport = GatedTransport("GET", answered=True)
    client = loopback_client(engine, transport=transport)
    service = DictionaryService()
    service.set_client(client, "offline")
    try:
        doomed = run(qloop, service.create("Doomed"))
        transport.gate.clear()
        listing = asyncio.ensure_future(service.refresh())
        run(qloop, asyncio.sleep(0.3))  # the server answered, with "Doomed"; held here
        assert transport.patches and not listing.done()
        made = run(qloop, service.create("Made meanwhile"))
        run(qloop, service.delete(doomed.id))
        transport.gate.set()
        run(qloop, listing)
        assert not service.is_missing(made.id) and service.dictionary(made.id) is not None
        assert service.dictionary(doomed.id) is None
    finally:
        service.shutdown()
        run(qloop, client.aclose())


# --- deleted on the server -------------------------------------------------------------


def test_a_dictionary_deleted_elsewhere_is_kept_and_can_be_recreated(
        qloop: Any, qtbot: Any, service: DictionaryService, client: CartesiaClient,
        other_client: CartesiaClient) -> None:
    made = run(qloop, service.create("Gone", [CARTESIA, NYX]))
    run(qloop, other_client.pronunciation_dicts.delete(made.id))
    with qtbot.waitSignal(service.error, timeout=5000) as said:
        run(qloop, service.refresh())
    assert "“Gone” was deleted on the server" in said.args[0]
    assert "2 entries are kept here" in said.args[0]
    assert service.is_missing(made.id) and service.save_state(made.id) == "missing"
    assert made.id in [d.id for d in service.dictionaries()]
    assert service.items(made.id) == (CARTESIA, NYX)
    service.edit_items(made.id, [CARTESIA])  # still editable here; nothing is sent
    with pytest.raises(DictionaryMissingError):
        run(qloop, service.pin(made.id))

    with qtbot.waitSignal(service.dictionary_recreated) as recreated:
        again = run(qloop, service.recreate(made.id))
    assert recreated.args == [made.id, again.id]
    assert again.name == "Gone" and again.id != made.id
    assert server_items(qloop, client, again.id) == (CARTESIA,)
    assert service.dictionary(made.id) is None


def test_a_save_that_finds_the_dictionary_gone_marks_it_missing(
        qloop: Any, service: DictionaryService, other_client: CartesiaClient) -> None:
    made = run(qloop, service.create("Vanishing", [NYX]))
    run(qloop, other_client.pronunciation_dicts.delete(made.id))
    with pytest.raises(DictionaryMissingError, match="Recreate"):
        run(qloop, service.save_items(made.id, [NYX, CARTESIA]))
    assert service.is_missing(made.id) and service.items(made.id) == (NYX, CARTESIA)
    run(qloop, service.delete(made.id))  # forgetting it sends nothing
    assert service.dictionary(made.id) is None


# --- IPA -------------------------------------------------------------------------------


def test_espeak_voices_for_studio_languages() -> None:
    assert espeak_voice_for("en") == "en-us"
    assert espeak_voice_for("en-GB") == "en-gb"
    assert espeak_voice_for("pt") == "pt-br"
    assert espeak_voice_for("no") == "nb"
    with pytest.raises(DictionaryError, match="not available"):
        espeak_voice_for("tlh")


def test_ipa_alias_is_cartesias_form() -> None:
    # Stress moves from before the vowel (espeak) to before the syllable (Cartesia's guide).
    assert ipa_alias("kɑːɹtˈiːʒə") == "<<k|ɑː|ɹ|ˈ|t|iː|ʒ|ə>>"
    assert ipa_alias("ðə θˈɜːd_!") == "<<ð|ə|ˈ|θ|ɜː|d>>"
    assert ipa_alias("stɹˈɔŋ ɐbˈaʊt ɪnstˈɔːl") == "<<ˈ|s|t|ɹ|ɔ|ŋ|ɐ|ˈ|b|aʊ|t|ɪ|n|ˈ|s|t|ɔː|l>>"
    with pytest.raises(DictionaryError):
        ipa_alias("_ ,")


@pytest.mark.parametrize(("text", "language"), [
    ("Cartesia", "en"), ("Kaelthas Sunstrider", "en"), ("Zoë, the 3rd!", "en"),
    ("Bonjour", "fr"), ("Straße", "de")])
def test_suggest_gives_an_alias_validate_accepts(qloop: Any, text: str, language: str) -> None:
    service = DictionaryService()  # needs no backend
    alias = run(qloop, service.suggest_ipa(text, language))
    assert alias.startswith("<<") and alias.endswith(">>")
    assert not has_error(validate([LexiconItem(text, alias)]))


def test_suggest_needs_text(qloop: Any) -> None:
    with pytest.raises(DictionaryError, match="text first"):
        run(qloop, DictionaryService().suggest_ipa("  "))


# --- Say it ----------------------------------------------------------------------------


def test_say_it_renders_without_and_with_the_dictionary(
        qloop: Any, service: DictionaryService, client: CartesiaClient) -> None:
    voice = run(qloop, client.voices.list())[0]
    made = run(qloop, service.create("Say it", [LexiconItem("Nyx", "Nicholas Alexander")]))
    service.edit_items(made.id, [LexiconItem("Nyx", "Nicholas Alexander Montgomery")])
    without, with_dictionary, rate = run(qloop, service.say_it(
        made.id, "I said Nyx clearly.", voice.id, language="en"))
    assert rate == 44100 and without.dtype == np.float32 and without.ndim == 1
    assert service.save_state(made.id) == "saved"  # the edit was saved first
    # The alias is much longer than the word it replaces.
    assert with_dictionary.size > without.size * 1.3


def test_say_it_with_a_suggested_ipa_alias_changes_the_audio(
        qloop: Any, service: DictionaryService, client: CartesiaClient) -> None:
    voice = run(qloop, client.voices.list())[0]
    alias = run(qloop, service.suggest_ipa("Nicholas"))  # "Nyx" said as "Nicholas"
    made = run(qloop, service.create("IPA", [LexiconItem("Nyx", alias)]))
    without, with_dictionary, _rate = run(qloop, service.say_it(
        made.id, "I said Nyx clearly.", voice.id))
    assert not np.array_equal(without, with_dictionary)
    assert with_dictionary.size > without.size


def test_say_it_needs_a_sentence_and_a_voice(qloop: Any, service: DictionaryService) -> None:
    made = run(qloop, service.create("Say nothing"))
    with pytest.raises(DictionaryError, match="sentence"):
        run(qloop, service.say_it(made.id, " ", "voice"))
    with pytest.raises(DictionaryError, match="voice"):
        run(qloop, service.say_it(made.id, "Hello.", ""))


# --- the checker -----------------------------------------------------------------------

_TEXTS = st.sampled_from(["", " ", "Nyx", "nyx", "Nyx Tech", "Tech", "Nyx  Tech", "A B C",
                          "B", "B C", "Cartesia"])
_ALIASES = st.sampled_from(["", "nicks", "<<n|ɪ|k|s>>", "<<n|ɪ||s>>", "<<k|ɑ", "x>>",
                            "<<ⱷ|ɪ>>", "<<a b>>", "<<>>", "<<ã|ɪ>>"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.builds(LexiconItem, _TEXTS, _ALIASES), max_size=12),
       st.lists(st.tuples(st.integers(0, 11), st.builds(LexiconItem, _TEXTS, _ALIASES)),
                max_size=6))
def test_checker_matches_validate_through_edits(
        items: list[LexiconItem], edits: list[tuple[int, LexiconItem]]) -> None:
    checker = LexiconChecker()
    for step in range(len(edits) + 1):
        if step:
            row, item = edits[step - 1]
            if items:
                items[row % len(items)] = item
            else:
                items.append(item)
        expected: list[list[Any]] = [[] for _ in items]
        for problem in validate(items):
            expected[problem.index].append(problem)
        assert [list(found) for found in checker.problems(items)] == expected


def test_checker_rechecks_one_alias_for_an_alias_edit_in_ten_thousand() -> None:
    items = [LexiconItem(f"Word{n}", f"<<w|ɜ|{n % 7}>>" if n % 2 else f"word {n}")
             for n in range(10_000)]
    checker = LexiconChecker()
    checker.problems(items)
    checked, passes = checker.aliases_checked, checker.text_passes
    items[5000] = LexiconItem("Word5000", "<<w|ɜ|ⱷ>>")
    found = checker.problems(items)
    assert checker.aliases_checked == checked + 1 and checker.text_passes == passes
    assert [p.kind for p in found[5000]] == ["unknown_symbol"]
    items[6000] = LexiconItem("Word1", "one")  # a duplicate text: one pass over the texts
    found = checker.problems(items)
    assert checker.text_passes == passes + 1
    assert [p.kind for p in found[6000]] == ["duplicate"]

