"""The Voices panel (issue #5) against the offline engine over loopback: search and
filters, previews cached on disk, rename, delete (naming the blocks that use the voice),
localize, stars, "Use in script", and errors on the status line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QToolBar

from studio.api import (
    APITimeoutError,
    CartesiaClient,
    ConnectionLostError,
    ServerError,
    Voice,
)
from studio.api.models import OutputFormat, TTSRequest
from studio.audio.devices import NO_OUTPUT_DEVICE
from studio.audio.playback import NullPlayer
from studio.project.model import Recording, TakeAudio
from studio.services.document import ScriptDocument
from studio.services.playback import PlaybackService
from studio.services.voice_lab import UNKNOWN_OUTCOME, CreationUnknownError, VoiceLab
from studio.services.voices import VoiceCatalog
from studio.ui.voices.voice_dialogs import LocalizeDialog, VoiceEditDialog
from studio.ui.voices.voice_table import NAME, OWNER, STAR, filter_voices
from studio.ui.voices.voices_panel import STATUS_SECONDS, VoicesPanel, blocks_sentence

PREVIEW_ROUTE = "/voices/{id}/preview"
RATE = 24000


def _wait(qloop, awaitable, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))


async def settled(lab: VoiceLab, creating: Awaitable[Voice]) -> Voice:
    """The voice ``creating`` made, once the lab's reload of the voice list ended too."""
    voice = await creating
    await lab.wait_idle()
    return voice


def shown(panel: VoicesPanel) -> list[Voice]:
    """The voices the panel lists, in order."""
    return [panel.model.voice_at(row) for row in range(panel.model.rowCount())]


@pytest.fixture
def client(qloop, offline_engine):  # type: ignore[no-untyped-def]
    client = CartesiaClient(offline_engine.api_key, base_url=offline_engine.base_url,
                            websocket_base_url=offline_engine.websocket_base_url, max_retries=0)
    yield client
    qloop.run_until_complete(client.aclose())


@pytest.fixture
def document() -> ScriptDocument:
    return ScriptDocument()


@pytest.fixture
def lab(qloop, client, document, tmp_path: Path):  # type: ignore[no-untyped-def]
    catalog = VoiceCatalog()
    lab = VoiceLab(catalog, document, tmp_path / "cache", starred=())
    lab.set_client(client, "offline")
    assert _wait(qloop, catalog.refresh(client))
    return lab


@pytest.fixture
def panel(qtbot, lab, playback):  # type: ignore[no-untyped-def]
    panel = VoicesPanel(lab, playback, input_devices=lambda: ())
    qtbot.addWidget(panel)
    panel.resize(460, 640)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def speech(qloop, client: CartesiaClient, text: str, voice_id: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    request = TTSRequest(transcript=text, voice_id=voice_id,
                         output_format=OutputFormat("raw", "pcm_f32le", RATE))
    return np.frombuffer(_wait(qloop, client.tts.bytes(request)), dtype=np.float32).copy()


@pytest.fixture
def own_voice(qloop, lab, client) -> Voice:  # type: ignore[no-untyped-def]
    """A voice of the user's own, cloned from espeak speech."""
    base = lab.catalog.voices[0]
    audio = speech(qloop, client, "My own voice reads this sentence for the clone, slowly "
                   "and clearly, with a short pause here.", base.id)
    audio = np.concatenate([np.zeros(RATE // 2, np.float32), audio])
    return _wait(qloop, settled(lab, lab.clone(audio, RATE, name="Lab Narrator",
                                               description="Warm test voice")))


# --- the list ----------------------------------------------------------------------


def test_lists_every_voice_and_filters_by_search_language_gender_owner_and_star(
        panel: VoicesPanel, lab: VoiceLab, qtbot) -> None:  # type: ignore[no-untyped-def]
    voices = lab.catalog.voices
    assert len(voices) > 1
    assert [v.id for v in shown(panel)] == [v.id for v in voices]
    target = voices[-1]

    panel.search_edit.setText(target.name.upper())
    assert target.id in [v.id for v in shown(panel)]
    assert all(target.name.lower() in (v.name + v.description + v.language + v.id).lower()
               for v in shown(panel))
    panel.search_edit.setText("no voice is called this")
    assert shown(panel) == []
    panel.search_edit.clear()

    language = panel.language_combo
    language.setCurrentIndex(language.findData(target.language))
    assert shown(panel)
    assert {v.language for v in shown(panel)} == {target.language}
    language.setCurrentIndex(0)

    gender = panel.gender_combo
    gender.setCurrentIndex(1)
    wanted = gender.currentData()
    assert {v.gender for v in shown(panel)} == {wanted}
    gender.setCurrentIndex(0)

    panel.owner_combo.setCurrentIndex(1)  # Mine
    assert all(v.is_owner for v in shown(panel))
    panel.owner_combo.setCurrentIndex(2)  # Public
    assert shown(panel) and not any(v.is_owner for v in shown(panel))
    panel.owner_combo.setCurrentIndex(0)

    # Stars: clicking the ★ cell toggles it and reports every starred id.
    row = panel.model.row_of(target.id)
    assert row is not None
    with qtbot.waitSignal(lab.starred_changed) as blocker:
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.table.visualRect(panel.model.index(row, STAR)).center())
    assert blocker.args == [[target.id]]
    assert panel.model.data(panel.model.index(row, STAR)) == "★"
    panel.starred_check.setChecked(True)
    assert [v.id for v in shown(panel)] == [target.id]


def test_filter_voices_matches_description_and_keeps_starred_only() -> None:
    a = Voice("a", "Alice", "calm storyteller", "en", gender="feminine")
    b = Voice("b", "Bruno", "energetic promo", "fr", is_owner=True, gender="masculine")
    assert filter_voices([a, b], "STORY") == [a]
    assert filter_voices([a, b], language="fr") == [b]
    assert filter_voices([a, b], owner=1) == [b]
    assert filter_voices([a, b], starred={"a"}) == [a]


def test_details_show_description_id_language_gender(panel: VoicesPanel, lab: VoiceLab) -> None:
    voice = lab.catalog.voices[0]
    assert "Select one" in panel.details_label.text()
    assert panel.select_voice(voice.id)
    text = panel.details_label.text()
    for part in (voice.name, voice.id, voice.language):
        assert part in text
    assert not panel.delete_action.isEnabled()  # a public voice
    assert panel.preview_action.isEnabled() and panel.use_action.isEnabled()


def test_every_action_has_a_button_in_a_dock_as_narrow_as_the_default_window_gives(
        qtbot, panel: VoicesPanel, lab: VoiceLab) -> None:
    """The window opens its right-hand dock 300 px wide (Takes, Voices, Dictionaries);
    no action may fold into a toolbar's extension menu there, where nobody finds it."""
    panel.resize(290, 640)
    assert panel.select_voice(lab.catalog.voices[0].id)
    actions = (panel.preview_action, panel.use_action, panel.star_action,
               panel.refresh_action, panel.rename_action, panel.localize_action,
               panel.delete_action, panel.record_action)
    bars = panel.findChildren(QToolBar)

    def button(action: Any) -> Any:
        return next(b.widgetForAction(action) for b in bars if b.widgetForAction(action))

    qtbot.waitUntil(lambda: panel.width() == 290, timeout=5000)
    qtbot.waitUntil(lambda: all(button(a).isVisible() for a in actions), timeout=5000)
    for action in actions:
        widget = button(action)
        right = widget.mapTo(panel, widget.rect().topRight()).x()
        assert right <= panel.width(), action.text()


def test_use_in_script_asks_with_the_voice_id_for_the_current_block(
        panel: VoicesPanel, lab: VoiceLab, qtbot) -> None:  # type: ignore[no-untyped-def]
    voice = lab.catalog.voices[1]
    panel.select_voice(voice.id)
    with qtbot.waitSignal(panel.use_requested) as blocker:
        panel.use_action.trigger()
    assert blocker.args == [voice.id]
    # The app gives the voice to the current block, one block: say so.
    for text in (panel.use_action.toolTip(), panel.status_label.text()):
        assert "the current block" in text and "blocks" not in text


# --- previews -----------------------------------------------------------------------


def test_preview_plays_and_is_cached_on_disk_so_browsing_again_costs_nothing(
        panel: VoicesPanel, lab: VoiceLab, players, offline_engine, qloop, playback,
        client, document, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    voice = lab.catalog.voices[0]
    panel.select_voice(voice.id)
    before = offline_engine.stats.requests(PREVIEW_ROUTE)
    panel.preview_action.trigger()
    _wait(qloop, panel.wait_idle())
    assert offline_engine.stats.requests(PREVIEW_ROUTE) == before + 1
    first = players[-1].writes[-1]
    assert first.size > 0 and float(np.max(np.abs(first))) > 0.01
    assert panel.preview_action.text() == "■ Stop"
    cached = lab.cached_preview(voice.id)
    assert cached is not None and cached.is_relative_to(tmp_path / "cache" / "previews" / "offline")

    panel.preview_action.trigger()  # Stop
    assert not playback.is_playing
    assert panel.preview_action.text() == "▶ Preview"

    requests = offline_engine.stats.snapshot()
    panel.preview_action.trigger()
    _wait(qloop, panel.wait_idle())
    assert np.array_equal(players[-1].writes[-1], first)
    # Another session over the same cache: still no request at all.
    again = VoiceLab(VoiceCatalog(), document, tmp_path / "cache")
    again.set_client(client, "offline")
    audio, _rate = _wait(qloop, again.preview(voice))
    assert np.array_equal(audio, first)
    assert offline_engine.stats.snapshot() == requests


def test_a_failed_preview_shows_on_the_status_line(panel: VoicesPanel, lab: VoiceLab,
                                                   offline_engine, qloop) -> None:  # type: ignore[no-untyped-def]
    voice = lab.catalog.voices[2]
    panel.select_voice(voice.id)
    offline_engine.inject_faults(PREVIEW_ROUTE, [500])
    panel.preview_action.trigger()
    _wait(qloop, panel.wait_idle())
    assert panel.status_label.text()
    assert "ff7a7a" in panel.status_label.styleSheet()
    assert lab.cached_preview(voice.id) is None


def test_disconnected_panel_disables_requests_and_says_why(panel: VoicesPanel,
                                                           lab: VoiceLab) -> None:
    panel.select_voice(lab.catalog.voices[0].id)
    lab.set_client(None)
    assert "Not connected" in panel.status_label.text()
    assert not panel.preview_action.isEnabled()
    assert not panel.localize_action.isEnabled()
    assert panel.use_action.isEnabled()  # choosing a voice needs no request


# --- cloning when the answer is lost ----------------------------------------------------


class AnswerLost:
    """Wraps a client: ``voices.clone`` makes the voice on the server, then raises ``error``
    as when the answer never arrives (a proxy's 502, a read timeout, a dropped
    connection). Everything else goes to the real client."""

    def __init__(self, client: Any, error: Exception,
                 after: Any = None) -> None:
        self._client = client
        self._error = error
        self._after = after

    def __getattr__(self, name: str) -> Any:
        inner = getattr(self._client, name)
        return AnswerLost(inner, self._error, self._after) if name == "voices" else inner

    async def clone(self, *args: Any, **kwargs: Any) -> Voice:
        voice = await self._client.clone(*args, **kwargs)
        if self._after is not None:
            self._after()
        if self._error is None:
            return voice
        raise self._error


def clip(qloop, lab: VoiceLab, client: CartesiaClient) -> np.ndarray:  # type: ignore[no-untyped-def]
    audio = speech(qloop, client, "A clip to clone, read slowly and clearly for the test.",
                   lab.catalog.voices[0].id)
    return np.concatenate([np.zeros(RATE // 2, np.float32), audio])


@pytest.mark.parametrize("error", [
    ServerError("Bad gateway", status_code=502),
    APITimeoutError("read timeout"),
    ConnectionLostError("the server closed the connection"),
], ids=["5xx", "timeout", "connection lost"])
def test_a_clone_whose_answer_was_lost_is_found_in_the_owned_voices(
        lab: VoiceLab, client, qloop, qtbot, offline_engine, error) -> None:  # type: ignore[no-untyped-def]
    audio = clip(qloop, lab, client)
    lab.set_client(AnswerLost(client, error), "offline")  # type: ignore[arg-type]
    # Earlier runs of this test left voices of the same name: none of them is the answer.
    before = {v.id for v in _wait(qloop, client.voices.list(is_owner=True))}
    clones = offline_engine.stats.requests("/voices/clone")
    with qtbot.waitSignal(lab.voice_created) as blocker:
        voice = _wait(qloop, settled(lab, lab.clone(audio, RATE, name="Found Again")))
    assert offline_engine.stats.requests("/voices/clone") == clones + 1  # never sent twice
    assert blocker.args == [voice]
    assert voice.name == "Found Again" and voice.is_owner
    assert lab.catalog.voice(voice.id) is not None
    owned = _wait(qloop, client.voices.list(is_owner=True))
    assert [v.id for v in owned if v.id not in before] == [voice.id]


def test_a_failed_clone_that_made_nothing_says_to_check_before_trying_again(
        lab: VoiceLab, own_voice: Voice, client, qloop, qtbot, offline_engine) -> None:  # type: ignore[no-untyped-def]
    audio = clip(qloop, lab, client)
    offline_engine.inject_faults("/voices/clone", [503])
    # An older voice of the same name is not taken for the one asked for now.
    with qtbot.assertNotEmitted(lab.voice_created), \
            pytest.raises(CreationUnknownError) as raised:
        _wait(qloop, settled(lab, lab.clone(audio, RATE, name=own_voice.name)))
    assert UNKNOWN_OUTCOME in str(raised.value)
    assert str(raised.value).startswith("503")
    assert isinstance(raised.value.__cause__, ServerError)
    assert [v.id for v in lab.catalog.voices if v.name == own_voice.name] == [own_voice.id]


def test_a_clone_that_was_made_is_not_reported_failed_when_the_list_cannot_be_reloaded(
        lab: VoiceLab, client, qloop, qtbot) -> None:  # type: ignore[no-untyped-def]
    audio = clip(qloop, lab, client)
    # The backend goes away just after answering: the catalog cannot be reloaded.
    lab.set_client(AnswerLost(client, None, after=lambda: lab.set_client(None)),  # type: ignore[arg-type]
                   "offline")
    with qtbot.waitSignal(lab.voice_created) as blocker:
        voice = _wait(qloop, settled(lab, lab.clone(audio, RATE, name="Made Anyway")))
    assert blocker.args == [voice] and voice.name == "Made Anyway"
    assert lab.catalog.voice(voice.id) is not None


# --- own voices: rename, delete, localize -------------------------------------------------


def test_rename_and_edit_description(panel: VoicesPanel, lab: VoiceLab, own_voice: Voice,
                                     qloop, client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert panel.select_voice(own_voice.id)
    assert panel.rename_action.isEnabled() and panel.delete_action.isEnabled()

    def fill(dialog: VoiceEditDialog) -> int:
        assert dialog.name_edit.text() == "Lab Narrator"
        dialog.name_edit.setText("  Studio Narrator ")
        dialog.description_edit.setPlainText("Warm, close-miked")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(VoiceEditDialog, "exec", fill)
    panel.rename_action.trigger()
    _wait(qloop, panel.wait_idle())
    renamed = lab.catalog.voice(own_voice.id)
    assert renamed is not None
    assert (renamed.name, renamed.description) == ("Studio Narrator", "Warm, close-miked")
    assert _wait(qloop, client.voices.get(own_voice.id)).name == "Studio Narrator"
    assert panel.selected_voice() is not None and panel.selected_voice().id == own_voice.id
    assert "Studio Narrator" in panel.details_label.text()


def test_delete_names_the_blocks_using_the_voice_and_removes_it(
        panel: VoicesPanel, lab: VoiceLab, own_voice: Voice, document: ScriptDocument,
        qloop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    other = lab.catalog.voices[0].id
    for voice_id in (other, own_voice.id, other, other, own_voice.id):
        document.add_block(text="Hello.", voice_id=voice_id)
    assert lab.blocks_using(own_voice.id) == [2, 5]
    lab.set_starred(own_voice.id, True)
    asked: list[str] = []
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]

    def question(_parent, _title, text, *_args):  # type: ignore[no-untyped-def]
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    panel.select_voice(own_voice.id)
    panel.delete_action.trigger()  # Cancel
    _wait(qloop, panel.wait_idle())
    assert lab.catalog.voice(own_voice.id) is not None
    assert ("Blocks 2 and 5 use this voice; they keep its id but will fail to generate "
            "until you pick another voice.") in asked[0]

    panel.delete_action.trigger()  # Yes
    _wait(qloop, panel.wait_idle())
    assert lab.catalog.voice(own_voice.id) is None
    assert own_voice.id not in [v.id for v in shown(panel)]
    assert own_voice.id not in lab.starred
    assert "Deleted" in panel.status_label.text()
    # The blocks keep the id: the script is not changed behind the user's back.
    assert [b.voice_id for b in document.blocks].count(own_voice.id) == 2


def test_blocks_sentence() -> None:
    assert blocks_sentence([]) == "No block of this script uses it."
    assert blocks_sentence([3]).startswith("Block 3 uses this voice; it keeps its id")
    assert blocks_sentence([1, 2, 7]).startswith("Blocks 1, 2 and 7 use this voice")


def test_localize_makes_a_new_voice_in_the_chosen_language_and_dialect(
        panel: VoicesPanel, lab: VoiceLab, qloop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    source = next(v for v in lab.catalog.voices if v.language == "en")
    count = len(lab.catalog.voices)
    seen: dict[str, Any] = {}

    def choose(dialog: LocalizeDialog) -> int:
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("fr"))
        seen["dialects"] = [dialog.dialect_combo.itemData(i)
                            for i in range(dialog.dialect_combo.count())]
        dialog.dialect_combo.setCurrentIndex(dialog.dialect_combo.findData("ca"))
        dialog.gender_combo.setCurrentIndex(dialog.gender_combo.findData("female"))
        seen["name"] = dialog.name_edit.text()
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("de"))
        seen["german dialects"] = dialog.dialect_combo.isEnabled()
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("fr"))
        dialog.dialect_combo.setCurrentIndex(dialog.dialect_combo.findData("ca"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(LocalizeDialog, "exec", choose)
    panel.select_voice(source.id)
    panel.localize_action.trigger()
    _wait(qloop, panel.wait_idle())
    assert seen["dialects"] == [None, "eu", "ca"]
    assert seen["german dialects"] is False
    assert seen["name"] == f"{source.name} (French)"
    assert len(lab.catalog.voices) == count + 1, panel.status_label.text()
    made = panel.selected_voice()
    assert made is not None and made.id != source.id
    assert made.language == "fr" and made.is_owner
    assert "Localized" in panel.status_label.text()


def test_localize_keeps_the_users_filters_and_names_a_voice_they_hide(
        panel: VoicesPanel, lab: VoiceLab, qloop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    source = next(v for v in lab.catalog.voices if v.language == "en")

    def choose(dialog: LocalizeDialog) -> int:
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("fr"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(LocalizeDialog, "exec", choose)
    english = panel.language_combo.findData("en")
    panel.language_combo.setCurrentIndex(english)
    panel.search_edit.setText(source.name[:3])
    panel.select_voice(source.id)
    panel.localize_action.trigger()
    _wait(qloop, panel.wait_idle())
    assert panel.language_combo.currentIndex() == english
    assert panel.search_edit.text() == source.name[:3]
    assert all(v.language == "en" for v in shown(panel))
    made = next(v for v in lab.catalog.voices if v.language == "fr" and v.is_owner)
    assert panel.status_label.text() == f"Made {made.name} (hidden by your filters)"


def test_rename_is_not_offered_for_public_voices(panel: VoicesPanel, lab: VoiceLab,
                                                 monkeypatch) -> None:  # type: ignore[no-untyped-def]
    voice = next(v for v in lab.catalog.voices if not v.is_owner)
    panel.select_voice(voice.id)
    assert not panel.rename_action.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *a: pytest.fail("asked"))
    panel.delete_selected()
    assert "only your own voices" in panel.status_label.text()


def test_record_and_clone_opens_one_non_modal_recorder(panel: VoicesPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = panel.open_recorder()
    assert dialog.isVisible() and not dialog.isModal()
    assert panel.open_recorder() is dialog
    assert "No microphone" in dialog.notice_label.text()
    dialog.close()


def test_the_recorder_lists_the_projects_recordings_and_reports_the_one_chosen(
        qtbot, lab: VoiceLab, playback, qloop) -> None:  # type: ignore[no-untyped-def]
    audio = np.full(RATE * 2, 0.1, np.float32)
    kept = [Recording("rec-1", "Recording 1", TakeAudio.of(audio, RATE), 1.7e9)]
    panel = VoicesPanel(lab, playback, input_devices=lambda: (), recordings=lambda: list(kept))
    qtbot.addWidget(panel)
    panel.refresh_recordings()  # before the recorder is opened: nothing to do
    dialog = panel.open_recorder()
    assert dialog.recordings_combo.count() == 2
    kept.append(Recording("rec-2", "Recording 2", TakeAudio.of(audio[:RATE], RATE), 1.8e9))
    panel.refresh_recordings()
    assert dialog.recordings_combo.itemText(1) == "Recording 2 · 1.0 s"
    with qtbot.waitSignal(panel.recording_chosen) as blocker:
        dialog.recordings_combo.activated.emit(2)
        _wait(qloop, dialog.wait_idle())
    assert blocker.args == [kept[0]]
    panel.shutdown()


def test_names_column_is_the_wide_one(panel: VoicesPanel) -> None:
    header = panel.table.horizontalHeader()
    assert header.sectionSize(NAME) >= max(header.sectionSize(c) for c in range(5) if c != NAME)


def test_names_fit_at_the_docks_default_width(panel: VoicesPanel, lab: VoiceLab) -> None:
    panel.resize(panel.sizeHint().width(), 640)
    panel.layout().activate()
    header = panel.table.horizontalHeader()
    metrics = panel.table.fontMetrics()
    longest = max((v for v in lab.catalog.voices if len(v.name) <= 8),
                  key=lambda v: metrics.horizontalAdvance(v.name))
    # "Desmond" was cut to "Desm…": the name takes what the short columns leave.
    assert header.sectionSize(NAME) >= metrics.horizontalAdvance(longest.name) + 8


def test_the_panel_keeps_its_width_whatever_the_voices_are(panel: VoicesPanel,
                                                           lab: VoiceLab) -> None:
    header = panel.table.horizontalHeader()
    short_columns = [c for c in range(5) if c != NAME]
    widths = [header.sectionSize(c) for c in short_columns]
    hints = (panel.sizeHint().width(), panel.minimumSizeHint().width(),
             panel.table.sizeHint().width())
    base = lab.catalog.voices[0]
    lab.catalog.voices = [*lab.catalog.voices, Voice(
        id="long-one", name="A voice with a name far too long for any narrow dock at all",
        description="", language="x-a-very-long-language-code", gender="some-long-gender")]
    lab.catalog.voices_changed.emit()
    panel.select_voice("long-one")
    panel.select_voice(base.id)
    panel.use_selected()
    assert [header.sectionSize(c) for c in short_columns] == widths
    assert (panel.sizeHint().width(), panel.minimumSizeHint().width(),
            panel.table.sizeHint().width()) == hints


def test_a_finished_actions_message_goes_after_a_while_or_at_the_next_selection(
        panel: VoicesPanel, lab: VoiceLab) -> None:
    first, second = lab.catalog.voices[:2]
    panel.select_voice(first.id)
    panel.use_selected()
    assert "Using" in panel.status_label.text()
    timer = panel.status_timer
    assert timer.isActive() and timer.isSingleShot()
    assert timer.interval() == int(STATUS_SECONDS * 1000) and STATUS_SECONDS <= 10
    timer.timeout.emit()  # as the timer would after STATUS_SECONDS
    assert panel.status_label.text() == ""
    panel.use_selected()
    panel.select_voice(second.id)  # the user moved on
    assert panel.status_label.text() == ""
    # A state, not a message: it stays while it holds.
    lab.set_client(None)
    panel.select_voice(first.id)
    assert "Not connected" in panel.status_label.text() and not timer.isActive()


def test_preview_without_an_output_device_says_so_instead_of_offering_stop(
        qtbot, lab: VoiceLab, qloop) -> None:  # type: ignore[no-untyped-def]
    playback = PlaybackService(
        player_factory=lambda rate, device=None: NullPlayer(rate, NO_OUTPUT_DEVICE))
    panel = VoicesPanel(lab, playback, input_devices=lambda: ())
    qtbot.addWidget(panel)
    panel.select_voice(lab.catalog.voices[0].id)
    panel.preview_action.trigger()
    _wait(qloop, panel.wait_idle())
    assert panel.status_label.text() == "No sound: no audio output device"
    assert panel.preview_action.text() == "▶ Preview"
    assert not playback.is_playing
    playback.shutdown()


def test_the_recorders_device_choice_is_remembered_and_reported(qtbot, lab, playback) -> None:  # type: ignore[no-untyped-def]
    from studio.audio.devices import AudioDevice

    devices = tuple(AudioDevice(i, name, "Test", 1, 0, 48000.0, is_default=i == 0)
                    for i, name in enumerate(("Built-in", "USB mic")))
    panel = VoicesPanel(lab, playback, input_devices=lambda: devices, input_device="USB mic")
    qtbot.addWidget(panel)
    dialog = panel.open_recorder()
    assert dialog.device_combo.currentText() == "USB mic"
    with qtbot.waitSignal(panel.input_device_changed) as blocker:
        dialog.device_combo.setCurrentIndex(0)
        dialog.device_combo.activated.emit(0)
    assert blocker.args == ["Built-in"]
    panel.shutdown()
    assert not dialog.isVisible()


def test_localize_keeps_a_name_the_user_typed_when_the_language_changes(qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.api import Voice

    dialog = LocalizeDialog(Voice(id="v", name="Avery", description="", language="en"))
    qtbot.addWidget(dialog)
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("fr"))
    assert dialog.name_edit.text().startswith("Avery (")  # the suggestion follows
    dialog.name_edit.setText("Avery à Paris")
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("de"))
    assert dialog.name_edit.text() == "Avery à Paris"


def test_the_panel_lists_every_voice_after_a_clone(panel: VoicesPanel, lab: VoiceLab,
                                                   own_voice: Voice) -> None:
    # Issue 14: right after cloning, the default voice went missing from the list until
    # the search box was cleared.
    ids = [v.id for v in lab.catalog.voices]
    assert own_voice.id in ids and len(ids) == len(set(ids))
    assert sorted(v.id for v in shown(panel)) == sorted(ids)
    assert panel.search_edit.text() == ""


def test_pro_clones_are_marked_in_the_owner_column(qloop, panel, lab) -> None:  # type: ignore[no-untyped-def]
    """Voices made by a professional-clone fine-tune read "Pro clone", also after the
    list is reloaded; the others keep "Mine"/"Public"."""
    marked = lab.catalog.voices[0]

    def owner(voice_id: str) -> str:
        row = panel.model.row_of(voice_id)
        assert row is not None
        return str(panel.model.index(row, OWNER).data())

    assert owner(marked.id) in ("Mine", "Public")
    panel.set_pro_clones([marked.id])
    assert owner(marked.id) == "Pro clone"
    assert _wait(qloop, lab.refresh())
    assert owner(marked.id) == "Pro clone"
    others = [v for v in lab.catalog.voices if v.id != marked.id]
    assert others and all(owner(v.id) != "Pro clone" for v in others)
    panel.set_pro_clones([])
    assert owner(marked.id) in ("Mine", "Public")
