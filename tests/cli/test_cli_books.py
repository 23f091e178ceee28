"""``render BOOK --project P`` keeps chapters and speakers; ``info`` lists them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.project.model import NARRATOR
from tests.cli.test_cli_project import cloud_env, load, run_cli  # noqa: F401


def _docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("The Harbour", level=1)
    document.add_paragraph("The boats came in at dusk.")
    document.add_paragraph("Gulls followed them.")
    document.add_heading("The Storm", level=1)
    document.add_paragraph("Rain fell all night.")
    document.save(str(path))
    return path


def test_render_a_docx_into_a_project_then_info_lists_chapters(  # type: ignore[no-untyped-def]
        tmp_path: Path, cloud_env: dict[str, str]) -> None:  # noqa: F811
    book = _docx(tmp_path / "harbour.docx")
    project = tmp_path / "harbour.cstudio"
    result = run_cli("render", str(book), "--project", str(project), cwd=tmp_path,
                     env=cloud_env)
    assert result.returncode == 0, result.stderr
    assert "harbour.docx: 2 chapter(s), 3 block(s)" in result.stderr
    loaded = load(project)
    assert [b.text for b in loaded.blocks] == [
        "The boats came in at dusk.", "Gulls followed them.", "Rain fell all night."]
    assert [b.chapter for b in loaded.blocks] == ["The Harbour", None, "The Storm"]
    assert [e.speaker for e in loaded.cast] == [NARRATOR]
    info = run_cli("info", str(project), cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    described: dict[str, Any] = json.loads(info.stdout)
    chapters = described["chapters"]
    assert [(c["title"], c["first_block"], c["blocks"]) for c in chapters] == [
        ("The Harbour", 1, 2), ("The Storm", 3, 1)]
    assert all(c["duration_seconds"] > 0 for c in chapters)
    assert described["speakers"] == [
        {"speaker": NARRATOR, "voice_id": loaded.cast[0].voice_id, "blocks": 3}]


def test_render_a_csv_casts_its_speakers_and_a_bad_one_exits_2(  # type: ignore[no-untyped-def]
        tmp_path: Path, cloud_env: dict[str, str]) -> None:  # noqa: F811
    csv = tmp_path / "scene.csv"
    csv.write_text("speaker,text\nAlice,Hello there.\nBob,Hi Alice.\n", encoding="utf-8")
    project = tmp_path / "scene.cstudio"
    result = run_cli("render", str(csv), "--project", str(project), cwd=tmp_path,
                     env=cloud_env)
    assert result.returncode == 0, result.stderr
    loaded = load(project)
    assert [b.speaker for b in loaded.blocks] == ["Alice", "Bob"]
    assert [e.speaker for e in loaded.cast] == ["Alice", "Bob"]
    assert loaded.cast[0].voice_id == loaded.blocks[0].voice_id
    again = run_cli("render", str(csv), "--project", str(project), cwd=tmp_path,
                    env=cloud_env)
    assert again.returncode == 0 and "nothing to render" in again.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("speaker,text\nAlice\n", encoding="utf-8")
    refused = run_cli("render", str(bad), "--project", str(tmp_path / "b.cstudio"),
                      cwd=tmp_path, env=cloud_env)
    assert refused.returncode == 2
    assert "bad.csv, line 2: expected two columns" in refused.stderr
    assert not (tmp_path / "b.cstudio").exists()
