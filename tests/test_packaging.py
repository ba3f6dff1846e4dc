"""A package people can install: its dependencies, extras and adapter discovery.

The full proof (a wheel installed without extras into a fresh venv, running the reference matrix
from an empty directory; a venv with the ``[torch]`` extra) is in ``.ci/run``; these tests pin
what can be checked in this environment quickly.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

try:  # Python 3.11+; the `tomli` dependency on 3.10
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from conformance.discovery import discover, registered_names, select
from conformance.registry import all_scenarios

# in-process pytester runs forget modules they import: load the catalogue before they start
SCENARIOS = all_scenarios()

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES = ("reference_impl", "adapters", "conformance")

#: Parts of the package that only an optional command imports -> the extra that makes them work.
OPTIONAL_PARTS = {"conformance/fuzz/": "fuzz"}

#: Import names whose distribution has another name.
DISTRIBUTION_OF = {"array_api_compat": "array-api-compat", "tomli": "tomli"}


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _module_level_imports(path: Path) -> set[str]:
    """Top-level package names imported when ``path`` is imported (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:  # module level only: imports in functions are lazy on purpose
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Try):
            # `try: import ml_dtypes / except ImportError:` is optional; what the handlers import
            # (`except ModuleNotFoundError: import tomli`) is required
            optional = any(_catches_import_error(handler) for handler in node.handlers)
            blocks = [h.body for h in node.handlers] + ([] if optional else [node.body])
            for inner in (n for block in blocks for stmt in block for n in ast.walk(stmt)):
                if isinstance(inner, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in inner.names)
    return names


_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names)


def test_base_dependencies_cover_every_module_level_import():
    """A bare `pip install` imports every module: each module-level import is stdlib, ours, or a
    base dependency (frameworks are imported lazily, inside functions)."""
    base = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    extras = PYPROJECT["project"]["optional-dependencies"]
    ours = set(PACKAGES) | {"tapeconf_autograd"}
    missing: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            if where.startswith("adapters/_jax"):
                continue  # imported only by the jax adapter once jax is known to be installed
            extra = next(
                (e for prefix, e in OPTIONAL_PARTS.items() if where.startswith(prefix)), ""
            )
            allowed = base | {_requirement_name(r) for r in extras.get(extra, [])}
            for name in _module_level_imports(path):
                if name in sys.stdlib_module_names or name in ours or name == "__future__":
                    continue
                if DISTRIBUTION_OF.get(name, name).lower().replace("_", "-") not in allowed:
                    missing.setdefault(name, []).append(where)
    assert not missing, (
        f"module-level imports={missing}, but should be base dependencies in pyproject.toml "
        "or imported lazily inside the function that needs them"
    )


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        pins[name.lower().replace("_", "-")] = version.split("+")[0]
    return pins


@pytest.mark.parametrize("extra", ["tensorflow", "torch", "jax"])
def test_framework_extras_are_pinned_as_in_the_lock_file(extra):
    """`pip install "tape-conformance[torch]"` installs the version the suite was tested with."""
    pins = _lock_pins()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        name = _requirement_name(requirement)
        version = requirement.partition("==")[2]
        assert version, f"extra [{extra}] requirement={requirement!r}, but should pin =="
        assert pins.get(name) == version, (
            f"extra [{extra}] pins {name}=={version}, but requirements/lock.txt has "
            f"{pins.get(name)}"
        )


def test_all_extra_is_every_framework():
    """[all] is the union of the framework extras."""
    (requirement,) = PYPROJECT["project"]["optional-dependencies"]["all"]
    assert requirement == "tape-conformance[tensorflow,torch,jax]"


def _tracked_files() -> list[str]:
    done = subprocess.run(
        ["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.split() if done.returncode == 0 else []


def _shipped(path: str, patterns: dict[str, list[str]]) -> bool:
    parts = Path(path).parts
    for package, globs in patterns.items():
        prefix = tuple(package.split("."))
        inside = "/".join(parts[len(prefix) :])
        if parts[: len(prefix)] == prefix and any(fnmatch.fnmatch(inside, g) for g in globs):
            return True
    return False


def test_every_data_file_ships_in_the_wheel():
    """Each non-Python file of the packages (divergence files, schemas, tables the code reads) is
    matched by a package-data pattern, so a wheel install finds it."""
    tracked = [f for f in _tracked_files() if not f.endswith(".py")]
    if not tracked:
        pytest.skip("not a git checkout: the tracked files are unknown")
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]
    unshipped = [path for path in tracked if not _shipped(path, patterns)]
    assert not unshipped, (
        f"data files={unshipped}, but should match [tool.setuptools.package-data] in pyproject.toml"
    )


# ---- discovery with a broken third-party adapter ------------------------------------------------


@pytest.fixture
def broken_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real installed distribution whose tapeconf adapter fails at import; returns the file its
    module writes when someone imports it."""
    marker = tmp_path / "imported"
    (tmp_path / "broken_tapeconf_adapter.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nraise ImportError('libbroken.so: cannot open')\n"
    )
    info = tmp_path / "broken_tapeconf_adapter-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-tapeconf-adapter\n")
    (info / "entry_points.txt").write_text(
        "[tapeconf.adapters]\nbroken = broken_tapeconf_adapter:Adapter\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


MATRIX_FILE = "from conformance.testing import test_conformance  # noqa: F401\n"


def test_discover_names_a_broken_adapter_and_keeps_the_others(broken_entry_point):
    """Without a selection, a broken adapter is listed with why; the others still load."""
    assert "broken" in registered_names()
    selection = discover()
    assert "libbroken.so" in selection.broken["broken"]
    assert "adapter entry point 'broken'" in selection.broken["broken"]
    assert "reference" in [adapter.name for adapter in selection.adapters]


def test_selecting_one_adapter_never_imports_another(broken_entry_point, pytester):
    """`pytest --adapter reference` loads the reference only: a broken adapter costs nothing."""
    pytester.makepyfile(test_matrix=MATRIX_FILE)
    result = pytester.runpytest("--adapter", "reference", "-k", "tutorial")
    result.assert_outcomes(passed=len([s for s in SCENARIOS if s.area == "tutorial"]))
    assert not broken_entry_point.exists()
    assert [a.name for a in select(["reference"]).adapters] == ["reference"]


def test_a_broken_adapter_is_named_in_the_header_not_fatal(
    broken_entry_point, pytester, monkeypatch
):
    """Without --adapter, the header names the broken adapter and the run goes on."""
    pytester.makepyfile(test_matrix=MATRIX_FILE)
    # in a subprocess: the header imports every framework, which must not be re-imported later
    # in this process (pytester forgets the modules an in-process run imported)
    path = os.pathsep.join([str(broken_entry_point.parent), str(ROOT)])
    monkeypatch.setenv("PYTHONPATH", path)
    result = pytester.runpytest_subprocess(
        "-k", "(tutorial and unwatched_constant and reference) or broken", "-rs"
    )
    result.stdout.fnmatch_lines(["*broken: skipped, broken, adapter entry point 'broken'*"])
    result.assert_outcomes(passed=1, skipped=1)


def test_pytest_accepts_an_import_path(pytester):
    """`pytest --adapter module:Attr` runs an adapter that is not registered, as tapeconf does."""
    pytester.makepyfile(test_matrix=MATRIX_FILE)
    spec = "adapters.reference_adapter:ReferenceAdapter"
    result = pytester.runpytest(
        "--adapter", spec, "-k", "tutorial and watched_constant and not unwatched"
    )
    result.assert_outcomes(passed=1)


def test_pytest_explains_another_environment(pytester):
    """NAME@PYTHON runs only under tapeconf (a worker per adapter): pytest says so and how."""
    pytester.makepyfile(test_matrix=MATRIX_FILE)
    result = pytester.runpytest("--adapter", f"tensorflow@{sys.executable}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*names an adapter in another environment*tapeconf report*"])


def test_unknown_adapter_lists_the_known_ones(pytester):
    """A typo is a usage error listing the registered names, without loading any adapter."""
    pytester.makepyfile(test_matrix=MATRIX_FILE)
    result = pytester.runpytest("--adapter", "refrence")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown adapter 'refrence'; known adapters: *reference*"])


def test_no_unknown_mark_warning_without_xdist(pytester):
    """The matrix's xdist_group mark is registered: runs without pytest-xdist stay quiet."""
    pytester.makepyfile(test_matrix=MATRIX_FILE)
    result = pytester.runpytest(
        "-p", "no:xdist", "-W", "error::pytest.PytestUnknownMarkWarning",
        "--adapter", "reference", "-k", "tutorial and watched_constant and not unwatched",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    assert "PytestUnknownMarkWarning" not in result.stdout.str()


def test_listing_adapters_imports_no_framework():
    """`tapeconf adapters` reads versions from package metadata: no framework module is imported."""
    program = (
        "import sys\n"
        "from conformance.discovery import describe_installed\n"
        "blocks = [describe_installed(name) for name in ('tensorflow', 'torch', 'jax')]\n"
        "print([b['version'] for b in blocks], [m for m in ('tensorflow', 'torch', 'jax') "
        "if m in sys.modules])\n"
    )
    from conformance.discovery import distribution_version

    if None in [
        distribution_version(n) for n in ("torch", "jax", ("tensorflow", "tensorflow-cpu"))
    ]:
        pytest.skip(
            "needs tensorflow, torch and jax installed (pip install 'tape-conformance[all]')"
        )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    versions, imported = done.stdout.strip().rsplit("] [", 1)
    assert imported == "]", f"imported frameworks=[{imported}, but should be none"
    assert "None" not in versions, f"versions={versions}], but should all be read from metadata"
