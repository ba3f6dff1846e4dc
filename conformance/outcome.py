"""Running one cell (scenario × adapter × device) and judging what came back.

``observe`` runs a scenario on an adapter and records an ``Observation``: the returned tree
(tensors converted to NumPy with their dtype) or the classified error, plus the warnings emitted
through ``warnings`` or the adapter's loggers. ``judge`` compares it with the scenario's
expectation and the adapter's declared divergence. The pytest plugin and ``tapeconf report`` both
call these two functions: one source of truth for verdicts.
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance.divergences import Divergence
from conformance.expect import (
    Either,
    Expectation,
    Mismatch,
    Raises,
    Returns,
    TensorLeaf,
    match_tree,
    message_matches,
    render_tree,
    warnings_mismatch,
)
from conformance.protocol import Adapter, ErrorKind, features_for
from conformance.registry import Scenario, UserError

__all__ = [
    "PROCESS_STATE",
    "Cell",
    "ErrorInfo",
    "Observation",
    "Verdict",
    "isolated_process_state",
    "judge",
    "observe",
    "run_cell",
]


class Verdict(str, enum.Enum):
    CONFORMS = "conforms"  # matches the spec
    DIVERGES = "diverges"  # matches the adapter's declared divergence
    UNEXPECTED = "unexpected"  # matches neither: a failure
    UNSUPPORTED = "unsupported"  # the adapter lacks a feature the scenario needs
    UNAVAILABLE = "unavailable"  # the framework is not installed or failed to import
    CRASHED = "crashed"  # the worker running the adapter died
    TIMED_OUT = "timed_out"  # the worker hung past the scenario's timeout
    ERROR = "error"  # the suite itself failed

    @property
    def is_failure(self) -> bool:
        return self in (Verdict.UNEXPECTED, Verdict.CRASHED, Verdict.TIMED_OUT, Verdict.ERROR)


@dataclass
class ErrorInfo:
    kind: ErrorKind
    type: str  # the nearest builtin exception type, e.g. "RuntimeError"
    native_type: str  # the qualified native type, e.g. "torch.autograd...RuntimeError"
    message: str

    def describe(self) -> str:
        return f"raised {self.kind.value} ({self.native_type}: {self.message})"


@dataclass
class Observation:
    value: Any = None  # the returned tree, with TensorLeaf leaves
    error: ErrorInfo | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def raised(self) -> bool:
        return self.error is not None

    def describe(self) -> str:
        if self.error is not None:
            return self.error.describe()
        return f"returned {render_tree(self.value)}"


@dataclass
class Cell:
    """The verdict of one scenario on one adapter and device."""

    scenario_id: str
    adapter: str
    device: str
    verdict: Verdict
    detail: str = ""  # why: a mismatch, an unsupported feature, a crash
    observation: Observation | None = None
    divergence_reason: str | None = None


# ---- observing --------------------------------------------------------------------------------


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _capture_warnings(logger_names: list[str]) -> Iterator[list[str]]:
    collector = _LogCollector()
    loggers = [logging.getLogger(name) for name in logger_names]
    for logger in loggers:
        logger.addHandler(collector)
    messages: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
    finally:
        for logger in loggers:
            logger.removeHandler(collector)
        messages.extend(collector.messages)
        messages.extend(str(w.message) for w in caught)


def _builtin_type(error: BaseException) -> str:
    for cls in type(error).__mro__:
        if cls.__module__ == "builtins":
            return cls.__name__
    return "BaseException"


def _convert(tree: Any, adapter: Adapter) -> Any:
    """The scenario's return value with every tensor replaced by a ``TensorLeaf``."""
    if isinstance(tree, dict):
        return {key: _convert(item, adapter) for key, item in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_convert(item, adapter) for item in tree)
    if tree is None or isinstance(tree, (bool, int, float, complex, str, bytes)):
        return tree
    if adapter.is_tensor(tree):
        return TensorLeaf(np.asarray(adapter.to_numpy(tree)), adapter.dtype_name(tree))
    if isinstance(tree, (np.ndarray, np.generic)):
        return TensorLeaf(np.asarray(tree), str(tree.dtype))
    return f"<{type(tree).__name__}>"


def observe(scenario: Scenario, adapter: Adapter, device: str) -> Observation:
    """Run ``scenario`` on ``adapter`` at ``device`` and record what happened."""
    fw = adapter.namespace(device)
    forget = getattr(adapter, "forget_process_state", None)
    if forget is not None:  # optional: rate-limited warnings etc. as a fresh process would show
        forget()
    observation = Observation()
    start = time.perf_counter()
    with _capture_warnings(list(adapter.warning_loggers())) as messages:
        try:
            observation.value = _convert(scenario.fn(fw), adapter)
        except UserError as error:
            observation.error = ErrorInfo(
                ErrorKind.USER_ERROR, "RuntimeError", "UserError", str(error)
            )
        except Exception as error:  # every framework error is data here, classified below
            observation.error = ErrorInfo(
                kind=adapter.classify_error(error),
                type=_builtin_type(error),
                native_type=f"{type(error).__module__}.{type(error).__qualname__}",
                message=str(error),
            )
    observation.seconds = time.perf_counter() - start
    observation.warnings = messages
    return observation


# ---- judging ----------------------------------------------------------------------------------


def mismatch(expect: Expectation, observation: Observation) -> str | None:
    """Why ``observation`` does not satisfy ``expect``, or ``None`` when it does."""
    found = _outcome_mismatch(expect, observation)
    if found is None:
        return warnings_mismatch(expect.warns, observation.warnings)
    return found


def _outcome_mismatch(expect: Expectation, observation: Observation) -> str | None:
    if isinstance(expect, Either):
        found = [_outcome_mismatch(option, observation) for option in expect.options]
        if all(f is not None for f in found):
            return f"outcome={observation.describe()}, but should be {expect.describe()}"
        return None
    if isinstance(expect, Returns):
        if observation.error is not None:
            return f"outcome={observation.error.describe()}, but should be {expect.describe()}"
        found: Mismatch | None = match_tree(observation.value, expect.tree)
        return None if found is None else str(found)
    assert isinstance(expect, Raises)
    error = observation.error
    if error is None:
        return f"outcome={observation.describe()}, but should be {expect.describe()}"
    if error.kind != expect.kind:
        return f"error kind={error.kind.value} ({error.native_type}: {error.message}), but should be {expect.kind.value}"
    if expect.type and error.type != expect.type:
        return f"error type={error.type}, but should be {expect.type}"
    if not message_matches(expect.match, error.message):
        return f"error message={error.message!r}, but should match {expect.match!r}"
    return None


def judge(
    scenario: Scenario,
    adapter: str,
    device: str,
    observation: Observation,
    divergence: Divergence | None,
) -> Cell:
    """The verdict for one observation: conforms, diverges (as declared) or unexpected."""
    where = f"[{scenario.id} on {adapter}/{device}]"
    against_spec = mismatch(scenario.expect, observation)
    cell = Cell(scenario.id, adapter, device, Verdict.CONFORMS, observation=observation)
    if divergence is None:
        if against_spec is not None:
            cell.verdict, cell.detail = Verdict.UNEXPECTED, f"{against_spec} {where}"
        return cell
    cell.divergence_reason = divergence.reason
    against_divergence = mismatch(divergence.expect, observation)
    if against_divergence is None:
        cell.verdict = Verdict.DIVERGES
    elif against_spec is None:
        cell.verdict = Verdict.UNEXPECTED
        cell.detail = (
            f"declared divergence no longer happens: the outcome conforms to the spec now; "
            f"remove the entry at {divergence.location} {where}"
        )
    else:
        cell.verdict = Verdict.UNEXPECTED
        cell.detail = (
            f"{against_divergence} (declared divergence at {divergence.location}); "
            f"against the spec: {against_spec} {where}"
        )
    return cell


def run_cell(
    scenario: Scenario, adapter: Adapter, device: str, divergence: Divergence | None
) -> Cell:
    """One cell, start to verdict: unsupported if a needed feature is missing, else observe + judge.

    Whatever process-wide setting the cell changes is put back afterwards
    (``isolated_process_state``), so a verdict never depends on the cells that ran before it.
    """
    with isolated_process_state():
        features = features_for(adapter, device)  # per device since protocol 1.1
        missing = [(f, features.get(f)) for f in scenario.features if features.get(f) is not None]
        if missing:
            detail = "; ".join(f"{f}: {why}" for f, why in missing)
            return Cell(scenario.id, adapter.name, device, Verdict.UNSUPPORTED, detail)
        observation = observe(scenario, adapter, device)
    return judge(scenario, adapter.name, device, observation, divergence)


# ---- isolation of process-wide state ------------------------------------------------------------


@dataclass(frozen=True)
class StateKeeper:
    """One process-wide setting a cell can change: how to read it and how to put it back."""

    name: str
    save: Callable[[], Any]
    restore: Callable[[Any], None]


def _logger_levels() -> dict[str, int]:
    loggers = logging.Logger.manager.loggerDict
    levels = {name: lg.level for name, lg in loggers.items() if isinstance(lg, logging.Logger)}
    levels[""] = logging.root.level
    return levels


def _restore_logger_levels(levels: dict[str, int]) -> None:
    """Put back the levels of the loggers that existed before the cell; a logger made during
    the cell (a framework imported by it) keeps the level its maker chose."""
    loggers = logging.Logger.manager.loggerDict
    for name, level in levels.items():
        logger = logging.root if name == "" else loggers.get(name)
        if isinstance(logger, logging.Logger) and logger.level != level:
            logger.setLevel(level)


def _restore_environ(saved: dict[str, str]) -> None:
    if dict(os.environ) != saved:
        os.environ.clear()
        os.environ.update(saved)


def _restore_cwd(saved: str) -> None:
    if os.getcwd() != saved:
        os.chdir(saved)


def _torch_default_dtype() -> Any:
    torch = sys.modules.get("torch")
    return None if torch is None else torch.get_default_dtype()


def _restore_torch_default_dtype(saved: Any) -> None:
    torch = sys.modules.get("torch")
    if torch is not None and saved is not None and torch.get_default_dtype() != saved:
        torch.set_default_dtype(saved)


def _jax_x64() -> Any:
    jax = sys.modules.get("jax")
    return None if jax is None else bool(jax.config.jax_enable_x64)


def _restore_jax_x64(saved: Any) -> None:
    jax = sys.modules.get("jax")
    if jax is not None and saved is not None and bool(jax.config.jax_enable_x64) != saved:
        jax.config.update("jax_enable_x64", saved)


def _keras_floatx() -> Any:
    config = getattr(sys.modules.get("keras"), "config", None)
    return None if config is None else config.floatx()


def _restore_keras_floatx(saved: Any) -> None:
    config = getattr(sys.modules.get("keras"), "config", None)
    if config is not None and saved is not None and config.floatx() != saved:
        config.set_floatx(saved)


def _restore_warning_filters(saved: list[Any]) -> None:
    if warnings.filters != saved:
        warnings.filters[:] = saved
        warnings._filters_mutated()  # type: ignore[attr-defined]  # drop cached decisions


def _restore_numpy_errors(saved: dict[str, str]) -> None:
    if np.geterr() != saved:
        np.seterr(**saved)


def _restore_numpy_printoptions(saved: dict[str, Any]) -> None:
    if np.get_printoptions() != saved:
        np.set_printoptions(**saved)


def _restore_logging_disable(saved: int) -> None:
    if logging.root.manager.disable != saved:
        logging.disable(saved)


def _restore_recursion_limit(saved: int) -> None:
    if sys.getrecursionlimit() != saved:
        sys.setrecursionlimit(saved)


#: Everything a cell may change for the whole process and ``run_cell`` puts back after it
#: (each only when it changed: restoring costs more than comparing).
#: A framework's setting is read only when the framework is already imported (never imported here).
PROCESS_STATE: list[StateKeeper] = [
    StateKeeper("numpy error state", np.geterr, _restore_numpy_errors),
    StateKeeper("numpy print options", np.get_printoptions, _restore_numpy_printoptions),
    StateKeeper(
        "logging.disable level", lambda: logging.root.manager.disable, _restore_logging_disable
    ),
    StateKeeper("logger levels", _logger_levels, _restore_logger_levels),
    StateKeeper("warnings filters", lambda: list(warnings.filters), _restore_warning_filters),
    StateKeeper("environment variables", lambda: dict(os.environ), _restore_environ),
    StateKeeper("working directory", os.getcwd, _restore_cwd),
    StateKeeper("recursion limit", sys.getrecursionlimit, _restore_recursion_limit),
    StateKeeper("torch default dtype", _torch_default_dtype, _restore_torch_default_dtype),
    StateKeeper("jax_enable_x64", _jax_x64, _restore_jax_x64),
    StateKeeper("keras floatx", _keras_floatx, _restore_keras_floatx),
]


@contextmanager
def isolated_process_state(keepers: list[StateKeeper] | None = None) -> Iterator[None]:
    """Save every setting in ``keepers`` (default ``PROCESS_STATE``) and restore it on exit.

    >>> with isolated_process_state():
    ...     _ = np.seterr(all="raise")
    >>> np.geterr()["divide"]
    'warn'
    """
    chosen = PROCESS_STATE if keepers is None else keepers
    saved = [(keeper, keeper.save()) for keeper in chosen]
    try:
        yield
    finally:
        for keeper, value in saved:
            keeper.restore(value)
