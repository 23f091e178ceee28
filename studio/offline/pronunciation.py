"""A pronunciation dictionary applied to what the offline engine synthesises.

Issue #6: "generation applies the items (aliases replace the text; IPA aliases
become espeak-ng phoneme input) with Cartesia's matching rule". The rule is
:class:`studio.project.pronounce.Matcher`'s (case-sensitive; a lowercase key
also matches its capitalised form at a sentence start; whole words; longest
first; never inside tags or ``<spell>``), the same code the Script panel
highlights with, so what the studio marks is what the engine changes.

An entry's alias becomes espeak-ng input (:func:`espeak_text`):

- a sounds-like respelling ("kar-TEE-zhuh") is synthesised as text;
- each ``<<...>>`` group of Cartesia IPA becomes ``[[...]]`` phoneme input in
  espeak-ng's mnemonics for the voice's language (:mod:`studio.offline.phonemes`);
  a respelling and IPA groups may be mixed.

The matches become :class:`~studio.offline.tags.Replacement` spans of the
transcript; the renderer synthesises the alias in place of the text and still
reports the transcript's own words in word timestamps
(:mod:`studio.offline.synthesis`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from studio.offline import phonemes
from studio.offline.tags import Replacement
from studio.project.lexicon import LexiconItem, segment_ipa
from studio.project.pronounce import Matcher

log = logging.getLogger(__name__)

_IPA_GROUP = re.compile(r"<<(.*?)>>", re.DOTALL)
#: Characters a respelling must not pass on: stray ``<``/``>`` of a broken IPA
#: group, and ``[[``, which would switch espeak-ng to phoneme input.
_UNSAYABLE = str.maketrans({"<": " ", ">": " "})
#: How much of a WebSocket context's earlier text decides whether the next input
#: starts a sentence.
CONTEXT_CHARS = 200


def espeak_text(alias: str, inventory: phonemes.Inventory | None) -> tuple[str, list[str]]:
    """What espeak-ng is given for ``alias``, and the IPA symbols it had to drop.

    Each ``<<p|h|o|n|e|s>>`` group becomes ``[[...]]`` (a segment written without
    ``|`` between its phonemes is split by :func:`~studio.project.lexicon.segment_ipa`);
    the text around groups is a respelling, spoken as written. Empty when nothing
    in the alias can be said.
    """
    parts: list[str] = []
    dropped: list[str] = []
    position = 0
    for group in _IPA_GROUP.finditer(alias):
        parts.append(_respelling(alias[position:group.start()]))
        segments = [s for raw in group.group(1).split("|") for s in segment_ipa(raw)]
        mnemonics, lost = phonemes.to_phoneme_input(segments, inventory)
        dropped.extend(lost)
        if mnemonics:
            parts.append(f"[[{mnemonics}]]")
        position = group.end()
    parts.append(_respelling(alias[position:]))
    return " ".join(p for p in parts if p), dropped


def _respelling(text: str) -> str:
    """A respelling as espeak-ng should read it. Capitals in a hyphenated word mark
    the stressed syllable ("kar-TEE-zhuh"), which espeak-ng would spell out letter
    by letter, so such words are lower-cased."""
    words = text.translate(_UNSAYABLE).replace("[[", "[ ").split()
    return " ".join(w.lower() if "-" in w.strip("-") else w for w in words)


class Pronouncer:
    """One version of a dictionary, ready for synthesis. Build once per version
    (building the matcher for 10 000 entries takes about 20 ms) and share it:
    :meth:`replacements` is safe from several threads.

    Args:
        items: the dictionary's ``(text, alias)`` pairs, in order.
    """

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self.items = tuple(LexiconItem(text, alias) for text, alias in items)
        self.matcher = Matcher(self.items)
        # (entry, phoneme table) -> espeak-ng text, or None when nothing is sayable.
        # Filled as entries are used; a lost race only computes a value twice.
        self._spoken: dict[tuple[int, str], str | None] = {}

    def replacements(
        self, transcript: str, voice: str, context: str = ""
    ) -> tuple[Replacement, ...]:
        """Where entries apply in ``transcript`` and what espeak-ng ``voice`` says there.

        ``context`` is the text spoken just before in the same stream (a WebSocket
        context's earlier inputs): it decides whether ``transcript`` begins at a
        sentence start. Its last :data:`CONTEXT_CHARS` are used.
        """
        if not self.matcher:
            return ()
        context = context[-CONTEXT_CHARS:]
        out: list[Replacement] = []
        for match in self.matcher.find(context + transcript):
            if match.start < len(context):
                continue
            spoken = self._spoken_for(match.index, voice)
            if spoken is not None:
                out.append(Replacement(match.start - len(context), match.end - len(context),
                                       spoken))
        return tuple(out)

    def _spoken_for(self, index: int, voice: str) -> str | None:
        inventory = phonemes.inventory(voice)
        key = (index, inventory.tables[0] if inventory is not None else "")
        if key in self._spoken:
            return self._spoken[key]
        item = self.items[index]
        spoken, dropped = espeak_text(item.alias, inventory)
        if dropped:
            log.warning("pronunciation entry %r: espeak-ng has no phoneme for %s; left out",
                        item.text, " ".join(dropped))
        if not spoken:
            log.warning("pronunciation entry %r: nothing in alias %r can be said; the text "
                        "is spoken as written", item.text, item.alias)
        self._spoken[key] = spoken or None
        return spoken or None
