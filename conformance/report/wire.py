"""The worker protocol, version 1: what a ``tapeconf report`` worker and its parent say to each other.

The parent starts ``PYTHON -m conformance.report.worker ADAPTER`` and talks to it in JSON lines:
the worker says hello (with ``"protocol": 1``), then answers each ``{"run": [scenario, device]}``
with one ``{"event": "cell", "record": {...}}``. docs/worker-protocol.md is the full description,
for a worker written in another language; this module is the parent's side of it: parsing
``--adapter`` values (``NAME``, ``module:attr``, ``NAME@PYTHON``) and checking every message, so
that anything else a worker writes becomes a ``ProtocolError`` that costs only the cell at hand.

    >>> parse_adapter_spec("tensorflow@envs/tf-2.12/bin/python").python
    'envs/tf-2.12/bin/python'
    >>> check_hello({"event": "hello", "protocol": 2, "adapter": {}}, "x")
    Traceback (most recent call last):
    ...
    conformance.report.wire.ProtocolError: worker speaks protocol 2, this tapeconf speaks 1
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from conformance.outcome import Verdict
from conformance.protocol import ErrorKind

__all__ = [
    "PROTOCOL_VERSION",
    "AdapterSpec",
    "ProtocolError",
    "adapter_block_defaults",
    "check_cell",
    "check_hello",
    "adapter_block_problem",
    "check_runtime",
    "decode_line",
    "missing_project_reason",
    "observation_problem",
    "parse_adapter_spec",
    "record_problem",
]

#: The version this tapeconf speaks; a worker whose hello carries another is refused.
PROTOCOL_VERSION = 1

#: How much of an offending line a protocol error quotes.
QUOTE_LIMIT = 200

VERDICTS = frozenset(v.value for v in Verdict)
ERROR_KINDS = frozenset(k.value for k in ErrorKind)


class ProtocolError(ValueError):
    """A worker wrote something that is not a valid message at this point of the protocol."""


@dataclass(frozen=True)
class AdapterSpec:
    """One ``--adapter`` value: ``NAME``, ``module:attr``, either one ``@PYTHON``.

    ``target`` is what the worker is given (an entry-point name or an import path); ``python`` is
    the interpreter that runs the worker, ``None`` for the one running tapeconf.
    """

    text: str
    target: str
    python: str | None

    @property
    def name(self) -> str:
        """The adapter's name as far as it can be known without loading it."""
        return self.target.rpartition(":")[2] if ":" in self.target else self.target


def parse_adapter_spec(text: str) -> AdapterSpec:
    """Split ``NAME@PYTHON`` at the first ``@`` (a module path or an adapter name has none)."""
    target, at, python = text.partition("@")
    return AdapterSpec(text, target, python if at else None)


def adapter_block_defaults(spec: str) -> dict[str, Any]:
    """The adapters-block entry of an adapter before (or without) its worker's description."""
    return {
        "name": parse_adapter_spec(spec).name,
        "spec": spec,
        "available": False,
        "reason": None,
        "error": None,
        "version": None,
        "devices": [],
        "features": {},
        "mappings": [],
        "divergences_file": None,
        "declared_divergences": 0,
    }


def missing_project_reason(python: str, stderr: str, project_root: str | None) -> str | None:
    """Why a worker under ``python`` could not start, when the cause is that ``conformance`` is
    not installed there (Python's "No module named 'conformance'"); else ``None``."""
    if not re.search(r"No module named '?conformance(\.report(\.worker)?)?'?(\W|$)", stderr):
        return None
    where = project_root or "<your tape-conformance checkout>"
    return (
        f"conformance is not importable by {python}: install this project there with "
        f"`{python} -m pip install --no-deps -e {where}`"
    )


def _quote(text: str) -> str:
    text = text.rstrip("\n")
    return repr(text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"the worker wrote {name}, which strict JSON has no literal for")


def decode_line(line: str) -> dict[str, Any]:
    """One line of a worker's stdout as a message object, or ``ProtocolError``."""
    try:
        message = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError:
        raise ProtocolError(f"the worker wrote a line that is not JSON: {_quote(line)}") from None
    except ValueError as error:
        raise ProtocolError(f"{error}: {_quote(line)}") from None
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        raise ProtocolError(f"the worker wrote JSON that is not a message: {_quote(line)}")
    return message


# ---- hello --------------------------------------------------------------------------------------

_BLOCK_TYPES: dict[str, tuple[type, ...]] = {
    "reason": (str, type(None)),
    "error": (str, type(None)),
    "version": (str, type(None)),
    "devices": (list,),
    "features": (dict,),
    "mappings": (list,),
    "divergences_file": (str, type(None)),
    "declared_divergences": (int,),
}


def check_hello(message: dict[str, Any], spec: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The adapters-block entry and the declared divergences a hello carries.

    Optional block fields a worker left out get their defaults; ``spec`` (the ``--adapter`` value,
    interpreter included) replaces the worker's own. Raises ``ProtocolError`` for anything else
    than a protocol-1 hello with a usable description.
    """
    if message.get("event") != "hello":
        raise ProtocolError(f"the worker's first message is not a hello: {_quote(str(message))}")
    version = message.get("protocol")
    if version != PROTOCOL_VERSION:
        said = "no protocol version" if version is None else f"protocol {version}"
        raise ProtocolError(f"worker speaks {said}, this tapeconf speaks {PROTOCOL_VERSION}")
    adapter = message.get("adapter")
    if not isinstance(adapter, dict) or not isinstance(adapter.get("name"), str):
        raise ProtocolError("the hello has no adapter object with a name")
    if not isinstance(adapter.get("available"), bool):
        raise ProtocolError("the hello's adapter has no boolean 'available'")
    block = {**adapter_block_defaults(spec), **adapter, "spec": spec}
    for key, kinds in _BLOCK_TYPES.items():
        if not isinstance(block[key], kinds) or isinstance(block[key], bool) and int in kinds:
            raise ProtocolError(f"the hello's adapter field {key!r} is {block[key]!r}")
    if block["available"] and not block["error"]:
        devices = block["devices"]
        if not devices or not all(isinstance(d, str) and d for d in devices):
            raise ProtocolError("an available adapter's hello must list its devices (strings)")
        if not isinstance(block["version"], str):
            raise ProtocolError("an available adapter's hello must give its version (a string)")
    notes = block.get("warnings", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ProtocolError("the hello's adapter field 'warnings' must be a list of strings")
    divergences = message.get("divergences") or {}
    if not isinstance(divergences, dict):
        raise ProtocolError("the hello's 'divergences' is not an object")
    return block, divergences


def check_runtime(message: dict[str, Any]) -> dict[str, Any] | None:
    """The hello's optional ``runtime`` (interpreter and packages), or ``None`` without one."""
    runtime = message.get("runtime")
    if runtime is None:
        return None
    fields = ("python", "implementation", "executable")
    if (
        not isinstance(runtime, dict)
        or any(not isinstance(runtime.get(k), str) for k in fields)
        or not isinstance(runtime.get("packages"), dict)
        or any(not isinstance(v, str) for v in runtime["packages"].values())
    ):
        raise ProtocolError(
            "the hello's runtime must hold the strings python, implementation, executable "
            "and packages (name -> version)"
        )
    return {k: runtime[k] for k in (*fields, "packages")}


# ---- cells --------------------------------------------------------------------------------------

_OBSERVATION_KEYS = ("outcome", "value", "error", "warnings", "seconds", "summary")
_ERROR_KEYS = ("kind", "type", "native_type", "message")


def check_cell(
    message: dict[str, Any],
    *,
    scenario_id: str,
    device: str,
    adapter: str,
    scenario_fields: dict[str, Any],
) -> dict[str, Any]:
    """The record in a worker's answer to ``{"run": [scenario_id, device]}``, or ``ProtocolError``.

    ``scenario_fields`` (area, statement, spec, expectation from the parent's catalogue) fill in
    what a worker left out.
    """
    if message.get("event") != "cell":
        raise ProtocolError(f"expected a cell, the worker sent {_quote(str(message))}")
    record = message.get("record")
    if not isinstance(record, dict):
        raise ProtocolError("the cell message has no 'record' object")
    record = {**scenario_fields, "detail": "", "observation": None, "divergence": None, **record}
    expected = {"id": scenario_id, "device": device, "adapter": adapter}
    for key, value in expected.items():
        if record.get(key) != value:
            raise ProtocolError(
                f"the record's {key} is {record.get(key)!r}, but {value!r} was asked for"
            )
    problem = record_problem(record)
    if problem is not None:
        raise ProtocolError(problem)
    return record


# ---- records, wherever they come from (a worker, a partial file, a results file) ----------------

_RECORD_STRINGS = ("id", "adapter", "detail")


def record_problem(record: Any) -> str | None:
    """What makes ``record`` not a cell record (see results.schema.json), or ``None``.

    The one check for records from a worker, from a partial file being resumed and from a
    results file being read, so that every reader can trust the fields it uses.
    """
    if not isinstance(record, dict):
        return "the record is not an object"
    for key in _RECORD_STRINGS:
        if not isinstance(record.get(key), str):
            return f"the record's {key} is {_short(record.get(key))}, not a string"
    if not isinstance(record.get("device"), (str, type(None))):
        return f"the record's device is {_short(record.get('device'))}, not a string or null"
    if not isinstance(record.get("verdict"), str) or record["verdict"] not in VERDICTS:
        return f"the record's verdict {_short(record.get('verdict'))} is not a verdict"
    if "observation" not in record:
        return "the record has no observation (null when nothing ran)"
    if record["observation"] is not None:
        problem = observation_problem(record["observation"])
        if problem is not None:
            return problem
    if record.get("divergence") is not None and not isinstance(record["divergence"], dict):
        return "the record's divergence is neither null nor an object"
    return None


def observation_problem(observation: Any) -> str | None:
    """What makes ``observation`` not an observation record, or ``None``."""
    if not isinstance(observation, dict) or any(k not in observation for k in _OBSERVATION_KEYS):
        return f"an observation needs the fields {', '.join(_OBSERVATION_KEYS)}"
    outcome, error = observation["outcome"], observation["error"]
    if outcome not in ("returned", "raised"):
        return f"the observation's outcome {_short(outcome)} is not returned/raised"
    if (outcome == "raised") != isinstance(error, dict):
        return "a raised observation needs an error object; a returned one null"
    if isinstance(error, dict):
        if any(not isinstance(error.get(k), str) for k in _ERROR_KEYS):
            return f"an error needs the string fields {', '.join(_ERROR_KEYS)}"
        if error["kind"] not in ERROR_KINDS:
            return f"the error kind {_short(error['kind'])} is not a neutral error kind"
    seconds = observation["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        return f"the observation's seconds {_short(seconds)} is not a duration"
    if math.isinf(seconds):
        return "the observation's seconds is infinite"
    if not isinstance(observation["summary"], str) or not isinstance(observation["warnings"], list):
        return "the observation's summary must be a string, its warnings a list"
    return None


def adapter_block_problem(block: Any) -> str | None:
    """What makes ``block`` not an adapters-block entry, or ``None``."""
    if not isinstance(block, dict) or not isinstance(block.get("name"), str) or not block["name"]:
        return "an adapter entry needs a non-empty string name"
    if not isinstance(block.get("available", False), bool):
        return f"adapter {block['name']!r}: 'available' is not a boolean"
    for key, kinds in _BLOCK_TYPES.items():
        value = block.get(key, adapter_block_defaults(block["name"])[key])
        if not isinstance(value, kinds) or isinstance(value, bool) and int in kinds:
            return f"adapter {block['name']!r}: {key!r} is {_short(value)}"
    if not all(isinstance(d, str) for d in block.get("devices", [])):
        return f"adapter {block['name']!r}: 'devices' must be strings"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
