"""The project service: every change reaches the file, failures keep the work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from studio.project.model import make_take
from studio.project.store import ProjectError, ProjectStore, open_read_only, remove_project_files
from studio.services.document import ScriptDocument
from studio.services.project import ProjectService
from studio.timestamps import PhonemeTimestamps, WordTimestamps

RATE = 16000


def take(seconds: float = 0.5, seed: int = 0, number: int = 1):
    rng = np.random.default_rng(seed)
    audio = (np.round(rng.uniform(-0.3, 0.3, int(seconds * RATE)) * 32767) / 32768).astype(
        np.float32
    )
    return make_take(audio, RATE, WordTimestamps(("Hi",), (0.0,), (0.2,)), PhonemeTimestamps(),
                     {"transcript": "Hi"}, "offline", 0, number)


@pytest.fixture
def service(qtbot, qloop, tmp_path):  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    project = ProjectService(document, tmp_path / "untitled")
    qloop.run_until_complete(project.new())
    yield project
    qloop.run_until_complete(project.shutdown())


def reopen(path: Path):
    """The project as it is in the file right now, read from a copy (the service holds
    the file's writer lock, as the studio does)."""
    copy = path.with_name(f"copy-{path.name}")
    remove_project_files(copy)
    source, target = open_read_only(path), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    store = ProjectStore.open(copy)
    try:
        loaded = store.load()
        for block in loaded.blocks:  # read the audio while the file is open
            for take in block.takes:
                _ = take.audio
        for clips in loaded.clips.values():
            for clip in clips:
                _ = clip.audio
        for recording in loaded.recordings:
            _ = recording.audio
        return loaded
    finally:
        store.close()


async def on_writer(project: ProjectService, fn) -> None:  # type: ignore[no-untyped-def]
    """Run ``fn`` on the project's writer thread (where its connection lives)."""
    await project._run(fn)


def settle(qtbot, project: ProjectService) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not project.dirty, timeout=10000)


def test_a_new_project_is_untitled_in_the_data_folder(service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert service.untitled and service.name == "Untitled"
    assert service.path is not None and service.path.parent == tmp_path / "untitled"
    assert service.path.exists() and not service.dirty


def test_every_change_reaches_the_file(qtbot, service) -> None:  # type: ignore[no-untyped-def]
    document = service._document
    block = document.add_block(text="First words.", voice_id="v1")
    document.update_block(block.id, speed=1.3)
    assert service.dirty
    settle(qtbot, service)
    loaded = reopen(service.path)
    assert [(b.text, b.speed) for b in loaded.blocks] == [("First words.", 1.3)]

    first, second = take(seed=1), take(seed=2, number=2)
    document.add_take(block.id, first)
    document.add_take(block.id, second)
    document.update_take(block.id, first.id, starred=True, name="Best")
    settle(qtbot, service)
    got = reopen(service.path).blocks[0]
    assert [t.id for t in got.takes] == [first.id, second.id]
    assert got.selected_take_id == second.id
    assert (got.takes[0].name, got.takes[0].starred) == ("Best", True)
    assert np.array_equal(got.takes[1].audio, second.audio)

    document.remove_take(block.id, second.id)
    other = document.add_block(text="Second.")
    document.move_block(other.id, 0)
    settle(qtbot, service)
    loaded = reopen(service.path)
    assert [b.text for b in loaded.blocks] == ["Second.", "First words."]
    assert [t.id for t in loaded.blocks[1].takes] == [first.id]
    assert loaded.blocks[1].selected_take_id == first.id


def test_save_as_moves_an_untitled_project(qtbot, qloop, service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    document = service._document
    block = document.add_block(text="Keep me.")
    document.add_take(block.id, take())
    untitled = service.path
    qloop.run_until_complete(service.save_as(tmp_path / "show.cstudio"))
    assert service.path == (tmp_path / "show.cstudio").resolve()
    assert not service.untitled and service.name == "show"
    assert not untitled.exists()
    document.update_block(block.id, text="Kept, and edited after Save As.")
    settle(qtbot, service)
    loaded = reopen(tmp_path / "show.cstudio")
    assert loaded.blocks[0].text == "Kept, and edited after Save As."
    assert len(loaded.blocks[0].takes) == 1


def test_open_replaces_the_script_and_a_bad_file_keeps_the_current_one(qtbot, qloop, service,
                                                                       tmp_path) -> None:  # type: ignore[no-untyped-def]
    document = service._document
    document.add_block(text="Current project.")
    settle(qtbot, service)
    current = service.path

    bad = tmp_path / "bad.cstudio"
    bad.write_bytes(b"not a project" * 50)
    with pytest.raises(ProjectError, match="not an SQLite"):
        qloop.run_until_complete(service.open(bad))
    assert service.path == current and [b.text for b in document.blocks] == ["Current project."]

    store = ProjectStore.create(tmp_path / "other.cstudio")
    store.set_settings({"pause_seconds": "1.5"})
    store.close()
    with qtbot.waitSignal(document.reset):
        qloop.run_until_complete(service.open(tmp_path / "other.cstudio"))
    assert len(document) == 0 and service.settings["pause_seconds"] == "1.5"
    assert service.name == "other"
    assert current.exists()  # the untitled project with text is kept


def test_discarding_an_untitled_project_deletes_its_file(qloop, service) -> None:  # type: ignore[no-untyped-def]
    path = service.path
    qloop.run_until_complete(service.close(discard=True))
    assert not path.exists() and not service.is_open


def test_a_full_disk_keeps_the_work_and_retries(qtbot, qloop, service) -> None:  # type: ignore[no-untyped-def]
    document = service._document
    block = document.add_block(text="Before the disk filled up.")
    settle(qtbot, service)
    store = service._store

    def fill() -> None:
        db = store._db()
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0] + 1}")

    qloop.run_until_complete(on_writer(service, fill))
    service._retry_timer.setInterval(50)
    big = take(seconds=8.0, seed=4)
    with qtbot.waitSignal(service.save_failed) as failed:
        document.add_take(block.id, big)
    assert "disk is full" in failed.args[0]
    assert service.dirty and document.block(block.id).selected_take_id == big.id

    def room() -> None:
        store._db().execute("PRAGMA max_page_count = 1073741823")

    with qtbot.waitSignal(service.save_recovered, timeout=10000):
        qloop.run_until_complete(on_writer(service, room))
    settle(qtbot, service)
    got = reopen(service.path).blocks[0]
    assert [t.id for t in got.takes] == [big.id] and np.array_equal(got.takes[0].audio, big.audio)


def test_flushing_while_a_take_is_being_written_writes_it_once(qtbot, qloop, service) -> None:  # type: ignore[no-untyped-def]
    """Save As right after a take finished used to hand the same take to the writer
    twice (UNIQUE constraint failed)."""
    document = service._document
    block = document.add_block(text="Just generated.")
    failures: list[str] = []
    service.save_failed.connect(failures.append)
    generated = take(seconds=3.0, seed=7)
    document.add_take(block.id, generated)
    qloop.run_until_complete(service.flush())
    assert failures == [] and not service.dirty
    assert [t.id for t in reopen(service.path).blocks[0].takes] == [generated.id]


def _fill_disk(qloop, service) -> object:  # type: ignore[no-untyped-def]
    store = service._store

    def fill() -> None:
        db = store._db()
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0] + 1}")

    qloop.run_until_complete(on_writer(service, fill))
    service._retry_timer.setInterval(60000)  # this test decides when writes work again
    return store


def test_save_as_while_the_disk_is_full_keeps_everything(qtbot, qloop, service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    document = service._document
    block = document.add_block(text="Written before the disk filled up.")
    settle(qtbot, service)
    _fill_disk(qloop, service)
    big = take(seconds=8.0, seed=11)
    with qtbot.waitSignal(service.save_failed):
        document.add_take(block.id, big)
    with qtbot.waitSignal(service.save_failed, raising=False, timeout=300):
        service.set_setting("pause_seconds", "0.9")
    assert service.failure

    qloop.run_until_complete(service.save_as(tmp_path / "elsewhere.cstudio"))
    settle(qtbot, service)
    assert not service.failure
    got = reopen(tmp_path / "elsewhere.cstudio")
    assert [t.id for t in got.blocks[0].takes] == [big.id]
    assert got.settings["pause_seconds"] == "0.9"


def test_a_failed_take_of_a_removed_block_is_still_written(qtbot, qloop, service) -> None:  # type: ignore[no-untyped-def]
    document = service._document
    block = document.add_block(text="Removed while its take could not be saved.")
    settle(qtbot, service)
    store = _fill_disk(qloop, service)
    generated = take(seconds=8.0, seed=12)
    with qtbot.waitSignal(service.save_failed):
        document.add_take(block.id, generated)
    removed = document.remove_block(block.id)

    def room() -> None:
        store._db().execute("PRAGMA max_page_count = 1073741823")

    qloop.run_until_complete(on_writer(service, room))
    with qtbot.waitSignal(service.save_recovered, timeout=10000):
        service._retry()
    document.insert_block(removed)  # undo of the removal
    settle(qtbot, service)
    got = reopen(service.path)
    assert [t.id for t in got.blocks[0].takes] == [generated.id]
    assert np.array_equal(got.blocks[0].takes[0].audio, generated.audio)


def infill_clip(take_id: str, credits: int = 305):  # type: ignore[no-untyped-def]
    from studio.project.edits import Clip
    from studio.project.model import TakeAudio, new_id

    audio = take(seconds=0.2, seed=9).audio
    return Clip(id=new_id(), source=TakeAudio.of(audio, RATE), kind="infill", take_id=take_id,
                transcript="fixed", request={"transcript": "fixed"}, backend="cloud",
                credits=credits, created_at=1.0)


def test_clips_and_edits_reach_the_file_even_after_a_full_disk(qtbot, qloop, service) -> None:  # type: ignore[no-untyped-def]
    from studio.project.edits import Delete, Splice

    document = service._document
    block = document.add_block(text="Hi")
    first = take(seed=5)
    document.add_take(block.id, first)
    settle(qtbot, service)
    store = service._store

    def fill() -> None:
        db = store._db()
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0] + 1}")

    qloop.run_until_complete(on_writer(service, fill))
    service._retry_timer.setInterval(50)
    clip = infill_clip(first.id)
    with qtbot.waitSignal(service.save_failed):
        document.add_clip(clip)  # a paid candidate: it must not be lost
    edits = (Delete(100, 400), Splice(1000, 1500, clip, 80))
    document.update_take(block.id, first.id, edits=edits)
    assert service.dirty

    def room() -> None:
        store._db().execute("PRAGMA max_page_count = 1073741823")

    with qtbot.waitSignal(service.save_recovered, timeout=10000):
        qloop.run_until_complete(on_writer(service, room))
    settle(qtbot, service)
    loaded = reopen(service.path)
    got = loaded.blocks[0].takes[0]
    assert got.edits[0] == Delete(100, 400) and got.edits[1].clip.id == clip.id
    assert np.array_equal(got.edits[1].clip.audio, clip.audio)
    assert [c.id for c in loaded.clips[first.id]] == [clip.id]
    assert service.credits_spent == clip.credits == loaded.credits_spent


def test_recordings_are_kept_in_the_project(qtbot, qloop, service) -> None:  # type: ignore[no-untyped-def]
    audio = take(seconds=1.5, seed=11).audio
    with qtbot.waitSignal(service.recordings_changed):
        recording = service.add_recording(audio, RATE, "My voice")
    second = service.add_recording(take(seconds=0.5, seed=12).audio, RATE)
    service.update_recording(recording.id, voice_id="voice-123")  # possibly before it is written
    settle(qtbot, service)
    loaded = reopen(service.path)
    assert [r.name for r in loaded.recordings] == ["My voice", second.name]
    assert loaded.recordings[0].voice_id == "voice-123"
    assert np.array_equal(loaded.recordings[0].audio, audio)

    service.update_recording(second.id, name="Take two")
    service.delete_recording(recording.id)
    settle(qtbot, service)
    assert [(r.name, r.id) for r in reopen(service.path).recordings] == [("Take two", second.id)]

    path = service.path
    qloop.run_until_complete(service.close())  # purges; the kept recording's audio stays
    store = ProjectStore.open(path)
    kept = store.load().recordings
    assert [r.id for r in kept] == [second.id] and kept[0].audio.shape == (RATE // 2,)
    store.close()


def test_a_project_with_only_a_recording_is_worth_keeping(qloop, service) -> None:  # type: ignore[no-untyped-def]
    assert not service.has_content
    service.add_recording(take(seconds=0.5, seed=13).audio, RATE, "Only this")
    assert service.has_content  # New/Open must ask before deleting an untitled project
