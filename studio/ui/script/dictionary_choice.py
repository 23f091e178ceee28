"""The entries of a block's pronunciation dictionary choice: the project's, none, or
one of the dictionaries the backend or the project knows."""

from __future__ import annotations

from dataclasses import dataclass

from studio.api.models import supports_pronunciation_dicts
from studio.project.model import Block
from studio.services.document import ScriptDocument

DICTIONARY_TIP = ("Pronunciation dictionary of this block: the project's, none, or another one. "
                  "Marked words in the text are the ones it changes.")


@dataclass(frozen=True, slots=True)
class DictionaryChoices:
    """What the dictionary box offers for some blocks.

    Attributes:
        entries: ``(label, value, tooltip)``; value ``None`` follows the project's,
            "" is none, else a dictionary id.
        supported: whether the blocks' model applies a dictionary at all.
        tooltip: the box's own tooltip.
    """

    entries: list[tuple[str, str | None, str]]
    supported: bool
    tooltip: str


def dictionary_choices(document: ScriptDocument, blocks: list[Block]) -> DictionaryChoices:
    """The choices for ``blocks`` (the first decides the model's support). The narrow
    box clips its text, so what matters comes first in each label."""
    first = blocks[0]
    project_id = document.pronunciation_dict_id
    project = document.dictionary(project_id) if project_id else None
    project_name = "none" if not project_id else project[0] if project else "unknown"
    project_label = (f"Missing: {project_name} (project's)"
                     if project_id and document.is_available(project_id) is False
                     else f"Project's: {project_name}")
    entries: list[tuple[str, str | None, str]] = [
        (project_label, None,
         f"Follow the project's pronunciation dictionary (now: {project_name})"),
        ("No dictionary", "", "No pronunciation dictionary for this block"),
    ]
    choices = document.dictionary_choices()
    known = {c[0] for c in choices}
    for block in blocks:
        if block.pronunciation_dict_id and block.pronunciation_dict_id not in known:
            known.add(block.pronunciation_dict_id)
            choices.append((block.pronunciation_dict_id, block.pronunciation_dict_id, False))
    for dict_id, name, available in choices:
        label = f"Dictionary: {name}" if available else f"Missing: {name}"
        tip = (f"Use {name} for this block" if available else
               f"{name} is not on the server any more; the project keeps a copy "
               "(Dictionaries panel: Recreate)")
        entries.append((label, dict_id, tip))
    supported = supports_pronunciation_dicts(first.model_id)
    if not supported:  # the choice is kept for when the model changes back
        entries = [(f"No dictionary on {first.model_id}", first.pronunciation_dict_id, "")]
        tooltip = (f"{first.model_id} applies no pronunciation dictionary (Sonic-3 and "
                   "later do); choose a Sonic-3 model to use one")
    else:
        tooltip = DICTIONARY_TIP
    return DictionaryChoices(entries, supported, tooltip)
