"""The worker process of ``tapeconf report``: runs one adapter's cells, one at a time, on request.

    python -m conformance.report.worker ADAPTER

``ADAPTER`` is an entry-point name (``torch``) or an import path ``module:attr`` naming an adapter
class or instance that is not registered as an entry point. The protocol (version 1, see
docs/worker-protocol.md and ``conformance.report.wire``) is JSON lines: the worker first writes
``{"event": "hello", "protocol": 1, "adapter": {...}, "divergences": {...}}`` (what the adapter
is, or why it cannot run), then answers every ``{"run": [scenario_id, device]}`` read from stdin
with ``{"event": "cell", "record": {...}}``, and exits when stdin closes. The protocol uses a
private copy of the original stdout; file descriptor 1 is pointed at stderr so that nothing a
framework or a scenario prints can corrupt it. The verdict of each cell comes from the same code
as the pytest plugin's (``conformance.outcome.run_cell``: features, then ``observe`` and
``judge``). The same module runs under another interpreter for ``--adapter NAME@PYTHON``.
"""

from __future__ import annotations

import faulthandler
import importlib
import importlib.util
import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import IO, Any

from conformance.discovery import ENTRY_POINT_GROUP, UnknownAdapterError, is_import_path, load
from conformance.divergences import Divergence, load_divergences
from conformance.outcome import Cell, Verdict, run_cell
from conformance.protocol import Adapter, AdapterValidationError, validate_adapter
from conformance.registry import all_scenarios, get
from conformance.report.environment import python_runtime
from conformance.report.records import cell_record, divergence_record
from conformance.report.wire import (
    PROTOCOL_VERSION,
    AdapterSpec,
    adapter_block_defaults,
    parse_adapter_spec,
)

__all__ = [
    "AdapterSpecError",
    "check_adapter_specs",
    "describe_adapter",
    "entry_point_names",
    "main",
]


class AdapterSpecError(ValueError):
    """An ``--adapter`` value that names no adapter; the message says what would work."""


def entry_point_names() -> list[str]:
    """The names of the registered adapters, without loading any of them.

    Loading is the worker's job: an adapter whose package is broken then costs only its own cells
    (``discovery.discover`` loads every entry point and fails on the first broken one).
    """
    return sorted({point.name for point in entry_points(group=ENTRY_POINT_GROUP)})


def check_adapter_specs(specs: Sequence[str], known: Sequence[str]) -> list[str]:
    """``specs`` with each interpreter made absolute; ``UnknownAdapterError``/``AdapterSpecError``
    for specs that cannot name an adapter, or two that name the same one.

    Cheap and safe in the parent process: an import path is checked by locating its module, never
    by importing it (importing is the worker's job, where a crash costs only that adapter). What
    ``NAME@PYTHON`` names is only known in that environment: there only the interpreter is checked.
    """
    parsed = [parse_adapter_spec(spec) for spec in dict.fromkeys(specs)]
    unknown = [
        s.text
        for s in parsed
        if s.python is None and not is_import_path(s.target) and s.target not in known
    ]
    if unknown:
        raise UnknownAdapterError(
            f"unknown adapter {', '.join(map(repr, unknown))}; known adapters: "
            f"{', '.join(known) or 'none'} (`tapeconf adapters` says which are installed; "
            "an adapter that is not registered can be given as module:attr)"
        )
    checked = []
    for spec in parsed:
        if not spec.target:
            raise AdapterSpecError(f"--adapter {spec.text!r}: no adapter name before the '@'")
        if spec.python is not None:
            checked.append(f"{spec.target}@{_interpreter(spec)}")
            continue
        if is_import_path(spec.target):
            _check_import_path(spec.target, known)
        checked.append(spec.text)
    checked = list(dict.fromkeys(checked))  # one interpreter, spelt two ways
    _reject_duplicate_names(checked)
    return checked


def _interpreter(spec: AdapterSpec) -> str:
    """The absolute path of ``spec``'s interpreter (a path, or a command on PATH), checked."""
    python = os.path.expanduser(spec.python or "")
    if not python:
        raise AdapterSpecError(f"--adapter {spec.text!r}: no interpreter after the '@'")
    found = os.path.abspath(python) if os.sep in python else shutil.which(python)
    if found is None or not os.path.isfile(found):
        raise AdapterSpecError(
            f"--adapter {spec.text!r}: no interpreter {spec.python!r} "
            "(give the path of the environment's python, e.g. envs/tf-2.12/bin/python)"
        )
    if not os.access(found, os.X_OK):
        raise AdapterSpecError(f"--adapter {spec.text!r}: {found} is not executable")
    return found


def _reject_duplicate_names(specs: Sequence[str]) -> None:
    """Two specs for one adapter name would write their cells to the same place."""
    by_name: dict[str, list[str]] = {}
    for spec in specs:
        by_name.setdefault(parse_adapter_spec(spec).name, []).append(spec)
    clashes = {name: found for name, found in by_name.items() if len(found) > 1}
    if clashes:
        name, found = next(iter(clashes.items()))
        raise AdapterSpecError(
            f"--adapter {' and '.join(map(repr, found))} both name the adapter {name!r}, so their "
            "cells would collide; run them in separate reports (`tapeconf diff` compares those)"
        )


def _check_import_path(spec: str, known: Sequence[str]) -> None:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise AdapterSpecError(
            f"--adapter {spec!r}: an import path must look like 'package.module:Class'"
        )
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError) as error:
        found, why = None, f" ({error})"
    else:
        why = ""
    if found is None:
        raise AdapterSpecError(
            f"--adapter {spec!r}: no module {module!r} on the Python path{why}; "
            f"known entry-point adapters: {', '.join(known) or 'none'}"
        )


def _safe(call: Any, default: Any) -> Any:
    try:
        return call()
    except Exception:  # metadata of an unavailable framework is best effort
        return default


def describe_adapter(adapter: Adapter, spec: str) -> tuple[dict[str, Any], dict[str, Divergence]]:
    """The adapters-block entry for ``adapter`` and its declared divergences.

    Raises ``AdapterValidationError`` or ``DivergenceFileError`` when the adapter is broken.
    """
    mappings = _safe(adapter.mappings, [])
    block: dict[str, Any] = {
        "name": adapter.name,
        "spec": spec,
        "available": False,
        "reason": None,
        "error": None,
        "version": None,
        "devices": [],
        "features": {},
        "mappings": [{"neutral": m.neutral, "native": m.native, "why": m.why} for m in mappings],
        "divergences_file": None,
        "declared_divergences": 0,
    }
    try:
        why = adapter.available()
    except Exception as error:  # a framework whose import fails oddly is still just unavailable
        why = f"available() raised {type(error).__name__}: {error}"
    if why is not None:
        block["reason"] = str(why)
        return block, {}
    validate_adapter(adapter, check_namespace=True)
    path = adapter.divergences_path()
    scenarios = all_scenarios()
    with warnings.catch_warnings(record=True) as caught:  # entries that match nothing: in hello
        warnings.simplefilter("always")
        divergences = (
            load_divergences(
                path, [s.id for s in scenarios], spec={s.id: s.expect for s in scenarios}
            )
            if path
            else {}
        )
    if caught:
        block["warnings"] = [str(w.message) for w in caught]
    block.update(
        available=True,
        version=str(adapter.version()),
        devices=[str(d) for d in adapter.devices()],
        features={
            name: (None if why is None else str(why)) for name, why in adapter.features().items()
        },
        divergences_file=str(path) if path else None,
        declared_divergences=len(divergences),
    )
    return block, divergences


def _hello(spec: str) -> tuple[dict[str, Any], Adapter | None, dict[str, Divergence]]:
    """The hello message, and the adapter and divergences when cells can run."""
    try:
        adapter = load(spec)
    except UnknownAdapterError as error:
        if entry_point_names():
            return _hello_message(_placeholder(spec, error=str(error))), None, {}
        reason = (  # another environment (NAME@PYTHON) where this project is not installed
            f"no tapeconf adapters are registered for {sys.executable}: install this project "
            f"there with `{sys.executable} -m pip install --no-deps -e {_project_root()}`"
        )
        return _hello_message(_placeholder(spec, reason=reason)), None, {}
    except AdapterValidationError as error:
        return _hello_message(_placeholder(spec, error=str(error))), None, {}
    except Exception as error:  # an adapter that fails to import is unavailable, with the reason
        reason = f"cannot load adapter {spec}: {type(error).__name__}: {error}"
        return _hello_message(_placeholder(spec, reason=reason)), None, {}
    try:
        block, divergences = describe_adapter(adapter, spec)
    except Exception as error:  # a broken adapter or divergence file: every cell is an error
        block = _placeholder(spec, error=f"{type(error).__name__}: {error}")
        block["name"] = adapter.name
        return _hello_message(block), None, {}
    records = {sid: divergence_record(d) for sid, d in divergences.items()}
    message = _hello_message(block, records)
    return message, (adapter if block["available"] else None), divergences


def _hello_message(
    block: dict[str, Any], divergences: dict[str, Any] | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "event": "hello",
        "protocol": PROTOCOL_VERSION,
        "adapter": block,
        "runtime": python_runtime(),
    }
    if divergences is not None:
        message["divergences"] = divergences
    return message


def _project_root() -> str:
    """The checkout this module was loaded from (for the install hint)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _placeholder(
    spec: str, *, reason: str | None = None, error: str | None = None
) -> dict[str, Any]:
    return {**adapter_block_defaults(spec), "reason": reason, "error": error}


def cell_for(
    adapter: Adapter, divergences: dict[str, Divergence], scenario_id: str, device: str
) -> dict[str, Any]:
    """The record of one cell, judged exactly as the pytest plugin judges it (``run_cell``)."""
    scenario = get(scenario_id)
    divergence = divergences.get(scenario_id)
    try:
        cell = run_cell(scenario, adapter, device, divergence)
    except Exception as error:  # the suite itself failed on this cell: recorded, never passed
        where = traceback.extract_tb(error.__traceback__)[-1]
        cell = Cell(
            scenario_id,
            adapter.name,
            device,
            Verdict.ERROR,
            f"the suite failed: {type(error).__name__}: {error} "
            f"(at {where.filename}:{where.lineno})",
        )
    return cell_record(scenario, cell, divergence_record(divergence))


def _program(adapter: Adapter, request: dict[str, Any]) -> dict[str, Any]:
    """The observation record of one generated program; a suite failure is recorded as such."""
    from conformance.fuzz.execute import program_record  # only fuzz runs need the generator

    try:
        return program_record(adapter, request["program"], request.get("device", "CPU:0"))
    except Exception as error:  # the suite failed (e.g. unencodable value): data, never a pass
        return {"suite_error": f"{type(error).__name__}: {error}"}


def _emit(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, allow_nan=False) + "\n")
    channel.flush()


def serve(spec: str, requests: IO[str], channel: IO[str]) -> None:
    """Say hello, then run each requested cell until ``requests`` ends."""
    hello, adapter, divergences = _hello(spec)
    _emit(channel, hello)
    if adapter is None:
        return
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        if "program" in request:  # a generated program (``tapeconf fuzz``), see worker-protocol.md
            _emit(channel, {"event": "observation", "record": _program(adapter, request)})
            continue
        scenario_id, device = request["run"]
        record = cell_for(adapter, divergences, scenario_id, device)
        try:
            _emit(channel, {"event": "cell", "record": record})
        except (TypeError, ValueError) as error:  # a value JSON cannot hold: the suite's fault
            record.update(
                verdict=Verdict.ERROR.value,
                observation=None,
                detail=f"the suite could not encode the observation: {error}",
            )
            _emit(channel, {"event": "cell", "record": record})


#: How often the watchdog looks whether the parent is still there.
WATCH_INTERVAL_S = 0.25


def _watch_parent() -> None:
    """Exit, with every process this worker started, as soon as the parent is gone.

    A parent that is killed (SIGKILL, an OOM kill) cannot stop its workers, and a worker busy in
    a hanging scenario never reads the end of its stdin. The parent names itself in
    ``TAPECONF_PARENT_PID``; when that process is gone, or this one was handed to another parent,
    a daemon thread kills the worker's process group (its own session: the worker and what its
    scenarios started) or, when the worker does not lead its group (started by hand), the worker.
    """
    named = os.environ.get("TAPECONF_PARENT_PID", "")
    tapeconf = int(named) if named.isdigit() else None
    parent = os.getppid()  # tapeconf itself, or an interpreter wrapper between the two

    def gone() -> bool:
        if os.getppid() != parent:
            return True
        if tapeconf is None:
            return False
        try:
            os.kill(tapeconf, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # a process of another user has that pid now
            return True
        return False

    def watch() -> None:
        while not gone():
            time.sleep(WATCH_INTERVAL_S)
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="tapeconf-parent-watchdog", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(
            "usage: python -m conformance.report.worker ADAPTER  (a name or module:attr)",
            file=sys.stderr,
        )
        return 2
    faulthandler.enable(file=sys.stderr, all_threads=False)  # the crashing thread says why
    _watch_parent()
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything printed by a framework or scenario goes to stderr, not the protocol
    sys.stdout = sys.stderr
    serve(args[0], sys.stdin, channel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
