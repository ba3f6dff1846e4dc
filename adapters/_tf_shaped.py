"""Shared by the TensorFlow and reference adapters: both speak TensorFlow's API natively.

Their neutral namespace is the module itself, plus the few neutral names TensorFlow keeps in a
submodule (``relu`` is ``tf.nn.relu``). Creation functions run under ``module.device(device)`` so
that a scenario's tensors land on the adapter's device. Both raise TensorFlow's exception types
and messages, so one classifier serves both.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from conformance.kit import ErrorRule, classify_by_rules
from conformance.protocol import EXTENDED_NAMES, FEATURES, NEUTRAL_NAMES, ErrorKind, Mapping_

__all__ = ["TF_ERROR_RULES", "TF_MAPPINGS", "TfShapedAdapter", "classify_tf_error", "tf_namespace"]

_SUBMODULE_NAMES = {
    "log": "math.log",
    "relu": "nn.relu",
    "softmax": "nn.softmax",
    "real": "math.real",
    "imag": "math.imag",
    "conj": "math.conj",
    "ceil": "math.ceil",
    "reciprocal": "math.reciprocal",
}
_CREATION = ("constant", "Variable", "zeros", "ones", "range")

#: (exception type names, message regex, kind), first match wins.
TF_ERROR_RULES: tuple[ErrorRule, ...] = (
    ErrorRule(
        ("RuntimeError",), r"non-persistent GradientTape can only be used", ErrorKind.CONSUMED_TAPE
    ),
    ErrorRule(
        ("RuntimeError",), r"stop recording a tape which is not recording", ErrorKind.NOT_RECORDING
    ),
    ErrorRule(("ValueError",), r"Tape is not recording", ErrorKind.NOT_RECORDING),
    ErrorRule(("ValueError",), r"Tape is still recording", ErrorKind.ALREADY_RECORDING),
    ErrorRule(("ValueError",), r"Passed in object .* not tf\.Tensor", ErrorKind.INVALID_WATCH),
    ErrorRule(
        (),
        r"Incompatible shapes|Need first dimension|must have rank|[Ss]hapes? .* (are )?incompatible",
        ErrorKind.SHAPE_MISMATCH,
    ),
    ErrorRule((), r"was expected to be a \w+ tensor but is a", ErrorKind.DTYPE_MISMATCH),
    ErrorRule(("LookupError",), r"gradient registry has no entry", ErrorKind.NOT_DIFFERENTIABLE),
    ErrorRule(("AttributeError",), r"", ErrorKind.INTERNAL),
    ErrorRule(("TypeError",), r"", ErrorKind.INVALID_ARGUMENT),
    ErrorRule(("ValueError",), r"", ErrorKind.INVALID_ARGUMENT),
    ErrorRule(
        ("RuntimeError",), r"must be created with persistent=True", ErrorKind.INVALID_ARGUMENT
    ),
    ErrorRule(("InternalError",), r"returned too few gradients", ErrorKind.INVALID_ARGUMENT),
)


def classify_tf_error(error: BaseException) -> ErrorKind:
    """Classify an exception raised by TensorFlow or by the reference implementation."""
    return classify_by_rules(error, TF_ERROR_RULES)


def _on_device(module: Any, fn: Callable[..., Any], device: str) -> Callable[..., Any]:
    def create(*args: Any, **kwargs: Any) -> Any:
        with module.device(device):
            return fn(*args, **kwargs)

    create.__name__ = getattr(fn, "__name__", "create")
    create.__doc__ = fn.__doc__
    return create


def tf_namespace(module: Any, device: str) -> types.SimpleNamespace:
    """The neutral namespace over a TensorFlow-shaped ``module``."""
    names: dict[str, Any] = {}
    for name in NEUTRAL_NAMES + EXTENDED_NAMES:
        target: Any = module
        for part in _SUBMODULE_NAMES.get(name, name).split("."):
            target = getattr(target, part)
        names[name] = _on_device(module, target, device) if name in _CREATION else target
    return types.SimpleNamespace(**names)


class TfShapedAdapter:
    """What the TensorFlow and reference adapters share: TF's API, errors and mapping table.

    A subclass names its ``module()`` (imported on first use), the ``tensor_types()`` that count as
    tensors, and the ``logger`` its warnings go to; it adds availability, version and devices.
    """

    name: str
    logger: str

    def module(self) -> Any:
        raise NotImplementedError

    def tensor_types(self) -> tuple[type, ...]:
        raise NotImplementedError

    def features(self, device: str | None = None) -> Mapping[str, str | None]:
        return {name: None for name in FEATURES}

    def namespace(self, device: str) -> Any:
        return tf_namespace(self.module(), device)

    def to_numpy(self, value: Any) -> Any:
        return value.numpy() if self.is_tensor(value) else value

    def dtype_name(self, value: Any) -> str:
        return value.dtype.name

    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, self.tensor_types())

    def classify_error(self, error: BaseException) -> ErrorKind:
        return classify_tf_error(error)

    def warning_loggers(self) -> Sequence[str]:
        return [self.logger]

    def mappings(self) -> Sequence[Mapping_]:
        return TF_MAPPINGS

    def divergences_path(self) -> str | None:
        return None  # TensorFlow is the spec; the reference must not diverge from it


TF_MAPPINGS: Sequence[Mapping_] = (
    Mapping_(
        "every neutral name",
        "the module's own function of that name",
        "the neutral API is TensorFlow's; no translation",
    ),
    Mapping_("relu, softmax", "nn.relu, nn.softmax", "TensorFlow keeps them in tf.nn"),
    Mapping_(
        "log, real, imag, conj",
        "math.log, math.real, math.imag, math.conj",
        "TensorFlow keeps them in tf.math",
    ),
    Mapping_(
        "ceil, reciprocal (1.2, extended_ops)",
        "math.ceil, math.reciprocal",
        "TensorFlow keeps them in tf.math",
    ),
    Mapping_(
        "constant, Variable, zeros, ones, range",
        "run under tf.device(device)",
        "places a scenario's tensors on the cell's device",
    ),
)
