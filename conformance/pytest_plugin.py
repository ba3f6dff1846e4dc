"""The pytest plugin: the conformance matrix as parametrized tests.

Installed through the ``pytest11`` entry point, it adds ``--adapter`` and parametrizes any test
that asks for the ``conformance_cell`` fixture with scenario × adapter × device. A cell that
conforms passes; one that diverges exactly as its adapter declares is an ``xfail`` carrying the
reason; anything else fails with the suite's one message format. Missing frameworks and
features are skips that say what is missing. The test itself is ``conformance.testing``'s
``test_conformance``, which the repository's ``tests/`` and third-party suites import.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.contract import parametrize_adapters
from conformance.discovery import (
    AdapterImportError,
    AdapterSpecError,
    UnknownAdapterError,
    select,
)
from conformance.divergences import Divergence, DivergenceFileError, load_divergences
from conformance.outcome import Cell, Verdict, run_cell
from conformance.protocol import Adapter, AdapterValidationError
from conformance.registry import Scenario, all_scenarios

_VERDICTS = pytest.StashKey[collections.Counter]()
_MATRIX = pytest.StashKey["Matrix"]()
_ADAPTERS = pytest.StashKey[list]()
_BROKEN = pytest.StashKey[dict]()


@dataclass
class Matrix:
    """What this run covers: the selected adapters, their devices and divergences."""

    adapters: list[Adapter]
    unavailable: dict[str, str]  # adapter name -> why it cannot run (not installed, or broken)
    devices: dict[str, list[str]]
    divergences: dict[str, dict[str, Divergence]]
    scenarios: list[Scenario]


@dataclass
class ConformanceCell:
    """One parametrized cell; ``check()`` runs it and turns the verdict into a test outcome."""

    scenario: Scenario
    adapter: Adapter
    device: str
    divergence: Divergence | None

    def run(self) -> Cell:
        return run_cell(self.scenario, self.adapter, self.device, self.divergence)

    def check(self) -> Cell:
        __tracebackhide__ = True
        cell = self.run()
        if cell.verdict is Verdict.UNSUPPORTED:
            pytest.skip(f"unsupported on {self.adapter.name}: {cell.detail}")
        if cell.verdict is Verdict.DIVERGES:
            pytest.xfail(f"diverges as declared: {cell.divergence_reason}")
        if cell.verdict is not Verdict.CONFORMS:
            pytest.fail(cell.detail, pytrace=False)
        return cell


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tapeconf", "tape-conformance matrix")
    group.addoption(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME",
        help="run the conformance matrix on this adapter only: an entry-point name or an import "
        "path module:Attr for an adapter that is not registered (repeatable; default: every "
        "registered adapter that loads)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a scenario × adapter × device cell")
    # the matrix groups cells by adapter for pytest-xdist; registered so runs without it are quiet
    config.addinivalue_line("markers", "xdist_group(name): pytest-xdist runs a group on one worker")
    # ``-n N`` keeps pytest-xdist's own ``--dist load``: forcing ``loadgroup`` (one worker per
    # framework) made a run with one crashing cell hang forever after "node down" (an xdist bug)
    try:  # only the selected adapters load; without --adapter a broken one is listed, not fatal
        selection = select(config.getoption("adapter"))
    except (
        AdapterImportError,
        AdapterSpecError,
        AdapterValidationError,
        UnknownAdapterError,
    ) as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[_VERDICTS] = collections.Counter()
    config.pluginmanager.register(_VerdictCounter(config.stash[_VERDICTS]), "tapeconf-verdicts")
    config.stash[_ADAPTERS] = selection.adapters  # the frameworks are imported on first use
    config.stash[_BROKEN] = selection.broken


def _matrix(config: pytest.Config) -> Matrix:
    """The run's matrix, built (importing each framework) only when a header or test needs it."""
    if _MATRIX not in config.stash:
        config.stash[_MATRIX] = _build_matrix(config.stash[_ADAPTERS], config.stash[_BROKEN])
    return config.stash[_MATRIX]


def _build_matrix(adapters: list[Adapter], broken: dict[str, str]) -> Matrix:
    scenarios = all_scenarios()
    known = [s.id for s in scenarios]
    matrix = Matrix([], {name: f"broken, {why}" for name, why in broken.items()}, {}, {}, scenarios)
    for adapter in adapters:
        why = adapter.available()
        if why is not None:
            matrix.unavailable[adapter.name] = why
            continue
        matrix.adapters.append(adapter)
        matrix.devices[adapter.name] = list(adapter.devices())
        path = adapter.divergences_path()
        try:
            matrix.divergences[adapter.name] = (
                load_divergences(path, known, spec={s.id: s.expect for s in scenarios})
                if path
                else {}
            )
        except (OSError, DivergenceFileError) as error:
            raise pytest.UsageError(f"adapter {adapter.name!r}: {error}") from None
    return matrix


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _ADAPTERS not in config.stash:
        return []
    matrix = _matrix(config)
    lines = [f"tapeconf: {len(matrix.scenarios)} scenarios"]
    for adapter in matrix.adapters:
        devices = ", ".join(matrix.devices[adapter.name])
        count = len(matrix.divergences[adapter.name])
        lines.append(
            f"  {adapter.name} {adapter.version()} on {devices} ({count} declared divergences)"
        )
    for name, why in matrix.unavailable.items():
        lines.append(f"  {name}: skipped, {why}")
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_adapters(metafunc)  # conformance.contract's test_contract: one per selected adapter
    if "conformance_cell" not in metafunc.fixturenames:
        return
    matrix = _matrix(metafunc.config)
    params = []
    for name, why in matrix.unavailable.items():
        params.append(
            pytest.param(None, id=f"{name}-unavailable", marks=pytest.mark.skip(reason=why))
        )
    for adapter in matrix.adapters:
        divergences = matrix.divergences[adapter.name]
        group = pytest.mark.xdist_group(adapter.name)
        for device in matrix.devices[adapter.name]:
            for scenario in matrix.scenarios:
                cell = ConformanceCell(scenario, adapter, device, divergences.get(scenario.id))
                params.append(
                    pytest.param(cell, id=f"{scenario.id}-{adapter.name}-{device}", marks=group)
                )
    metafunc.parametrize("conformance_cell", params)


#: The user property by which a cell's report carries its verdict (to the xdist controller too).
_VERDICT_PROPERTY = "tapeconf_verdict"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    cell = getattr(item, "callspec", None) and item.callspec.params.get("conformance_cell")
    if cell is not None and report.when == "call" or (cell is not None and report.skipped):
        verdict = (
            "conforms"
            if report.passed
            else "diverges"
            if hasattr(report, "wasxfail")
            else ("unsupported" if report.skipped else "unexpected")
        )
        # counted where the report is logged: here, or in the xdist controller that receives it
        report.user_properties.append((_VERDICT_PROPERTY, [cell.adapter.name, verdict]))
    return report


class _VerdictCounter:
    """Counts the verdicts the cells' reports carry, wherever they are logged: in this process,
    or in the pytest-xdist controller that receives the workers' reports."""

    def __init__(self, counts: collections.Counter) -> None:
        self.counts = counts

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == _VERDICT_PROPERTY:
                adapter, verdict = value
                self.counts[(adapter, verdict)] += 1


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    counts = config.stash.get(_VERDICTS, None)
    if not counts:
        return
    terminalreporter.section("tape conformance")
    adapters = sorted({adapter for adapter, _ in counts})
    for adapter in adapters:
        parts = [
            f"{counts[(adapter, v)]} {v}"
            for v in ("conforms", "diverges", "unsupported", "unexpected")
        ]
        terminalreporter.write_line(f"{adapter:>12}: " + ", ".join(parts))
