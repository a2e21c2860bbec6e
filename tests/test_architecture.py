"""The package's layout is its architecture (docs/architecture.md), checked by reading the
source with ``ast`` — nothing is imported or run:

* no import cycles between the package's modules, counting imports inside functions;
* the layer rule: maths at the top imports no subpackage (``model.py`` and ``cnn.py`` only the
  ``pretrained.mixin`` it inherits), ``schemes.py`` only the leaf ``errors.py``, and
  every import points down the layers (``RANK``); each ``cli.py`` is on top;
* no module over ~400 lines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mini_timesformer"
MATHS = {"schemes", "config", "embed", "attention", "model", "cnn", "cost"}
LEAVES = {
    "errors",
    "runtime",
    "argtypes",
    "random_weights",
    "markdown",
}  # helpers any layer may use
# rank of each layer: a module imports its own subpackage and lower ranks only
# (maths <- data <- pretrained <- viz <- train/perf <- demo <- checks <- commands)
RANK = {
    "maths": 0,
    "data": 1,
    "pretrained": 2,
    "viz": 3,
    "train": 4,
    "perf": 4,
    "demo": 5,
    "checks": 6,
    "app": 7,
}
MAX_LINES = 420


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Package modules ``path`` imports, at module level or inside functions; relative
    imports resolved; ``from pkg import name`` counts ``pkg.name`` when that is a module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = [f"{module}.{alias.name}" for alias in node.names]
            targets = [m for m in submodules if m in MODULES] or [module]
        else:
            continue
        found |= {t for t in targets if t in MODULES}
    # a package's __init__ always runs before its modules: edges to ancestors are implicit
    return {t for t in found if t != name and not name.startswith(t + ".")}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def layer_of(module: str) -> str:
    """The layer a module belongs to (see LAYER)."""
    parts = module.split(".")
    if len(parts) == 1:  # the package itself: re-exports and lazy attributes
        return "app"
    if parts[1] in ("cli", "__main__") or parts[-1] == "cli":
        return "app"  # command modules wire layers together; nothing imports them
    if parts[1] in MATHS:
        return "maths"
    if parts[1] in LEAVES:
        return "leaf"
    return parts[1]


def test_the_graph_sees_function_level_and_relative_imports():
    assert "mini_timesformer.pretrained.mixin" in GRAPH["mini_timesformer.model"]
    assert (
        "mini_timesformer.viz.training" in GRAPH["mini_timesformer.train.callbacks"]
    )  # in a function
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_schemes_imports_only_the_errors_leaf():
    assert GRAPH["mini_timesformer.schemes"] <= {"mini_timesformer.errors"}


def test_maths_modules_import_no_subpackage():
    for name in MATHS:
        allowed = {f"mini_timesformer.{m}" for m in MATHS | {"errors"}}
        if name in ("model", "cnn"):  # the one exception: the weights mixin they inherit
            allowed |= {"mini_timesformer.pretrained", "mini_timesformer.pretrained.mixin"}
        extra = GRAPH[f"mini_timesformer.{name}"] - allowed
        assert not extra, f"{name}.py (maths) imports {sorted(extra)}"


MIXIN_USERS = ("mini_timesformer.model", "mini_timesformer.cnn")


def test_pretrained_never_imports_the_model_classes():
    for name, targets in GRAPH.items():
        if name.startswith("mini_timesformer.pretrained") and layer_of(name) != "app":
            assert not set(MIXIN_USERS) & targets, name


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_down_the_layers(name):
    layer = layer_of(name)
    for target in GRAPH[name]:
        other = layer_of(target)
        if other == "leaf":
            continue
        if layer == "leaf":
            raise AssertionError(f"{name} (a leaf helper) imports {target}")
        elif other == layer or (name in MIXIN_USERS and other == "pretrained"):
            continue  # same subpackage, or model.py's / cnn.py's mixin (checked above)
        else:
            assert RANK[other] < RANK[layer], (
                f"{name} ({layer}) imports {target} ({other}): against the layers"
            )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_400_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines"


def test_the_diagram_in_docs_architecture_names_every_module():
    """docs/architecture.md's tree is the layout: every module of every layer is in it."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    diagram = text.split("```")[1]  # the first code block: the layers
    named = set(re.findall(r"[a-z_0-9]+", diagram))
    missing = sorted(
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if path.stem not in ("__init__", "__main__", "cli") and path.stem not in named
    )
    assert not missing, f"modules not in docs/architecture.md's diagram: {missing}"
