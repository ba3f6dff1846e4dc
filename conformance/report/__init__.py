"""Cross-framework comparison reports: run the matrix in worker processes and write
``results.json``, ``REPORT.md`` and ``report.html``.

    from conformance.report import generate_report
    run = generate_report(["reference", "torch"], Path("/tmp/report"))
    run.failures  # how many cells are unexpected, crashed, timed out or errors

The command-line front end is ``tapeconf report`` (``conformance.cli``); the file formats are
described in docs/reports.md and conformance/schema/results.schema.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.outcome import Verdict
from conformance.registry import Scenario, all_scenarios
from conformance.report.environment import collect_environment
from conformance.report.html_report import render_html
from conformance.report.markdown_report import render_markdown
from conformance.report.progress import Progress
from conformance.report.results import (
    PARTIAL_NAME,
    PartialLog,
    PartialRun,
    ResultsFileError,
    build_results,
    load_results,
    write_atomically,
)
from conformance.report.runner import Runner, record_key
from conformance.report.wire import parse_adapter_spec

# conformance.report.worker is imported where it is used, never here: a worker runs as
# ``python -m conformance.report.worker``, and a package that imported it first would make
# Python warn on every worker's stderr (and that warning would stand in for a crash's cause).

__all__ = [
    "REPORT_FILES",
    "ReportOutputError",
    "ReportRun",
    "ResultsFileError",
    "ResumeError",
    "default_adapter_specs",
    "generate_report",
    "load_results",
    "render_html",
    "render_markdown",
    "resolve_adapter_specs",
    "write_report_files",
]

REPORT_FILES = ("results.json", "REPORT.md", "report.html")


class ReportOutputError(OSError):
    """The output directory cannot be created or written; the message names it and why."""


@dataclass
class ReportRun:
    document: dict[str, Any]
    paths: list[Path]

    @property
    def failures(self) -> int:
        return sum(Verdict(r["verdict"]).is_failure for r in self.document["results"])


def default_adapter_specs() -> list[str]:
    """Every registered adapter, the reference first (the others are compared with it)."""
    from conformance.report.worker import entry_point_names

    return sorted(entry_point_names(), key=lambda name: (name != "reference", name))


def resolve_adapter_specs(specs: Sequence[str] | None) -> list[str]:
    """The adapters to run: ``specs`` checked, or every registered one.

    Repeated specs are dropped; an interpreter (``NAME@PYTHON``) is made absolute. Raises
    ``UnknownAdapterError`` / ``AdapterSpecError`` for a spec that matches nothing, a missing
    interpreter, or two specs with one adapter name. Nothing is imported here: each adapter is
    loaded in its own worker.
    """
    from conformance.report.worker import check_adapter_specs, entry_point_names

    if not specs:
        return default_adapter_specs()
    return check_adapter_specs(specs, entry_point_names())


def _foreign_runtime(
    specs: Sequence[str], runtimes: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The interpreter that ran every cell, when all adapters ran under one ``NAME@PYTHON``
    interpreter (then the environment block describes it, not tapeconf's own)."""
    interpreters = {parse_adapter_spec(spec).python for spec in specs}
    if len(interpreters) != 1 or None in interpreters:
        return None
    return next((runtimes[spec] for spec in specs if spec in runtimes), None)


def _prepare_directory(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReportOutputError(
            f"cannot create the output directory {out}: {error.strerror or error}"
        ) from None
    if not out.is_dir():
        raise ReportOutputError(f"the output path {out} is not a directory")
    return out


def write_report_files(
    document: dict[str, Any], out: Path, fuzz: dict[str, Any] | None = None
) -> list[Path]:
    """Write the three report files atomically (all rendered before any is replaced); the HTML
    page shows ``fuzz`` (a ``tapeconf fuzz`` result) when given."""
    texts = {
        out / "results.json": json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False)
        + "\n",
        out / "REPORT.md": render_markdown(document),
        out / "report.html": render_html(document, fuzz),
    }
    try:
        write_atomically(texts)
    except OSError as error:
        raise ReportOutputError(
            f"cannot write the report into {out}: {error.strerror or error}"
        ) from None
    return list(texts)


class ResumeError(ValueError):
    """A partial file that ``--resume`` cannot continue; the message says what to run instead."""


def _resumable(partial: PartialRun, specs: Sequence[str]) -> PartialRun:
    """``partial`` checked against this run's adapters: every adapter it holds cells of must
    be asked for again, or resuming would silently drop those cells."""
    asked = set(specs)
    foreign = sorted(
        str(block.get("spec") or name)
        for name, block in partial.adapters.items()
        if block.get("spec", name) not in asked
    )
    if foreign:
        earlier = " ".join(
            f"--adapter {block.get('spec') or name}" for name, block in partial.adapters.items()
        )
        raise ResumeError(
            f"{partial.path} holds the finished cells of {', '.join(foreign)}, which this run "
            f"does not ask for; resume with the same adapters ({earlier}) or run without "
            "--resume to start over"
        )
    return partial


def generate_report(
    specs: Sequence[str],
    out: Path,
    *,
    jobs: int = 2,
    timeout_cap: float | None = None,
    startup_timeout: float | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    scenarios: Sequence[Scenario] | None = None,
    fuzz: dict[str, Any] | None = None,
) -> ReportRun:
    """Run every scenario on the adapters ``specs`` and write the report files into ``out``.

    Records are appended to ``out/.partial-results.jsonl`` as they arrive; the file is removed
    once the final files are in place. With ``resume``, cells already in it are not run again
    (``ResumeError`` when it holds cells of adapters not in ``specs``; cells of an adapter that
    is another version now run again). ``startup_timeout`` bounds each worker's start-up
    (default: ``timeout_cap`` when given, else 180 s). ``scenarios`` runs part of the catalogue
    (default: all of it). ``fuzz``: a ``tapeconf fuzz`` result the HTML page shows.
    """
    scenarios = list(all_scenarios() if scenarios is None else scenarios)
    progress = progress or Progress(quiet=True)
    out = _prepare_directory(Path(out))
    partial = _read_partial(out, resume)
    if resume:
        _resumable(partial, specs)
    elif partial.records:
        progress.warning(
            f"tapeconf: starting over: {partial.path} held {len(partial.records)} finished cells "
            "of an interrupted run, now discarded (`tapeconf report --resume` keeps them)"
        )
    if resume and partial.skipped:
        progress.warning(
            f"tapeconf: {partial.path}: {len(partial.skipped)} unusable lines skipped, their "
            f"cells run again ({'; '.join(partial.skipped[:3])}"
            f"{'; ...' if len(partial.skipped) > 3 else ''})"
        )
    # a cell whose adapter line was unusable cannot be labelled: it runs again
    resumed = [r for r in partial.records if r["adapter"] in partial.adapters] if resume else []
    try:
        log = PartialLog(out, append=resume)
    except OSError as error:
        raise ReportOutputError(
            f"cannot write {out / PARTIAL_NAME}: {error.strerror or error}"
        ) from None
    by_spec = {str(b.get("spec") or n): b for n, b in partial.adapters.items()} if resume else {}
    runner = Runner(
        specs,
        scenarios,
        jobs=jobs,
        timeout_cap=timeout_cap,
        startup_timeout=_startup_limit(startup_timeout, timeout_cap),
        done=[record_key(r) for r in resumed],
        resumed_adapters=by_spec,
        sink=log.write,
        progress=progress,
    )
    try:
        result = runner.run()
    except OSError as error:  # the partial file could not be written (a full disk): stopped
        raise ReportOutputError(
            f"cannot write {log.path}: {error.strerror or error}; the run was stopped "
            "(`tapeconf report --resume` continues it once there is room)"
        ) from None
    finally:
        log.close()
    names = {adapter["name"] for adapter in result.adapters} - runner.stale
    known_ids = {s.id for s in scenarios}
    records = [
        r for r in resumed if r["adapter"] in names and r["id"] in known_ids
    ] + result.records
    seconds = result.seconds
    document = build_results(
        adapters=result.adapters,
        records=records,
        scenarios=scenarios,
        environment=collect_environment(result.adapters, _foreign_runtime(specs, result.runtimes)),
        seconds=seconds,
    )
    paths = write_report_files(document, out, fuzz)
    log.remove()
    return ReportRun(document, paths)


def _read_partial(out: Path, resume: bool) -> PartialRun:
    """The partial file of an earlier run; without ``resume`` an unreadable one is only
    replaced (opening it for writing says what is wrong with it)."""
    try:
        return PartialLog.read(out)
    except ResultsFileError:
        if resume:
            raise
        return PartialRun(out / PARTIAL_NAME)


#: How long a worker may take to say hello when neither limit is given.
DEFAULT_STARTUP_TIMEOUT_S = 180.0


def _startup_limit(startup_timeout: float | None, timeout_cap: float | None) -> float:
    if startup_timeout is not None:
        return startup_timeout
    return timeout_cap if timeout_cap is not None else DEFAULT_STARTUP_TIMEOUT_S
