"""The house's rules, read from the code's own imports: one-way imports, no Flask below the web layer,
cards that never reach into the backend, and modules small enough to hold in one's head."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("addon", "cards")
# Where Flask may be imported: the web layer, the app factory (addon/__init__.py) and the command line.
WEB_LAYER = ("addon.web", "addon.__main__")
FRAMEWORKS = ("flask", "werkzeug")
# The use cases and what they stand on: none of them may know about requests.
BELOW_THE_WEB = ("addon.scheduling", "addon.sync", "addon.services", "addon.join_details", "addon.meeting_links")
# Longer than this needs a reason (the closing note of the change that made it so).
MAX_LINES = 400
LONGER_FOR_A_REASON = {
    # One provider's whole REST mapping: create, update, series, occurrences, invitees, errors.
    "addon/meetings/zoom.py",
}


def in_web_layer(name: str) -> bool:
    return name == "addon" or name.startswith(WEB_LAYER)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """Every module of ours (or framework) that `path` imports at run time, lazy imports in functions included."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:
                # `from addon.web import devhost` imports the module addon.web.devhost.
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return names


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m in imports_of(path, known) if m in known and m != name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once, by a depth-first walk."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                found.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()

    assert len(edges) > 50  # the walk saw the code
    assert cycles(edges) == []


def test_a_cycle_would_be_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_use_case_and_nothing_below_the_web_layer_imports_flask() -> None:
    known = modules()
    offenders = {
        name: sorted(m for m in imports_of(path, known) if m.split(".")[0] in FRAMEWORKS)
        for name, path in known.items()
        if not in_web_layer(name)
    }

    assert {name: found for name, found in offenders.items() if found} == {}
    assert any(name.startswith(BELOW_THE_WEB) for name in offenders)


def test_imports_run_one_way_the_web_layer_is_never_imported_from_below() -> None:
    edges = graph()

    upward = {
        name: sorted(t for t in targets if t.startswith("addon.web"))
        for name, targets in edges.items()
        if not in_web_layer(name)
    }
    assert {name: found for name, found in upward.items() if found} == {}


def test_cards_never_reach_into_the_backend() -> None:
    edges = graph()

    assert {
        name: sorted(t for t in targets if t.startswith("addon"))
        for name, targets in edges.items()
        if name.startswith("cards") and any(t.startswith("addon") for t in targets)
    } == {}


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in modules().values()))
def test_modules_stay_small_enough_to_read_in_one_sitting(path: str) -> None:
    lines = len((ROOT / path).read_text().splitlines())

    assert lines <= MAX_LINES or path in LONGER_FOR_A_REASON, f"{path} has {lines} lines"
