"""The core packages never import Qt (ARCHITECTURE.md, "Layers")."""

from __future__ import annotations

import subprocess
import sys

CORE = ["studio.api", "studio.audio", "studio.audio.codecs", "studio.audio.buffers",
        "studio.audio.playback", "studio.project.model", "studio.project.script",
        "studio.project.export", "studio.offline", "studio.services.render",
        "studio.services.backend", "studio.cli", "studio.cli.render", "studio.cli.render_project",
        "studio.cli.info", "studio.cli.voices", "studio.cli.serve", "studio.cli.options",
        "studio.project.transcript", "studio.project.render_plan",
        "studio.project.store", "studio.project.cache", "studio.project.migrations",
        "studio.project.audio_blocks", "studio.project.salvage",
        "studio.audio.loudness", "studio.project.edits", "studio.project.edited_audio",
        "studio.project.infill", "studio.project.lexicon",
        "studio.audio.peaks", "studio.audio.snap", "studio.audio.recorder",
        "studio.audio.clip_checks", "studio.audio.align",
        "studio.services.clone_session",
        # delivery (issue #12)
        "studio.audio.atomic", "studio.audio.encoders", "studio.audio.limiter",
        "studio.audio.acx", "studio.audio.tags", "studio.audio.riff_tags", "studio.audio.cover",
        "studio.project.captions", "studio.project.chapter_files", "studio.project.program",
        "studio.project.export_settings", "studio.project.export_pipeline",
        "studio.cli.export", "studio.audio.encode_process", "studio.audio.memory",
        "studio.project.export_calibration"]


def test_core_imports_with_qt_blocked() -> None:
    code = (
        "import sys\n"
        "for name in ('PySide6', 'qasync', 'PyQt5', 'PyQt6'):\n"
        "    sys.modules[name] = None\n"
        "import importlib\n"
        f"for mod in {CORE!r}:\n"
        "    importlib.import_module(mod)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
