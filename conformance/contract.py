"""The adapter contract kit: check that an adapter keeps every promise of ``conformance.protocol``.

``validate_adapter`` (run when an adapter loads) checks that the methods exist. This kit goes
further and *calls* them: ``available()`` and ``version()`` answer, the devices and features are
well formed, the namespace has every neutral name, tensors round-trip through ``is_tensor`` /
``to_numpy`` / ``dtype_name``, ``classify_error`` classifies errors the framework really raises on a
few canonical tape programs, the mapping table is filled in, and the divergence file parses and
names only known scenarios. Each problem is one message naming the adapter and what is wrong.

Use it from any test suite, for the adapters ``pytest --adapter NAME`` selects (all by default)::

    # tests/test_contract.py of a package that ships a tapeconf adapter
    from conformance.contract import *  # noqa: F403 - test_contract and its parametrization

or call it directly::

    >>> from conformance.contract import check_adapter
    >>> from adapters.reference_adapter import ReferenceAdapter
    >>> check_adapter(ReferenceAdapter()).problems
    []
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from conformance.discovery import select
from conformance.divergences import DivergenceFileError, load_divergences
from conformance.protocol import (
    FEATURES,
    NAMES_FOR_FEATURE,
    NEUTRAL_NAMES,
    AdapterValidationError,
    ErrorKind,
    Mapping_,
    features_for,
    required_names,
    validate_adapter,
)

__all__ = [
    "CANONICAL_ERROR_PROGRAMS",
    "CONTRACT_CHECKS",
    "AdapterContractError",
    "ContractReport",
    "check_adapter",
    "check_available",
    "check_devices",
    "check_divergences",
    "check_error_classification",
    "check_features",
    "check_mappings",
    "check_namespace",
    "check_protocol",
    "check_tensor_round_trip",
    "check_version",
    "check_warning_loggers",
    "parametrize_adapters",
    "pytest_generate_tests",
    "test_contract",
    "verify_adapter",
]


class AdapterContractError(AssertionError):
    """An adapter breaks its contract; the message lists every problem, each naming the adapter."""


@dataclass
class ContractReport:
    """What checking one adapter found."""

    adapter: str
    unavailable: str | None = None  # why the framework cannot run here (its checks were skipped)
    problems: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The problems as one readable message (empty when there are none)."""
        if not self.problems:
            return ""
        count = len(self.problems)
        header = f"adapter {self.adapter!r} breaks the tapeconf adapter contract ({count} problem"
        return (
            header + ("s):" if count > 1 else "):") + "".join(f"\n  - {p}" for p in self.problems)
        )


def _label(adapter: Any) -> str:
    name = getattr(adapter, "name", None)
    return name if isinstance(name, str) and name else type(adapter).__name__


def _call(adapter: Any, method: str, *args: Any) -> tuple[Any, str | None]:
    """``adapter.method(*args)``, or the problem its raising is (adapter methods must not raise)."""
    try:
        return getattr(adapter, method)(*args), None
    except Exception as error:  # reported as a contract problem, never swallowed
        return (
            None,
            f"adapter {_label(adapter)!r}: {method}() raised {type(error).__name__}: {error}",
        )


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# ---- checks that need no framework -------------------------------------------------------------


def check_protocol(adapter: Any) -> list[str]:
    """Every protocol method exists (``validate_adapter``, namespace aside); ``name`` is set."""
    try:
        validate_adapter(adapter, check_namespace=False)
    except AdapterValidationError as error:
        return [str(error)]
    if not adapter.name.strip():
        return [f"adapter of type {type(adapter).__name__}: name must be a non-empty str"]
    return []


def check_available(adapter: Any) -> list[str]:
    """``available()`` is ``None`` (usable) or a non-empty reason saying why not."""
    why, problem = _call(adapter, "available")
    if problem:
        return [problem]
    if why is not None and not _nonempty_str(why):
        return [
            f"adapter {_label(adapter)!r}: available() returned {why!r}; it must be None when the "
            "framework can be used, else a non-empty str saying why not (e.g. how to install it)"
        ]
    return []


# ---- checks that run the framework -------------------------------------------------------------


def check_version(adapter: Any) -> list[str]:
    """``version()`` is a non-empty string (the report and the pytest header print it)."""
    version, problem = _call(adapter, "version")
    if problem:
        return [problem]
    if not _nonempty_str(version):
        return [f"adapter {_label(adapter)!r}: version() returned {version!r}, not a non-empty str"]
    return _check_distribution(adapter, version)


def _check_distribution(adapter: Any, version: str) -> list[str]:
    """A declared ``distribution`` is what ``tapeconf adapters`` reads the version from, without
    importing the framework: its metadata must give the version ``version()`` gives."""
    from conformance.discovery import distribution_version

    names = getattr(adapter, "distribution", None)
    if names is None:
        return []
    label = _label(adapter)
    if not (isinstance(names, str) or isinstance(names, Sequence)) or not names:
        return [
            f"adapter {label!r}: distribution={names!r}, but should be a package name or a "
            "sequence of them (the first installed counts)"
        ]
    found = distribution_version(names)
    if found != version:
        return [
            f"adapter {label!r}: distribution {names!r} has version {found!r} in its package "
            f"metadata, but version() says {version!r}; name the distribution that provides the "
            "framework (tapeconf adapters reads the version from it)"
        ]
    return []


def check_devices(adapter: Any) -> list[str]:
    """``devices()`` names at least one device, each a non-empty string."""
    devices, problem = _call(adapter, "devices")
    if problem:
        return [problem]
    label = _label(adapter)
    if isinstance(devices, str) or not isinstance(devices, Sequence) or not devices:
        return [
            f"adapter {label!r}: devices() returned {devices!r}; it must list at least one "
            "device, e.g. ['CPU:0']"
        ]
    bad = [d for d in devices if not _nonempty_str(d)]
    return (
        [f"adapter {label!r}: devices() has entries that are not non-empty str: {bad!r}"]
        if bad
        else []
    )


def check_features(adapter: Any) -> list[str]:
    """``features(device)`` answers exactly ``FEATURES`` for ``None`` and for every device; each
    reason is a non-empty string (a 1.0 adapter's ``features()`` without a device is accepted)."""
    devices, problem = _call(adapter, "devices")
    if problem:
        return [problem]
    problems: list[str] = []
    for device in [None, *list(devices or [])]:
        problems.extend(_check_features_on(adapter, device))
    return list(dict.fromkeys(problems))


def _check_features_on(adapter: Any, device: str | None) -> list[str]:
    label = _label(adapter)
    call = f"features({device!r})" if device is not None else "features()"
    try:
        features = features_for(adapter, device)
    except Exception as error:  # reported as a contract problem, never swallowed
        return [f"adapter {label!r}: {call} raised {type(error).__name__}: {error}"]
    problems = []
    missing = sorted(set(FEATURES) - set(features))
    unknown = sorted(set(features) - set(FEATURES))
    if missing:
        problems.append(
            f"adapter {label!r}: {call} does not answer {', '.join(missing)} "
            "(None if supported, else why not)"
        )
    if unknown:
        problems.append(
            f"adapter {label!r}: {call} answers unknown features {', '.join(unknown)}; "
            f"valid: {', '.join(FEATURES)}"
        )
    empty = sorted(
        name for name, why in features.items() if why is not None and not _nonempty_str(why)
    )
    if empty:
        problems.append(
            f"adapter {label!r}: {call} gives no reason for unsupported "
            f"{', '.join(empty)}; a reason must be a non-empty str a user can act on"
        )
    return problems


def _first_namespace(adapter: Any) -> tuple[Any, str | None]:
    devices, problem = _call(adapter, "devices")
    if problem or not devices:
        return None, problem or f"adapter {_label(adapter)!r}: no device to build a namespace on"
    return _call(adapter, "namespace", devices[0])


def check_namespace(adapter: Any) -> list[str]:
    """The namespace of every device defines every name in ``NEUTRAL_NAMES``, and the names of
    each feature-gated group (``NAMES_FOR_FEATURE``) whose feature the adapter has there."""
    devices, problem = _call(adapter, "devices")
    if problem or not devices or isinstance(devices, str):
        return []  # check_devices reports it
    problems = []
    for device in devices:
        namespace, problem = _call(adapter, "namespace", device)
        if problem:
            problems.append(problem)
            continue
        try:
            wanted = required_names(features_for(adapter, device))
        except Exception:  # check_features reports a features() that raises
            wanted = NEUTRAL_NAMES
        lacking = [name for name in wanted if not hasattr(namespace, name)]
        if lacking:
            problems.append(
                f"adapter {_label(adapter)!r}: the namespace for {device} lacks neutral "
                f"names {', '.join(lacking)}{_gating_hint(lacking)} (define them; a missing "
                "feature may raise NotImplementedError)"
            )
    return problems


def _gating_hint(lacking: Sequence[str]) -> str:
    """Which feature asks for the lacking names, when a feature-gated group does."""
    features = [f for f, names in NAMES_FOR_FEATURE.items() if set(lacking) & set(names)]
    if not features:
        return ""
    return (
        f", which its feature {', '.join(map(repr, features))} needs (or answer that feature "
        "with the reason it is unsupported)"
    )


def check_tensor_round_trip(adapter: Any) -> list[str]:
    """A constant is a tensor and reads back as NumPy with its dtype; a float is not a tensor."""
    label = _label(adapter)
    fw, problem = _first_namespace(adapter)
    if problem:
        return [problem]
    try:
        floats = fw.constant([1.5, -2.0])  # Python floats: float32 in the neutral API
        ints = fw.constant([3, 4], dtype=fw.int32)
    except Exception as error:
        return [f"adapter {label!r}: fw.constant raised {type(error).__name__}: {error}"]
    problems = []
    for tensor, want, dtype in ((floats, [1.5, -2.0], "float32"), (ints, [3, 4], "int32")):
        what = f"fw.constant({want!r}{'' if dtype == 'float32' else ', dtype=fw.int32'})"
        is_tensor, problem = _call(adapter, "is_tensor", tensor)
        if problem or is_tensor is not True:
            problems.append(
                problem or f"adapter {label!r}: is_tensor({what}) returned {is_tensor!r}, not True"
            )
            continue
        array, problem = _call(adapter, "to_numpy", tensor)
        if problem or not isinstance(array, np.ndarray) or array.tolist() != want:
            problems.append(
                problem
                or f"adapter {label!r}: to_numpy({what}) returned {array!r}, "
                f"not a NumPy array equal to {want}"
            )
        name, problem = _call(adapter, "dtype_name", tensor)
        if problem or name != dtype:
            problems.append(
                problem or f"adapter {label!r}: dtype_name({what}) returned {name!r}, not {dtype!r}"
            )
    for plain in (2.5, None):
        is_tensor, problem = _call(adapter, "is_tensor", plain)
        if problem or is_tensor is not False:
            problems.append(
                problem
                or f"adapter {label!r}: is_tensor({plain!r}) returned {is_tensor!r}, not False"
            )
    return problems


# ---- error classification on canonical programs -------------------------------------------


def _consumed_tape(fw: Any) -> Any:
    """A non-persistent tape asked for a second gradient (TF: the one-shot RuntimeError)."""
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    return tape.gradient(y, x)


def _reentered_tape(fw: Any) -> Any:
    """Entering a tape that is already recording (TF: 'Tape is still recording')."""
    tape = fw.GradientTape()
    with tape:
        with tape:
            pass


def _shape_mismatch(fw: Any) -> Any:
    """A matmul of [2, 3] by [2, 3]: every framework rejects the shapes."""
    return fw.matmul(fw.ones([2, 3]), fw.ones([2, 3]))


@dataclass(frozen=True)
class CanonicalProgram:
    """A tape program that frameworks may reject, and what its error must classify as."""

    name: str
    run: Callable[[Any], Any]
    must_be_known: bool  # when it raises: not ErrorKind.UNKNOWN


#: Programs whose errors ``classify_error`` must classify when the framework raises. Only the
#: consumed tape must give a known kind: a framework that has one-shot tapes must say so.
CANONICAL_ERROR_PROGRAMS: tuple[CanonicalProgram, ...] = (
    CanonicalProgram("a non-persistent tape used twice", _consumed_tape, must_be_known=True),
    CanonicalProgram("re-entering an active tape", _reentered_tape, must_be_known=False),
    CanonicalProgram("matmul of mismatched shapes", _shape_mismatch, must_be_known=False),
)


def check_error_classification(adapter: Any) -> list[str]:
    """``classify_error`` gives an ``ErrorKind`` for errors the framework raises on canonical
    programs, a known one for a consumed tape, and copes with an error from elsewhere."""
    label = _label(adapter)
    fw, problem = _first_namespace(adapter)
    if problem:
        return [problem]
    problems = []
    for program in CANONICAL_ERROR_PROGRAMS:
        try:
            program.run(fw)
        except Exception as error:
            kind, problem = _call(adapter, "classify_error", error)
            native = f"{type(error).__name__}: {error}"
            if problem or not isinstance(kind, ErrorKind):
                problems.append(
                    problem
                    or f"adapter {label!r}: classify_error({native}) returned "
                    f"{kind!r}, not an ErrorKind (on {program.name})"
                )
            elif program.must_be_known and kind is ErrorKind.UNKNOWN:
                problems.append(
                    f"adapter {label!r}: classify_error misclassifies the error raised by "
                    f"{program.name} ({native}) as {kind.value}; it should be a known "
                    f"kind ({ErrorKind.CONSUMED_TAPE.value})"
                )
    foreign = KeyError("an error from outside the framework")
    kind, problem = _call(adapter, "classify_error", foreign)
    if problem or not isinstance(kind, ErrorKind):
        problems.append(
            problem
            or f"adapter {label!r}: classify_error(KeyError(...)) returned "
            f"{kind!r}; any exception must map to an ErrorKind (UNKNOWN if nothing fits)"
        )
    return problems


# ---- metadata -----------------------------------------------------------------------------------


def check_warning_loggers(adapter: Any) -> list[str]:
    """``warning_loggers()`` lists logger names (strings; possibly none)."""
    loggers, problem = _call(adapter, "warning_loggers")
    if problem:
        return [problem]
    if (
        isinstance(loggers, str)
        or not isinstance(loggers, Sequence)
        or not all(isinstance(name, str) for name in loggers)
    ):
        return [
            f"adapter {_label(adapter)!r}: warning_loggers() returned {loggers!r}, not a "
            "sequence of logger names"
        ]
    return []


def check_mappings(adapter: Any) -> list[str]:
    """``mappings()`` has rows, each a ``Mapping_`` with its neutral, native and why filled in."""
    rows, problem = _call(adapter, "mappings")
    label = _label(adapter)
    if problem:
        return [problem]
    if isinstance(rows, str) or not isinstance(rows, Sequence) or not rows:
        return [
            f"adapter {label!r}: mappings() returned {rows!r}; the report needs at least one "
            "Mapping_(neutral, native, why) row"
        ]
    problems = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping_):
            problems.append(
                f"adapter {label!r}: mappings()[{index}] is {type(row).__name__}, "
                "not a conformance.protocol.Mapping_"
            )
            continue
        empty = [
            name for name in ("neutral", "native", "why") if not _nonempty_str(getattr(row, name))
        ]
        if empty:
            problems.append(
                f"adapter {label!r}: mappings()[{index}] ({row.neutral!r}) has empty "
                f"{', '.join(empty)}"
            )
    return problems


def check_divergences(adapter: Any) -> list[str]:
    """The divergence file, if any, exists, parses, and names only known scenarios."""
    from conformance.registry import all_scenarios

    path, problem = _call(adapter, "divergences_path")
    label = _label(adapter)
    if problem or path is None:
        return [problem] if problem else []
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        return [
            f"adapter {label!r}: divergences_path() returned {path!r}, which is not a file "
            "(return None when the adapter declares no divergences)"
        ]
    known = [scenario.id for scenario in all_scenarios()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            load_divergences(path, known)
        except (OSError, DivergenceFileError) as error:
            return [f"adapter {label!r}: {error}"]
    return [f"adapter {label!r}: {warning.message}" for warning in caught]


#: Every check, in order; a failing protocol check stops the rest (nothing else can be called).
CONTRACT_CHECKS: tuple[Callable[[Any], list[str]], ...] = (
    check_protocol,
    check_available,
    check_version,
    check_devices,
    check_features,
    check_namespace,
    check_tensor_round_trip,
    check_error_classification,
    check_warning_loggers,
    check_mappings,
    check_divergences,
)

#: Checks that run without the framework (the rest need ``available()`` to be ``None``).
_WITHOUT_FRAMEWORK = (check_protocol, check_available, check_warning_loggers, check_divergences)


def check_adapter(adapter: Any) -> ContractReport:
    """Run every contract check on ``adapter`` (those needing the framework if it is available)."""
    report = ContractReport(_label(adapter))
    report.problems = check_protocol(adapter)
    if report.problems:
        return report
    report.problems = check_available(adapter)
    if report.problems:
        return report
    report.unavailable = adapter.available()
    for check in CONTRACT_CHECKS[2:]:
        if report.unavailable is None or check in _WITHOUT_FRAMEWORK:
            report.problems.extend(check(adapter))
    return report


def verify_adapter(adapter: Any) -> None:
    """Raise ``AdapterContractError`` listing every problem ``check_adapter`` finds."""
    report = check_adapter(adapter)
    if report.problems:
        raise AdapterContractError(report.render())


# ---- pytest ----------------------------------------------------------------------------------


_PARAMETRIZED = pytest.StashKey[bool]()


def parametrize_adapters(metafunc: pytest.Metafunc, adapters: Sequence[Any] | None = None) -> None:
    """Parametrize a test's ``conformance_adapter`` argument with one adapter per test.

    ``adapters`` defaults to those ``--adapter`` selects (every registered one without it). An
    adapter whose framework is missing is still checked for what needs no framework, then
    skipped. Calling this twice for one test (from the tapeconf plugin and from the module's own
    ``pytest_generate_tests``) parametrizes it once.
    """
    if "conformance_adapter" not in metafunc.fixturenames:
        return
    if metafunc.definition.stash.get(_PARAMETRIZED, False):
        return
    metafunc.definition.stash[_PARAMETRIZED] = True
    broken: dict[str, str] = {}
    if adapters is None:
        selection = select(metafunc.config.getoption("adapter", default=None) or [])
        adapters, broken = selection.adapters, selection.broken
    params = [
        pytest.param(adapter, id=_label(adapter), marks=pytest.mark.xdist_group(_label(adapter)))
        for adapter in adapters
    ]
    params += [  # a registered adapter that does not load is skipped by name, never fatal
        pytest.param(None, id=f"{name}-broken", marks=pytest.mark.skip(reason=f"broken: {why}"))
        for name, why in broken.items()
    ]
    metafunc.parametrize("conformance_adapter", params)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Module-level hook exported by ``from conformance.contract import *``."""
    parametrize_adapters(metafunc)


def test_contract(conformance_adapter: Any) -> None:
    """The adapter keeps every promise of the tapeconf adapter protocol."""
    __tracebackhide__ = True
    report = check_adapter(conformance_adapter)
    if report.problems:
        pytest.fail(report.render(), pytrace=False)
    if report.unavailable is not None:
        pytest.skip(f"{report.adapter}: {report.unavailable} (only the framework-free checks ran)")
