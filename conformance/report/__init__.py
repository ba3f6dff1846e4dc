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
from conformance.registry import all_scenarios
from conformance.report.environment import collect_environment
from conformance.report.html_report import render_html
from conformance.report.markdown_report import render_markdown
from conformance.report.progress import Progress
from conformance.report.results import (
    PartialLog,
    ResultsFileError,
    build_results,
    load_results,
    write_atomically,
)
from conformance.report.runner import Runner, record_key
from conformance.report.wire import parse_adapter_spec
from conformance.report.worker import check_adapter_specs, entry_point_names

__all__ = [
    "REPORT_FILES",
    "ReportOutputError",
    "ReportRun",
    "ResultsFileError",
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
    return sorted(entry_point_names(), key=lambda name: (name != "reference", name))


def resolve_adapter_specs(specs: Sequence[str] | None) -> list[str]:
    """The adapters to run: ``specs`` checked, or every registered one.

    Repeated specs are dropped; an interpreter (``NAME@PYTHON``) is made absolute. Raises
    ``UnknownAdapterError`` / ``AdapterSpecError`` for a spec that matches nothing, a missing
    interpreter, or two specs with one adapter name. Nothing is imported here: each adapter is
    loaded in its own worker.
    """
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


def write_report_files(document: dict[str, Any], out: Path) -> list[Path]:
    """Write the three report files atomically (all rendered before any is replaced)."""
    texts = {
        out / "results.json": json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False)
        + "\n",
        out / "REPORT.md": render_markdown(document),
        out / "report.html": render_html(document),
    }
    try:
        write_atomically(texts)
    except OSError as error:
        raise ReportOutputError(
            f"cannot write the report into {out}: {error.strerror or error}"
        ) from None
    return list(texts)


def generate_report(
    specs: Sequence[str],
    out: Path,
    *,
    jobs: int = 2,
    timeout_cap: float | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> ReportRun:
    """Run every scenario on the adapters ``specs`` and write the report files into ``out``.

    Records are appended to ``out/.partial-results.jsonl`` as they arrive; the file is removed
    once the final files are in place. With ``resume``, cells already in it are not run again.
    """
    scenarios = all_scenarios()
    out = _prepare_directory(Path(out))
    resumed = PartialLog.read(out)[0] if resume else []
    try:
        log = PartialLog(out, append=resume)
    except OSError as error:
        raise ReportOutputError(f"cannot write into {out}: {error.strerror or error}") from None
    runner = Runner(
        specs,
        scenarios,
        jobs=jobs,
        timeout_cap=timeout_cap,
        done=[record_key(r) for r in resumed],
        sink=log.write,
        progress=progress,
    )
    try:
        result = runner.run()
    finally:
        log.close()
    names = {adapter["name"] for adapter in result.adapters}
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
    paths = write_report_files(document, out)
    log.remove()
    return ReportRun(document, paths)
