"""Imports run one way only: each layer imports what lies below it, never above.

Read from the source with ``ast`` (nothing is imported), so a cycle or an upward import
fails here in milliseconds instead of hiding behind a lazy import.
"""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

SERVER = Path(__file__).resolve().parent.parent / "server"

#: Modules of the pure room core: no I/O, no await, no framework.
PURE = ["records", "rooms/model", "rooms/ops", "rooms/reducer", "rooms/vigilance",
        "rooms/record", "rooms/diff", "rooms/errors", "rooms/messages", "rooms/presence",
        "rooms/replica"]  # fmt: skip

#: The room's asyncio adapters: they feed the pure core and reach the store and bus.
ADAPTERS = {"rooms/hub.py", "rooms/registry.py"}

#: What each part may never import (atelier's own modules by dotted name, or libraries).
FORBIDDEN = {
    "records": {"atelier", "asyncio", "redis", "hiredis", "starlette"},
    "rooms/": {"atelier.backends", "atelier.protocol", "atelier.app", "atelier.ws",
               "atelier.flow_api", "atelier.exports", "starlette", "redis", "hiredis", "uvicorn"},
    "adapters": {"atelier.protocol", "atelier.app", "atelier.ws", "atelier.flow_api",
                 "atelier.exports", "starlette", "redis", "hiredis", "uvicorn"},
    "backends/": {"atelier.rooms", "atelier.protocol", "atelier.app", "atelier.ws",
                  "atelier.flow_api", "atelier.exports", "starlette", "uvicorn"},
    "exports/": {"atelier.protocol", "atelier.app", "atelier.ws", "atelier.backends",
                 "atelier.flow_api", "starlette", "redis", "hiredis"},
}  # fmt: skip
PURE_FORBIDDEN = {"asyncio", "atelier.metrics", "socket", "sqlite3", "threading", "time"}


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, with relative imports made absolute (atelier.*)."""
    module = "atelier." + ".".join(path.relative_to(SERVER).with_suffix("").parts)
    package = module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources() -> list[Path]:
    return sorted(SERVER.rglob("*.py"))


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(SERVER)))
def test_no_import_runs_back_up(path: Path) -> None:
    """A module imports nothing its layer sits on top of."""
    name = str(path.relative_to(SERVER))
    found = imports(path)
    for prefix, forbidden in FORBIDDEN.items():
        if prefix == "rooms/" and name in ADAPTERS:
            continue  # the adapters' own rule below
        if name.startswith(prefix) or (prefix == "adapters" and name in ADAPTERS):
            bad = {i for i in found for f in forbidden if i == f or i.startswith(f + ".")}
            if prefix == "records":
                bad = {i for i in bad if i != "atelier"} | {
                    i for i in found if i.startswith("atelier.")
                }
            assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", PURE)
def test_the_room_core_does_no_io(name: str) -> None:
    """The pure modules import no asyncio, clock, socket, database or metrics."""
    found = imports(SERVER / f"{name}.py")
    bad = {i for i in found for f in PURE_FORBIDDEN if i == f or i.startswith(f + ".")}
    assert not bad, f"{name} imports {sorted(bad)}"
    assert "await " not in (SERVER / f"{name}.py").read_text()
