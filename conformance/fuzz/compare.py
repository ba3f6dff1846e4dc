"""Comparing two observations of one generated program, with the catalogue's own rules.

TensorFlow's observation becomes an expectation (``expectation_of``): its values with dtype and
shape, its ``None`` leaves, or its error kind, builtin type and exact message; then the same
``conformance.outcome.mismatch`` that judges every catalogue cell judges the other observation
against it. The reference must match exactly (warnings included, counted). Other frameworks
are compared more loosely (``classify``): where both return values, the numbers must agree; a
difference in outcome class (value, ``None``, which error kind) goes to the adapter's
divergence profile instead.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

try:  # Python 3.11+; on 3.10 the same parser is the `tomli` dependency
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from conformance.expect import TensorLeaf, Value, match_tree, raises, returns
from conformance.outcome import ErrorInfo, Observation, mismatch
from conformance.protocol import ErrorKind

__all__ = [
    "Comparison",
    "classify",
    "expectation_of",
    "expectation_source",
    "observation_from_record",
    "outcome_class",
    "reference_difference",
]


# ---- records back into observations ---------------------------------------------------------


def _number(data: Any) -> Any:
    if isinstance(data, list):
        return [_number(item) for item in data]
    if isinstance(data, dict):
        return complex(_number(data["real"]), _number(data["imag"]))
    if isinstance(data, str) and data in ("nan", "inf", "-inf"):
        return float(data)
    return data


def tree_from_json(data: Any) -> Any:
    """The inverse of ``records.tree_to_json``: tensors become ``TensorLeaf`` again."""
    if isinstance(data, list):
        return [tree_from_json(item) for item in data]
    if isinstance(data, dict):
        if "dict" in data and len(data) == 1:
            return {key: tree_from_json(item) for key, item in data["dict"].items()}
        if {"dtype", "shape", "value"} <= set(data):
            numpy_dtype = None if data["dtype"] in ("string", "python") else data["dtype"]
            try:
                array = np.asarray(_number(data["value"]), dtype=numpy_dtype)
            except TypeError:  # a dtype NumPy does not know (bfloat16, ...): keep the numbers
                array = np.asarray(_number(data["value"]))
            return TensorLeaf(array.reshape(data["shape"]), data["dtype"])
        if set(data) == {"real", "imag"}:
            return _number(data)
    return _number(data)


def observation_from_record(record: dict[str, Any]) -> Observation:
    error = record.get("error")
    return Observation(
        value=None if error else tree_from_json(record.get("value")),
        error=None
        if not error
        else ErrorInfo(
            ErrorKind(error["kind"]), error["type"], error["native_type"], error["message"]
        ),
        warnings=list(record.get("warnings", [])),
        seconds=float(record.get("seconds", 0.0)),
    )


# ---- TensorFlow's observation as an expectation --------------------------------------------


def expected_tree(tree: Any) -> Any:
    if isinstance(tree, TensorLeaf):  # the array itself: an empty (0, 3) keeps its shape
        return Value(tree.array, tree.dtype)
    if isinstance(tree, dict):
        return {key: expected_tree(item) for key, item in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [expected_tree(item) for item in tree]
    if isinstance(tree, float):
        return Value(tree, "python")
    return tree


def expectation_of(observation: Observation) -> Any:
    """What ``observation`` did, as an exact expectation (full-match of the message)."""
    warns = observation.warnings or None
    if observation.error is not None:
        error = observation.error
        return raises(error.kind, error.type, f"^{re.escape(error.message)}$", warns=warns)
    return returns(expected_tree(observation.value), warns=warns)


#: Warnings TensorFlow logs or not depending on what ran before in the process: the retracing
#: warning of the functions ``jacobian``'s pfor traces (spec J08), and the "never used" warning a
#: TensorArray of a non-vectorized Jacobian logs when the garbage collector happens to delete it
#: (during whichever program runs then). Never part of a comparison.
#: Also NumPy's floating-point RuntimeWarnings: reference_impl filters them out for its users
#: (TensorFlow's kernels emit none), but the observation's capture turns every filter to
#: "always"; TensorFlow never says these NumPy texts, so leaving them out hides nothing of it.
NONDETERMINISTIC_WARNINGS = (
    re.compile(r"triggered tf\.function retracing"),
    re.compile(r"Object was never used \(type <class 'tensorflow\.python\.ops\.tensor_array_ops"),
    re.compile(r"^(invalid value|divide by zero|overflow|underflow) encountered in \w+$"),
)


def deterministic(observation: Observation) -> Observation:
    """``observation`` without the warnings that depend on process history."""
    kept = [
        w for w in observation.warnings if not any(p.search(w) for p in NONDETERMINISTIC_WARNINGS)
    ]
    if len(kept) == len(observation.warnings):
        return observation
    return Observation(observation.value, observation.error, kept, observation.seconds)


@functools.cache
def accidents() -> tuple[tuple[re.Pattern[str], str], ...]:
    """``loose.toml``: TensorFlow messages the reference need not copy (pattern, spec id)."""
    data = tomllib.loads((Path(__file__).with_name("loose.toml")).read_text(encoding="utf-8"))
    return tuple((re.compile(entry["tensorflow"]), entry["spec"]) for entry in data["accident"])


def _accidental(tf: Observation, other: Observation) -> bool:
    """Both raised the same kind and type, and TensorFlow's message is a known accident."""
    if tf.error is None or other.error is None:
        return False
    same = (tf.error.kind, tf.error.type) == (other.error.kind, other.error.type)
    return same and any(pattern.search(tf.error.message) for pattern, _ in accidents())


def _undefined_rows_as_nan(tf: Any, other: Any) -> Any:
    """``tf``'s value tree with the float32 softmax accident of spec OP06 undone: in a float32
    leaf where TensorFlow has NaN, its 0s at the places where ``other`` has NaN become NaN.

    TensorFlow's float32 CPU softmax of a row holding NaN or inf gives NaN at those places and 0
    at the finite ones; its float64 and float16 kernels, and the reference for every dtype, give
    NaN for the whole row. Nothing else is forgiven: a leaf without NaN, or one differing anywhere
    ``other`` is a number, is compared as it is.
    """
    if isinstance(tf, (list, tuple)) and isinstance(other, (list, tuple)) and len(tf) == len(other):
        return type(tf)(_undefined_rows_as_nan(a, b) for a, b in zip(tf, other, strict=True))
    if isinstance(tf, dict) and isinstance(other, dict) and set(tf) == set(other):
        return {key: _undefined_rows_as_nan(tf[key], other[key]) for key in tf}
    if not (isinstance(tf, TensorLeaf) and isinstance(other, TensorLeaf)):
        return tf
    if tf.dtype != "float32" or tf.array.shape != other.array.shape:
        return tf
    ours, theirs = tf.array, np.asarray(other.array)
    if theirs.dtype.kind != "f" or not np.isnan(ours).any():
        return tf
    accident = (ours == 0) & np.isnan(theirs)
    if not accident.any():
        return tf
    return TensorLeaf(np.where(accident, np.float32("nan"), ours), tf.dtype, tf.extra)


def reference_difference(tf: Observation, other: Observation) -> str | None:
    """Why ``other`` is not exactly TensorFlow's observation ``tf``, or ``None``."""
    tf, other = deterministic(tf), deterministic(other)
    if _accidental(tf, other):
        tf = Observation(tf.value, other.error, tf.warnings)
    if tf.error is None and other.error is None:
        tf = Observation(_undefined_rows_as_nan(tf.value, other.value), None, tf.warnings)
    found = mismatch(expectation_of(tf), other)
    if found is not None:
        return found
    if Counter(tf.warnings) != Counter(other.warnings):
        return f"warnings={other.warnings}, but should be exactly {tf.warnings}"
    return None


# ---- other frameworks: outcome classes and value agreement ---------------------------------


def outcome_class(observation: Observation) -> str:
    """``raises <kind>`` or ``returns``; ``None`` leaves are classes of their own in ``classify``."""
    if observation.error is not None:
        return f"raises {observation.error.kind.value}"
    return "returns"


@dataclass(frozen=True)
class Comparison:
    """How an adapter's observation relates to TensorFlow's.

    ``agree``; ``profile`` (the outcome classes differ: ``key`` is the pair); or ``finding``
    (both returned values and the numbers disagree: ``detail`` says where).
    """

    verdict: str
    key: tuple[str, str] | None = None
    detail: str = ""


def classify(tf: Observation, other: Observation) -> Comparison:
    tf_class, other_class = outcome_class(tf), outcome_class(other)
    if tf_class != other_class:
        return Comparison("profile", (tf_class, other_class), other.describe())
    if tf.error is not None:
        return Comparison("agree")
    return _compare_trees(tf.value, other.value, "")


def _compare_trees(tf: Any, other: Any, path: str) -> Comparison:
    if isinstance(tf, dict) or isinstance(tf, (list, tuple)):
        same_kind = (
            isinstance(other, dict) if isinstance(tf, dict) else isinstance(other, (list, tuple))
        )
        keys = sorted(tf) if isinstance(tf, dict) else range(len(tf))
        if (
            not same_kind
            or len(other) != len(tf)
            or (isinstance(tf, dict) and set(tf) != set(other))
        ):
            return Comparison("profile", ("structure", "other structure"), f"{path or 'result'}")
        for key in keys:
            found = _compare_trees(tf[key], other[key], f"{path}[{key!r}]")
            if found.verdict != "agree":
                return found
        return Comparison("agree")
    if (tf is None) != (other is None):
        pair = ("None", "value") if tf is None else ("value", "None")
        return Comparison("profile", pair, f"{path or 'result'}")
    if tf is None:
        return Comparison("agree")
    found = match_tree(other, expected_tree(tf), path)
    if found is None:
        return Comparison("agree")
    if ".dtype" in found.path or found.path == "dtype":
        return Comparison(
            "profile", (f"dtype {found.expected}", f"dtype {found.observed}"), str(found)
        )
    if ".shape" in found.path or found.path == "shape":
        return Comparison("profile", ("shape", "other shape"), str(found))
    return Comparison("finding", None, str(found))


# ---- a finding as a ready-to-paste scenario --------------------------------------------------


def _python_tree(tree: Any) -> str:
    if isinstance(tree, TensorLeaf):
        data = tree.array.tolist()
        if tree.dtype == "python":
            return repr(data)
        return f"value({data!r}, dtype={tree.dtype!r})"
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {_python_tree(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, (list, tuple)):
        return "[" + ", ".join(_python_tree(item) for item in tree) + "]"
    return repr(tree)


def expectation_source(observation: Observation) -> str:
    """``observation`` as the source of a catalogue expectation (``returns(...)``/``raises(...)``)."""
    warns = f", warns={observation.warnings!r}" if observation.warnings else ""
    if observation.error is not None:
        error = observation.error
        match = re.escape(error.message[:80])
        return f"raises(ErrorKind.{error.kind.name}, {error.type!r}, match={match!r}{warns})"
    return f"returns({_python_tree(observation.value)}{warns})"
