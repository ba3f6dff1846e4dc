"""The JSON form of cells, observations and scenarios: what ``results.json`` holds.

The worker turns each ``conformance.outcome.Cell`` into a record with these functions and the
parent process builds its own records (crashed, timed out, unavailable) with the same ones, so
every record has one shape: the one ``conformance/schema/results.schema.json`` describes.

Observed trees keep their structure: lists and tuples become JSON arrays, dicts become
``{"dict": {...}}`` (as in divergence files), tensors become ``{"dtype", "shape", "value"}`` with
NaN and infinities written as the strings ``"nan"``, ``"inf"``, ``"-inf"`` (JSON has no such
numbers) and complex numbers as ``{"real", "imag"}``.

Example::

    >>> tree_to_json([None, float("nan"), {"g": 2}])
    [None, 'nan', {'dict': {'g': 2}}]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from conformance.divergences import Divergence
from conformance.expect import TensorLeaf
from conformance.outcome import Cell, Observation
from conformance.registry import Scenario

__all__ = [
    "SCHEMA_VERSION",
    "cell_record",
    "divergence_record",
    "neutral_source",
    "number_to_json",
    "observation_record",
    "scenario_record",
    "text_safe",
    "tree_to_json",
]

#: Bumped whenever a field of results.json changes meaning or disappears (adding one is compatible).
SCHEMA_VERSION = 1


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (a non-UTF-8 path decoded with surrogateescape)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def text_safe(tree: Any) -> Any:
    """``tree`` (JSON data) with every string UTF-8 encodable: a lone surrogate, which a
    framework message can hold but no UTF-8 file can, becomes its ``\\udcxx`` escape.

    >>> text_safe({"message": "no file /tmp/\\udcff"})
    {'message': 'no file /tmp/\\\\udcff'}
    """
    if isinstance(tree, str):
        return _encodable(tree)
    if isinstance(tree, dict):
        return {_encodable(str(key)): text_safe(item) for key, item in tree.items()}
    if isinstance(tree, list):
        return [text_safe(item) for item in tree]
    return tree


def number_to_json(number: Any) -> Any:
    """A Python or NumPy scalar as JSON: finite floats stay numbers, the others become strings."""
    if isinstance(number, (bool, np.bool_)):
        return bool(number)
    if isinstance(number, (int, np.integer)):
        return int(number)
    if isinstance(number, (complex, np.complexfloating)):
        return {"real": number_to_json(number.real), "imag": number_to_json(number.imag)}
    if isinstance(number, (float, np.floating)):
        value = float(number)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    return str(number)


def _array_to_json(data: Any) -> Any:
    if isinstance(data, list):
        return [_array_to_json(item) for item in data]
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    if isinstance(data, str):
        return data
    return number_to_json(data)


def tree_to_json(tree: Any) -> Any:
    """An observed tree (with ``TensorLeaf`` leaves) as JSON-ready data."""
    if tree is None or isinstance(tree, (bool, str)):
        return tree
    if isinstance(tree, TensorLeaf):
        array = np.asarray(tree.array)
        return {
            "dtype": tree.dtype,
            "shape": list(array.shape),
            "value": _array_to_json(array.tolist()),
        }
    if isinstance(tree, (int, float, complex, np.generic)):
        return number_to_json(tree)
    if isinstance(tree, bytes):
        return tree.decode("utf-8", "replace")
    if isinstance(tree, dict):
        return {"dict": {str(key): tree_to_json(item) for key, item in tree.items()}}
    if isinstance(tree, (list, tuple)):
        return [tree_to_json(item) for item in tree]
    return repr(tree)


def observation_record(observation: Observation | None) -> dict[str, Any] | None:
    """What a scenario returned or raised, its warnings and its run time."""
    if observation is None:
        return None
    error = observation.error
    return {
        "outcome": "raised" if error is not None else "returned",
        "value": None if error is not None else tree_to_json(observation.value),
        "error": None
        if error is None
        else {
            "kind": error.kind.value,
            "type": error.type,
            "native_type": error.native_type,
            "message": error.message,
        },
        "warnings": [str(message) for message in observation.warnings],
        "seconds": round(float(observation.seconds), 6),
        "summary": observation.describe(),
    }


def divergence_record(divergence: Divergence | None) -> dict[str, Any] | None:
    """An adapter's declared divergence for one scenario: why, what instead, and where declared."""
    if divergence is None:
        return None
    return {
        "reason": divergence.reason,
        "expectation": divergence.expect.describe(),
        "location": divergence.location,
    }


def neutral_source(scenario: Scenario) -> str:
    """The scenario function's code from its ``def`` line on."""
    return scenario.source


def scenario_record(scenario: Scenario) -> dict[str, Any]:
    """A scenario's description, with its neutral source code."""
    return {
        "id": scenario.id,
        "area": scenario.area,
        "statement": scenario.statement,
        "spec": scenario.spec,
        "expectation": scenario.expect.describe(),
        "features": list(scenario.features),
        "timeout_s": scenario.timeout_s,
        "source": neutral_source(scenario),
    }


def cell_record(
    scenario: Scenario,
    cell: Cell,
    divergence: dict[str, Any] | None,
) -> dict[str, Any]:
    """One scenario × adapter × device result; an empty ``cell.device`` (an adapter that could
    not say which devices it has, because it is unavailable) becomes ``null``."""
    return {
        "id": scenario.id,
        "area": scenario.area,
        "statement": scenario.statement,
        "spec": scenario.spec,
        "expectation": scenario.expect.describe(),
        "adapter": cell.adapter,
        "device": cell.device or None,
        "verdict": cell.verdict.value,
        "detail": cell.detail,
        "observation": observation_record(cell.observation),
        "divergence": divergence,
    }
