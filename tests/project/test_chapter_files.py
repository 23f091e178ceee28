"""Chapter sidecars: Audacity labels and Podcasting 2.0 JSON, written atomically
(studio.project.chapter_files)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from studio.audio.tags import ChapterMark
from studio.project import chapter_files
from studio.project.chapter_files import write_audacity_labels, write_podcast_chapters

CHAPTERS = [ChapterMark("Opening", 0.0, 61.5), ChapterMark("Ça commence\tvraiment", 61.5,
                                                            125.123456789),
            ChapterMark("", 125.123456789, 3725.25)]


def test_audacity_labels_are_tab_separated_seconds(tmp_path: Path) -> None:
    path = tmp_path / "episode.labels.txt"
    write_audacity_labels(CHAPTERS, path)

    raw = path.read_bytes()
    assert b"\r" not in raw
    rows = [line.split("\t") for line in raw.decode("utf-8").splitlines()]
    assert rows == [["0.000000", "61.500000", "Opening"],
                    ["61.500000", "125.123457", "Ça commence vraiment"],
                    ["125.123457", "3725.250000", ""]]


def test_podcast_chapters_json_follows_the_format(tmp_path: Path) -> None:
    path = tmp_path / "episode.chapters.json"
    write_podcast_chapters(CHAPTERS, path, title="Épisode 7")

    text = path.read_text(encoding="utf-8")
    assert "Épisode 7" in text  # written as UTF-8, not \\u escapes
    document = json.loads(text)
    assert document == {
        "version": "1.2.0",
        "title": "Épisode 7",
        "chapters": [
            {"startTime": 0.0, "endTime": 61.5, "title": "Opening"},
            {"startTime": 61.5, "endTime": 125.123, "title": "Ça commence\tvraiment"},
            {"startTime": 125.123, "endTime": 3725.25},
        ],
    }


def test_podcast_chapters_without_a_title_leave_it_out(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_podcast_chapters(CHAPTERS[:1], path)
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "version": "1.2.0", "chapters": [{"startTime": 0.0, "endTime": 61.5,
                                          "title": "Opening"}]}


def test_chapters_out_of_order_write_nothing(tmp_path: Path) -> None:
    backwards = [CHAPTERS[1], CHAPTERS[0]]
    for write, name in ((write_audacity_labels, "l.txt"), (write_podcast_chapters, "c.json")):
        with pytest.raises(ValueError, match="chapter 2"):
            write(backwards, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_earlier_file_whole(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.json"
    write_podcast_chapters(CHAPTERS, path)
    earlier = path.read_bytes()

    def disk_full(self: Path, text: str, **_kwargs: object) -> int:
        with open(self, "w", encoding="utf-8") as handle:
            handle.write(text[:10])  # part of the file made it to disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_podcast_chapters(CHAPTERS[:1], path)
    with pytest.raises(OSError, match="No space left"):
        write_audacity_labels(CHAPTERS, tmp_path / "labels.txt")

    assert path.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]  # no temporary files


def test_a_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_audacity_labels(CHAPTERS, tmp_path / "nowhere" / "labels.txt")
    assert not (tmp_path / "nowhere").exists()


def test_text_builders_match_the_files(tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    write_audacity_labels(CHAPTERS, path)
    assert path.read_text(encoding="utf-8") == chapter_files.audacity_labels(CHAPTERS)
    assert chapter_files.audacity_labels([]) == ""
    assert chapter_files.podcast_chapters([]) == {"version": "1.2.0", "chapters": []}
