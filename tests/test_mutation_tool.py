"""The mutation tool: mutants are valid, keyed by text not line, and a run kills a broken tape."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.mutation import suite_power
from conformance.mutation._driver import MUTATED_FILES
from conformance.mutation._equivalents import EquivalentFileError, load_equivalents
from conformance.mutation._mutants import apply, mutants_of

ROOT = Path(__file__).resolve().parent.parent

_SAMPLE = '''"""A module docstring."""
from __future__ import annotations


def f(a: int, b: int = 1) -> int:
    """A docstring."""
    assert a >= 0
    if a < b and not a:
        return a + b
    total = a * b
    total += 1
    return total
'''


def test_every_mutant_is_valid_python_changed_in_one_span():
    """Each mutant compiles and differs from the source exactly in its span."""
    mutants = mutants_of(_SAMPLE, "sample.py")
    assert mutants
    for mutant in mutants:
        changed = apply(_SAMPLE, mutant)
        ast.parse(changed)
        assert changed != _SAMPLE
        assert mutant.mutated in changed


def test_kinds_of_change():
    """Operators, comparisons, booleans, negations, constants, returns and statements mutate."""
    kinds = {m.operator for m in mutants_of(_SAMPLE, "sample.py")}
    assert {
        "binary", "compare", "boolean", "unary-removed", "negate-condition", "constant",
        "return-none", "augmented-assign", "remove-statement",
    } <= kinds


def test_docstrings_annotations_asserts_are_not_mutated():
    """Changes no program can observe are never planted."""
    texts = {m.original for m in mutants_of(_SAMPLE, "sample.py")}
    assert not any("docstring" in t for t in texts)
    assert "a >= 0" not in texts  # inside the assert
    assert "int" not in texts  # annotations
    assert all(m.function in ("f", "<module>") for m in mutants_of(_SAMPLE, "sample.py"))


def test_keys_survive_edits_elsewhere():
    """A mutant's key is its function and text: lines added above it change no key."""
    before = {m.key for m in mutants_of(_SAMPLE, "sample.py")}
    shifted = _SAMPLE.replace("from __future__ import annotations\n",
                              "from __future__ import annotations\n\nimport os\n\n")
    assert {m.key for m in mutants_of(shifted, "sample.py")} == before


def test_repeated_changes_get_occurrence_numbers():
    source = "def g(x):\n    return (x + 1) * (x + 1)\n"
    keys = [m.key for m in mutants_of(source, "g.py") if m.original == "x + 1"]
    assert sorted(k[-1] for k in keys) == [0, 1]


def test_equivalent_file_is_valid_and_small():
    """The reviewed equivalent list loads, gives reasons, and stays under 10% of the mutants."""
    equivalents = load_equivalents()
    total = sum(len(mutants_of((ROOT / f).read_text(), f)) for f in MUTATED_FILES)
    assert len(equivalents) <= 0.10 * total
    assert all(e.reason.strip() for e in equivalents.values())


def test_malformed_equivalent_entry_is_named(tmp_path):
    bad = tmp_path / "equivalent.toml"
    bad.write_text('[[equivalent]]\nfile = "reference_impl/_ops.py"\nfunction = "f"\n')
    with pytest.raises(EquivalentFileError, match="entry 1: missing"):
        load_equivalents(bad)


def test_suite_power_sentence(tmp_path):
    """The report's sentence states the kill rate, the counts, the date and the commit."""
    record = {
        "date": "2026-12-02T00:00:00Z", "commit": "abc123",
        "files": {"_core.py": {"kill_rate": 0.9}},
        "total": {"mutants": 10, "equivalent": 1, "kill_rate": 0.9},
    }
    path = tmp_path / "last_run.json"
    path.write_text(json.dumps(record))
    text = suite_power(path)
    assert "90.0% of 9 non-equivalent mutants" in text and "abc123" in text
    assert suite_power(tmp_path / "missing.json") is None


def test_a_sample_run_reports_per_file():
    """A small real run on the committed tree: the figures table and a kill rate per file."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance.mutation", "--sample", "3", "--file",
         "_custom_gradient.py", "--no-record"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "_custom_gradient.py" in done.stdout and "kill rate" in done.stdout
    row = next(line for line in done.stdout.splitlines() if line.startswith("_custom_gradient.py"))
    assert int(row.split()[1]) == 3
