"""The dialogue pass: quoted speech in prose split into narrator and character blocks."""

from __future__ import annotations

from studio.project.books import ImportedBlock, ImportedBook, ImportedChapter
from studio.project.books.dialogue import UNKNOWN_SPEAKER, split_dialogue, split_paragraph
from studio.project.model import NARRATOR


def _pairs(text: str) -> list[tuple[str, str]]:
    return [(b.speaker, b.text) for b in split_paragraph(text)]


def test_said_name_after_the_quote() -> None:
    assert _pairs('"Come in, and shut the door," said Alice. "It is cold tonight."') == [
        ("Alice", "Come in, and shut the door."),
        (NARRATOR, "said Alice."),
        ("Alice", "It is cold tonight."),
    ]


def test_name_said_before_the_quote_with_curly_quotes() -> None:
    assert _pairs("The old man looked up. Captain Hale said, “We sail at dawn.”") == [
        (NARRATOR, "The old man looked up. Captain Hale said,"),
        ("Captain Hale", "We sail at dawn."),
    ]


def test_asked_name_and_name_replied() -> None:
    text = '"Where were you?" asked Bob. Mary replied: "At the mill."'
    assert _pairs(text) == [
        ("Bob", "Where were you?"), (NARRATOR, "asked Bob. Mary replied:"),
        ("Mary", "At the mill."),
    ]


def test_pronouns_are_not_names() -> None:
    assert _pairs('"Go away!" she cried.') == [
        (UNKNOWN_SPEAKER, "Go away!"), (NARRATOR, "she cried."),
    ]


def test_scare_quotes_and_unpaired_quotes_stay_whole() -> None:
    text = 'He called the shed "home" and never left it.'
    assert split_paragraph(text) == [ImportedBlock(text)]
    running_on = '"It was a long winter, and the snow lay deep on the hills'
    assert split_paragraph(running_on) == [ImportedBlock(running_on)]


def test_book_pass_keeps_other_speakers_and_cues_and_says_what_it_split() -> None:
    book = ImportedBook([ImportedChapter("One", [
        ImportedBlock('"Hello," said Tom.'),
        ImportedBlock("No dialogue here."),
        ImportedBlock('"Cue," said Ann.', cue_start=3.0),
        ImportedBlock('"Mine," said Ann.', "Ann"),
    ])])
    result = split_dialogue(book)
    assert [(b.speaker, b.text) for b in result.chapters[0].blocks] == [
        ("Tom", "Hello."), (NARRATOR, "said Tom."), (NARRATOR, "No dialogue here."),
        (NARRATOR, '"Cue," said Ann.'), ("Ann", '"Mine," said Ann.'),
    ]
    assert result.notices == ["1 paragraph split into narrator and character blocks"]
