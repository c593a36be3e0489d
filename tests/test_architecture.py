"""The import directions of design.md §3, checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "commstoolkit"

# (package area, modules it must never import); an area is a module or a sub-package.
FORBIDDEN = {
    "sandbox": {
        "commstoolkit.client",
        "commstoolkit.models",
        "commstoolkit.errors",
        "commstoolkit.frames",
        "commstoolkit.pools",
        "commstoolkit.testsend",
        "commstoolkit.connect",
        "pandas",
    },
    "client": {
        "pandas",
        "commstoolkit.sandbox",
        "commstoolkit.frames",
        "commstoolkit.pools",
        "commstoolkit.testsend",
        "commstoolkit.charts",
        "commstoolkit.widgets",
    },
    "models": {"httpx", "pandas", "commstoolkit.client", "commstoolkit.sandbox"},
    "errors": {"pandas", "commstoolkit.client", "commstoolkit.sandbox"},
    "frames": {"commstoolkit.sandbox", "httpx"},
    "pools": {"commstoolkit.sandbox", "httpx"},
    "testsend": {"commstoolkit.sandbox", "httpx"},
    "charts": {"commstoolkit.client", "commstoolkit.sandbox", "httpx"},
    "widgets": {"commstoolkit.client", "commstoolkit.sandbox", "httpx"},
}


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, package_dir: Path = PACKAGE) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    module = _module_name(path, package_dir)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _area(path: Path, package: Path) -> str:
    return path.relative_to(package).parts[0].removesuffix(".py")


def _violations(package: Path = PACKAGE) -> list[str]:
    bad = []
    for path in sorted(package.rglob("*.py")):
        rules = FORBIDDEN.get(_area(path, package), set())
        for name in sorted(_imports(path, package)):
            hit = next((r for r in rules if name == r or name.startswith(r + ".")), None)
            if hit:
                bad.append(f"{path.relative_to(package.parent)} imports {name} ({hit} forbidden)")
    return bad


def test_import_directions_follow_the_design():
    assert _violations() == []


def test_only_connect_joins_client_and_sandbox():
    # The package facade re-exports both (the sandbox lazily); connect() alone wires them.
    joiners = [
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if any(n.startswith("commstoolkit.sandbox") for n in _imports(path))
        and any(n.startswith("commstoolkit.client") for n in _imports(path))
    ]
    assert sorted(joiners) == ["commstoolkit", "commstoolkit.connect"]


def test_the_checker_sees_forbidden_imports(tmp_path):
    # A checker that finds nothing because it parses nothing would pass forever.
    package = tmp_path / "commstoolkit"
    (package / "sandbox").mkdir(parents=True)
    (package / "sandbox" / "routes.py").write_text("from ..client import CommsClient\n")
    (package / "charts.py").write_text("import httpx\nfrom . import client\n")
    assert _violations(package) == [
        "commstoolkit/charts.py imports commstoolkit.client (commstoolkit.client forbidden)",
        "commstoolkit/charts.py imports httpx (httpx forbidden)",
        "commstoolkit/sandbox/routes.py imports commstoolkit.client "
        "(commstoolkit.client forbidden)",
        "commstoolkit/sandbox/routes.py imports commstoolkit.client.CommsClient "
        "(commstoolkit.client forbidden)",
    ]


@pytest.mark.parametrize("heavy", ["plotly", "ipywidgets", "nbformat", "uvicorn", "sqlite3"])
def test_import_commstoolkit_stays_light(heavy):
    code = f"import sys, commstoolkit; print({heavy!r} in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
