"""Differential test: every spec program run with TensorFlow and with ``reference_impl`` must agree.

TensorFlow is the specification, so its outcome is the expected one. An outcome is what a program
returned (normalised: structure kept, tensors as dtype name, shape and NumPy value) or the exception
it raised (type name and message), plus the WARNING records it logged on the ``tensorflow`` and
``reference_impl`` loggers. How strictly two outcomes must agree is the program's ``compare``
(``spec_programs.COMPARE_MODES``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from spec_programs import LEFT_OUT, PROGRAMS, Program

from conformance.expect import TOLERANCES  # the suite's per-dtype table (JAX check_grads')

#: Loggers whose WARNING records are part of an outcome.
WARNING_LOGGERS = ("tensorflow", "reference_impl")

#: WARNING messages that are not part of any outcome, each with the reason.
IGNORED_WARNINGS: dict[str, str] = {
    r"triggered tf\.function retracing": "depends on how many jacobians the process ran (spec J08)",
}

#: Parts of warning texts that name library internals, replaced before comparing: TF's IndexedSlices
#: repr in J07's warning shows the names of tensors inside pfor's trace ("gradient_tape/Reshape_2:0").
NORMALISED_WARNINGS: dict[str, str] = {
    r"Converting IndexedSlices\(.*\) to a dense representation": "Converting IndexedSlices(...) to a dense representation",
}

#: The TensorFlow catalogue the programs transcribe (outside the repository; the test skips without
#: it). docs/spec.md is the repository's spec: the same ids in the project's words, plus entries
#: added later, which the matrix pins on the tensorflow and reference adapters instead.
SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "spec" / "tf_gradient_tape.md"


# ---- outcomes ----


@dataclass(frozen=True)
class TensorValue:
    """A tensor reduced to what the comparison looks at."""

    dtype: str
    shape: tuple[int, ...]
    value: np.ndarray = field(compare=False)

    def __str__(self) -> str:
        return f"{self.dtype}{list(self.shape)} {np.array2string(self.value, threshold=20)}"


@dataclass(frozen=True)
class Opaque:
    """A returned object that is neither a tensor, a container nor a plain Python value."""

    type_name: str

    def __str__(self) -> str:
        return f"<{self.type_name} object>"


@dataclass(frozen=True)
class Raised:
    """An exception a program raised: its class name and message."""

    type_name: str
    message: str

    def __str__(self) -> str:
        return f"{self.type_name}({self.message!r})"


@dataclass(frozen=True)
class Outcome:
    """What one run of a program produced: a normalised value or a ``Raised``, and its warnings."""

    result: Any
    warnings: tuple[str, ...]


def is_tensor(value: Any) -> bool:
    """Duck-typed tensor check, the same for both libraries: has ``.numpy()`` and ``.dtype``."""
    return callable(getattr(value, "numpy", None)) and hasattr(value, "dtype")


def is_variable(value: Any) -> bool:
    """A variable is a tensor-like object that can be assigned to."""
    return is_tensor(value) and callable(getattr(value, "assign", None))


def normalise(value: Any) -> Any:
    """Reduce a program's return value to plain, comparable data (containers keep their type)."""
    if isinstance(value, (list, tuple)):
        return type(value)(normalise(item) for item in value)
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return value
    if is_variable(value):
        raise TypeError(
            f"a program returned a variable ({type(value).__name__}); return its name (see "
            "spec_programs._names) or its value instead, so the comparison is meaningful"
        )
    if is_tensor(value):
        return TensorValue(
            dtype=value.dtype.name,
            shape=tuple(int(dim) for dim in value.shape),
            value=np.asarray(value.numpy()),
        )
    return Opaque(type(value).__name__)


class _WarningCollector(logging.Handler):
    """Collects the messages of WARNING-or-above records."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for pattern, replacement in NORMALISED_WARNINGS.items():
            message = re.sub(pattern, replacement, message, flags=re.DOTALL)
        if not any(re.search(pattern, message) for pattern in IGNORED_WARNINGS):
            self.messages.append(message)


@contextmanager
def collecting_warnings() -> Iterator[list[str]]:
    """Attach a collector to each warning logger for the duration of the block.

    The loggers are set to WARNING meanwhile, so a quieter level chosen elsewhere (a user's
    ``tf.get_logger().setLevel``, pytest's ``--log-level``) cannot hide a warning from the check.
    """
    collector = _WarningCollector()
    loggers = [logging.getLogger(name) for name in WARNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(collector)
        logger.setLevel(logging.WARNING)
    try:
        yield collector.messages
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(collector)
            logger.setLevel(level)


def forget_logged_warnings() -> None:
    """Reset both libraries' log_first_n counters, so every program sees a fresh process.

    Otherwise a warning rate-limited per process (jacobian-in-context, spec B07) depends on which
    scenarios ran earlier in the same pytest worker.
    """
    from adapters.reference_adapter import ReferenceAdapter
    from adapters.tensorflow_adapter import TensorFlowAdapter

    TensorFlowAdapter().forget_process_state()
    ReferenceAdapter().forget_process_state()


def run_program(program: Program, library: ModuleType) -> Outcome:
    """Run ``program`` with ``library`` bound to ``tf`` and capture its outcome.

    Only the program's own exception is an outcome; a failure to normalise what it returned is an
    error of the test, never an agreement.
    """
    raised = None
    forget_logged_warnings()
    with collecting_warnings() as messages:
        try:
            returned = program.fn(library)
        except Exception as error:  # noqa: BLE001 - the exception *is* the outcome
            raised = Raised(type(error).__name__, str(error))
    result = raised if raised is not None else normalise(returned)
    return Outcome(result=result, warnings=tuple(messages))


# ---- comparison ----


class _Prose(str):
    """Text that a failure message shows as is (not quoted like a returned string)."""


def describe(tree: Any) -> str:
    """Render a normalised result compactly for failure messages."""
    if isinstance(tree, _Prose):
        return str(tree)
    if isinstance(tree, list):
        return "[" + ", ".join(map(describe, tree)) + "]"
    if isinstance(tree, tuple):
        return "(" + ", ".join(map(describe, tree)) + ("," if len(tree) == 1 else "") + ")"
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{key!r}: {describe(item)}" for key, item in tree.items()) + "}"
    if isinstance(tree, (TensorValue, Opaque, Raised)):
        return str(tree)
    return repr(tree)


def _fail(what: str, observed: Any, expected: Any, context: str) -> None:
    __tracebackhide__ = True
    pytest.fail(
        f"{what}={describe(observed)}, but should be {describe(expected)} [{context}]",
        pytrace=False,
    )


def _values_agree(observed: np.ndarray, expected: np.ndarray, dtype: str) -> bool:
    tolerance = TOLERANCES.get(dtype)
    if tolerance is None:
        return observed.shape == expected.shape and bool(np.all(observed == expected))
    as_type = np.complex128 if dtype.startswith("complex") else np.float64
    return bool(
        np.all(
            np.isclose(
                observed.astype(as_type),
                expected.astype(as_type),
                rtol=tolerance,
                atol=tolerance,
                equal_nan=True,
            )
        )
    )


def _scalars_agree(observed: Any, expected: Any) -> bool:
    if type(observed) is not type(expected):
        return False
    if isinstance(expected, float) and np.isnan(expected):
        return np.isnan(observed)
    return observed == expected


def assert_trees_agree(observed: Any, expected: Any, path: str, context: str) -> None:
    """Compare two normalised results recursively; ``path`` names the position in messages."""
    __tracebackhide__ = True
    if type(observed) is not type(expected):
        _fail(f"value at {path}", observed, expected, context)
    if isinstance(expected, (list, tuple)):
        if len(observed) != len(expected):
            _fail(f"length at {path}", len(observed), len(expected), context)
        for index, (item, wanted) in enumerate(zip(observed, expected, strict=True)):
            assert_trees_agree(item, wanted, f"{path}[{index}]", context)
    elif isinstance(expected, dict):
        if sorted(map(repr, observed)) != sorted(map(repr, expected)):
            _fail(f"keys at {path}", list(observed), list(expected), context)
        for key, wanted in expected.items():
            assert_trees_agree(observed[key], wanted, f"{path}[{key!r}]", context)
    elif isinstance(expected, TensorValue):
        if observed.dtype != expected.dtype:
            _fail(f"dtype at {path}", observed.dtype, expected.dtype, context)
        if observed.shape != expected.shape:
            _fail(f"shape at {path}", observed.shape, expected.shape, context)
        if not _values_agree(observed.value, expected.value, expected.dtype):
            _fail(f"value at {path}", observed, expected, context)
    elif not _scalars_agree(observed, expected):
        _fail(f"value at {path}", observed, expected, context)


def assert_outcomes_agree(observed: Outcome, expected: Outcome, compare: str, context: str) -> None:
    """Assert that the reference's outcome agrees with TensorFlow's as strictly as ``compare``."""
    __tracebackhide__ = True
    if compare in ("type", "raises"):
        if not isinstance(expected.result, Raised):
            _fail("tensorflow outcome", expected.result, _Prose("an exception (spec)"), context)
        if not isinstance(observed.result, Raised):
            _fail(
                "outcome", observed.result, _Prose(f"an exception like {expected.result}"), context
            )
        if compare == "type" and observed.result.type_name != expected.result.type_name:
            _fail("exception type", observed.result, expected.result, context)
        return
    if isinstance(expected.result, Raised) or isinstance(observed.result, Raised):
        if observed.result != expected.result:
            _fail("outcome", observed.result, expected.result, context)
    else:
        assert_trees_agree(observed.result, expected.result, "result", context)
    if observed.warnings != expected.warnings:
        _fail("warnings", list(observed.warnings), list(expected.warnings), context)


# ---- tests ----


@pytest.fixture(scope="module")
def tensorflow() -> ModuleType:
    """TensorFlow, quiet on the C++ side; the test is skipped where it is not installed."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def reference() -> ModuleType:
    """The reference implementation, imported by its TensorFlow-shaped name."""
    import reference_impl

    return reference_impl


@pytest.mark.xdist_group("tensorflow")
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_reference_agrees_with_tensorflow(
    name: str, tensorflow: ModuleType, reference: ModuleType
) -> None:
    """The reference implementation gives TensorFlow's outcome for every spec program."""
    program = PROGRAMS[name]
    expected = run_program(program, tensorflow)
    observed = run_program(program, reference)
    assert_outcomes_agree(observed, expected, program.compare, f"{name} reference vs tensorflow")


def spec_entry_ids(spec_text: str) -> list[str]:
    """The ids of the ``### XX`` entry headings in sections A–N (section O and later excluded)."""
    sections = re.split(r"^## ", spec_text, flags=re.MULTILINE)
    ids: list[str] = []
    for section in sections:
        letter = re.match(r"([A-Z])\. ", section)
        if letter and letter.group(1) <= "N":
            ids += re.findall(r"^### ([A-Z]+\d+) ", section, flags=re.MULTILINE)
    return ids


def test_every_spec_entry_has_a_program_or_a_reason() -> None:
    """Each spec entry of sections A–N is run by some program or listed in LEFT_OUT."""
    if not SPEC_PATH.is_file():
        pytest.skip(f"spec not found at {SPEC_PATH}")
    entries = spec_entry_ids(SPEC_PATH.read_text(encoding="utf-8"))
    assert len(entries) > 100, f"entries={len(entries)}, but should be > 100 [spec headings]"
    covered = {program.entry for program in PROGRAMS.values()} | set(LEFT_OUT)
    missing = [entry for entry in entries if entry not in covered]
    unknown = sorted(covered - set(entries))
    assert not missing, f"uncovered entries={missing}, but should be [] [spec_programs]"
    assert not unknown, f"entries not in the spec={unknown}, but should be [] [spec_programs]"
    both = sorted({program.entry for program in PROGRAMS.values()} & set(LEFT_OUT))
    assert not both, f"entries both run and left out={both}, but should be [] [spec_programs]"
