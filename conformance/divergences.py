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

import builtins
import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

try:  # Python 3.11+; on 3.10 the same parser is the `tomli` dependency
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

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
    expect = Raises(
        kind,
        _builtin_type(scenario_id, entry.get("type"), where),
        _regex(scenario_id, entry.get("match"), where),
        warns_tuple,
    )
    return Divergence(scenario_id, reason, expect, where)


def _builtin_type(scenario_id: str, name: object, where: str) -> str | None:
    """``type``: the name of a builtin exception class (what an observed error's type is)."""
    if name is None:
        return None
    found = getattr(builtins, name, None) if isinstance(name, str) else None
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise DivergenceFileError(
            f'{where}: [{scenario_id}] type = {name!r} is not a builtin exception name; write the '
            'nearest builtin type as a string, e.g. type = "RuntimeError" (or leave type out)'
        )
    return name  # type: ignore[return-value]


def _regex(scenario_id: str, pattern: object, where: str) -> str | None:
    """``match``: a regular expression searched in the error message, checked now (not when
    the first cell runs)."""
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise DivergenceFileError(
            f"{where}: [{scenario_id}] match = {pattern!r} must be a string (a regular expression)"
        )
    try:
        re.compile(pattern)
    except re.error as error:
        raise DivergenceFileError(
            f"{where}: [{scenario_id}] match = {pattern!r} is not a valid regular expression "
            f"({error}); escape special characters with a backslash, e.g. '\\(' for '('"
        ) from None
    return pattern


def _unquoted_dotted_ids(data: dict[str, object], prefix: str = "") -> list[str]:
    """The ids of entries that TOML read as nested tables, because ``[a.b]`` was not quoted."""
    found = []
    for key, value in data.items():
        if not isinstance(value, dict):
            continue
        if set(value) & _KEYS:  # an entry; one below the top level had a dotted, unquoted id
            found += [f"{prefix}{key}"] if prefix else []
        else:
            found += _unquoted_dotted_ids(value, f"{prefix}{key}.")
    return found


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DivergenceFileError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DivergenceFileError(
            f"{path}:{line}: not UTF-8 (byte {data[error.start]:#04x}); save the file as UTF-8"
        ) from None


def load_divergences(
    path: str | Path,
    known_ids: Iterable[str] | None = None,
    *,
    spec: Mapping[str, Expectation] | None = None,
) -> dict[str, Divergence]:
    """Read and check a whole divergence file; entries for unknown scenario ids warn (they match
    nothing). With ``spec`` (scenario id -> the spec's expectation), an entry that declares the
    spec's own expectation is an error: it would turn a conforming cell into a divergence.

    Every problem is a ``DivergenceFileError`` naming the file, the line and the fix.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DivergenceFileError(f"{path}: not valid TOML: {error}") from None
    dotted = _unquoted_dotted_ids(data)
    if dotted:
        scenario_id = dotted[0]
        raise DivergenceFileError(
            f"{path}:{_line_of(text, scenario_id)}: [{scenario_id}] must be quoted: write "
            f'["{scenario_id}"] (TOML reads an unquoted dotted key as nested tables)'
        )
    divergences = {
        scenario_id: _parse_entry(scenario_id, entry, f"{path}:{_line_of(text, scenario_id)}")
        for scenario_id, entry in data.items()
    }
    for scenario_id, divergence in divergences.items():
        expected = (spec or {}).get(scenario_id)
        if expected is not None and divergence.expect.describe() == expected.describe():
            raise DivergenceFileError(
                f"{divergence.location}: [{scenario_id}] declares what the spec expects "
                f"({expected.describe()}), which is no divergence; remove the entry"
            )
    if known_ids is not None:
        known = set(known_ids)
        for scenario_id, divergence in divergences.items():
            if scenario_id not in known:
                warnings.warn(
                    f"{divergence.location}: divergence for unknown scenario {scenario_id!r} matches nothing",
                    stacklevel=2,
                )
    return divergences
