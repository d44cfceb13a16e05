"""Debian's Chromium driven by Playwright, and axe-core, for the tests that look at pages as a
person does."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hub.core.settings import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
#: Chromium's flags on this machine: no sandbox (root), no GPU, nothing fetched in the background.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: Impacts that fail a page (axe's own scale: minor, moderate, serious, critical).
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium and a Hangul font, installed from the package registry when missing."""
    if shutil.which("chromium") is None or not os.path.isdir("/usr/share/fonts/truetype/nanum"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "fonts-nanum"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
            subprocess.run(install, env=env, capture_output=True, check=True)
    return CHROMIUM


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, from the npm registry by package-lock.json (`make test` installs it;
    a bare pytest run installs it here)."""
    if not AXE.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any, source: str) -> list[dict[str, Any]]:
    """The serious and critical WCAG 2.x A/AA violations axe-core finds on the page as shown
    (its script is evaluated through the driver, so the page's CSP stays as served)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def keep_screenshots(folder: Path) -> None:
    """Copy the test's screenshots where HUB_TEST_SCREENSHOTS says, for a person to look at."""
    keep = os.environ.get("HUB_TEST_SCREENSHOTS")
    if keep:
        for shot in folder.glob("*.png"):
            shutil.copy(shot, keep)
