"""The house in layers (docs/adr/0004-layers.md): who may import whom, checked on the real tree.

The contracts live in pyproject.toml and are run by import-linter, as `make lint` runs them.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from itertools import combinations
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "catalog", "connectors", "privacy", "quality", "products")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
#: Project imports written inside functions, outside DAG files and CLI commands: each needs
#: its reason in a comment, and there may be no more than this many.
MOST_LAZY_IMPORTS = 30


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
    )


def _matches(module: str, patterns: list[str]) -> bool:
    """import-linter's module expressions: ``*`` is one segment, a name covers its children."""
    for pattern in patterns:
        rx = r"\.".join("[^.]+" if part == "*" else re.escape(part) for part in pattern.split("."))
        if re.fullmatch(rf"{rx}(\..+)?", module):
            return True
    return False


def _copy_project(to: Path) -> None:
    """The packages and the contracts, to break a copy instead of the tree."""
    for name in (*PACKAGES, "pyproject.toml"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, to / name)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


def test_the_house_keeps_its_layers():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout


def test_a_room_that_imports_the_pipeline_breaks_the_contract(tmp_path):
    _copy_project(tmp_path)
    score = tmp_path / "quality" / "score.py"
    score.write_text(score.read_text() + "\nimport hub.steps.pipeline  # a room reaching up\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "quality is not allowed to import hub.steps" in result.stdout
    assert "quality.score -> hub.steps.pipeline" in result.stdout


def test_a_declaration_that_imports_its_room_breaks_the_contract(tmp_path):
    _copy_project(tmp_path)
    policy = tmp_path / "privacy" / "policy.py"
    policy.write_text(policy.read_text() + "\nimport privacy.vault  # a declaration reaching up\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "privacy.policy is not allowed to import privacy.vault" in result.stdout


def test_the_declarations_contract_covers_every_other_module_of_the_rooms(graph):
    contract = _contracts()["declarations"]
    declared, forbidden = contract["source_modules"], contract["forbidden_modules"]
    rooms = [m for m in graph.modules if m.split(".")[0] in ("privacy", "quality", "connectors")]
    uncovered = sorted(
        m
        for m in rooms
        if m.count(".") >= 1
        and not _matches(m, declared)
        and not _matches(m, forbidden)
        and not (ROOT / m.replace(".", "/") / "__init__.py").exists()  # a kind's package
    )
    assert uncovered == [], "add them to forbidden_modules (or make them declarations)"


def _unit(module: str, declarations: list[str]) -> str:
    """The package a module counts under: hub's sub-packages and each declaration stand alone."""
    if _matches(module, declarations):
        return module
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "hub" and len(parts) > 1 else parts[0]


def test_no_two_packages_import_each_other(graph):
    declarations = _contracts()["declarations"]["source_modules"]
    edges: set[tuple[str, str]] = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _unit(module, declarations), _unit(imported, declarations)
            if a != b and a != "hub" and b != "hub":
                edges.add((a, b))
    units = {u for edge in edges for u in edge}
    both_ways = [(a, b) for a, b in combinations(sorted(units), 2) if {(a, b), (b, a)} <= edges]
    assert both_ways == []


def _lazy_imports() -> list[tuple[str, int, bool]]:
    """(file, line, explained) of every project import inside a function, DAGs and CLI aside."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.parts[:2] == ("hub", "cli") or "migrations" in rel.parts:
                continue
            lines = path.read_text().splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and not inner.level:
                        names = [inner.module or ""]
                    elif isinstance(inner, ast.Import):
                        names = [a.name for a in inner.names]
                    else:
                        continue
                    if not any(n.split(".")[0] in PACKAGES for n in names):
                        continue
                    found.append((str(rel), inner.lineno, _explained(lines, inner.lineno)))
    return found


def _explained(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or above its block of imports."""
    if "#" in lines[lineno - 1]:
        return True
    at = lineno - 2
    while at >= 0 and (lines[at].strip().startswith(("from ", "import ")) or not lines[at].strip()):
        at -= 1
    return at >= 0 and lines[at].strip().startswith("#")


def test_imports_inside_functions_are_few_and_each_says_why():
    found = _lazy_imports()
    assert len(found) <= MOST_LAZY_IMPORTS, found
    assert [f"{f}:{n}" for f, n, explained in found if not explained] == []
