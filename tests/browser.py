"""What the browser tests share: Debian's Chromium (never a download) and
axe-core (from the npm registry, `make setup`) run inside the page for
WCAG 2.2 AA checks.

A browser test is skipped when Chromium or axe-core is missing, except
under CI (CI set), where the set-up installs both and a skip would hide a
broken build."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from plumbing.paths import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The bar: WCAG 2.2 AA; a serious or critical violation fails the test.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


def _missing(what: str, how: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; the CI set-up should have installed it ({how})")
    pytest.skip(f"{what} is missing ({how})")


def chromium_or_skip() -> Path:
    if not CHROMIUM.exists():
        _missing(str(CHROMIUM), "install the chromium package")
    return CHROMIUM


def axe_or_skip() -> Path:
    if not AXE.exists():
        _missing("axe-core", "make setup runs npm ci")
    return AXE


async def axe_violations(page: Any, impacts: tuple[str, ...] = BLOCKING) -> list[str]:
    """axe-core's WCAG 2.2 AA violations of these impacts on the page as it
    is now, one line each (rule, impact, help, the first elements). The
    page's context must bypass CSP (the script is injected)."""
    await page.add_script_tag(path=str(axe_or_skip()))
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS)
    return [f"{violation['id']} ({violation['impact']}): {violation['help']} at "
            + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            for violation in result["violations"] if violation["impact"] in impacts]
