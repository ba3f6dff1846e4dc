"""Declared divergences: per adapter, what the framework does instead of the spec, and why.

A divergence file is TOML, one table per scenario id::

    ["watching.unwatched_constant"]
    reason = "PyTorch has no tape scope: a tensor that does not require grad has no grad_fn."
    raises = "not_differentiable"          # a neutral ErrorKind ...
    type = "RuntimeError"                  # ... optionally its builtin type
    match = "does not require grad"        # ... and a regex on the message

    ["watching.op_before_tape"]
    reason = "..."
    returns = "10.0"                       # or: the returned tree, as JSON (null = None)

Every entry needs ``reason`` and exactly one of ``returns`` / ``raises``; ``warns`` (a list of
substrings, or a table ``{substring = times}``) is optional. A malformed file fails with its path and line.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tomllib

from conformance.expect import (
    Expectation,
    ExpectationSyntaxError,
    Raises,
    Returns,
    from_json,
    warns_from_json,
)
from conformance.protocol import ErrorKind

__all__ = ["Divergence", "DivergenceFileError", "load_divergences"]

_KEYS = {"reason", "returns", "raises", "type", "match", "warns"}


class DivergenceFileError(ValueError):
    """A divergence file that cannot be read; the message names the file, line and fix."""


@dataclass(frozen=True)
class Divergence:
    scenario_id: str
    reason: str
    expect: Expectation
    location: str  # "path:line" of the entry, for messages


def _line_of(text: str, scenario_id: str) -> int:
    pattern = re.compile(
        r'^[ \t]*\[[ \t]*"?' + re.escape(scenario_id) + r'"?[ \t]*\]', re.MULTILINE
    )
    found = pattern.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _parse_entry(scenario_id: str, entry: object, where: str) -> Divergence:
    if not isinstance(entry, dict):
        raise DivergenceFileError(f"{where}: [{scenario_id}] must be a table")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise DivergenceFileError(
            f"{where}: [{scenario_id}] has unknown keys {unknown}; valid keys: {sorted(_KEYS)}"
        )
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise DivergenceFileError(f'{where}: [{scenario_id}] needs a non-empty reason = "..."')
    if ("returns" in entry) == ("raises" in entry):
        raise DivergenceFileError(f"{where}: [{scenario_id}] needs exactly one of returns / raises")
    try:  # a list of substrings, or a table {substring = times}
        warns_tuple = warns_from_json(entry.get("warns"))
    except ExpectationSyntaxError as error:
        raise DivergenceFileError(f"{where}: [{scenario_id}] {error}") from None
    if "returns" in entry:
        if "type" in entry or "match" in entry:
            raise DivergenceFileError(f"{where}: [{scenario_id}] type/match go with raises only")
        try:
            tree = from_json(json.loads(entry["returns"]))
        except (TypeError, json.JSONDecodeError, ExpectationSyntaxError) as error:
            raise DivergenceFileError(
                f"{where}: [{scenario_id}] returns must be a JSON string (null for None): {error}"
            ) from None
        return Divergence(scenario_id, reason, Returns(tree, warns_tuple), where)
    try:
        kind = ErrorKind(entry["raises"])
    except ValueError:
        valid = ", ".join(k.value for k in ErrorKind)
        raise DivergenceFileError(
            f"{where}: [{scenario_id}] raises = {entry['raises']!r} is not an error kind; valid: {valid}"
        ) from None
    expect = Raises(kind, entry.get("type"), entry.get("match"), warns_tuple)
    return Divergence(scenario_id, reason, expect, where)


def load_divergences(
    path: str | Path, known_ids: Iterable[str] | None = None
) -> dict[str, Divergence]:
    """Read a divergence file; entries for unknown scenario ids warn (they match nothing)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DivergenceFileError(f"{path}: not valid TOML: {error}") from None
    divergences = {
        scenario_id: _parse_entry(scenario_id, entry, f"{path}:{_line_of(text, scenario_id)}")
        for scenario_id, entry in data.items()
    }
    if known_ids is not None:
        known = set(known_ids)
        for scenario_id, divergence in divergences.items():
            if scenario_id not in known:
                warnings.warn(
                    f"{divergence.location}: divergence for unknown scenario {scenario_id!r} matches nothing",
                    stacklevel=2,
                )
    return divergences
