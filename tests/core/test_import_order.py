"""Every area's modules import first, in a fresh interpreter, whatever is imported
before them: an area that imports another's package (``account`` for the staff
addresses) must not meet a module of its own half-executed on the way back.

tests/core/test_imports.py checks the module graph; this runs the imports, which also
go through each package's ``__init__`` (where the views are attached).

A new interpreter spent most of its second or two importing the libraries (Flask,
SQLAlchemy, Alembic, ...), the same for every module. So one interpreter imports the
libraries the project imports, and nothing of the project, then forks a child per
module: each child starts with no project module loaded and imports that one first.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("app", "config", "extensions", "blueprints", "stripe_emulator")

# Imports the libraries it is given, then in a child per module (fork) imports that module
# alone and prints {"name", "code", "error"} as one line of JSON.
FORK_PER_MODULE = r"""
import json, os, sys, traceback

libraries, modules = json.loads(sys.stdin.read())
for name in libraries:
    try:
        __import__(name)
    except Exception:
        pass  # the module that imports it fails in its child, with its own error
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {project!r})
assert not loaded, f"a library imported project modules: {{loaded}}"
sys.stdout.flush()
for name in modules:
    pid = os.fork()
    if pid == 0:
        try:
            __import__(name)
            result = {{"name": name, "code": 0, "error": []}}
        except BaseException:
            lines = traceback.format_exc().strip().splitlines()
            result = {{"name": name, "code": 1, "error": lines[-1:]}}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        os._exit(0)
    os.waitpid(pid, 0)
"""


def _first_imports():
    """Each area's package and the modules other areas and the tests import first."""
    for area in sorted(p for p in (ROOT / "blueprints").iterdir() if (p / "__init__.py").exists()):
        yield f"blueprints.{area.name}"
        for name in ("models", "services", "emails"):
            if (area / f"{name}.py").exists():
                yield f"blueprints.{area.name}.{name}"


def _libraries():
    """Every module outside the project that a project module imports (by its source)."""
    files = [ROOT / f"{name}.py" for name in ("app", "config", "extensions")]
    for package in ("blueprints", "stripe_emulator"):
        files.extend(sorted((ROOT / package).rglob("*.py")))
    found = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(name for name in found if name.split(".")[0] not in PROJECT)


def _import_each_alone(modules, libraries):
    result = subprocess.run(
        [sys.executable, "-c", FORK_PER_MODULE.format(project=set(PROJECT))],
        cwd=ROOT,
        input=json.dumps([libraries, modules]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_every_module_imports_first_in_a_fresh_interpreter():
    modules = list(_first_imports())
    results = _import_each_alone(modules, _libraries())
    assert [r["name"] for r in results] == modules
    assert len(results) > 20
    failed = {r["name"]: r["error"] for r in results if r["code"] != 0}
    assert not failed, failed


def test_a_module_that_meets_itself_half_imported_fails_in_its_child(tmp_path, monkeypatch):
    """The forked children catch what a fresh interpreter would: a cycle through a
    package's ``__init__`` fails, and only in that module's child."""
    package = tmp_path / "blueprints_cycle_probe"
    package.mkdir()
    (package / "__init__.py").write_text("from blueprints_cycle_probe.views import VIEW\n")
    (package / "views.py").write_text(
        "from blueprints_cycle_probe import VIEW as _\nVIEW = 1\n", encoding="utf-8"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    results = _import_each_alone(["blueprints_cycle_probe", "json"], libraries=[])
    assert [r["code"] for r in results] == [1, 0]
    assert "partially initialized" in results[0]["error"][0]
