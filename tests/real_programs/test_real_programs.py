"""Real TensorFlow programs (corpus/) print, return, raise and log the same on the reference.

The programs of each framework run in one child process (see runner.py for how each program is
isolated); both children start together, once per session. A program listed in
out_of_scope.toml is skipped with its reason; every other program must agree, except the
``KNOWN_DIFFERENCES`` below: each is an exact difference whose cause is in a reference module
this corpus's author does not own, an xfail (strict, so a fix is noticed) until it is fixed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("real_programs_runner", HERE / "runner.py")
runner = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = runner
_spec.loader.exec_module(runner)

# Under pytest-xdist (--dist loadgroup) the two children start once, on one worker.
pytestmark = pytest.mark.xdist_group("real_programs")

PROGRAMS = sorted(path.name for path in runner.CORPUS.glob("*.py"))
OUT_OF_SCOPE = runner.out_of_scope()
#: program -> the exact difference, and the module whose fix it waits for (none left).
KNOWN_DIFFERENCES: dict[str, str] = {}


def _param(name: str) -> Any:
    if name in KNOWN_DIFFERENCES:
        return pytest.param(
            name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[name])
        )
    return name


@pytest.fixture(scope="session")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Both frameworks' outcomes for every in-scope program: {framework: {program: Outcome}}."""
    pytest.importorskip("tensorflow")
    in_scope = [runner.CORPUS / name for name in PROGRAMS if name not in OUT_OF_SCOPE]
    return runner.run_both(in_scope, tmp_path_factory.mktemp("real_programs"))


@pytest.mark.parametrize("program", [_param(name) for name in PROGRAMS])
def test_program_agrees_with_tensorflow(program: str, outcomes: dict[str, dict[str, Any]]) -> None:
    """The reference prints, returns, raises and logs what TensorFlow does for this program."""
    __tracebackhide__ = True
    if program in OUT_OF_SCOPE:
        pytest.skip(f"out of scope: {OUT_OF_SCOPE[program]}")
    ours, theirs = outcomes["reference"][program], outcomes["tensorflow"][program]
    differences = runner.compare(ours, theirs)
    assert not differences, (
        f"[{program} on reference/CPU]\n"
        + "\n".join(differences)
        + (f"\nreference traceback:\n{ours.traceback}" if ours.traceback else "")
    )


def test_tensorflow_runs_every_program_to_its_end(outcomes: dict[str, dict[str, Any]]) -> None:
    """No in-scope program fails on TensorFlow itself, so agreement is never two identical crashes."""
    failed = {
        name: f"{outcome.exception}: {outcome.message}"
        for name, outcome in outcomes["tensorflow"].items()
        if outcome.exit_status != 0
    }
    assert failed == {}
    assert sorted(outcomes["tensorflow"]) == sorted(set(PROGRAMS) - set(OUT_OF_SCOPE))


def test_comparison_allows_only_last_digit_float_differences() -> None:
    """Floats may differ within the per-dtype tolerance; integers, text and layout may not."""
    agree = runner.texts_agree
    assert agree(
        "tf.Tensor(0.6000001, shape=(), dtype=float32)", "tf.Tensor(0.6, shape=(), dtype=float32)"
    )[0]
    assert agree("[0.6000001 0.8      ]", "[0.6 0.8]")[0]  # NumPy's column padding
    assert not agree(
        "tf.Tensor(0.61, shape=(), dtype=float32)", "tf.Tensor(0.6, shape=(), dtype=float32)"
    )[0]
    assert not agree(
        "tf.Tensor(0.6001, shape=(), dtype=float64)", "tf.Tensor(0.6, shape=(), dtype=float64)"
    )[0]
    assert not agree("(3, 2)", "(3, 3)")[0]
    assert not agree("2", "2.0")[0]
    assert not agree("TensorShape([3, 2])", "(3, 2)")[0]
    assert not agree(
        "tf.Tensor([[1. 2.]\n [3. 4.]], shape=(2, 2))",
        "tf.Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2))",
    )[0]
    assert not agree("a\nb", "a")[0]


def test_corpus_is_documented() -> None:
    """Every program names its origin; every out-of-scope entry names a program that exists."""
    for name in PROGRAMS:
        first = (runner.CORPUS / name).read_text().splitlines()[0]
        assert first.startswith("# Origin: "), f"{name} does not start with '# Origin: ...'"
    assert set(OUT_OF_SCOPE) <= set(PROGRAMS), sorted(set(OUT_OF_SCOPE) - set(PROGRAMS))
    assert set(KNOWN_DIFFERENCES) <= set(PROGRAMS) - set(OUT_OF_SCOPE)
