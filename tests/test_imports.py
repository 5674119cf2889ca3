"""What importing each part of chartui brings in, seen from a fresh interpreter (as harlequin
tests its deferred imports): the first screen waits for no torch, and the core loads no UI."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys

import chartui

UI = ("textual", "rich", "textual_plotext", "chartui.tui", "chartui.cli")
"""What the core must never import (the import-linter contract says the same of the source)."""


def core_modules() -> list[str]:
    """Every chartui module outside the UI: all but chartui.tui, chartui.cli and __main__."""
    return sorted(f"chartui.{module.name}" for module in pkgutil.iter_modules(chartui.__path__)
                  if module.name not in ("tui", "cli", "__main__"))


def modules_loaded_by(code: str, home) -> list[str]:
    """The modules a fresh Python holds after running `code` (with `home` as the user's home,
    so no keymap or settings of the user's are read)."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**{k: v for k, v in os.environ.items() if k != "CHARTUI_KEYMAP"},
           "HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def within(modules: list[str], *packages: str) -> list[str]:
    """Those of `modules` that are one of `packages` or inside one."""
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


def test_the_first_screen_does_not_wait_for_torch(tmp_path):
    """torch takes seconds to import; the app's modules, and building the app, must leave it
    to the workers."""
    loaded = modules_loaded_by(
        "import chartui.cli, chartui.tui.app\nchartui.tui.app.make_app()", tmp_path)
    assert "chartui.tui.app" in loaded
    assert within(loaded, "torch") == []


def test_settings_progress_and_corpora_load_neither_torch_nor_textual(tmp_path):
    loaded = modules_loaded_by("import chartui.progress, chartui.config, chartui.corpus",
                               tmp_path)
    assert within(loaded, "torch", "textual") == []


def test_the_core_imports_no_ui(tmp_path):
    core = core_modules()
    assert {"chartui.trainer", "chartui.progress", "chartui.checkpoint"} <= set(core)
    loaded = modules_loaded_by(f"import {', '.join(core)}", tmp_path)
    assert set(core) <= set(loaded)
    assert within(loaded, *UI) == []


def import_contracts() -> list[dict]:
    """pyproject.toml's import-linter contracts."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(os.path.join(os.path.dirname(chartui.__path__[0]), "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["tool"]["importlinter"]["contracts"]


def test_every_module_has_its_place_in_the_import_contracts():
    """A module the layers do not name is not checked by `lint-imports`: each new module must
    take its place (in ARCHITECTURE.md's picture too), and each core module is held to the
    no-UI contract."""
    contracts = import_contracts()
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    layered = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    top_level = {module.name for module in pkgutil.iter_modules(chartui.__path__)}
    assert top_level - layered == set()
    (no_ui,) = [c for c in contracts if c["type"] == "forbidden" and "textual" in
                c["forbidden_modules"]]
    assert set(no_ui["source_modules"]) == set(core_modules())


def test_no_module_imports_one_that_imports_it_back():
    """No import cycles anywhere in chartui, the app included (imports inside functions and
    for type checking count: a deferred cycle is still one for the reader)."""
    import grimp
    graph = grimp.build_graph("chartui")
    cycles = sorted((module, imported) for module in graph.modules
                    for imported in graph.find_modules_directly_imported_by(module)
                    if graph.chain_exists(importer=imported, imported=module))
    assert cycles == []
