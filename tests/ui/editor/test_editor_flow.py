"""The Editor panel as a user drives it, against the offline engine over loopback:
see a take's words, select one, replace it by infill, hear it, accept, export, undo;
and the other edits (delete, silence, trim, fades, gain, copy/paste, split).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.config import Settings
from studio.project.edited_audio import edited
from studio.project.edits import Splice

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."


@pytest.fixture
def studio(open_studio):  # type: ignore[no-untyped-def]
    return open_studio(Settings(pause_seconds=0.25))


def _wait(qloop, awaitable, timeout: float = 90.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))


def generated_block(studio, qloop, text: str = SENTENCE) -> str:  # type: ignore[no-untyped-def]
    window = studio.window
    block_id = window.add_block()
    studio.editor.update_block(block_id, text=text)
    window.script_panel.set_current(block_id)
    window._generate([block_id])
    _wait(qloop, studio.generation.wait_idle())
    assert studio.document.block(block_id).selected_take is not None
    return block_id


def shown(studio, qloop, block_id: str):  # type: ignore[no-untyped-def]
    panel = studio.window.editor_panel
    panel.set_block(block_id)
    _wait(qloop, panel.reload())
    assert panel.edited_audio is not None
    return panel


def word_index(panel, word: str) -> int:  # type: ignore[no-untyped-def]
    words = [w.strip(".,").lower() for w in panel.edited_audio.words.words]
    return words.index(word)


def export(studio, qloop, path: Path) -> np.ndarray:  # type: ignore[no-untyped-def]
    assert _wait(qloop, studio.window.export_to(path))
    data, _rate = sf.read(path, dtype="float32")
    return data


def test_replace_a_word_by_infill_accept_export_and_undo(studio, qtbot, qloop, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          offline_engine) -> None:
    block_id = generated_block(studio, qloop)
    take = studio.document.block(block_id).selected_take
    panel = shown(studio, qloop, block_id)
    assert len(panel.edited_audio.words.words) >= 10, "the word lane has the take's words"
    before = export(studio, qloop, tmp_path / "before.wav")

    index = word_index(panel, "brown")
    panel.view.select_words(index, index)
    start, end = panel.view.selection()
    assert end > start
    panel.replace_action.trigger()
    dialog = panel._dialog
    assert dialog is not None and dialog.isVisible()
    assert "brown" in dialog.what_label.text()
    assert dialog.estimate_label.text() == "Free on the offline engine"
    dialog.text_edit.setText("bright red")
    requests = offline_engine.stats.requests("/infill/bytes")
    _wait(qloop, dialog.preview())
    assert dialog.candidates.count() == 1, dialog.status_label.text()
    clip = dialog.selected_clip()
    assert clip.transcript == "bright red" and clip.frames > 0
    assert [w.strip(".,").lower() for w in clip.words.words] == ["bright", "red"]
    assert studio.document.clips_of(take.id) == [clip], "the candidate is kept with the take"

    # The same words again: the candidate comes back without a request.
    _wait(qloop, dialog.preview())
    assert dialog.candidates.count() == 1 and "reused" in dialog.status_label.text()
    assert offline_engine.stats.requests("/infill/bytes") == requests + 1

    plan = dialog.plan
    dialog.accept_button.click()
    take = studio.document.block(block_id).selected_take
    assert len(take.edits) == 1 and isinstance(take.edits[0], Splice)
    assert take.edits[0].clip is clip
    assert studio.undo_stack.undoText().startswith("Replace with “bright red”")
    block = studio.document.block(block_id)
    assert block.text == SENTENCE.replace("brown", "bright red"), "the script reads what is heard"
    assert take.spoken_text == block.text and not block.needs_take()
    studio.window.script_panel.set_current(block_id)
    assert "edited" in studio.window.script_panel.inspector.take_list.item(0).text()
    _wait(qloop, panel.reload())
    words = [w.strip(".,").lower() for w in panel.edited_audio.words.words]
    assert "brown" not in words and words[index:index + 2] == ["bright", "red"]

    after = export(studio, qloop, tmp_path / "after.wav")
    removed = plan.end - plan.start
    assert after.size == before.size - removed + clip.frames
    # Only the replaced span changed: before it bit for bit, after it bit for bit.
    assert np.array_equal(after[:plan.start], before[:plan.start])
    assert np.array_equal(after[plan.start + clip.frames:], before[plan.end:])
    assert not np.array_equal(after[plan.start:plan.start + clip.frames][:100],
                              before[plan.start:plan.start + 100])

    studio.undo_stack.undo()
    assert studio.document.block(block_id).selected_take.edits == ()
    assert studio.document.block(block_id).text == SENTENCE
    studio.undo_stack.redo()
    _wait(qloop, panel.reload())
    panel.revert_action.trigger()  # Revert edits puts the words back as well
    assert studio.document.block(block_id).selected_take.edits == ()
    assert studio.document.block(block_id).text == SENTENCE
    assert not studio.document.block(block_id).needs_take()
    assert np.array_equal(export(studio, qloop, tmp_path / "undone.wav"), before)
    assert np.array_equal(take.audio, edited(studio.document.block(block_id).selected_take).audio)


def test_a_server_error_mid_infill_changes_nothing(  # type: ignore[no-untyped-def]
        studio, qloop, offline_engine) -> None:
    block_id = generated_block(studio, qloop)
    panel = shown(studio, qloop, block_id)
    index = word_index(panel, "fox")
    panel.view.select_words(index, index)
    panel.replace_action.trigger()
    dialog = panel._dialog
    dialog.text_edit.setText("cat")
    offline_engine.inject_faults("/infill/bytes", [500, 500, 500])
    _wait(qloop, dialog.preview())
    assert dialog.candidates.count() == 0
    assert "Nothing was changed" in dialog.status_label.text()
    assert not dialog.accept_button.isEnabled()
    take = studio.document.block(block_id).selected_take
    assert take.edits == () and studio.document.clips_of(take.id) == []
    dialog.close()


def test_selection_covering_the_whole_take_says_why_it_cannot_be_infilled(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    block_id = generated_block(studio, qloop, "Hello.")
    panel = shown(studio, qloop, block_id)
    panel.view.set_selection(0, panel.edited_audio.frames)
    panel.replace_action.trigger()
    assert "at least one side" in panel.status_label.text()
    assert panel._dialog is None


def test_delete_silence_trim_fade_gain_are_undoable_edits(  # type: ignore[no-untyped-def]
        studio, qloop, monkeypatch) -> None:
    block_id = generated_block(studio, qloop)
    panel = shown(studio, qloop, block_id)
    take = studio.document.block(block_id).selected_take
    frames, rate = panel.edited_audio.frames, panel.edited_audio.sample_rate

    panel.view.set_selection(rate // 2, rate)
    panel.delete_action.trigger()
    assert edited(studio.document.block(block_id).selected_take).frames == frames - rate // 2

    from PySide6.QtWidgets import QInputDialog
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (0.25, True)))
    _wait(qloop, panel.reload())
    panel.view.set_selection(rate // 4, rate // 4)
    panel.silence_action.trigger()
    current = studio.document.block(block_id).selected_take
    assert edited(current).frames == frames - rate // 2 + rate // 4
    assert np.abs(edited(current).audio[rate // 4:rate // 2]).max() == 0.0

    _wait(qloop, panel.reload())
    panel.view.set_selection(0, rate // 2)
    panel.fade_in_action.trigger()
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (-6.0, True)))
    _wait(qloop, panel.reload())
    panel.view.set_selection(rate, 2 * rate)
    panel.gain_action.trigger()
    _wait(qloop, panel.reload())
    panel.view.set_selection(rate // 8, 3 * rate)
    panel.trim_action.trigger()
    current = studio.document.block(block_id).selected_take
    assert [type(e).__name__ for e in current.edits] == [
        "Delete", "InsertSilence", "Fade", "Gain", "Trim"]
    assert edited(current).frames == 3 * rate - rate // 8

    for _ in range(5):
        studio.undo_stack.undo()
    assert studio.document.block(block_id).selected_take.edits == ()
    assert np.array_equal(take.audio, edited(studio.document.block(block_id).selected_take).audio)


def test_copy_from_one_take_and_paste_into_another(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    first = generated_block(studio, qloop, "First block speaks here.")
    second = generated_block(studio, qloop, "Second block answers.")
    panel = shown(studio, qloop, first)
    rate = panel.edited_audio.sample_rate
    panel.view.set_selection(0, rate // 2)
    panel.copy_action.trigger()
    _wait(qloop, panel.wait_idle())
    copied = np.array(panel.edited_audio.audio[:rate // 2])

    panel = shown(studio, qloop, second)
    target_frames = panel.edited_audio.frames
    panel.view.set_selection(rate, rate)
    assert panel.paste_action.isEnabled()
    panel.paste_action.trigger()
    _wait(qloop, panel.wait_idle())
    take = studio.document.block(second).selected_take
    result = edited(take)
    assert result.frames == target_frames + rate // 2
    h = take.edits[0].crossfade
    assert np.array_equal(result.audio[rate + h:rate + rate // 2 - h], copied[h:rate // 2 - h])
    assert [c.kind for c in studio.document.clips_of(take.id)] == ["paste"]
    pasted = [w for w in take.edits[0].clip.words.words]
    assert pasted, "the copied words came along"
    assert " ".join(pasted) in studio.document.block(second).text
    assert not studio.document.block(second).needs_take()


def test_split_a_block_at_the_cursor(studio, qloop) -> None:  # type: ignore[no-untyped-def]
    block_id = generated_block(studio, qloop, "One two three. Four five six.")
    panel = shown(studio, qloop, block_id)
    words = panel.edited_audio.words
    rate = panel.edited_audio.sample_rate
    index = [w.strip(".,").lower() for w in words.words].index("four")
    at = round((words.end[index - 1] + words.start[index]) / 2 * rate)
    total = panel.edited_audio.frames
    panel.view.set_selection(at, at)
    requests_before = len(studio.document)
    panel.split_action.trigger()
    assert len(studio.document) == requests_before + 1
    left, right = studio.document.blocks[-2], studio.document.blocks[-1]
    assert left.text == "One two three." and right.text == "Four five six."
    assert not left.needs_take() and not right.needs_take(), "both halves are up to date"
    assert edited(left.selected_take).frames + edited(right.selected_take).frames == total
    studio.undo_stack.undo()
    assert len(studio.document) == requests_before
    assert studio.document.block(block_id).text == "One two three. Four five six."


def test_whole_script_view_marks_each_block(studio, qloop) -> None:  # type: ignore[no-untyped-def]
    first_id = generated_block(studio, qloop, "First block.")
    generated_block(studio, qloop, "Second block.")
    panel = shown(studio, qloop, first_id)
    panel.view.set_selection(1000, 5000)  # made on a take
    assert panel.view.selection() == (1000, 5000)
    panel.mode_combo.setCurrentIndex(1)
    _wait(qloop, panel.reload())
    assert panel.title_label.text().startswith("Whole script · 2 takes")
    first = studio.document.blocks[0].selected_take
    gap = round(0.25 * first.sample_rate)  # the studio fixture's pause
    assert list(panel.view._marker_frames) == [0, first.frames + gap]
    assert panel.view._marker_labels == ("Block 1", "Block 2")
    assert panel.view.selection() == (0, 0)
    assert not panel.delete_action.isEnabled() and not panel.replace_action.isEnabled()
    assert panel.play_action.isEnabled()


def test_a_take_without_word_timestamps_gets_its_words_by_alignment(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    import dataclasses

    from studio.project.model import new_id
    from studio.timestamps import WordTimestamps

    block_id = generated_block(studio, qloop)
    generated = studio.document.block(block_id).selected_take
    bare = dataclasses.replace(generated, id=new_id(), word_timestamps=WordTimestamps(),
                               name="Imported")
    studio.document.add_take(block_id, bare)  # e.g. audio from elsewhere, no timestamps
    panel = shown(studio, qloop, block_id)
    assert panel.edited_audio.words.words == ()
    assert panel.align_task is not None and not panel.align_task.done()
    panel.view.set_selection(1000, 9000)  # a manual selection works meanwhile
    assert panel.delete_action.isEnabled()
    _wait(qloop, panel.align_task)
    _wait(qloop, panel.reload(keep_view=True))
    words = [w.strip(".,").lower() for w in panel.edited_audio.words.words]
    assert words[:4] == ["the", "quick", "brown", "fox"]
    assert "alignment" in panel.status_label.text()
    assert studio.document.block(block_id).selected_take.word_timestamps.words == ()  # display only


def test_an_edit_while_the_last_one_is_still_drawing_never_drops_it(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    """Delete, then Fade at once (the redraw of the delete has not finished): the fade
    must not replace the delete; and an undone edit must not come back."""
    block_id = generated_block(studio, qloop)
    panel = shown(studio, qloop, block_id)
    rate = panel.edited_audio.sample_rate
    panel.view.set_selection(rate // 2, rate)
    panel.delete_action.trigger()
    panel.view.set_selection(0, rate // 4)
    panel.fade_in_action.trigger()  # refused until the delete is on screen
    take = studio.document.block(block_id).selected_take
    assert [type(e).__name__ for e in take.edits] == ["Delete"]
    assert "still being updated" in panel.status_label.text()
    _wait(qloop, panel.reload())
    panel.fade_in_action.trigger()
    assert [type(e).__name__ for e in studio.document.block(block_id).selected_take.edits] == [
        "Delete", "Fade"]
    studio.undo_stack.undo()
    studio.undo_stack.undo()
    panel.fade_in_action.trigger()  # the screen still shows two edits: refused
    assert studio.document.block(block_id).selected_take.edits == ()


def test_asking_again_while_a_candidate_is_on_its_way_pays_once(studio, qloop,  # type: ignore[no-untyped-def]
                                                                  offline_engine) -> None:
    block_id = generated_block(studio, qloop)
    panel = shown(studio, qloop, block_id)
    index = word_index(panel, "lazy")
    panel.view.select_words(index, index)
    requests = offline_engine.stats.requests("/infill/bytes")
    panel.replace_action.trigger()
    first = panel._dialog
    first.text_edit.setText("sleepy")
    pending = first.preview()
    panel.replace_action.trigger()  # reopened on the same words while the first runs
    second = panel._dialog
    assert second is not first
    second.text_edit.setText("sleepy")
    _wait(qloop, second.preview())
    _wait(qloop, pending)
    take = studio.document.block(block_id).selected_take
    assert offline_engine.stats.requests("/infill/bytes") == requests + 1
    assert len(studio.document.clips_of(take.id)) == 1
    assert second.candidates.count() == 1


def test_a_candidate_arriving_after_another_project_opened_stays_out_of_it(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    block_id = generated_block(studio, qloop)
    panel = shown(studio, qloop, block_id)
    index = word_index(panel, "dog")
    panel.view.select_words(index, index)
    panel.replace_action.trigger()
    dialog = panel._dialog
    dialog.text_edit.setText("cat")
    pending = dialog.preview()
    _wait(qloop, studio.project.new())
    _wait(qloop, pending)
    assert studio.document.find_clip(lambda clip: True) is None
    assert panel._dialog is None


def test_split_after_a_replace_cuts_the_text_where_the_audio_is_cut(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    block_id = generated_block(studio, qloop)
    panel = shown(studio, qloop, block_id)
    index = word_index(panel, "brown")
    panel.view.select_words(index, index)
    panel.replace_action.trigger()
    dialog = panel._dialog
    dialog.text_edit.setText("bright red")
    _wait(qloop, dialog.preview())
    dialog.accept_button.click()
    _wait(qloop, panel.reload())
    words = panel.edited_audio.words
    rate = panel.edited_audio.sample_rate
    at_jumps = [w.strip(".,").lower() for w in words.words].index("jumps")
    at = round((words.end[at_jumps - 1] + words.start[at_jumps]) / 2 * rate)
    panel.view.set_selection(at, at)
    panel.split_action.trigger()
    left, right = studio.document.blocks[-2], studio.document.blocks[-1]
    assert left.text == "The quick bright red fox"
    assert right.text == "jumps over the lazy dog near the river bank."
    assert not left.needs_take() and not right.needs_take()
    assert left.selected_take.request == right.selected_take.request  # the request sent, kept


def test_another_take_opens_fitted_and_unselected(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    first = generated_block(studio, qloop, "First block speaks here.")
    second = generated_block(studio, qloop, "Second block answers at some length.")
    panel = shown(studio, qloop, first)
    panel.view.zoom_by(16.0)
    panel.view.set_selection(1000, 5000)
    panel = shown(studio, qloop, second)
    assert panel.view.selection() == (0, 0)
    assert panel.view.samples_per_pixel * panel.view.width() >= 0.9 * panel.edited_audio.frames


def test_the_editor_shows_the_current_block_again_after_a_project_opens(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop) -> None:
    block_id = generated_block(studio, qloop)
    panel = shown(studio, qloop, block_id)
    studio.document.replace_script(studio.document.blocks)  # what opening a project does
    qtbot.waitUntil(lambda: panel.edited_audio is not None, timeout=10000)
    assert panel.block_id == studio.window.script_panel.current_block_id


def test_deleting_or_trimming_words_takes_them_out_of_the_text(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    block_id = generated_block(studio, qloop)
    panel = shown(studio, qloop, block_id)
    index = word_index(panel, "brown")
    panel.view.select_words(index, index)
    panel.delete_action.trigger()
    block = studio.document.block(block_id)
    assert block.text == "The quick fox jumps over the lazy dog near the river bank."
    assert not block.needs_take()
    _wait(qloop, panel.reload())
    first, last = word_index(panel, "fox"), word_index(panel, "dog")
    panel.view.select_words(first, last)
    panel.trim_action.trigger()
    assert block.text == "fox jumps over the lazy dog."
    assert not block.needs_take()
    studio.undo_stack.undo()
    studio.undo_stack.undo()
    assert block.text == SENTENCE and block.selected_take.edits == ()


def test_play_reads_a_take_not_yet_in_memory_in_a_worker(  # type: ignore[no-untyped-def]
        studio, qloop, monkeypatch) -> None:
    import dataclasses
    import threading

    from studio.project.model import TakeAudio
    from studio.project.store import ProjectError

    block_id = generated_block(studio, qloop, "Hello there.")
    take = studio.document.block(block_id).selected_take
    ui_thread = threading.get_ident()
    readers: list[int] = []
    disk = threading.Event()  # the "file read" finishes when the test says so

    def loader() -> np.ndarray:  # what a take opened from a project file does
        readers.append(threading.get_ident())
        disk.wait(30)
        return take.audio

    lazy = dataclasses.replace(take, id="lazy", source=TakeAudio(
        take.sample_rate, take.frames, loader=loader))
    studio.document.add_take(block_id, lazy)
    played: list[int] = []
    monkeypatch.setattr(studio.playback, "play", lambda audio, rate: played.append(audio.size))
    studio.window._on_play_block(block_id)
    assert played == []  # nothing read on the UI thread
    disk.set()
    _wait(qloop, studio.script_playback.wait_idle())
    assert played == [take.frames] and readers and ui_thread not in readers

    def broken() -> np.ndarray:
        raise ProjectError(Path("p.cstudio"), "io", "Cannot read audio from p.cstudio.")

    # Every message the status bar is given: saving the same unreadable take to the
    # project fails too, and says so there, in an order the test does not control.
    shown: list[str] = []
    bar = studio.window.statusBar()
    monkeypatch.setattr(bar, "showMessage", lambda text, *_a: shown.append(text))
    studio.document.add_take(block_id, dataclasses.replace(
        take, id="broken", source=TakeAudio(take.sample_rate, take.frames, loader=broken)))
    studio.window._on_play_block(block_id)
    _wait(qloop, studio.script_playback.wait_idle())
    assert any("Cannot play this take" in text for text in shown)


def test_split_halves_record_the_dictionary_entries_of_their_own_words(  # type: ignore[no-untyped-def]
        studio, qloop) -> None:
    from studio.project.lexicon import LexiconItem
    one, four = LexiconItem("One", "wun"), LexiconItem("Four", "fore")
    made = _wait(qloop, studio.dictionaries.create("Split test", [one, four]))
    studio.editor.set_project_dictionary(made.id)
    block_id = generated_block(studio, qloop, "One two three. Four five six.")
    assert studio.document.block(block_id).selected_take.dictionary == (one, four)
    panel = shown(studio, qloop, block_id)
    words = panel.edited_audio.words
    index = [w.strip(".,").lower() for w in words.words].index("four")
    at = round((words.end[index - 1] + words.start[index]) / 2 * panel.edited_audio.sample_rate)
    panel.view.set_selection(at, at)
    panel.split_action.trigger()
    left, right = studio.document.blocks[-2], studio.document.blocks[-1]
    assert left.selected_take.dictionary == (one,) and right.selected_take.dictionary == (four,)
    assert not studio.document.needs_take(left) and not studio.document.needs_take(right)
