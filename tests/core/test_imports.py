"""Imports point one way: routes -> services -> models, emails, links -> core -> extensions.

The graph is read from the source with ``ast``, so an import inside a function counts as
much as one at the top of a module: a function-local import cannot hide a cycle. Each
``import a.b`` and ``from a import b`` is an edge to the module it names (``b`` when ``b``
is a submodule of ``a``, else ``a`` itself). The graph covers every project module: app,
config, extensions, blueprints.* and stripe_emulator.*.
"""

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = ("app", "config", "extensions")
PACKAGES = ("blueprints", "stripe_emulator")


def _module_files():
    """Every project module's dotted name and its file."""
    files = {name: ROOT / f"{name}.py" for name in TOP_LEVEL}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


def _absolute(module, level, importer, is_package):
    """The absolute name a (possibly relative) ``from`` import refers to."""
    if level == 0:
        return module
    base = importer.split(".")
    base = base[: len(base) - level + (1 if is_package else 0)]
    return ".".join(base + ([module] if module else []))


def _imports(name, path, modules):
    """(target, line) for each project module that ``name`` imports, wherever it does."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _project_module(alias.name, modules)
                if target:
                    found.append((target, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, name, is_package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    found.append((submodule, node.lineno))
                else:
                    target = _project_module(base, modules)
                    if target:
                        found.append((target, node.lineno))
    return found


def _project_module(dotted, modules):
    """The project module ``dotted`` names (its longest known prefix), or None."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


@functools.cache
def import_graph():
    """{module: {imported module: first line of that import}} over the project, read
    once per test process (the tests here only read it)."""
    modules = _module_files()
    graph = {}
    for name, path in modules.items():
        edges = {}
        for target, line in _imports(name, path, modules):
            if target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _strongly_connected(graph):
    """Tarjan's algorithm, iterative: the components with more than one module."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return components


def _shortest_cycle(graph, component):
    """One shortest cycle through the component's first module, as a list of modules."""
    start = min(component)
    previous = {start: None}
    queue = [start]
    for node in queue:
        for child in sorted(graph[node]):
            if child == start:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if child in component and child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # cannot happen in a component


def import_cycles(graph=None):
    """Each cycle of imports as a readable path, one per group of entangled modules."""
    graph = graph or import_graph()
    described = []
    for component in _strongly_connected(graph):
        cycle = _shortest_cycle(graph, component)
        steps = " -> ".join(
            f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)
        )
        others = sorted(component - set(cycle))
        tail = f"; also entangled: {', '.join(others)}" if others else ""
        described.append(f"{steps} -> {cycle[-1]}{tail}")
    return sorted(described)


def test_the_walk_sees_every_kind_of_import():
    graph = import_graph()
    assert {"app", "config", "extensions", "blueprints.core.states"} <= set(graph)
    # A module-level `from package import submodule` resolves to the submodule ...
    assert "blueprints.core.cli" in graph["app"]  # and app.py imports it inside a function
    # ... and `from module import name` to the module.
    assert "extensions" in graph["blueprints.core.states"]
    assert "blueprints.admin.blueprint" in graph["blueprints.admin.routes"]


def test_the_cycle_finder_reports_a_cycle_with_its_path():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert import_cycles(graph) == ["a (line 1) -> b (line 2) -> c (line 3) -> a"]
    assert import_cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_cycle_between_project_modules():
    cycles = import_cycles()
    assert not cycles, "import cycles (module (line of the import) -> ...):\n" + "\n".join(cycles)


def test_extensions_imports_nothing_from_the_blueprints():
    graph = import_graph()
    assert not [m for m in graph["extensions"] if m.startswith("blueprints")], graph["extensions"]


def test_core_imports_no_other_area_and_nothing_imports_the_app():
    graph = import_graph()
    wrong = []
    for module, edges in graph.items():
        for target, line in edges.items():
            if target == "app" and module != "app":
                wrong.append(f"{module} (line {line}) imports app: only entry points may")
            core = module == "blueprints.core" or module.startswith("blueprints.core.")
            if core and target.startswith("blueprints.") and target.split(".")[1] != "core":
                wrong.append(f"{module} (line {line}) imports {target}")
    assert not wrong, "\n".join(wrong)


def _area(module):
    """The area a module belongs to (``blueprints.<area>...``), or None outside them."""
    parts = module.split(".")
    return parts[1] if parts[0] == "blueprints" and len(parts) > 1 else None


def area_graph(graph=None):
    """{area: {area it imports: "module (line n) imports module", the first such}}: the
    module graph folded onto the areas, one node per package under ``blueprints``."""
    graph = graph or import_graph()
    areas = {}
    for module, edges in graph.items():
        area = _area(module)
        if area is None:
            continue
        areas.setdefault(area, {})
        for target, line in sorted(edges.items()):
            other = _area(target)
            if other is not None and other != area:
                areas[area].setdefault(other, f"{module} (line {line}) imports {target}")
    return areas


# Cycles between areas allowed for now, each with its reason (none today). A cycle of
# areas is listed as its areas sorted and joined by " <-> ".
KNOWN_AREA_CYCLES = {}


def test_the_area_graph_folds_modules_onto_their_areas():
    graph = {
        "blueprints.a.x": {"blueprints.b.y": 3, "blueprints.a.z": 1, "extensions": 2},
        "blueprints.a.z": {},
        "blueprints.b.y": {},
        "extensions": {},
    }
    assert area_graph(graph) == {
        "a": {"b": "blueprints.a.x (line 3) imports blueprints.b.y"},
        "b": {},
    }


def test_no_import_cycle_between_areas():
    """An area imports the ones below it and is imported by the ones above: never both
    ways round, even through other areas (``shop -> account -> shop``)."""
    areas = area_graph()
    as_lines = {area: dict.fromkeys(targets, 1) for area, targets in areas.items()}
    cycles = []
    for component in _strongly_connected(as_lines):
        name = " <-> ".join(sorted(component))
        if name in KNOWN_AREA_CYCLES:
            continue
        cycle = _shortest_cycle(as_lines, component)
        steps = "\n  ".join(areas[a][b] for a, b in zip(cycle, cycle[1:], strict=False))
        others = sorted(component - set(cycle))
        tail = f"\n  also entangled: {', '.join(others)}" if others else ""
        cycles.append(f"{' -> '.join(cycle)}:\n  {steps}{tail}")
    assert not cycles, "areas importing each other round in a circle:\n" + "\n".join(cycles)


def test_account_imports_no_area_but_core():
    """``account`` holds the identities every area relies on (staff, roles, customers and
    their sign-in): it imports only ``core``, so any area may import it. What gathers a
    customer's things from the other areas lives in ``my_account``."""
    areas = area_graph()
    wrong = [why for other, why in areas["account"].items() if other != "core"]
    assert not wrong, "\n".join(wrong)
