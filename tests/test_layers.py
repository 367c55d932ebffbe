"""The package's shape is a contract: imports only go downward through the layers, with no cycles,
and a function-local import is kept for lazily loaded plugins and optional dependencies only; no
module is over 400 lines and no class over 200; no module uses another's private (`_`) names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUB = ROOT / "hub"

# Lower layers first. A module may import its own package and any package listed before it.
LAYERS = ["core", "infra", "settings", "pipeline", "aftercare", "admin", "http", "cli", "migrations"]

# Function-local imports that are lazy on purpose: (module, imported), with why.
LAZY = {
    ("adapters", "hub.infra.bus"): "type-only, for the adapter context",
}


def modules() -> dict[str, Path]:
    found = {}
    for path in list(HUB.rglob("*.py")) + list((ROOT / "adapters").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, local_only: bool = False) -> list[tuple[str, int]]:
    """(imported module, line) for each hub/adapters import; `local_only`: inside functions."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[tuple[str, int]] = []
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested |= {id(n) for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if local_only and id(node) not in nested:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in ("hub", "adapters"):
                found.append((target, node.lineno))
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "adapters":
        return "adapters"
    return parts[1] if len(parts) > 1 else "hub"


def allowed(importer: str, imported: str) -> bool:
    a, b = layer(importer), layer(imported)
    if a == b or b == "hub":
        return True
    if a == "adapters":  # plugins see the core, and the bus and settings they are handed
        return b in ("core", "infra", "settings")
    if b == "adapters":
        return LAYERS.index(a) >= LAYERS.index("pipeline")
    if a not in LAYERS or b not in LAYERS:
        return False
    return LAYERS.index(b) < LAYERS.index(a)


def resolve(target: str, known: dict[str, Path]) -> str | None:
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def test_imports_only_go_down_the_layers() -> None:
    known = modules()
    upward = sorted({f"{name}:{line} imports {hit}"
                     for name, path in known.items() for target, line in imports(name, path)
                     if (hit := resolve(target, known)) and not allowed(name, hit)})
    assert upward == []


def test_there_are_no_import_cycles() -> None:
    known = modules()
    graph = {name: {hit for t, _ in imports(name, path)
                    if (hit := resolve(t, known)) and hit != name and not name.startswith(hit + ".")
                    and hit not in ("hub", "adapters")}
             for name, path in known.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_function_local_imports_are_only_lazy_plugin_or_optional_loads() -> None:
    known = modules()
    local = sorted({f"{name}:{line} imports {hit}"
                    for name, path in known.items() for target, line in imports(name, path, local_only=True)
                    if (hit := resolve(target, known)) and (name.split(".")[0], hit) not in LAZY})
    assert local == []


def test_no_module_is_longer_than_one_sitting() -> None:
    long = [f"{name} ({n} lines)" for name, path in modules().items()
            if (n := len(path.read_text().splitlines())) > 400]
    assert long == []


def test_no_class_is_longer_than_one_sitting() -> None:
    long = sorted(f"{name}.{node.name} ({n} lines)" for name, path in modules().items()
                  for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)
                  if (n := node.end_lineno - node.lineno + 1) > 200)
    assert long == []


def private_uses(name: str, path: Path, known: dict[str, Path]) -> list[str]:
    """Another hub/adapters module's `_`-prefixed names that `name` imports or reads through a
    module it imported (`from hub.x import _y`, `x._y`)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> hub module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.split(".")[0] not in ("hub", "adapters"):
                continue
            for a in node.names:
                if f"{base}.{a.name}" in known:
                    aliases[a.asname or a.name] = f"{base}.{a.name}"
                elif a.name.startswith("_") and resolve(base, known) != name:
                    found.append(f"{name}:{node.lineno} imports {base}.{a.name}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname and a.name in known:
                    aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__") and aliases[node.value.id] != name):
            found.append(f"{name}:{node.lineno} reads {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names() -> None:
    known = modules()
    assert sorted(hit for name, path in known.items() for hit in private_uses(name, path, known)) == []
