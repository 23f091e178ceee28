"""How a take is named in lists: its name, length, words, edits, backend and cost."""

from __future__ import annotations

from studio.project.edited_audio import edited_frames
from studio.project.model import Take
from studio.project.transcript import spoken_word_count


def take_label(take: Take) -> str:
    """``Take 2 · 3.4 s · 9 words · Offline · free``, with ``★`` before a starred take."""
    cost = "free" if take.credits == 0 else f"{take.credits} credits"
    backend = "Offline" if take.backend == "offline" else "Cloud"
    star = "★ " if take.starred else ""
    edited = " · edited" if take.edits else ""
    if take.damaged:
        edited += " · damaged audio"
    return (f"{star}{take.name} · {take_seconds(take):.1f} s · {take_words(take)} words"
            f"{edited} · {backend} · {cost}")


def take_seconds(take: Take) -> float:
    """The take's length as it plays and exports (after its edits), in seconds."""
    return edited_frames(take) / take.sample_rate if take.sample_rate else 0.0


def take_words(take: Take) -> int:
    """How many words the take says: its word timestamps, or for an edited take the
    words of what it says now (:attr:`~studio.project.model.Take.spoken_text`)."""
    if not take.edits:
        return len(take.word_timestamps.words)
    return spoken_word_count(take.spoken_text)


