"""docs/equality-impact.md ties each point to the test that shows it: every
test file and test it names exists, so the analysis cannot cite a test that
was renamed or removed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from plumbing.paths import ROOT

DOC = ROOT / "docs" / "equality-impact.md"
CITED = re.compile(r"`((?:tests|webchat|data|docs)/[^`:\s]+)(?:::([A-Za-z_0-9]+))?`")
SHORT = re.compile(r"`(test_[a-z_0-9]+\.py)(?:::([A-Za-z_0-9]+))?`")


def functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def cited() -> list[tuple[str, str | None]]:
    text = DOC.read_text(encoding="utf-8")
    found = [(path, name) for path, name in CITED.findall(text)]
    for short, name in SHORT.findall(text):
        matches = sorted(ROOT.glob(f"tests/**/{short}"))
        assert len(matches) == 1, f"{short}: {len(matches)} files of that name"
        found.append((str(matches[0].relative_to(ROOT)), name))
    return [(path, name or None) for path, name in found]


def test_every_cited_test_exists() -> None:
    references = cited()
    assert len(references) >= 20
    missing = []
    for path, name in references:
        if "*" in path:
            if not list(ROOT.glob(path)):
                missing.append(path)
            continue
        target = ROOT / path
        if not target.exists():
            missing.append(path)
        elif name is not None and name not in functions(target):
            missing.append(f"{path}::{name}")
    assert missing == []
