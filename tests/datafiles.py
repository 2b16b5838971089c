"""A private copy of data/ for tests that corrupt one file and check the
loader's error names the file and the entry."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import yaml

from council import DATA_DIR

Change = Callable[[dict[str, Any]], None]


def copy_data(tmp_path: Path) -> Path:
    """data/ without the training data, under tmp_path."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target, ignore=shutil.ignore_patterns("nlu", "rules"))
    return target


def corrupt(data_dir: Path, name: str, change: Change) -> None:
    """Load data_dir/name, apply `change` to it, write it back."""
    path = data_dir / name
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
