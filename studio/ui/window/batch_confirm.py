"""The question asked before a generation batch is sent: what it costs (credits),
how many blocks are generated and how many reuse earlier takes, and about how much
audio it makes, so nothing is spent on a book by surprise."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from studio.services.editor import count_blocks
from studio.services.generation import CHARACTERS_PER_SECOND, Estimate

#: On the free offline engine a batch of at least this many blocks is still shown
#: first (it says how much audio and roughly how long); smaller ones just start.
LARGE_FREE_BATCH = 50


def needs_question(estimate: Estimate, threshold: int) -> bool:
    """Whether to ask before sending: on a paid backend, any batch of more than one
    block, or one that costs over ``threshold`` credits (0: every paid generation);
    on a free one, batches of :data:`LARGE_FREE_BATCH` blocks or more. Nothing to
    generate (all reused) never asks."""
    if estimate.generate == 0:
        return False
    if estimate.free:
        return estimate.generate >= LARGE_FREE_BATCH
    if estimate.credits == 0:
        return False
    return estimate.generate > 1 or not threshold or estimate.credits > threshold


def format_minutes(seconds: float) -> str:
    """"about 12 min of audio", "about 1 h 05 min of audio", "under a minute of audio"."""
    minutes = round(seconds / 60.0)
    if minutes < 1:
        return "under a minute of audio"
    if minutes < 60:
        return f"about {minutes} min of audio"
    return f"about {minutes // 60} h {minutes % 60:02d} min of audio"


def batch_question(estimate: Estimate, concurrent: int) -> str:
    """The text of the question for ``estimate`` sent ``concurrent`` requests at a time."""
    lines = [f"Generate {count_blocks(estimate.generate)}"
             + (f"; {count_blocks(estimate.reuse)} reuse earlier takes at no cost."
                if estimate.reuse else ".")]
    if estimate.free:
        lines.append("Free on the offline engine.")
    else:
        lines.append(f"It costs about {estimate.credits:,} credits on Cartesia's cloud "
                     "(about 1 credit per character).")
    lines.append(f"{format_minutes(estimate.audio_seconds).capitalize()} "
                 f"({estimate.characters:,} characters at about "
                 f"{CHARACTERS_PER_SECOND:g} per second of speech).")
    lines.append(f"Up to {concurrent} requests at a time (Settings: Concurrent requests).")
    return "\n".join(lines) + "\n\nGo ahead?"


def confirm_batch(parent: QWidget, estimate: Estimate, threshold: int, concurrent: int) -> bool:
    """Ask (:func:`needs_question`) before sending ``estimate``'s batch; True to go
    ahead."""
    if not needs_question(estimate, threshold):
        return True
    answer = QMessageBox.question(
        parent, "Generate", batch_question(estimate, concurrent),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes
