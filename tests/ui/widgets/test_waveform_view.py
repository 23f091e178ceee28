"""The waveform view (issue 4): selecting by sample and by word with snapping, zoom,
playhead following, and what it paints."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from studio.audio.peaks import PeakPyramid
from studio.timestamps import PhonemeTimestamps, WordTimestamps
from studio.ui.widgets.waveform_view import (
    MIN_SAMPLES_PER_PIXEL,
    RULER_HEIGHT,
    WORD_ROW_HEIGHT,
    WaveformView,
    format_time,
    ruler_step,
)

RATE = 16000
FRAMES = 2 * RATE
WIDTH = 800  # viewport pixels: the take fits at 40 frames per pixel
WORDS = WordTimestamps(("alpha", "beta", "gamma"), (0.25, 0.70, 1.20), (0.60, 1.10, 1.70))
SPAN_COLOUR = QColor("#6f7ff0")
BAND_COLOUR = QColor("#b4bcff")
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier


def spoken(words: WordTimestamps = WORDS) -> np.ndarray:
    """Silence with a 100 Hz tone under each word, starting positive, so the first sign
    change is 37 frames into the word and then one every 80 frames."""
    audio = np.zeros(FRAMES, np.float32)
    for start, end in zip(words.start, words.end, strict=True):
        lo, hi = round(start * RATE), round(end * RATE)
        n = np.arange(lo, hi)
        audio[lo:hi] = -0.8 * np.sin(2 * np.pi * 100 * (n - lo - 37 + 0.5) / RATE)
    return audio


def crossings(audio: np.ndarray) -> np.ndarray:
    negative = audio < 0
    return np.flatnonzero(negative[1:] != negative[:-1]) + 1


@pytest.fixture
def view(qtbot) -> Iterator[WaveformView]:  # type: ignore[no-untyped-def]
    widget = WaveformView()
    qtbot.addWidget(widget)
    widget.resize(WIDTH + 2 * widget.frameWidth(), 300)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.viewport().width() == WIDTH
    audio = spoken()
    widget.set_audio(audio, RATE, PeakPyramid.build(audio), WORDS)
    yield widget


def x_of(view: WaveformView, frame: float) -> float:
    return (frame - view.view_start) / view.samples_per_pixel


def mouse(view: WaveformView, kind: QEvent.Type, x: float, y: float | None = None,
          modifiers: Qt.KeyboardModifier = NONE) -> None:
    """Send one left-button mouse event to the view's viewport (y: middle of the wave)."""
    viewport = view.viewport()
    position = QPointF(x, 100 if y is None else y)
    held = kind != QEvent.Type.MouseButtonRelease
    event = QMouseEvent(kind, position, viewport.mapToGlobal(position),
                        Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove
                        else Qt.MouseButton.LeftButton,
                        Qt.MouseButton.LeftButton if held else Qt.MouseButton.NoButton,
                        modifiers)
    QApplication.sendEvent(viewport, event)


def click(view: WaveformView, x: float, y: float | None = None,
          modifiers: Qt.KeyboardModifier = NONE) -> None:
    mouse(view, QEvent.Type.MouseButtonPress, x, y, modifiers)
    mouse(view, QEvent.Type.MouseButtonRelease, x, y, modifiers)


def drag(view: WaveformView, x0: float, x1: float, y: float | None = None,
         modifiers: Qt.KeyboardModifier = NONE) -> None:
    mouse(view, QEvent.Type.MouseButtonPress, x0, y, modifiers)
    mouse(view, QEvent.Type.MouseMove, (x0 + x1) / 2, y, modifiers)
    mouse(view, QEvent.Type.MouseMove, x1, y, modifiers)
    mouse(view, QEvent.Type.MouseButtonRelease, x1, y, modifiers)


def lane_y(view: WaveformView) -> int:
    return view.viewport().height() - WORD_ROW_HEIGHT // 2


def wheel(view: WaveformView, x: float, dx: int, dy: int,
          modifiers: Qt.KeyboardModifier = NONE) -> None:
    viewport = view.viewport()
    position = QPointF(x, 100)
    event = QWheelEvent(position, viewport.mapToGlobal(position), QPoint(), QPoint(dx, dy),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)


def painted(view: WaveformView) -> QImage:
    return view.viewport().grab().toImage()


def wave_rows(image: QImage, x: int, top: int, bottom: int) -> int:
    """Rows of column ``x`` in ``[top, bottom)`` painted in the waveform's colours."""
    colours = {SPAN_COLOUR.rgb(), BAND_COLOUR.rgb()}
    return sum(image.pixelColor(x, y).rgb() in colours for y in range(top, bottom))


# --- Content ---------------------------------------------------------------------------


def test_set_audio_fits_the_take_and_clear_empties_the_view(view: WaveformView) -> None:
    assert view.samples_per_pixel == FRAMES / WIDTH
    assert view.view_start == 0
    assert view.selection() == (0, 0)
    assert view.frames == FRAMES
    view.clear("Select a take")
    assert view.frames == 0
    assert view.selection() == (0, 0)
    painted(view)  # the message, no waveform


def test_set_audio_clamps_the_selection_and_may_keep_the_view(view: WaveformView,
                                                               qtbot) -> None:  # type: ignore[no-untyped-def]
    view.set_selection(20000, 30000)
    view.zoom_by(4, 16000)
    spp, start = view.samples_per_pixel, view.view_start
    shorter = spoken()[:25000]
    with qtbot.waitSignal(view.selection_changed) as changed:
        view.set_audio(shorter, RATE, PeakPyramid.build(shorter), WORDS, keep_view=True)
    assert changed.args == [20000, 25000]
    assert view.samples_per_pixel == spp
    assert view.view_start == min(start, 25000 - WIDTH * spp)
    view.set_audio(shorter, RATE, PeakPyramid.build(shorter))
    assert view.samples_per_pixel == 25000 / WIDTH and view.view_start == 0


def test_set_audio_rejects_a_pyramid_of_other_audio(view: WaveformView) -> None:
    with pytest.raises(ValueError, match="frames"):
        view.set_audio(np.zeros(10, np.float32), RATE, PeakPyramid.build(np.zeros(11)))
    with pytest.raises(ValueError, match="sample_rate"):
        view.set_audio(np.zeros(10, np.float32), 0, PeakPyramid.build(np.zeros(10)))


def test_the_view_says_what_it_is_and_takes_focus(view: WaveformView) -> None:
    assert view.accessibleName() == "Waveform"
    assert view.focusPolicy() == Qt.FocusPolicy.StrongFocus
    assert "Ctrl" in view.toolTip()
    view.set_selection(8000, 16000)
    assert view.accessibleDescription() == "Selection 0:00.500 to 0:01.000"


# --- Selecting -------------------------------------------------------------------------


def test_click_places_the_cursor_on_the_nearest_zero_crossing(view: WaveformView,
                                                              qtbot) -> None:  # type: ignore[no-untyped-def]
    # x 150 is frame 6000, inside "alpha" and far from its edges; crossings lie at
    # 4037 + 80k, so 5957 and 6037 are 43 and 37 frames away.
    with qtbot.waitSignal(view.selection_changed) as changed:
        click(view, 150)
    assert changed.args == [6037, 6037]
    assert view.selection() == (6037, 6037)


def test_ctrl_click_places_the_cursor_exactly(view: WaveformView) -> None:
    click(view, 150, modifiers=CTRL)
    assert view.selection() == (6000, 6000)


def test_in_silence_the_cursor_stays_under_the_mouse(view: WaveformView) -> None:
    click(view, 25)  # frame 1000: silence, no word within 8 pixels (320 frames)
    assert view.selection() == (1000, 1000)


def test_drag_edges_snap_to_words_then_to_zero_crossings(view: WaveformView) -> None:
    # Press 3 pixels inside "alpha" (frame 4120), release 3 pixels inside the end of
    # "beta" (frame 17480): each edge goes to the word boundary, then to the nearest
    # sign change within 5 ms (80 frames).
    drag(view, 103, 437)
    assert view.selection() == (4037, 17557)
    signs = crossings(spoken())
    assert 4037 in signs and 17557 in signs


def test_ctrl_drag_selects_exactly_under_the_mouse(view: WaveformView) -> None:
    drag(view, 103, 437, modifiers=CTRL)
    assert view.selection() == (4120, 17480)
    drag(view, 437, 103, modifiers=CTRL)  # right to left
    assert view.selection() == (4120, 17480)


def test_shift_click_extends_the_nearer_edge(view: WaveformView) -> None:
    view.set_selection(6000, 8000)
    click(view, 300, modifiers=SHIFT | CTRL)  # frame 12000, after the selection
    assert view.selection() == (6000, 12000)
    click(view, 110, modifiers=SHIFT | CTRL)  # frame 4400, before it
    assert view.selection() == (4400, 12000)
    click(view, 250, modifiers=SHIFT | CTRL)  # frame 10000, nearer the end
    assert view.selection() == (4400, 10000)


def test_clicking_a_word_selects_exactly_that_word(view: WaveformView, qtbot) -> None:  # type: ignore[no-untyped-def]
    # Silence surrounds "beta": no crossing to move to, so its span is exact.
    with qtbot.waitSignal(view.selection_changed) as changed:
        click(view, x_of(view, 14000), lane_y(view))
    assert changed.args == [11200, 17600]
    assert view.selected_words() == (1, 1)


def test_clicking_the_lane_between_words_places_the_cursor(view: WaveformView) -> None:
    click(view, x_of(view, 10400), lane_y(view), modifiers=CTRL)
    assert view.selection() == (10400, 10400)
    assert view.selected_words() is None


def test_dragging_across_the_lane_selects_whole_words(view: WaveformView) -> None:
    drag(view, x_of(view, 5000), x_of(view, 21000), lane_y(view))
    assert view.selection() == (4000, 27200)
    assert view.selected_words() == (0, 2)
    drag(view, x_of(view, 21000), x_of(view, 12000), lane_y(view))  # backwards
    assert view.selected_words() == (1, 2)


def test_double_click_selects_the_word_under_the_mouse(view: WaveformView) -> None:
    mouse(view, QEvent.Type.MouseButtonDblClick, x_of(view, 5000))
    assert view.selection() == (4000, 9600)


def test_word_edges_move_outwards_to_zero_crossings(qtbot) -> None:  # type: ignore[no-untyped-def]
    # A tone throughout: "two" starts and ends mid-cycle.
    words = WordTimestamps(("one", "two"), (0.1, 0.5), (0.5, 0.9))
    view = WaveformView()
    qtbot.addWidget(view)
    audio = -np.sin(2 * np.pi * 100 * (np.arange(FRAMES) + 0.5 - 37) / RATE).astype(np.float32)
    view.set_audio(audio, RATE, PeakPyramid.build(audio), words)
    view.select_words(1, 1)
    start, end = view.selection()
    signs = set(crossings(audio).tolist())
    assert start in signs and 8000 - 80 <= start <= 8000
    assert end in signs and 14400 <= end <= 14400 + 80
    assert view.selected_words() == (1, 1)


def test_select_words_rejects_bad_indices(view: WaveformView) -> None:
    with pytest.raises(IndexError):
        view.select_words(0, 3)
    with pytest.raises(IndexError):
        view.select_words(-1, 0)
    with pytest.raises(ValueError):
        view.select_words(2, 1)


def test_selected_words_counts_words_covered_by_more_than_half(view: WaveformView) -> None:
    view.set_selection(11200, 14400)  # exactly half of "beta"
    assert view.selected_words() is None
    view.set_selection(11200, 14401)
    assert view.selected_words() == (1, 1)
    view.set_selection(5000, 23000)  # most of alpha, all of beta, half of gamma
    assert view.selected_words() == (0, 1)
    view.set_selection(0, FRAMES)
    assert view.selected_words() == (0, 2)
    view.set_selection(12000, 12000)
    assert view.selected_words() is None


def test_set_selection_orders_clamps_and_always_emits(view: WaveformView, qtbot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(view.selection_changed) as changed:
        view.set_selection(40000, -5)
    assert changed.args == [0, FRAMES]
    with qtbot.waitSignal(view.selection_changed):
        view.set_selection(0, FRAMES)


def test_space_toggles_playback(view: WaveformView, qtbot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(view.play_toggled):
        qtbot.keyClick(view, Qt.Key.Key_Space)


# --- Zoom and scroll -------------------------------------------------------------------


def assert_view_invariants(view: WaveformView) -> None:
    fit = view.frames / WIDTH
    assert MIN_SAMPLES_PER_PIXEL <= view.samples_per_pixel <= fit
    assert 0 <= view.view_start <= max(0.0, view.frames - WIDTH * view.samples_per_pixel)


def test_zoom_by_keeps_the_anchor_in_place(view: WaveformView) -> None:
    view.zoom_by(4, 20000)
    assert view.samples_per_pixel == 10
    assert x_of(view, 20000) == pytest.approx(500)
    middle = view.view_start + WIDTH / 2 * view.samples_per_pixel
    view.zoom_by(0.5)  # out, around the middle of the view
    assert view.samples_per_pixel == 20
    assert x_of(view, middle) == pytest.approx(WIDTH / 2)
    with pytest.raises(ValueError):
        view.zoom_by(0)


def test_zoom_stops_at_eight_pixels_per_sample_and_at_fit(view: WaveformView) -> None:
    view.zoom_by(1e9, 16000)
    assert view.samples_per_pixel == MIN_SAMPLES_PER_PIXEL == 1 / 8
    assert_view_invariants(view)
    view.zoom_by(1e-9)
    assert view.samples_per_pixel == FRAMES / WIDTH
    assert view.view_start == 0


def test_zoom_to_selection_shows_all_of_it_and_zoom_to_fit_returns(view: WaveformView) -> None:
    view.set_selection(11200, 17600)
    view.zoom_to_selection()
    assert 0 < x_of(view, 11200) < 0.05 * WIDTH
    assert 0.95 * WIDTH < x_of(view, 17600) < WIDTH
    view.set_selection(3000, 3000)
    before = (view.samples_per_pixel, view.view_start)
    view.zoom_to_selection()  # a cursor: nothing to fit
    assert (view.samples_per_pixel, view.view_start) == before
    view.zoom_to_fit()
    assert (view.samples_per_pixel, view.view_start) == (FRAMES / WIDTH, 0)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(
    st.tuples(st.just("zoom"), st.floats(0.01, 100), st.integers(-1000, FRAMES + 1000)),
    st.tuples(st.just("select"), st.integers(-100, FRAMES + 100), st.integers(0, FRAMES)),
    st.tuples(st.just("scroll"), st.integers(-10**6, 10**6), st.just(0)),
), max_size=12))
def test_any_zoom_sequence_keeps_the_view_inside_the_take(
        view: WaveformView, steps: list[tuple[str, float, int]]) -> None:
    view.zoom_to_fit()
    for kind, a, b in steps:
        if kind == "zoom":
            view.zoom_by(a, b)
        elif kind == "select":
            view.set_selection(int(a), b)
            view.zoom_to_selection()
        else:
            bar = view.horizontalScrollBar()
            bar.setValue(bar.value() + int(a))
        assert_view_invariants(view)


def test_wheel_zooms_around_the_mouse_and_shift_wheel_scrolls(view: WaveformView) -> None:
    wheel(view, 200, 0, 120)  # one notch in, at frame 8000
    assert view.samples_per_pixel == pytest.approx(40 / 2**0.5)
    assert x_of(view, 8000) == pytest.approx(200)
    start = view.view_start
    wheel(view, 200, 0, -120, SHIFT)  # scrolls right
    assert view.view_start > start
    wheel(view, 200, 120, 0)  # a horizontal wheel scrolls left
    assert view.view_start == pytest.approx(start, abs=view.samples_per_pixel)


def test_scrollbar_moves_the_view(view: WaveformView) -> None:
    view.zoom_by(8, 0)
    bar = view.horizontalScrollBar()
    bar.setValue(bar.maximum())
    assert view.view_start == pytest.approx(FRAMES - WIDTH * view.samples_per_pixel, abs=5)


def test_the_view_follows_the_playhead_a_page_at_a_time(view: WaveformView) -> None:
    view.zoom_by(10, 0)  # 3200 frames on screen
    view.set_playhead(1000)
    assert view.view_start == 0
    view.set_playhead(3300)  # just past the right edge: that frame becomes the left edge
    assert view.view_start == 3300
    view.set_playhead(31900)  # near the end: as far as the view goes
    assert view.view_start == FRAMES - 3200
    view.set_playhead(100)  # back to the start (a replay)
    assert view.view_start == 100
    view.set_playhead(None)
    assert view.view_start == 100


# --- Painting --------------------------------------------------------------------------


def test_a_tone_is_painted_and_silence_is_not(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(WIDTH + 2 * view.frameWidth(), 300)
    audio = np.zeros(FRAMES, np.float32)
    audio[: FRAMES // 2] = 0.9 * np.sin(2 * np.pi * 440 * np.arange(FRAMES // 2) / RATE)
    view.set_audio(audio, RATE, PeakPyramid.build(audio))
    image = painted(view)
    top, bottom = RULER_HEIGHT, view.viewport().height() - WORD_ROW_HEIGHT
    height = bottom - top
    for x in (50, 200, 350):
        assert wave_rows(image, x, top, bottom) > 0.8 * height
    for x in (450, 600, 790):
        assert wave_rows(image, x, top, bottom) <= 1  # the line at zero at most
    # The RMS band, lighter, in the middle of the tone.
    middle = top + (height - 1) // 2
    assert image.pixelColor(200, middle).rgb() == BAND_COLOUR.rgb()


def test_the_word_lane_and_the_markers_are_painted(view: WaveformView) -> None:
    audio = spoken()
    view.set_audio(audio, RATE, PeakPyramid.build(audio), WORDS, markers=[(1600, "Block 2")])
    image = painted(view)
    lane = lane_y(view)
    background = image.pixelColor(5, lane).rgb()
    assert image.pixelColor(round(x_of(view, 14000)), lane).rgb() != background  # a box
    marker = image.pixelColor(round(x_of(view, 1600)), 200)
    assert marker.rgb() == QColor("#f5a623").rgb()


def test_words_too_dense_for_boxes_are_painted_as_one_band(view: WaveformView) -> None:
    # 250 words in the first second: 4 pixels each would not fit in the view.
    starts = np.arange(250) * 0.004
    words = WordTimestamps(tuple(f"w{i}" for i in range(250)), tuple(starts.tolist()),
                           tuple((starts + 0.003).tolist()))
    audio = spoken()
    view.set_audio(audio, RATE, PeakPyramid.build(audio), words)
    image = painted(view)
    lane = lane_y(view)
    fill = QColor("#2a2c38").rgb()
    assert all(image.pixelColor(x, lane).rgb() == fill for x in range(2, 400, 7))
    assert all(image.pixelColor(x, lane).rgb() != fill for x in range(402, 800, 7))


@pytest.mark.parametrize("frames", [0, 1, 2, 255, 257, 70_000])
def test_painting_never_fails_at_any_zoom_or_length(qtbot, frames: int) -> None:  # type: ignore[no-untyped-def]
    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(640, 220)
    view.show()
    rng = np.random.default_rng(frames)
    audio = rng.uniform(-1.5, 1.5, frames).astype(np.float32)  # clipping too
    seconds = frames / RATE
    words = WordTimestamps(("a", "b"), (0.0, seconds / 2), (seconds / 2, seconds))
    phonemes = PhonemeTimestamps(("x", "y", "z"), (0.0, seconds / 3, 2 * seconds / 3),
                                 (seconds / 3, 2 * seconds / 3, seconds))
    view.set_audio(audio, RATE, PeakPyramid.build(audio), words, phonemes,
                   markers=[(0, "start"), (frames, "end")])
    view.set_selection(0, frames)
    view.set_playhead(frames // 2)
    painted(view)
    for factor in (3, 100, 1e9):
        view.zoom_by(factor, frames // 2)
        painted(view)
        view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())
        painted(view)
    view.clear()
    painted(view)


def test_ruler_steps_and_labels() -> None:
    assert format_time(1.5) == "0:01.500"
    assert format_time(61.25) == "1:01.250"
    assert format_time(3723.0) == "1:02:03.000"
    assert format_time(0.0003, 4) == "0:00.0003"
    # About 100 pixels between labels: 1 s per 100 px gives 1 s labels.
    assert ruler_step(0.01) == (1, 5)
    assert ruler_step(1 / (8 * 48000))[0] == 5e-4  # the deepest zoom at 48 kHz
    assert ruler_step(100.0) == (7200, 4)  # nothing is wide enough: the coarsest step
