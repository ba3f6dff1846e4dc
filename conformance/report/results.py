"""The results document (``results.json``): building it, writing it safely, reading it back.

``build_results`` assembles the versioned document that the Markdown and HTML writers and
``tapeconf diff`` read; ``load_results`` reads one back with errors that say what is wrong;
``write_atomically`` writes several files so that each appears whole or not at all; and
``PartialLog`` appends records as they arrive so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance.outcome import Verdict
from conformance.registry import Scenario
from conformance.report.records import SCHEMA_VERSION, scenario_record, text_safe
from conformance.report.wire import adapter_block_problem, record_problem

__all__ = [
    "PARTIAL_NAME",
    "PartialLog",
    "PartialRun",
    "ResultsFileError",
    "build_results",
    "count_verdicts",
    "load_results",
    "write_atomically",
]

PARTIAL_NAME = ".partial-results.jsonl"
VERDICTS = tuple(v.value for v in Verdict)


class ResultsFileError(ValueError):
    """A results file that cannot be used; the one-line message names the file and the problem."""


def _tool_version() -> str:
    try:
        return metadata.version("tape-conformance")
    except metadata.PackageNotFoundError:
        return "unknown"


def count_verdicts(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per adapter, how many cells got each verdict (every verdict present, zeros included)."""
    counts: dict[str, Counter[str]] = {}
    for record in records:
        counts.setdefault(record["adapter"], Counter())[record["verdict"]] += 1
    return {name: {v: counter.get(v, 0) for v in VERDICTS} for name, counter in counts.items()}


def _sorted_records(
    records: Iterable[dict[str, Any]],
    adapters: Sequence[Mapping[str, Any]],
    scenarios: Sequence[Scenario],
) -> list[dict[str, Any]]:
    adapter_rank = {a["name"]: i for i, a in enumerate(adapters)}
    device_rank = {
        (a["name"], d): i for a in adapters for i, d in enumerate(a.get("devices") or [])
    }
    scenario_rank = {s.id: i for i, s in enumerate(scenarios)}
    return sorted(
        records,
        key=lambda r: (
            adapter_rank.get(r["adapter"], len(adapter_rank)),
            r["adapter"],
            device_rank.get((r["adapter"], r["device"]), -1),
            str(r["device"]),
            scenario_rank.get(r["id"], len(scenario_rank)),
            r["id"],
        ),
    )


def build_results(
    *,
    adapters: Sequence[dict[str, Any]],
    records: Iterable[dict[str, Any]],
    scenarios: Sequence[Scenario],
    environment: dict[str, Any],
    seconds: float,
) -> dict[str, Any]:
    """The results document; see conformance/schema/results.schema.json and docs/reports.md."""
    ordered = _sorted_records(records, adapters, scenarios)
    return text_safe({
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "tapeconf", "version": _tool_version()},
        "generated_at": environment["date"],
        "duration_s": round(seconds, 3),
        "environment": environment,
        "adapters": list(adapters),
        "scenarios": [scenario_record(s) for s in scenarios],
        "results": ordered,
        "summary": count_verdicts(ordered),
    })


# ---- reading ----------------------------------------------------------------------------------


def load_results(path: str | Path) -> dict[str, Any]:
    """A results document from disk, checked enough for the writers and ``diff`` to trust it:
    every adapter entry and every record has the fields they read, with the right types."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ResultsFileError(
            f"{path} is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}); a results file is the JSON that `tapeconf report` writes"
        ) from None
    except OSError as error:
        raise ResultsFileError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ResultsFileError(f"{path} is not valid JSON: {error}") from None
    problem = _problem(document)
    if problem:
        raise ResultsFileError(f"{path} is not a tapeconf results file: {problem}")
    return document


def _problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return "the top level is not an object"
    version = document.get("schema_version")
    if version is None:
        return "it has no schema_version"
    if type(version) is not int or version != SCHEMA_VERSION:  # true == 1 in Python, not here
        return f"schema_version {version!r} is not supported (this tapeconf reads {SCHEMA_VERSION})"
    for key, kind in (("results", list), ("adapters", list), ("scenarios", list)):
        if not isinstance(document.get(key), kind):
            return f"{key!r} is missing or not a {kind.__name__}"
    for index, block in enumerate(document["adapters"]):
        problem = adapter_block_problem(block)
        if problem:
            return f"adapters[{index}]: {problem}"
    for index, record in enumerate(document["results"]):
        problem = record_problem(record)
        if problem:
            return f"results[{index}]: {problem}"
    for index, scenario in enumerate(document["scenarios"]):
        if not isinstance(scenario, dict) or not isinstance(scenario.get("id"), str):
            return f"scenarios[{index}] is not an object with a string id"
    return None


# ---- writing ----------------------------------------------------------------------------------


def write_atomically(files: Mapping[Path, str]) -> None:
    """Write every file to a temporary sibling first, then move them all into place.

    A failure while writing leaves none of the new files and removes the temporaries.
    """
    temporaries: list[tuple[Path, Path]] = []
    umask = os.umask(0)
    os.umask(umask)
    try:
        for target, text in files.items():
            handle, name = tempfile.mkstemp(prefix=f".tmp-{target.name}-", dir=target.parent)
            temporaries.append((Path(name), target))
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(name, 0o666 & ~umask)  # mkstemp's 0600 would hide the report from others
        for temporary, target in temporaries:
            os.replace(temporary, target)
    finally:
        for temporary, _ in temporaries:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


class PartialLog:
    """``<out>/.partial-results.jsonl``: one JSON line per adapter description and per cell.

    Opened before any work so an unwritable directory fails first; each line is written and
    flushed whole, so an interrupted run can be resumed from it (``tapeconf report --resume``).
    """

    def __init__(self, directory: Path, *, append: bool) -> None:
        self.path = directory / PARTIAL_NAME
        self._stream = open(self.path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
        self._lock = threading.Lock()
        if append and self._stream.tell() and not _ends_with_newline(self.path):
            self._stream.write("\n")  # end the line an interruption cut short, so ours stay whole

    def write(self, kind: str, item: dict[str, Any]) -> None:
        line = json.dumps({"type": kind, kind: item}, allow_nan=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        """Close the file; a failure to flush (the disk filled up) was reported by ``write``."""
        with self._lock, contextlib.suppress(OSError):
            self._stream.close()

    def remove(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    @staticmethod
    def read(directory: Path) -> PartialRun:
        """The cell records and adapter descriptions of an earlier, unfinished run.

        Every line is checked as a results file's records are: a line that is cut short, not
        UTF-8, not JSON, or not a whole adapter or cell entry is skipped (and counted in
        ``skipped``), so its cell runs again. A cell written twice counts once (the later line).
        ``ResultsFileError`` when the path exists but cannot be read as a file.
        """
        path = directory / PARTIAL_NAME
        run = PartialRun(path)
        if not os.path.lexists(path):
            return run
        if not path.is_file():  # a directory, a device (/dev/full), a dangling link
            raise ResultsFileError(
                f"the partial results {path} is not a regular file; move it away, or run "
                "without --resume to start over"
            )
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ResultsFileError(
                f"cannot read the partial results {path}: {error.strerror or error}; "
                "move it away, or run without --resume to start over"
            ) from None
        cells: dict[tuple[Any, ...], dict[str, Any]] = {}
        for number, raw in enumerate(data.splitlines(), start=1):
            entry, problem = _partial_entry(raw)
            if problem is not None:
                run.skipped.append(f"line {number}: {problem}")
            elif entry["type"] == "adapter":
                run.adapters[entry["adapter"]["name"]] = entry["adapter"]
            else:
                record = entry["cell"]
                cells[(record["id"], record["adapter"], record["device"])] = record
        run.records = list(cells.values())
        return run


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as stream:
        stream.seek(-1, os.SEEK_END)
        return stream.read(1) == b"\n"


@dataclass
class PartialRun:
    """What an interrupted run left in its partial file."""

    path: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    adapters: dict[str, dict[str, Any]] = field(default_factory=dict)  # by adapter name
    skipped: list[str] = field(default_factory=list)  # "line N: why" for each unusable line


def _partial_entry(raw: bytes) -> tuple[dict[str, Any], None] | tuple[None, str]:
    """One line of a partial file as an adapter or cell entry, or why it is not one."""
    try:
        entry = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except (json.JSONDecodeError, RecursionError):
        return None, "not JSON (cut short?)" if raw.strip() else "empty"
    if not isinstance(entry, dict) or entry.get("type") not in ("adapter", "cell"):
        return None, "not an adapter or cell entry"
    kind = entry["type"]
    problem = (adapter_block_problem if kind == "adapter" else record_problem)(entry.get(kind))
    return (None, problem) if problem else (entry, None)
