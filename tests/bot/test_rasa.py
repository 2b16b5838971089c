"""Rasa's own checks on the project: the training data validates without a
warning, and every test story (every service typed and spoken, clarification,
fallback, a person, emergency, out-of-scope) passes against the model trained
in this run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.validation import rasa_validate
from plumbing.paths import ROOT

pytestmark = pytest.mark.model


def test_rasa_data_validate_is_clean() -> None:
    assert rasa_validate() == []


def test_stories_pass(model_path: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rasa", "test", "core", "--model", str(model_path),
         "--stories", str(ROOT / "tests" / "stories"), "--out", str(tmp_path),
         "--fail-on-prediction-errors", "--no-plot"],
        cwd=ROOT, capture_output=True, text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, detail
