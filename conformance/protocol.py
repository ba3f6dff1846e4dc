"""What an adapter must provide: the contract between the suite and a framework.

Adapters import this module and ``conformance.kit`` (helpers), nothing else from ``conformance``.
A scenario receives an adapter's ``namespace`` as ``fw`` and writes TensorFlow-shaped code against
it; the names it may use are listed in ``NEUTRAL_NAMES`` (every adapter) and ``EXTENDED_NAMES``
(adapters with the ``extended_ops`` feature, protocol 1.2). Everything framework-specific
(converting results to NumPy, classifying native errors, which features exist on which device,
how each call was mapped) is answered by the adapter itself.

The protocol is a public contract, versioned as ``ADAPTER_PROTOCOL_VERSION`` (``MAJOR.MINOR``).
Within a major version an adapter written for an older minor version keeps working: methods and
their meanings stay, new arguments come with defaults (``features(device=None)`` in 1.1), and new
``FEATURES`` names are listed in ``FEATURES_SINCE`` so that an older adapter that does not answer
them is reported ``unsupported`` for them instead of failing. An adapter may say which version it
was written for (``protocol_version = "1.2"``); one of another major version is refused on load.
Names added to the neutral API after 1.1 are gated the same way: ``NAMES_FOR_FEATURE`` ties each
group to a feature, and a namespace must define a group only when its adapter has the feature.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ADAPTER_PROTOCOL_VERSION",
    "Adapter",
    "EXTENDED_NAMES",
    "ErrorKind",
    "FEATURES",
    "FEATURES_SINCE",
    "Mapping_",
    "NAMES_FOR_FEATURE",
    "NEUTRAL_NAMES",
    "AdapterValidationError",
    "declared_protocol_version",
    "features_for",
    "required_names",
    "validate_adapter",
]

#: This protocol's version, ``"MAJOR.MINOR"`` (1.0: the first public one; 1.1: ``features(device)``,
#: ``protocol_version``, and ``conformance.kit``; 1.2: the ``extended_ops`` feature and
#: ``EXTENDED_NAMES``).
ADAPTER_PROTOCOL_VERSION = "1.2"


class ErrorKind(str, enum.Enum):
    """Neutral classification of a raised error, comparable across frameworks."""

    CONSUMED_TAPE = "consumed_tape"  # a one-shot tape/graph used a second time
    NOT_RECORDING = "not_recording"  # stop_recording/reset on a tape that is not recording
    ALREADY_RECORDING = "already_recording"  # re-entering an active tape
    NOT_DIFFERENTIABLE = "not_differentiable"  # unconnected / no grad_fn / no gradient defined
    INVALID_WATCH = "invalid_watch"  # watching something that cannot be watched
    INVALID_ARGUMENT = "invalid_argument"  # a bad argument value or type to a tape call
    SHAPE_MISMATCH = "shape_mismatch"  # incompatible shapes inside an op or a gradient
    DTYPE_MISMATCH = "dtype_mismatch"  # incompatible dtypes inside an op or a gradient
    DTYPE_NOT_DIFFERENTIABLE = "dtype_not_differentiable"  # int/bool cannot carry gradients
    USER_ERROR = "user_error"  # an exception raised by the scenario's own code (e.g. in a grad fn)
    INTERNAL = "internal"  # the framework failed inside itself (AttributeError from its guts, ...)
    UNKNOWN = "unknown"


#: Optional capabilities a scenario may require. An adapter lists the ones it has; a scenario
#: needing a missing one is reported ``unsupported`` with the adapter's reason.
FEATURES: Mapping[str, str] = {
    "variables": "fw.Variable with trainable=, assign, assign_add, read_value",
    "watch_accessed_variables": "GradientTape(watch_accessed_variables=False)",
    "watched_variables": "GradientTape.watched_variables()",
    "stop_recording": "GradientTape.stop_recording()",
    "reset": "GradientTape.reset()",
    "jacobian": "GradientTape.jacobian",
    "batch_jacobian": "GradientTape.batch_jacobian",
    "custom_gradient": "fw.custom_gradient",
    "complex": "complex64/complex128 tensors and gradients",
    "float16": "float16 tensors and gradients",
    "float64": "float64 tensors and gradients",
    "threads": "tapes are thread-local",
    "strings": "string tensors",
    "extended_ops": "the ops of EXTENDED_NAMES (comparisons, argmax, tensordot, range, cond, ...)",
}

#: Feature names added after 1.0 -> the protocol version that added them. An adapter declaring an
#: older ``protocol_version`` need not answer them; ``features_for`` marks them unsupported.
FEATURES_SINCE: Mapping[str, str] = {"extended_ops": "1.2"}

#: The neutral API: every name a scenario may use on ``fw``. Every adapter namespace must
#: define all of them (a feature the framework lacks may raise ``NotImplementedError``).
NEUTRAL_NAMES: tuple[str, ...] = (
    # tensors and the tape
    "constant",
    "Variable",
    "GradientTape",
    "UnconnectedGradients",
    "stop_gradient",
    "custom_gradient",
    "identity",
    "cast",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "bool",
    "complex64",
    "complex128",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    # arithmetic
    "add",
    "subtract",
    "multiply",
    "divide",
    "negative",
    "pow",
    "square",
    "sqrt",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "softmax",
    "abs",
    "sign",
    "floor",
    "round",
    "maximum",
    "minimum",
    "where",
    "real",
    "imag",
    "conj",
    "norm",
    # linear algebra, reductions and shapes
    "matmul",
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reshape",
    "transpose",
    "concat",
    "stack",
    "gather",
    "tile",
)

#: Neutral names added in 1.2 under the ``extended_ops`` feature: the ops tape programs use most
#: beyond the core set (selecting and masking, index and shape ops, eager control flow). Each
#: means what TensorFlow's function of that name means (``ceil`` and ``reciprocal`` are
#: ``tf.math``'s); a scenario using them declares ``features=["extended_ops"]``.
EXTENDED_NAMES: tuple[str, ...] = (
    # comparisons and logic (never differentiable: bool results)
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "argmax",
    # elementwise and reductions
    "ceil",
    "reciprocal",
    "clip_by_value",
    "reduce_min",
    "reduce_prod",
    # linear algebra and shapes
    "tensordot",
    "broadcast_to",
    "expand_dims",
    "squeeze",
    "unstack",
    "range",
    # eager control flow
    "cond",
    "while_loop",
)

#: Feature -> the neutral names a namespace must define when its adapter has that feature.
NAMES_FOR_FEATURE: Mapping[str, tuple[str, ...]] = {"extended_ops": EXTENDED_NAMES}


@dataclass(frozen=True)
class Mapping_:
    """One row of an adapter's table of mapping decisions (printed in the report)."""

    neutral: str  # the neutral call, e.g. "GradientTape.watch(x)"
    native: str  # what it becomes, e.g. "x.requires_grad_()"
    why: str = ""  # why this is the idiomatic equivalent, or what is lost


@runtime_checkable
class Adapter(Protocol):
    """A framework behind the neutral tape API.

    ``namespace`` is only touched after ``available()`` returned ``None``, so an adapter module can
    be imported (and listed) without its framework installed.
    """

    name: str  # the id used by --adapter, e.g. "torch"
    # Optional: ``protocol_version: str`` (e.g. "1.2"), the version this adapter was written for;
    # ``distribution: str``, the framework's package name (e.g. "torch"), which lets
    # ``tapeconf adapters`` read its version from package metadata without importing it.

    def available(self) -> str | None:
        """``None`` when the framework can be used, else why not (e.g. "torch is not installed")."""

    def version(self) -> str:
        """The framework's version string."""

    def devices(self) -> Sequence[str]:
        """Devices this adapter can run scenarios on here, e.g. ``["CPU:0"]``."""

    def features(self, device: str | None = None) -> Mapping[str, str | None]:
        """For each name in ``FEATURES``: ``None`` if supported on ``device``, else why it is not.

        ``device`` is one of ``devices()``, or ``None`` for "on every device" (a feature
        unsupported on some device only, e.g. float16 arithmetic on a CPU build, is supported for
        ``None`` and unsupported for that device). Adapters of protocol 1.0 take no argument.
        """

    def namespace(self, device: str) -> Any:
        """The neutral API object handed to scenarios as ``fw``, placing tensors on ``device``."""

    def to_numpy(self, value: Any) -> Any:
        """A framework tensor/variable as a NumPy array; anything else unchanged."""

    def dtype_name(self, value: Any) -> str:
        """The neutral dtype name of a tensor ("float32", "int64", "complex64", ...)."""

    def is_tensor(self, value: Any) -> bool:
        """Whether ``value`` is one of this framework's tensors or variables."""

    def classify_error(self, error: BaseException) -> ErrorKind:
        """Map a native exception to a neutral ``ErrorKind``."""

    def warning_loggers(self) -> Sequence[str]:
        """Names of the ``logging`` loggers whose records count as this framework's warnings."""

    def mappings(self) -> Sequence[Mapping_]:
        """The table of mapping decisions from the neutral API to native calls."""

    def divergences_path(self) -> str | None:
        """Path of this adapter's declared-divergence TOML file, if it has one."""

    # Optional: ``forget_process_state(self) -> None`` resets process-wide state a scenario can
    # observe (e.g. warnings logged only the first N times per process), so that every cell sees
    # what a fresh process would, whatever ran before it. Adapters without it are called as is.


class AdapterValidationError(TypeError):
    """An adapter does not satisfy the protocol; the message names the adapter and the gap."""


def required_names(features: Mapping[str, str | None]) -> tuple[str, ...]:
    """The neutral names a namespace must define, given its adapter's ``features`` answer:
    ``NEUTRAL_NAMES``, plus each feature-gated group whose feature is supported (``None``)."""
    gated = (
        names
        for feature, names in NAMES_FOR_FEATURE.items()
        if feature in features and features[feature] is None
    )
    return NEUTRAL_NAMES + tuple(name for group in gated for name in group)


def _version_tuple(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def declared_protocol_version(adapter: Any) -> str:
    """The protocol version ``adapter`` says it implements (``"1.0"`` when it does not say)."""
    declared = getattr(adapter, "protocol_version", None)
    return declared if isinstance(declared, str) else "1.0"


def features_for(adapter: Any, device: str | None) -> dict[str, str | None]:
    """``adapter.features(device)``, also for a 1.0 adapter whose ``features()`` takes no device.

    Feature names added after the adapter's declared protocol version that it does not answer are
    unsupported, with a reason saying so.
    """
    method = adapter.features
    try:
        takes_device = bool(inspect.signature(method).parameters)
    except (TypeError, ValueError):  # a builtin or C method: assume the current protocol
        takes_device = True
    answer = dict(method(device) if takes_device else method())
    declared = _version_tuple(declared_protocol_version(adapter))
    for name, since in FEATURES_SINCE.items():
        if name not in answer and declared < _version_tuple(since):
            answer[name] = (
                f"adapter {adapter.name!r} implements protocol {'.'.join(map(str, declared))}, "
                f"older than {since}, which added the feature {name!r}"
            )
    return answer


_REQUIRED_METHODS = (
    "available",
    "version",
    "devices",
    "features",
    "namespace",
    "to_numpy",
    "dtype_name",
    "is_tensor",
    "classify_error",
    "warning_loggers",
    "mappings",
    "divergences_path",
)


def _check_protocol_version(adapter: Any, label: str) -> None:
    declared = getattr(adapter, "protocol_version", None)
    if declared is None:
        return
    ours = ADAPTER_PROTOCOL_VERSION
    try:
        major, _ = _version_tuple(str(declared))
    except ValueError:
        major = None
    if not isinstance(declared, str) or major is None:
        raise AdapterValidationError(
            f"adapter {label!r}: protocol_version={declared!r}, but should be a string "
            f"'MAJOR.MINOR' such as {ours!r}"
        )
    if major != _version_tuple(ours)[0]:
        raise AdapterValidationError(
            f"adapter {label!r} implements tapeconf adapter protocol {declared}, but this "
            f"tape-conformance speaks {ours} (major versions differ): install a tape-conformance "
            f"release of protocol {major}.x, or update the adapter"
        )


def validate_adapter(adapter: Any, *, check_namespace: bool = True) -> None:
    """Raise ``AdapterValidationError`` naming what ``adapter`` lacks.

    With ``check_namespace`` (and the framework available), also check that the namespace
    defines every name ``required_names`` asks of it and that ``features()`` covers ``FEATURES``.
    """
    label = getattr(adapter, "name", None) or type(adapter).__name__
    missing = [m for m in _REQUIRED_METHODS if not callable(getattr(adapter, m, None))]
    if not isinstance(getattr(adapter, "name", None), str):
        missing.insert(0, "name (a str attribute)")
    if missing:
        raise AdapterValidationError(
            f"adapter {label!r} does not implement the tapeconf Adapter protocol: "
            f"missing {', '.join(missing)}"
        )
    _check_protocol_version(adapter, label)
    if not check_namespace or adapter.available() is not None:
        return
    features = features_for(adapter, None)
    unknown = sorted(set(features) - set(FEATURES))
    absent = sorted(set(FEATURES) - set(features))
    if unknown or absent:
        raise AdapterValidationError(
            f"adapter {label!r}: features() must answer exactly the names in FEATURES; "
            f"missing {absent or 'none'}, unknown {unknown or 'none'}"
        )
    devices = list(adapter.devices())
    if not devices:
        raise AdapterValidationError(f"adapter {label!r}: devices() returned no device")
    namespace = adapter.namespace(devices[0])
    lacking = [n for n in required_names(features) if not hasattr(namespace, n)]
    if lacking:
        raise AdapterValidationError(
            f"adapter {label!r}: its namespace lacks neutral names {', '.join(lacking)}"
        )
