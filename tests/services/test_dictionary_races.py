"""DictionaryService against a scripted client: a listing that races an edit, and a
change of account (review findings of issue #6)."""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
from typing import Any

from studio.api.models import PronunciationDict, PronunciationItem
from studio.project.lexicon import LexiconItem
from studio.services.dictionaries import DictionaryService


class ScriptedClient:
    """One dictionary on a fake server; the listing can be held after it is read."""

    def __init__(self) -> None:
        self.server = {
            "d1": PronunciationDict(
                "d1",
                "Brand",
                (PronunciationItem("Cartesia", "old"),),
                pinned=False,
                owner_id="u",
                created_at="",
            )
        }
        self.gate = asyncio.Event()
        self.gate.set()
        self.read = asyncio.Event()
        self.pronunciation_dicts = self  # its list and update are below

    async def list(self) -> builtins.list[PronunciationDict]:
        snapshot = list(self.server.values())  # read now...
        self.read.set()
        await self.gate.wait()  # ...answered later (a slow page)
        return snapshot

    async def update(self, dict_id: str, name: str | None = None,
                     items: Any = None) -> PronunciationDict:
        entry = self.server[dict_id]
        if items is not None:
            entry = dataclasses.replace(entry, items=tuple(items))
        self.server[dict_id] = entry
        return entry


def test_a_listing_answered_after_an_edit_was_saved_keeps_the_edit(qloop: Any) -> None:
    async def scenario() -> tuple[Any, Any, str]:
        service = DictionaryService()
        client = ScriptedClient()
        service.set_client(client, "cloud")  # type: ignore[arg-type]
        await service.refresh()
        client.gate.clear()
        client.read.clear()
        listing = asyncio.ensure_future(service.refresh())
        await client.read.wait()
        service.edit_items("d1", [LexiconItem("Cartesia", "NEW")])
        await service.wait_saved("d1")
        client.gate.set()
        await listing
        await service.wait_idle()
        return service.items("d1"), client.server["d1"].items, service.save_state("d1")

    local, server, state = qloop.run_until_complete(asyncio.wait_for(scenario(), 30))
    assert local == (LexiconItem("Cartesia", "NEW"),)
    assert server == (PronunciationItem("Cartesia", "NEW"),) and state == "saved"


def test_another_account_starts_from_its_own_dictionaries(qloop: Any) -> None:
    async def scenario() -> tuple[Any, Any]:
        service = DictionaryService()
        service.set_client(ScriptedClient(), "cloud", "account-a")  # type: ignore[arg-type]
        await service.refresh()
        kept = service.items("d1")
        other = ScriptedClient()
        other.server = {}
        service.set_client(other, "cloud", "account-b")  # type: ignore[arg-type]
        await service.refresh()
        return kept, [d.id for d in service.dictionaries()]

    kept, listed = qloop.run_until_complete(asyncio.wait_for(scenario(), 30))
    assert kept == (LexiconItem("Cartesia", "old"),)
    assert listed == [], "account A's dictionary is not shown as deleted in account B"
