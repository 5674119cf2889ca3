"""The wheel holds everything the source tree ships: every module, every stylesheet (`.tcss`)
and every corpus in `corpora/`. A package, a stylesheet or a corpus that pyproject.toml's
`packages` or `package-data` leave out would work from a clone (an editable install reads the
source tree) and break for everyone who installs the wheel (`pipx install`, `uv tool install`).

`.ci/wheel-check` goes further: it installs the wheel in a fresh virtualenv and runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from helpers import REPO

pytestmark = pytest.mark.slow  # builds a wheel: a copy of the tree, then setuptools (~10 s)

LEFT_BEHIND = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info",
                                     "__pycache__", ".pytest_cache", ".ruff_cache",
                                     "checkpoints", "tests", "benchmarks")


def expected_files() -> set[str]:
    """The source tree's package files, by the path each must have in the wheel."""
    package = {path.relative_to(REPO).as_posix() for pattern in ("*.py", "*.tcss")
               for path in (REPO / "chartui").rglob(pattern) if "__pycache__" not in path.parts}
    corpora = {f"chartui/shipped_corpora/{path.name}" for path in (REPO / "corpora").iterdir()
               if path.is_file()}
    return package | corpora


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"  # a clean copy: a stale build/ could hide a missing file
    shutil.copytree(REPO, source, ignore=LEFT_BEHIND)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                             str(folder / "dist"), str(source)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (path,) = (folder / "dist").glob("chartui-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def test_the_wheel_holds_every_module_stylesheet_and_corpus(wheel):
    wheel_files = set(wheel.namelist())
    expected = expected_files()
    assert {name for name in expected if name.endswith(".tcss")}, "no stylesheets found"
    assert "chartui/shipped_corpora/chartui-faq.txt" in expected
    assert expected - wheel_files == set()


def test_the_wheel_holds_no_tests_and_installs_the_command(wheel):
    names = wheel.namelist()
    assert not any(name.startswith(("tests/", "benchmarks/", "corpora/")) for name in names)
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "chartui = chartui.cli:main" in wheel.read(entry_points).decode()
