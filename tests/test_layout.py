"""The layout shows the architecture: no import cycle between packages (a package is a
folder of modules: `core` the platform, each `core/<domain>`, `policies`, `tenants`,
`schema` and each `schema/<domain>`, `web`), and HTTP lives in `web`, not in the platform.

Counted: every import, at the top of a module or inside a function; not imports only for
type checkers (`if TYPE_CHECKING`), and not a package's `__main__`, an entry point (the CLI,
the SDL printer) that nothing imports."""

from __future__ import annotations

import ast
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "policies", "tenants", "schema", "web")


def _package_of(module: str) -> str:
    """The package a module (dotted) belongs to: itself when it is a folder."""
    path = ROOT.joinpath(*module.split("."))
    return module if path.is_dir() else module.rpartition(".")[0] or module


def _imports(tree: ast.Module) -> list[str]:
    hidden = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
              and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from core import audit`: the module core.audit
                full = f"{node.module}.{alias.name}"
                parts = full.split(".")
                exists = ROOT.joinpath(*parts).is_dir() or ROOT.joinpath(
                    *parts[:-1], parts[-1] + ".py").exists()
                found.append(full if exists else node.module)
    return found


def dependencies() -> dict[str, dict[str, str]]:
    """package -> package it imports -> one module doing so (for the message)."""
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            if path.name == "__main__.py":
                continue
            source = ".".join(path.relative_to(ROOT).parent.parts)
            for target in _imports(ast.parse(path.read_text(encoding="utf-8"))):
                if target.split(".")[0] not in PACKAGES:
                    continue
                package = _package_of(target)
                if package != source:
                    edges[source].setdefault(package, f"{path.relative_to(ROOT)} -> {target}")
    return edges


def _cycle_through(edges: dict[str, dict[str, str]], start: str) -> list[str] | None:
    """A path of imports from `start` back to it, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in edges.get(node, {}):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_import_cycle_between_packages() -> None:
    edges = dependencies()
    cycles = {}
    for package in sorted(edges):
        cycle = _cycle_through(edges, package)
        if cycle:
            cycles[package] = [edges[a][b] for a, b in pairwise(cycle)]
    assert cycles == {}


def test_the_check_sees_a_cycle() -> None:
    edges = {"a": {"b": "a.py -> b"}, "b": {"c": "b.py -> c"}, "c": {"a": "c.py -> a"}}
    assert _cycle_through(edges, "a") == ["a", "b", "c", "a"]
    assert _cycle_through({"a": {"b": "x"}}, "a") is None


def test_http_lives_in_web_not_in_the_platform() -> None:
    platform = [p for d in ("core", "policies", "tenants") for p in (ROOT / d).rglob("*.py")]
    http = [str(p.relative_to(ROOT)) for p in platform
            if any(t.startswith(("starlette", "uvicorn")) for t in
                   _imports(ast.parse(p.read_text(encoding="utf-8"))))]
    assert http == []
