"""Reliability of `tapeconf report`, `tapeconf diff` and the pytest plugin (issue 11): nothing
lost, nothing mixed, every bad input a one-line error, every process cleaned up.

The faulty adapters below are real adapters (the reference with one namespace call replaced, as in
test_report.py) that the worker imports as `test_reliability:ClassName`; corrupt files are written
by hand; signals are real signals sent to real processes.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_report import (
    REPO_ROOT,
    SCHEMA,
    HangingAdapter,
    _cells,
    _in_scenario,
    _Namespace,
    _partial_cells,
    _validate,
)

from adapters.reference_adapter import ReferenceAdapter
from conformance.cli import main
from conformance.divergences import DivergenceFileError, load_divergences
from conformance.outcome import Verdict, run_cell
from conformance.registry import all_scenarios
from conformance.report import ReportRun, generate_report
from conformance.report.progress import Progress
from conformance.report.results import PARTIAL_NAME, PartialLog

MODULE = Path(__file__).stem
SCENARIOS = all_scenarios()
N_SCENARIOS = len(SCENARIOS)
FIRST = SCENARIOS[0].id  # the scenario a worker runs first
SECOND = SCENARIOS[1].id
SUBSET = SCENARIOS[:12]  # enough for what a run must show, few enough to keep the tests fast
SURROGATE_MESSAGE = "cannot open /data/caf\udce9.npy"
CONTROL_MESSAGE = "\x1b[31mred\x1b[0m and a NUL\x00 here"


# ---- adapters that misbehave, for the worker to import ----------------------------------------


def _on_scenario(scenario_id: str, action: Callable[[], Any]) -> Callable[[Any], None]:
    def on_constant(code: Any) -> None:
        if _in_scenario(code, scenario_id):
            action()

    return on_constant


def _raise(message: str) -> Callable[[], None]:
    def action() -> None:
        raise RuntimeError(message)

    return action


class HostileMessagesAdapter(ReferenceAdapter):
    """Raises a message with a lone surrogate in FIRST and one with ESC and NUL in SECOND."""

    name = "hostile"

    def namespace(self, device: str) -> Any:
        first = _on_scenario(FIRST, _raise(SURROGATE_MESSAGE))
        second = _on_scenario(SECOND, _raise(CONTROL_MESSAGE))
        return _Namespace(super().namespace(device), lambda code: (first(code), second(code)))


def _change_process_state() -> None:
    np.seterr(all="raise")
    logging.disable(logging.WARNING)
    warnings.simplefilter("error")
    logging.getLogger().setLevel(logging.CRITICAL)


class GlobalStateAdapter(ReferenceAdapter):
    """The first scenario changes process-wide settings (NumPy errors, logging, warnings)."""

    name = "global_state"

    def namespace(self, device: str) -> Any:
        return _Namespace(super().namespace(device), _on_scenario(FIRST, _change_process_state))


class ChildProcessAdapter(ReferenceAdapter):
    """FIRST starts a `sleep` it never waits for, and writes its pid to TAPECONF_TEST_CHILD."""

    name = "child_process"

    def namespace(self, device: str) -> Any:
        def start_child() -> None:
            child = subprocess.Popen(["sleep", "300"])
            Path(os.environ["TAPECONF_TEST_CHILD"]).write_text(str(child.pid))

        return _Namespace(super().namespace(device), _on_scenario(FIRST, start_child))


class SigkilledAdapter(ReferenceAdapter):
    """SIGKILLs its own worker in FIRST (no faulthandler output: only the signal says why)."""

    name = "sigkilled"

    def namespace(self, device: str) -> Any:
        def kill() -> None:
            os.kill(os.getpid(), signal.SIGKILL)

        return _Namespace(super().namespace(device), _on_scenario(FIRST, kill))


class NotInstalledAdapter(ReferenceAdapter):
    """What an adapter whose framework is missing says (as `--adapter torch` without torch)."""

    name = "not_installed"

    def available(self) -> str | None:
        return "the framework is not installed"


class HangsWhileLoadingAdapter(ReferenceAdapter):
    """Never finishes describing itself."""

    name = "hangs_while_loading"

    def available(self) -> str | None:
        time.sleep(3600)
        return None


@pytest.fixture(autouse=True)
def _importable_by_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers get the parent's sys.path, so this directory makes this module importable there."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def _spec(adapter: type) -> str:
    return f"{MODULE}:{adapter.__name__}"


def _report(out: Path, *adapters: str, options: tuple[str, ...] = ()) -> int:
    argv = ["report", "--out", str(out), "--quiet", *options]
    for adapter in adapters:
        argv += ["--adapter", adapter]
    return main(argv)


def _run(out: Path, spec: str, **options: Any) -> tuple[ReportRun, str]:
    """A report of SUBSET on ``spec`` (the library call behind `tapeconf report`), and what it
    warned about."""
    stream = io.StringIO()
    progress = Progress(stream, quiet=True)  # warnings show all the same
    run = generate_report([spec], out, scenarios=SUBSET, progress=progress, **options)
    return run, stream.getvalue()


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("tapeconf: error: "), stderr
    return lines[0]


@pytest.fixture(scope="module")
def reference_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A whole reference report (results.json), to build partial and malformed files from."""
    out = tmp_path_factory.mktemp("reliability-reference")
    assert main(["report", "--adapter", "reference", "--out", str(out), "--quiet"]) == 0
    return json.loads((out / "results.json").read_text())


def _partial_lines(document: dict[str, Any], cells: int = 10) -> list[str]:
    """The lines an interrupted run of `document`'s first adapter would have left."""
    lines = [json.dumps({"type": "adapter", "adapter": document["adapters"][0]})]
    lines += [json.dumps({"type": "cell", "cell": r}) for r in document["results"][:cells]]
    return lines


def _write_partial(out: Path, lines: list[str] | list[bytes]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / PARTIAL_NAME
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return path


# ---- data lost or wrong -----------------------------------------------------------------------


def test_messages_with_surrogates_and_control_characters_are_reported(tmp_path: Path) -> None:
    """A lone surrogate cannot stop the final write; ESC and NUL reach no report file raw."""
    run, _ = _run(tmp_path, _spec(HostileMessagesAdapter))
    assert run.failures == 2
    document = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    _validate(document)
    cells = _cells(document, "hostile")
    assert cells[FIRST]["observation"]["error"]["message"] == "cannot open /data/caf\\udce9.npy"
    assert cells[SECOND]["observation"]["error"]["message"] == CONTROL_MESSAGE
    for name in ("REPORT.md", "report.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "\x1b" not in text and "\x00" not in text, name
    assert "\\x1b" in (tmp_path / "REPORT.md").read_text(encoding="utf-8")
    assert not (tmp_path / PARTIAL_NAME).exists()


def test_resume_of_a_partial_file_holding_a_surrogate(
    tmp_path: Path, reference_results: dict[str, Any]
) -> None:
    """A record with a lone surrogate in the partial file is resumed and written, not stuck."""
    document = copy.deepcopy(reference_results)
    document["results"][0]["detail"] = "see /tmp/\udcff"
    _write_partial(tmp_path, _partial_lines(document))
    run, _ = _run(tmp_path, "reference", resume=True)
    cells = _cells(json.loads((tmp_path / "results.json").read_text()), "reference")
    assert run.failures == 0 and len(cells) == len(SUBSET)
    assert cells[FIRST]["detail"] == "see /tmp/\\udcff"


def test_resume_refuses_a_partial_file_of_other_adapters(
    tmp_path: Path, reference_results: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Resuming with another adapter set would drop the finished cells: status 2, file kept."""
    partial = _write_partial(tmp_path, _partial_lines(reference_results))
    assert _report(tmp_path, _spec(NotInstalledAdapter), options=("--resume",)) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "finished cells of reference" in line and "--adapter reference" in line
    assert partial.read_text().count("\n") == 11 and not (tmp_path / "results.json").exists()


def test_resume_runs_again_the_cells_of_another_adapter_version(
    tmp_path: Path, reference_results: dict[str, Any]
) -> None:
    """Cells of an older version are not labelled with the new one: they run again."""
    old = copy.deepcopy(reference_results)
    old["adapters"][0]["version"] = "0.0.old"
    for record in old["results"]:
        record["detail"] = "from the old version"
    _write_partial(tmp_path, _partial_lines(old))
    run, warned = _run(tmp_path, "reference", resume=True)
    assert "running them again" in warned
    document = run.document
    assert document["adapters"][0]["version"] == reference_results["adapters"][0]["version"]
    details = {r["detail"] for r in document["results"]}
    assert len(document["results"]) == len(SUBSET) and "from the old version" not in details


def test_a_plain_rerun_says_that_resume_would_keep_the_cells(
    tmp_path: Path, reference_results: dict[str, Any]
) -> None:
    """Starting over discards an interrupted run's cells, and says so (with --quiet too)."""
    _write_partial(tmp_path, _partial_lines(reference_results))
    run, warned = _run(tmp_path, "reference")
    assert run.failures == 0
    assert "held 10 finished cells" in warned and "--resume" in warned


def test_a_cell_cannot_change_the_verdicts_of_later_cells(tmp_path: Path) -> None:
    """np.seterr, logging.disable, logger levels and warning filters set by one cell are put
    back: every later cell in the same worker still conforms."""
    assert _report(tmp_path, _spec(GlobalStateAdapter)) == 0
    cells = _cells(json.loads((tmp_path / "results.json").read_text()), "global_state")
    assert len(cells) == N_SCENARIOS and {r["verdict"] for r in cells.values()} == {"conforms"}


def test_run_cell_restores_process_state_for_the_pytest_plugin_too() -> None:
    """The plugin's path (run_cell in this process): the settings are back after the cell."""
    adapter = GlobalStateAdapter()
    before = (np.geterr(), logging.root.manager.disable, logging.root.level, list(warnings.filters))
    cell = run_cell(SCENARIOS[0], adapter, "CPU:0", None)
    after = (np.geterr(), logging.root.manager.disable, logging.root.level, list(warnings.filters))
    assert cell.verdict is Verdict.CONFORMS and after == before


# ---- corrupt partial files --------------------------------------------------------------------


def _corrupt(kind: str, lines: list[str]) -> list[str] | list[bytes]:
    cell = json.loads(lines[3])
    if kind == "not UTF-8":
        return [*lines[:3], b"\xff\xfe garbage", *lines[3:]]
    if kind == "a JSON list":
        return [*lines[:3], "[1, 2, 3]", *lines[3:]]
    if kind == "a cell missing fields":
        del cell["cell"]["verdict"]
        return [*lines[:3], json.dumps(cell), *lines[4:]]
    if kind == "a bogus verdict":
        cell["cell"]["verdict"] = "bogus"
        return [*lines[:3], json.dumps(cell), *lines[4:]]
    if kind == "an adapter line without a name":
        adapter = json.loads(lines[0])
        del adapter["adapter"]["name"]
        return [json.dumps(adapter), *lines[1:]]
    if kind == "a duplicated line":
        return [*lines, lines[3]]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "not UTF-8",
        "a JSON list",
        "a cell missing fields",
        "a bogus verdict",
        "an adapter line without a name",
        "a duplicated line",
    ],
)
def test_resume_survives_a_corrupt_partial_file(
    kind: str, tmp_path: Path, reference_results: dict[str, Any]
) -> None:
    """Unusable lines are skipped (their cells run again); a duplicate counts once; what is
    written validates and has one record per cell."""
    _write_partial(tmp_path, _corrupt(kind, _partial_lines(reference_results)))
    run, _ = _run(tmp_path, "reference", resume=True)
    document = json.loads((tmp_path / "results.json").read_text())
    _validate(document)
    assert run.failures == 0 and len(document["results"]) == len(SUBSET)
    assert {r["verdict"] for r in document["results"]} == {"conforms"}


def test_lines_appended_after_a_line_cut_short_stay_whole(
    tmp_path: Path, reference_results: dict[str, Any]
) -> None:
    """An interruption can leave half a line; what --resume appends starts on a line of its own."""
    path = _write_partial(tmp_path, _partial_lines(reference_results, cells=3))
    path.write_bytes(path.read_bytes() + _partial_lines(reference_results)[5][:40].encode())
    log = PartialLog(tmp_path, append=True)
    record = reference_results["results"][7]
    log.write("cell", record)
    log.close()
    assert record["id"] in [cell["id"] for cell in _partial_cells(path)]


@pytest.mark.parametrize("resume", [True, False])
def test_a_directory_in_place_of_the_partial_file(
    resume: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory where the partial file goes: one line naming it, status 2."""
    (tmp_path / PARTIAL_NAME).mkdir()
    options = ("--resume",) if resume else ()
    assert _report(tmp_path, "reference", options=options) == 2
    assert PARTIAL_NAME in _one_line_error(capsys.readouterr().err)


def test_a_full_disk_stops_the_run_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writing the partial file fails with ENOSPC (it is /dev/full): status 2, one line, no
    thread traceback, no final files."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    (tmp_path / PARTIAL_NAME).symlink_to("/dev/full")
    assert _report(tmp_path, "reference") == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "No space left on device" in line and "--resume" in line
    assert not (tmp_path / "results.json").exists()


# ---- tapeconf diff on malformed files ---------------------------------------------------------


def _malformed(kind: str, document: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(document)
    record = bad["results"][0]
    if kind == "adapter without a name":
        del bad["adapters"][0]["name"]
    elif kind == "observation is a string":
        record["observation"] = "returned 6.0"
    elif kind == "device is a list":
        record["device"] = ["CPU:0"]
    elif kind == "observation without summary":
        del record["observation"]["summary"]
    elif kind == "error is a string":
        record["observation"] = {**record["observation"], "outcome": "raised", "error": "boom"}
    elif kind == "schema_version true":
        bad["schema_version"] = True
    return bad


@pytest.mark.parametrize(
    "kind",
    [
        "adapter without a name",
        "observation is a string",
        "device is a list",
        "observation without summary",
        "error is a string",
        "schema_version true",
    ],
)
def test_diff_of_a_malformed_file_is_one_line_and_status_2(
    kind: str,
    tmp_path: Path,
    reference_results: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Never a traceback with status 1 (which CI reads as "changed"): status 2, one line."""
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(reference_results))
    bad.write_text(json.dumps(_malformed(kind, reference_results)))
    for argv in (["diff", str(good), str(bad)], ["diff", str(bad), str(good)]):
        assert main(argv) == 2, kind
        captured = capsys.readouterr()
        assert str(bad) in _one_line_error(captured.err) and captured.out == ""


# ---- processes left behind --------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped, does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _wait_for(condition: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    return condition()


def _hanging_report(tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    """`tapeconf report` on an adapter that hangs in its first scenario, and its worker's pid."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to find the worker process")
    env = {
        **os.environ,
        "CI": "true",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(REPO_ROOT)]),
    }
    command = [sys.executable, "-m", "conformance", "report", "--out", str(tmp_path / "out")]
    command += ["--adapter", f"test_report:{HangingAdapter.__name__}"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    partial = tmp_path / "out" / PARTIAL_NAME
    assert _wait_for(lambda: partial.exists() and partial.read_text().strip(), 60), "no hello"
    workers = _wait_for(lambda: _children(process.pid), 10)
    assert len(workers) == 1
    return process, workers[0]


def test_sigterm_kills_the_workers_and_keeps_the_partial_file(tmp_path: Path) -> None:
    """SIGTERM while a scenario hangs: "terminated", status 143, the worker is gone."""
    process, worker = _hanging_report(tmp_path)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "terminated" in stderr and "--resume" in stderr
    assert _wait_for(lambda: not _alive(worker), 10)
    assert (tmp_path / "out" / PARTIAL_NAME).exists()


def test_sigkill_of_the_parent_ends_the_worker(tmp_path: Path) -> None:
    """SIGKILL of tapeconf (nothing of it can clean up): the worker's watchdog ends it."""
    process, worker = _hanging_report(tmp_path)
    process.kill()
    process.communicate(timeout=60)
    assert _wait_for(lambda: not _alive(worker), 10), "the worker outlived its parent"


def test_a_child_process_of_a_scenario_does_not_outlive_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `sleep` a scenario started and left: gone once the report is written."""
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("TAPECONF_TEST_CHILD", str(pid_file))
    assert _run(tmp_path / "out", _spec(ChildProcessAdapter))[0].failures == 0
    child = int(pid_file.read_text())
    assert _wait_for(lambda: not _alive(child), 10), "the scenario's child is still running"


# ---- exit statuses when an adapter asked for ran nothing ----------------------------------------


def _raising_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "raises_at_import.py").write_text('raise ImportError("broken on purpose")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    return "raises_at_import:Adapter"


@pytest.mark.parametrize(
    ("make_spec", "why"),
    [
        (lambda tmp, mp: "torch@/bin/false", "exited with status 1"),
        (lambda tmp, mp: _spec(NotInstalledAdapter), "not installed"),
        (_raising_module, "broken on purpose"),
        (lambda tmp, mp: _spec(HangsWhileLoadingAdapter), "did not start within 3 s"),
    ],
    ids=["interpreter-false", "not-installed", "raises-at-import", "hangs-while-loading"],
)
def test_an_adapter_asked_for_that_ran_nothing_fails(
    make_spec: Callable[[Path, pytest.MonkeyPatch], str],
    why: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Status 1 and a line saying why; one that hangs while loading is given up after
    --timeout (which bounds start-up too), not after the default 180 s."""
    spec = make_spec(tmp_path, monkeypatch)
    if spec.endswith("@/bin/false") and not os.access("/bin/false", os.X_OK):
        pytest.skip("no /bin/false")
    hangs = "Hangs" in spec
    started = time.monotonic()
    assert _report(tmp_path / "out", spec, options=("--timeout", "3") if hangs else ()) == 1
    assert time.monotonic() - started < 60
    stderr = capsys.readouterr().err
    assert "ran nothing" in stderr and why in stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(document["results"]) == N_SCENARIOS


def test_unavailable_adapters_of_a_default_run_are_not_failures() -> None:
    """Only adapters asked for by name fail when they run nothing (the rule the CLI applies)."""
    from conformance.cli import _requested_but_idle

    document = {
        "adapters": [{"name": "torch", "spec": "torch", "available": False, "reason": "missing"}],
        "results": [{"adapter": "torch", "observation": None}],
    }
    assert _requested_but_idle(document) == ["--adapter torch ran nothing: missing"]


# ---- unclear messages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--timeout", "nan"], "--timeout"),
        (["--timeout", "inf"], "--timeout"),
        (["--out", ""], "output directory is empty"),
    ],
)
def test_nonsense_options_are_one_line_usage_errors(
    argv: list[str], complaint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkey_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["report", "--adapter", "reference", *argv]) == 2
    finally:
        os.chdir(monkey_cwd)
    assert complaint in _one_line_error(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_a_sigkilled_worker_is_described_by_its_signal(tmp_path: Path) -> None:
    """The crash detail names the signal, not a start-up warning the worker printed."""
    run, _ = _run(tmp_path, _spec(SigkilledAdapter))
    crashed = _cells(run.document, "sigkilled")[FIRST]
    assert crashed["verdict"] == "crashed" and "killed by SIGKILL" in crashed["detail"]
    assert "Warning" not in crashed["detail"]


def test_a_worker_starts_without_a_word_on_stderr() -> None:
    """No runpy RuntimeWarning: the package does not import the worker module first."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance.report.worker", "reference"],
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stderr == ""


def _divergence_file(tmp_path: Path, body: str | bytes) -> Path:
    path = tmp_path / "divergences.toml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return path


@pytest.mark.parametrize(
    ("body", "line", "fix"),
    [
        (
            f'\n["{SECOND}"]\nreason = "r"\nraises = "invalid_argument"\nmatch = "(unclosed"\n',
            2,
            "not a valid regular expression",
        ),
        (
            f'\n\n["{SECOND}"]\nreason = "r"\nraises = "invalid_argument"\ntype = 5\n',
            3,
            'type = "RuntimeError"',
        ),
        (f'[{SECOND}]\nreason = "r"\nreturns = "1.0"\n', 1, f'write ["{SECOND}"]'),
        (b'["x"]\nreason = "caf\xe9"\n', 2, "save the file as UTF-8"),
        (f'["{SECOND}"]\nreason = "r"\nreturns = "6.0"\n', 1, "remove the entry"),
    ],
    ids=["bad-regex", "type-not-a-name", "unquoted-dotted-id", "not-utf8", "equals-the-spec"],
)
def test_divergence_files_are_checked_whole_at_load_time(
    body: str | bytes, line: int, fix: str, tmp_path: Path
) -> None:
    """Each problem is found when the file loads, naming file:line and the fix."""
    path = _divergence_file(tmp_path, body)
    with pytest.raises(DivergenceFileError) as raised:
        load_divergences(path, [s.id for s in SCENARIOS], spec={s.id: s.expect for s in SCENARIOS})
    assert f"{path}:{line}:" in str(raised.value) and fix in str(raised.value)


def test_an_unknown_scenario_id_warns_in_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in pytest, an entry that matches nothing is a warning in `tapeconf report` too."""
    path = _divergence_file(tmp_path, '["nowhere.nothing"]\nreason = "r"\nreturns = "1.0"\n')
    monkeypatch.setenv("TAPECONF_TEST_DIVERGENCES", str(path))
    run, warned = _run(tmp_path / "out", "test_report:BadDivergencesAdapter")
    assert run.failures == 0 and "unknown scenario 'nowhere.nothing'" in warned
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    _validate(document)
    assert "nowhere.nothing" in document["adapters"][0]["warnings"][0]


# ---- the pytest plugin under pytest-xdist --------------------------------------------------------

CRASHING_TEST = """
import os
from conformance.testing import test_conformance  # noqa: F401

def test_crashes_its_worker():
    os.abort()
"""


def test_pytest_n_2_survives_a_crash_and_prints_the_summary(tmp_path: Path) -> None:
    """-n 2 with one crashing test finishes (no hang after "node down"); the tape-conformance
    summary counts the cells run on the xdist workers."""
    pytest.importorskip("xdist")
    (tmp_path / "test_matrix_and_crash.py").write_text(CRASHING_TEST)
    tutorial = sum(s.area == "tutorial" for s in SCENARIOS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q"]
        + ["--adapter", "reference", "-k", "tutorial or crashes", "test_matrix_and_crash.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert "crashed while running" in done.stdout
    assert f"reference: {tutorial} conforms" in done.stdout, done.stdout[-2000:]


def test_the_schema_knows_the_adapter_warnings() -> None:
    """The optional adapters-block field the report now writes is in the schema."""
    assert "warnings" in SCHEMA["$defs"]["adapter"]["properties"]
