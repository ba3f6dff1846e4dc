"""Expectations: what a scenario should give back, in a small language shared with divergence files.

An expectation is either ``Returns(tree)`` or ``Raises(kind, ...)``. A returned tree mirrors the
scenario's return value: lists/tuples/dicts of leaves, where a leaf is

- ``None`` — the framework must return ``None`` there;
- a Python float — a scalar tensor (or float) close to it, float32 unless ``value(..., dtype=)``;
- a Python int / bool / str — exactly that Python value (counts, identity checks, flags);
- ``value(x, dtype=None)`` — a tensor with this value (scalar or nested list), shape and dtype;
- ``ANY`` — anything but ``None`` (for values the spec leaves undefined);
- ``any_value(dtype=, shape=)`` — a tensor of this dtype and shape whose numbers are not checked
  (where only the shape and dtype are the point, or the numbers are garbage by design).

``warns=`` takes substrings that some warning must contain (a list), or how many warnings must
contain each one (a dict ``{substring: times}``; 0 means "never warns").

Divergence files write the same thing as JSON (see ``from_json`` and ``warns_from_json``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance.protocol import ErrorKind

__all__ = [
    "ANY",
    "AnyValue",
    "Either",
    "Expectation",
    "ExpectationSyntaxError",
    "Raises",
    "Returns",
    "Value",
    "Warns",
    "any_value",
    "either",
    "from_json",
    "raises",
    "returns",
    "value",
    "warnings_mismatch",
    "warns_from_json",
]

#: Per-dtype tolerances (JAX ``check_grads``'s table); never scaled with array size.
TOLERANCES = {
    "float16": 1e-2,
    "bfloat16": 1e-2,
    "float32": 2e-3,
    "float64": 1e-5,
    "complex64": 2e-3,
    "complex128": 1e-5,
}


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


@dataclass(frozen=True)
class Value:
    """An expected tensor: its value (nested lists for arrays) and, if given, its dtype."""

    data: Any
    dtype: str | None = "float32"

    def __repr__(self) -> str:
        return f"value({self.data!r}, dtype={self.dtype!r})"


def value(data: Any, dtype: str | None = "float32") -> Value:
    """An expected tensor; ``dtype=None`` leaves the dtype unchecked."""
    return Value(data, dtype)


@dataclass(frozen=True)
class AnyValue:
    """An expected tensor whose numbers are not checked: only its dtype and shape (when given)."""

    dtype: str | None = "float32"
    shape: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        shape = list(self.shape) if self.shape is not None else None
        return f"any_value(dtype={self.dtype!r}, shape={shape!r})"


def any_value(dtype: str | None = "float32", shape: Sequence[int] | None = None) -> AnyValue:
    """A tensor of ``dtype`` and ``shape`` with any numbers; ``None`` leaves that part unchecked.

    >>> any_value("float32", [2])
    any_value(dtype='float32', shape=[2])
    """
    if shape is not None and not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ExpectationSyntaxError(f"any_value shape must be non-negative ints, got {shape!r}")
    return AnyValue(dtype, tuple(shape) if shape is not None else None)


#: Expected warnings: (substring, exact count or ``None`` for "at least once"), in order.
Warns = tuple[tuple[str, "int | None"], ...]


def _warns(warns: Sequence[str] | dict[str, int] | None) -> Warns | None:
    """Normalize ``warns=``: a list of substrings (each at least once) or {substring: times}."""
    if warns is None:
        return None
    if isinstance(warns, str):
        raise ExpectationSyntaxError(f"warns= takes a list of substrings, not the string {warns!r}")
    if isinstance(warns, dict):
        for text, times in warns.items():
            if not isinstance(text, str) or isinstance(times, bool) or not isinstance(times, int) \
                    or times < 0:
                raise ExpectationSyntaxError(
                    f"warns= entry {text!r}: {times!r}: use {{substring: times}} with times >= 0"
                )
        return tuple(warns.items())
    if not all(isinstance(text, str) for text in warns):
        raise ExpectationSyntaxError(f"warns= takes substrings, got {list(warns)!r}")
    return tuple((text, None) for text in warns)


def _describe_warns(warns: Warns | tuple[str, ...]) -> str:
    parts = []
    for item in warns:
        text, times = (item, None) if isinstance(item, str) else item
        parts.append(repr(text) if times is None else f"{text!r} {times} time(s)")
    return f" and warns {', '.join(parts)}"


@dataclass(frozen=True)
class Returns:
    tree: Any
    warns: Warns | None = None  # (substring, times or None = at least once); see ``returns``

    def describe(self) -> str:
        text = f"returns {render_tree(self.tree)}"
        if self.warns:
            text += _describe_warns(self.warns)
        return text


@dataclass(frozen=True)
class Raises:
    kind: ErrorKind
    type: str | None = None  # the builtin exception type name, e.g. "RuntimeError"
    match: str | None = None  # a regex searched in the message
    warns: Warns | None = None

    def describe(self) -> str:
        text = f"raises {self.kind.value}"
        if self.type:
            text += f" ({self.type})"
        if self.match:
            text += f" matching {self.match!r}"
        if self.warns:
            text += _describe_warns(self.warns)
        return text


@dataclass(frozen=True)
class Either:
    """Any one of several outcomes: for behaviour the spec documents as undefined."""

    options: tuple[Returns | Raises, ...]
    warns: Warns | None = None

    def describe(self) -> str:
        return " or ".join(option.describe() for option in self.options)


Expectation = Returns | Raises | Either


def either(*options: Returns | Raises) -> Either:
    """The scenario may do any one of ``options`` (the spec leaves the behaviour undefined)."""
    if len(options) < 2:
        raise ExpectationSyntaxError("either() needs at least two outcomes")
    return Either(tuple(options))


def returns(tree: Any, *, warns: Sequence[str] | dict[str, int] | None = None) -> Returns:
    """The scenario returns ``tree`` (see the module docstring for its leaves and ``warns``)."""
    return Returns(tree, _warns(warns))


def raises(
    kind: ErrorKind | str,
    type: str | None = None,  # noqa: A002 - mirrors the field name
    match: str | None = None,
    *,
    warns: Sequence[str] | dict[str, int] | None = None,
) -> Raises:
    """The scenario raises an error of this neutral ``kind`` (and builtin ``type``, ``match``)."""
    return Raises(ErrorKind(kind), type, match, _warns(warns))


def warnings_mismatch(expected: Warns | tuple[str, ...] | None, observed: list[str]) -> str | None:
    """Why the observed warning messages do not satisfy ``warns=``, or ``None`` when they do.

    A bare substring must appear in some warning; ``(substring, n)`` in exactly ``n`` of them.
    """
    for item in expected or ():
        text, times = (item, None) if isinstance(item, str) else item
        count = sum(text in message for message in observed)
        if times is None and count == 0:
            return f"warnings={observed}, but should include {text!r}"
        if times is not None and count != times:
            return f"warnings={observed}, but {text!r} should appear {times} time(s), not {count}"
    return None


# ---- rendering --------------------------------------------------------------------------------


def render_tree(tree: Any) -> str:
    """A short, readable rendering of an expected or observed tree."""
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {render_tree(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, list):
        return "[" + ", ".join(render_tree(v) for v in tree) + "]"
    if isinstance(tree, tuple):
        inner = ", ".join(render_tree(v) for v in tree)
        return f"({inner},)" if len(tree) == 1 else f"({inner})"
    return repr(tree)


# ---- JSON form (divergence files) ------------------------------------------------------------


class ExpectationSyntaxError(ValueError):
    """A JSON expectation that does not follow the language; the message says what is valid."""


def _complex_strings(data: Any) -> Any:
    """Nested value data with complex numbers written as strings ("(2+4j)") turned into complex."""
    if isinstance(data, list):
        return [_complex_strings(item) for item in data]
    if isinstance(data, str):
        try:
            return complex(data)
        except ValueError:
            raise ExpectationSyntaxError(
                f"cannot read {data!r} inside a value as a number: write complex numbers like \"(2+4j)\""
            ) from None
    return data


def from_json(data: Any) -> Any:
    """Turn a decoded JSON tree into an expected tree.

    ``null`` → None; numbers, strings, booleans → themselves; lists → lists; ``{"value": x,
    "dtype": "float32"}`` → ``value(x, dtype)``; ``{"any": true}`` → ``ANY``; ``{"any": true,
    "dtype": "float32", "shape": [2]}`` → ``any_value("float32", [2])`` (a tensor of that dtype and
    shape, numbers unchecked; either key may be left out, ``"dtype": null`` leaves it unchecked);
    ``{"dict": {...}}`` → a dict of trees. JSON has no complex numbers or NaN in the standard: inside ``value``, a
    complex number is written as a string in Python's form (``"(2+4j)"``), and NaN / infinities
    as the bare ``NaN`` / ``Infinity`` that Python's JSON reads.
    """
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_json(item) for item in data]
    if isinstance(data, dict):
        if set(data) <= {"value", "dtype"} and "value" in data:
            return Value(_complex_strings(data["value"]), data.get("dtype", "float32"))
        if data == {"any": True}:
            return ANY
        if data.get("any") is True and set(data) <= {"any", "dtype", "shape"}:
            return any_value(data.get("dtype", "float32"), data.get("shape"))
        if set(data) == {"dict"} and isinstance(data["dict"], dict):
            return {key: from_json(item) for key, item in data["dict"].items()}
    raise ExpectationSyntaxError(
        f"cannot read {data!r} as an expected value: use null, a number, a string, a boolean, "
        'a list, {"value": ..., "dtype": ...}, {"any": true}, {"any": true, "dtype": ..., '
        '"shape": [...]} or {"dict": {...}}'
    )


def warns_from_json(data: Any) -> Warns | None:
    """A divergence file's ``warns``: a list of substrings, or a table {substring = times}."""
    try:
        return _warns(data)
    except (ExpectationSyntaxError, TypeError) as error:
        raise ExpectationSyntaxError(
            f"cannot read warns={data!r}: use a list of substrings or a table of substring = times"
            f" ({error})"
        ) from None


# ---- matching ---------------------------------------------------------------------------------


@dataclass
class Mismatch:
    """Where an observed tree differs from the expected one."""

    path: str
    observed: str
    expected: str

    def __str__(self) -> str:
        return f"{self.path or 'result'}={self.observed}, but should be {self.expected}"


@dataclass
class TensorLeaf:
    """An observed tensor, already converted to NumPy by the adapter."""

    array: np.ndarray
    dtype: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        data = self.array.tolist()
        return f"{data!r} ({self.dtype}{list(self.array.shape) if self.array.ndim else ''})"


def tolerance(dtype: str) -> float:
    return TOLERANCES.get(dtype, 0.0)


def _close(observed: np.ndarray, expected: np.ndarray, tol: float) -> bool:
    if observed.shape != expected.shape:
        return False
    if observed.dtype.kind in "biu" and expected.dtype.kind in "biu":
        return bool(np.array_equal(observed, expected))
    obs = observed.astype(np.complex128)
    exp = expected.astype(np.complex128)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is handled as a special value
        return _close_parts(obs, exp, tol)


def _close_parts(obs: np.ndarray, exp: np.ndarray, tol: float) -> bool:
    for part in (np.real, np.imag):
        o, e = part(obs), part(exp)
        same_special = (np.isnan(o) & np.isnan(e)) | (np.isinf(o) & (o == e))
        finite = np.isfinite(o) & np.isfinite(e)
        near = np.abs(o - e) <= tol * (1.0 + np.abs(e))
        if not np.all(same_special | (finite & near)):
            return False
    return True


def match_tree(observed: Any, expected: Any, path: str = "") -> Mismatch | None:
    """The first difference between an observed tree and an expected tree, or ``None``.

    Lists and tuples are both sequences here: frameworks differ in which they return, and the
    spec cares about order and length, not the container type.
    """
    if expected is ANY:
        return None if observed is not None else Mismatch(path, "None", "a value")
    if isinstance(expected, AnyValue):
        return _match_any_value(observed, expected, path)
    if expected is None:
        return None if observed is None else Mismatch(path, repr(observed), "None")
    if isinstance(expected, dict):
        if not isinstance(observed, dict) or set(observed) != set(expected):
            return Mismatch(path, repr(observed), f"a dict with keys {sorted(expected)}")
        for key in expected:
            found = match_tree(observed[key], expected[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(observed, (list, tuple)) or len(observed) != len(expected):
            return Mismatch(
                path, repr(observed), f"a sequence of {len(expected)}: {render_tree(expected)}"
            )
        for index, (obs, exp) in enumerate(zip(observed, expected, strict=True)):
            found = match_tree(obs, exp, f"{path}[{index}]")
            if found:
                return found
        return None
    return _match_leaf(observed, expected, path)


def _match_leaf(observed: Any, expected: Any, path: str) -> Mismatch | None:
    if isinstance(expected, bool) or isinstance(expected, str):
        ok = type(observed) is type(expected) and observed == expected
        return None if ok else Mismatch(path, repr(observed), repr(expected))
    if isinstance(expected, int) and not isinstance(observed, TensorLeaf):
        ok = isinstance(observed, int) and not isinstance(observed, bool) and observed == expected
        return None if ok else Mismatch(path, repr(observed), repr(expected))
    if isinstance(expected, (int, float, complex)):
        expected = Value(expected, "float32" if isinstance(expected, float) else None)
    if not isinstance(expected, Value):
        raise ExpectationSyntaxError(f"unknown expected leaf {expected!r} at {path or 'result'}")
    if observed is None:
        return Mismatch(path, "None", repr(expected.data))
    if isinstance(observed, (int, float, complex)) and not isinstance(observed, bool):
        observed = TensorLeaf(np.asarray(observed), "python")
    if not isinstance(observed, TensorLeaf):
        return Mismatch(path, repr(observed), f"a tensor {expected.data!r}")
    if expected.dtype and observed.dtype not in (expected.dtype, "python"):
        return Mismatch(f"{path}.dtype" if path else "dtype", observed.dtype, expected.dtype)
    want = np.asarray(expected.data)
    if want.shape != observed.array.shape:
        return Mismatch(
            f"{path}.shape" if path else "shape",
            str(list(observed.array.shape)),
            str(list(want.shape)),
        )
    tol = tolerance(expected.dtype or observed.dtype) or tolerance("float64")
    if not _close(observed.array, want, tol):
        return Mismatch(path, repr(observed), f"{expected.data!r} (tolerance {tol:g})")
    return None


def _match_any_value(observed: Any, expected: AnyValue, path: str) -> Mismatch | None:
    if not isinstance(observed, TensorLeaf):
        return Mismatch(path, repr(observed), repr(expected))
    if expected.dtype and observed.dtype != expected.dtype:
        return Mismatch(f"{path}.dtype" if path else "dtype", observed.dtype, expected.dtype)
    if expected.shape is not None and tuple(observed.array.shape) != expected.shape:
        return Mismatch(
            f"{path}.shape" if path else "shape",
            str(list(observed.array.shape)),
            str(list(expected.shape)),
        )
    return None


def isclose(a: float, b: float, tol: float) -> bool:
    """Scalar closeness with the suite's rule (NaN equals NaN, same-signed infinities are equal)."""
    if math.isnan(a) and math.isnan(b):
        return True
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * (1.0 + abs(b))


def message_matches(pattern: str | None, message: str) -> bool:
    return pattern is None or re.search(pattern, message) is not None
