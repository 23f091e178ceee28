"""The cast: each speaker of the script with a voice and a default delivery. Qt-free.

Every block has a speaker (``Block.speaker``, :data:`~studio.project.model.NARRATOR`
unless a ``NAME: text`` line, a CSV row or the user names another). The project's
cast maps a speaker to a voice, language and delivery (emotion, speed, volume).

Inheritance rule (the one place it is decided): a block's field *follows the cast*
when it holds the value its speaker's cast entry has. Changing a speaker's entry sets
the new value on every block of theirs whose field followed the old one; a block whose
field differs keeps it (an override, made in the inspector). Giving a block another
speaker moves the fields that followed the old speaker's entry onto the new one's.
A voice and its language go together: a block that chose its own voice keeps that
voice's language when the speaker's voice and language change.
Blocks keep concrete values, so what a take was made from never depends on the cast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from studio.project.model import NARRATOR, Block

#: The block fields a cast entry gives its speaker's blocks.
CAST_FIELDS = ("voice_id", "language", "emotion", "speed", "volume")

#: The longest speaker name accepted, in characters.
MAX_SPEAKER_CHARS = 60


@dataclass(frozen=True, slots=True)
class CastEntry:
    """One speaker's voice and default delivery.

    Attributes:
        speaker: the name blocks carry in ``Block.speaker``.
        voice_id: Cartesia voice id ("" until cast).
        language: a ``SupportedLanguage`` code.
        emotion: a seed ``Emotion`` value, or ``None`` for the voice's default.
        speed: ratio in [0.6, 1.5].
        volume: ratio in [0.5, 2.0].
    """

    speaker: str
    voice_id: str = ""
    language: str = "en"
    emotion: str | None = None
    speed: float = 1.0
    volume: float = 1.0

    def values(self) -> dict[str, Any]:
        """The fields of :data:`CAST_FIELDS` with their values."""
        return {name: getattr(self, name) for name in CAST_FIELDS}

    def with_values(self, **changes: Any) -> CastEntry:
        """A copy with some of :data:`CAST_FIELDS` changed.

        Raises:
            AttributeError: a field that is not a cast field.
        """
        for name in changes:
            if name not in CAST_FIELDS:
                raise AttributeError(f"cannot set cast field {name!r}")
        return replace(self, **changes)

    @classmethod
    def of_block(cls, block: Block) -> CastEntry:
        """An entry for ``block``'s speaker with ``block``'s voice and delivery: how a
        speaker is cast before the user says otherwise."""
        return cls(block.speaker, **{name: getattr(block, name) for name in CAST_FIELDS})


def clean_speaker(name: str) -> str:
    """``name`` as a speaker name: whitespace collapsed, at most
    :data:`MAX_SPEAKER_CHARS` characters; "" becomes :data:`NARRATOR`."""
    name = " ".join(name.split())[:MAX_SPEAKER_CHARS]
    return name or NARRATOR


def speakers_in_order(blocks: Iterable[Block]) -> list[str]:
    """Every speaker of ``blocks``, in the order they first speak."""
    return list(dict.fromkeys(block.speaker for block in blocks))


def following_changes(block: Block, old: CastEntry | None,
                      new: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``block`` to change when its speaker's entry goes from ``old`` to
    ``new`` values: those that followed ``old`` (all of ``new`` when there was no
    entry) and differ from ``new``. The module's inheritance rule."""
    changes: dict[str, Any] = {}
    for name, value in new.items():
        current = getattr(block, name)
        follows = old is None or current == getattr(old, name)
        if name == "language" and old is not None and block.voice_id != old.voice_id:
            # A voice and its language go together: a block that chose its own voice
            # keeps that voice's language when the speaker's voice changes.
            follows = False
        if follows and current != value:
            changes[name] = value
    return changes


def entry_fields() -> tuple[str, ...]:
    """Every field of :class:`CastEntry`, for storing it (speaker first)."""
    return tuple(f.name for f in fields(CastEntry))
