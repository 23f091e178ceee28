"""The script's take cache: looked up by key in an index the document keeps as blocks
and takes come and go, and a block's generation job computed once while it is unchanged."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from studio.project.cache import TakeIndex
from studio.project.lexicon import LexiconItem
from studio.project.model import Block, Take, make_take
from studio.services.document import ScriptDocument
from studio.services.generation import GenerationService
from studio.services.playback import PlaybackService
from studio.services.render import BlockRenderer, GenerationJob
from studio.timestamps import PhonemeTimestamps, WordTimestamps


@pytest.fixture(scope="module", autouse=True)
def app() -> QCoreApplication:
    return QCoreApplication.instance() or QCoreApplication([])


def take(key: str, number: int = 1, created: float = 0.0, starred: bool = False) -> Take:
    made = make_take(np.zeros(4, dtype=np.float32), 44100, WordTimestamps(),
                     PhonemeTimestamps(), {"transcript": "x"}, "offline", 0, number,
                     cache_key=key)
    return Take(**{**{f: getattr(made, f) for f in made.__dataclass_fields__},
                   "created_at": created or made.created_at, "starred": starred})


def test_the_index_follows_takes_and_blocks() -> None:
    index = TakeIndex()
    a = take("k1")
    b = take("k1", 2)
    index.add("block-a", a)
    index.add("block-b", b)
    index.add("block-b", take(""))  # no key: never reused, never indexed
    assert "k1" in index and "" not in index
    assert index.takes("k1") == [("block-a", a.id), ("block-b", b.id)]
    index.discard(a.id)
    index.discard("unknown")
    assert index.takes("k1") == [("block-b", b.id)]
    index.discard(b.id)
    assert "k1" not in index and index.takes("k1") == []


def test_the_document_finds_takes_by_key_as_the_script_changes() -> None:
    document = ScriptDocument()
    first = document.add_block(text="One.", voice_id="v")
    second = document.add_block(text="One.", voice_id="v")
    old = take("k", 1, created=1.0)
    new = take("k", 2, created=2.0)
    document.add_take(first.id, old)
    document.add_take(second.id, new, select=False)
    assert document.has_take_with_key("k") and not document.has_take_with_key("")

    # A take of the block asked about wins; then script order among equals.
    assert document.cached_take("k", prefer_block=second.id) == (second, new)
    assert document.cached_take("k") == (first, old)  # selected in its block
    document.select_take(first.id, None)
    assert document.cached_take("k") == (first, old)  # script order
    document.move_block(second.id, 0)
    assert document.cached_take("k") == (second, new)
    document.update_take(first.id, old.id, starred=True)
    assert document.cached_take("k")[0] is first  # starred beats script order
    assert document.newest_take_with_key("k") == (second, new)
    assert document.newest_take_with_key("k", exclude_block=second.id)[0] is first

    document.remove_take(second.id, new.id)
    assert document.newest_take_with_key("k", exclude_block=first.id) is None
    removed = document.remove_block(first.id)
    assert not document.has_take_with_key("k")
    document.insert_block(removed)
    assert document.cached_take("k")[0] is removed
    document.replace_script([Block(text="Other.", voice_id="v")])
    assert not document.has_take_with_key("k") and document.cached_take("k") is None


class CountingRenderer(BlockRenderer):
    def __init__(self) -> None:
        super().__init__(None, "cloud", 44100)  # type: ignore[arg-type]  # keys only
        self.jobs = 0

    def job(self, block: Block, dictionary=None) -> GenerationJob:  # type: ignore[no-untyped-def]
        self.jobs += 1
        return super().job(block, dictionary) if dictionary is not None else super().job(block)


def test_a_blocks_job_is_computed_once_and_again_only_when_it_changes() -> None:
    document = ScriptDocument()
    blocks = [document.add_block(text=f"Line {i}.", voice_id="v") for i in range(5)]
    generation = GenerationService(document, PlaybackService(""))
    renderer = CountingRenderer()
    generation.set_renderer(renderer)
    ids = [b.id for b in blocks]

    first = generation.estimate(ids)
    generation.estimate(ids)
    for block in blocks:
        generation.cached_take(block)
    assert renderer.jobs == 5 and first.generate == 5

    key = generation.job(blocks[0]).key
    document.update_block(blocks[0].id, text="Line zero.")
    assert generation.job(blocks[0]).key != key and renderer.jobs == 6
    document.update_block(blocks[1].id, speed=1.2)
    generation.job(blocks[1])
    assert renderer.jobs == 7

    # A dictionary whose entries apply to the text changes the key; one that does not
    # apply keeps it (the entries decide, not the dictionary's id).
    before = generation.job(blocks[2]).key
    document.set_dictionary("d1", "Names", [LexiconItem("Line", "lyne")])
    document.set_project_dictionary("d1")
    assert generation.job(blocks[2]).key != before
    document.set_dictionary("d1", "Names", [LexiconItem("Other", "uther")])
    assert generation.job(blocks[2]).key == before

    # A take made for a block is found by the job's key.
    document.add_take(blocks[3].id, take(generation.job(blocks[3]).key))
    assert generation.estimate([blocks[3].id]).reuse == 1
    assert generation.estimate([blocks[3].id], force=True).reuse == 0
