"""The import contract (docs/architecture.md), read from the source with an
AST walk so that an import inside a function counts as much as one at the top:

- council (the domain) and plumbing import nothing else of ours;
- the services (bot, actions, telephony_bridge, handoff) import only council,
  plumbing and themselves, and never name a developer tool, not even as a
  string for importlib;
- devtools may import anything, and nothing imports devtools but itself and
  the tests;
- no import cycle between packages.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from plumbing.paths import ROOT

DOMAIN_AND_PLUMBING = ("council", "plumbing")
SERVICES = ("bot", "actions", "telephony_bridge", "handoff", "webchat")
TOOLS = ("devtools",)
PACKAGES = DOMAIN_AND_PLUMBING + SERVICES + TOOLS
ALLOWED = {
    **{package: {package} for package in DOMAIN_AND_PLUMBING},
    **{service: {service, *DOMAIN_AND_PLUMBING} for service in SERVICES},
    "devtools": set(PACKAGES),
}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, module) for every import of one of our packages in `path`,
    relative imports resolved, and every string naming a devtools module."""
    found = []
    here = path.relative_to(root).with_suffix("").parts
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*here[:len(here) - node.level], *([base] if base else [])])
            names = [base]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(TOOLS):
            if node.value.split(".")[0] in TOOLS and "." in node.value and " " not in node.value:
                names = [node.value]
        found += [(node.lineno, name) for name in names if name.split(".")[0] in PACKAGES]
    return found


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for package in PACKAGES:
        for path in modules(package):
            graph[package] |= {name.split(".")[0] for _, name in imported(path)} - {package}
    return graph


def test_every_package_is_known() -> None:
    ours = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert ours - {"tests"} == set(PACKAGES), "a new package needs its place in the contract"


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_the_contract_allows(package: str) -> None:
    broken = [f"{path.relative_to(ROOT)}:{line} imports {name}"
              for path in modules(package) for line, name in imported(path)
              if name.split(".")[0] not in ALLOWED[package]]
    assert broken == []


def test_no_cycle_between_packages() -> None:
    graph = package_graph()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    assert [p for p in PACKAGES if reaches(p, p, {p})] == []


def test_the_walk_sees_what_it_must(tmp_path: Path) -> None:
    """The checker itself: a lazy import, a relative one and an importlib
    string are all found (a contract test that saw nothing would pass)."""
    sample = tmp_path / "handoff" / "sample.py"
    sample.parent.mkdir()
    sample.write_text("def f():\n    from telephony_bridge import app\n    return 'devtools.replay'\n"
                      "from .store import CaseStore\n", encoding="utf-8")
    assert sorted(name for _, name in imported(sample, tmp_path)) == ["devtools.replay", "handoff.store",
                                                                       "telephony_bridge"]
