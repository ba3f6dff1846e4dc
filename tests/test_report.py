"""`tapeconf report`: worker isolation, streaming, the results document and its writers.

The misbehaving adapters below are real adapters (the reference adapter with one namespace call
replaced) that the worker imports through `--adapter test_report:ClassName`, the way an adapter
that is not registered as an entry point is run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from adapters.reference_adapter import ReferenceAdapter
from conformance.cli import main
from conformance.expect import TensorLeaf
from conformance.outcome import Verdict
from conformance.pytest_plugin import ConformanceCell
from conformance.registry import all_scenarios, get
from conformance.report import generate_report
from conformance.report.html_report import render_html
from conformance.report.markdown_report import render_markdown
from conformance.report.progress import Progress
from conformance.report.records import tree_to_json
from conformance.report.results import PARTIAL_NAME, write_atomically

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO_ROOT / "conformance/schema/results.schema.json").read_text())
MODULE = Path(__file__).stem  # the worker imports this file's adapters under this name
CRASHING_SCENARIO = "tutorial.watched_constant"
HANGING_SCENARIO = "tutorial.unwatched_constant"
N_SCENARIOS = len(all_scenarios())


# ---- adapters that misbehave, for the worker to import ----------------------------------------


class _Namespace:
    """The reference namespace, with ``constant`` replaced by ``on_constant``."""

    def __init__(self, inner: Any, on_constant: Any) -> None:
        self._inner = inner
        self._on_constant = on_constant

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def constant(self, *args: Any, **kwargs: Any) -> Any:
        self._on_constant(sys._getframe(1).f_code)
        return self._inner.constant(*args, **kwargs)


def _in_scenario(code: Any, scenario_id: str) -> bool:
    return code is get(scenario_id).fn.__code__


class AbortingAdapter(ReferenceAdapter):
    """Kills its own worker (SIGABRT) when CRASHING_SCENARIO creates a constant."""

    name = "aborting"

    def namespace(self, device: str) -> Any:
        def on_constant(code: Any) -> None:
            if _in_scenario(code, CRASHING_SCENARIO):
                os.abort()

        return _Namespace(super().namespace(device), on_constant)


class HangingAdapter(ReferenceAdapter):
    """Hangs when HANGING_SCENARIO creates a constant."""

    name = "hanging"

    def namespace(self, device: str) -> Any:
        def on_constant(code: Any) -> None:
            if _in_scenario(code, HANGING_SCENARIO):
                time.sleep(3600)

        return _Namespace(super().namespace(device), on_constant)


class AlwaysAbortingAdapter(ReferenceAdapter):
    """Kills its worker on every scenario (its first namespace is for the worker's validation)."""

    name = "always_aborting"
    namespaces_made = 0

    def namespace(self, device: str) -> Any:
        AlwaysAbortingAdapter.namespaces_made += 1
        if AlwaysAbortingAdapter.namespaces_made > 1:
            os.abort()
        return super().namespace(device)


class AbortsWhileLoadingAdapter(ReferenceAdapter):
    """Kills its worker before the worker can describe it."""

    name = "aborts_while_loading"

    def available(self) -> str | None:
        os.abort()


class SlowAdapter(ReferenceAdapter):
    """The reference, 0.2 s slower per cell while TAPECONF_TEST_SLOW is set (to interrupt a run)."""

    name = "slow"

    def namespace(self, device: str) -> Any:
        if os.environ.get("TAPECONF_TEST_SLOW"):
            time.sleep(0.2)
        return super().namespace(device)


class BadDivergencesAdapter(ReferenceAdapter):
    """Declares divergences in the file named by TAPECONF_TEST_DIVERGENCES."""

    name = "bad_divergences"

    def divergences_path(self) -> str | None:
        return os.environ["TAPECONF_TEST_DIVERGENCES"]


@pytest.fixture(autouse=True)
def _importable_by_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers get the parent's sys.path, so this directory makes this module importable there."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def _spec(adapter: type) -> str:
    return f"{MODULE}:{adapter.__name__}"


def _validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def _cells(document: dict[str, Any], adapter: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in document["results"] if r["adapter"] == adapter}


@pytest.fixture(scope="module")
def reference_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("reference-report")
    return main(["report", "--adapter", "reference", "--out", str(out), "--quiet"]), out


# ---- a normal run -----------------------------------------------------------------------------


def test_reference_report_writes_three_valid_files(reference_report: tuple[int, Path]) -> None:
    """Every scenario conforms on the reference; the files validate; nothing else is left."""
    status, out = reference_report
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["REPORT.md", "report.html", "results.json"]
    document = json.loads((out / "results.json").read_text())
    _validate(document)
    assert document["schema_version"] == 1
    cells = _cells(document, "reference")
    assert len(cells) == N_SCENARIOS == len(document["scenarios"])
    assert {r["verdict"] for r in cells.values()} == {"conforms"}
    assert document["summary"]["reference"]["conforms"] == N_SCENARIOS
    assert document["environment"]["frameworks"] == {
        "reference": document["adapters"][0]["version"]
    }
    assert document["environment"]["cpu"]["count"] == os.cpu_count()


def test_records_carry_the_same_verdicts_as_the_pytest_plugin(
    reference_report: tuple[int, Path],
) -> None:
    """The worker's verdicts and details are the plugin's, cell for cell (one source of truth)."""
    document = json.loads((reference_report[1] / "results.json").read_text())
    cells = _cells(document, "reference")
    adapter = ReferenceAdapter()
    for scenario in all_scenarios()[:60]:
        cell = ConformanceCell(scenario, adapter, "CPU:0", None).run()
        assert (cells[scenario.id]["verdict"], cells[scenario.id]["detail"]) == (
            cell.verdict.value,
            cell.detail,
        )
        assert cells[scenario.id]["observation"]["summary"] == cell.observation.describe()


def test_record_fields(reference_report: tuple[int, Path]) -> None:
    """A record names its scenario, spec entry and expectation, and keeps what was returned."""
    document = json.loads((reference_report[1] / "results.json").read_text())
    record = _cells(document, "reference")["tutorial.watched_constant"]
    assert record["spec"] == "W02" and record["area"] == "tutorial" and record["device"] == "CPU:0"
    assert record["expectation"] == "returns 6.0"
    assert record["observation"]["value"] == {"dtype": "float32", "shape": [], "value": 6.0}
    assert record["observation"]["outcome"] == "returned" and record["observation"]["error"] is None
    raised = _cells(document, "reference")["tutorial.non_persistent_second_gradient"]["observation"]
    assert raised["outcome"] == "raised" and raised["error"]["kind"] == "consumed_tape"
    assert raised["error"]["native_type"].endswith("RuntimeError") and raised["error"]["message"]
    source = next(s for s in document["scenarios"] if s["id"] == "tutorial.watched_constant")[
        "source"
    ]
    assert source.startswith("def _(fw):") and "tape.watch(x)" in source


def test_markdown_has_matrix_scenarios_and_mappings(reference_report: tuple[int, Path]) -> None:
    """REPORT.md: the summary matrix, one section per scenario with its table, the mapping table."""
    text = (reference_report[1] / "REPORT.md").read_text()
    assert "| area | reference |" in text
    assert f"| **all** | **✅ {N_SCENARIOS}** |" in text
    assert text.count("\n#### `") == N_SCENARIOS
    assert "| reference | ✅ conforms | returned None |" in text
    assert "## Mapping decisions" in text and "| neutral | native | why |" in text


# ---- the tree encoding -------------------------------------------------------------------------


def test_observed_trees_encode_specials_and_structure() -> None:
    """NaN and infinities become strings, complex numbers objects, dicts {"dict": ...}."""
    import numpy as np

    leaf = TensorLeaf(np.array([1.0, np.nan, np.inf, -np.inf], dtype=np.float32), "float32")
    complex_leaf = TensorLeaf(np.array(1 + 2j, dtype=np.complex64), "complex64")
    tree = (None, leaf, {"g": complex_leaf}, [True, 3, float("nan")])
    encoded = tree_to_json(tree)
    assert encoded == [
        None,
        {"dtype": "float32", "shape": [4], "value": [1.0, "nan", "inf", "-inf"]},
        {"dict": {"g": {"dtype": "complex64", "shape": [], "value": {"real": 1.0, "imag": 2.0}}}},
        [True, 3, "nan"],
    ]
    json.dumps(encoded, allow_nan=False)
    tree_schema = {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], "$ref": "#/$defs/tree"}
    jsonschema.Draft202012Validator(tree_schema).validate(encoded)


# ---- a worker that dies, hangs or cannot start ------------------------------------------------


def test_a_worker_killed_mid_run_costs_only_its_cell(tmp_path: Path) -> None:
    """os.abort() in a scenario: it crashed, a new worker ran the rest; the report is whole."""
    status = main(
        [
            "report",
            "--adapter",
            "reference",
            "--adapter",
            _spec(AbortingAdapter),
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert status == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "REPORT.md",
        "report.html",
        "results.json",
    ]
    document = json.loads((tmp_path / "results.json").read_text())
    _validate(document)
    aborting = _cells(document, "aborting")
    assert len(aborting) == N_SCENARIOS
    crashed = aborting[CRASHING_SCENARIO]
    assert crashed["verdict"] == "crashed"
    assert "SIGABRT" in crashed["detail"] and "Fatal Python error" in crashed["detail"]
    assert crashed["observation"] is None
    others = {r["verdict"] for sid, r in aborting.items() if sid != CRASHING_SCENARIO}
    assert others == {"conforms"}
    assert {r["verdict"] for r in _cells(document, "reference").values()} == {"conforms"}
    assert "💥 crashed" in (tmp_path / "REPORT.md").read_text()


def test_a_hanging_scenario_times_out_and_the_run_goes_on(tmp_path: Path) -> None:
    """A scenario past its (capped) timeout is timed_out; the next scenarios still run."""
    status = main(
        [
            "report",
            "--adapter",
            _spec(HangingAdapter),
            "--out",
            str(tmp_path),
            "--timeout",
            "3",
            # start-up is not what this test is about: on a loaded machine (pytest -n 2) loading
            # the worker alone can take longer than the 3 s a scenario gets
            "--startup-timeout",
            "120",
            "--quiet",
        ]
    )
    assert status == 1
    document = json.loads((tmp_path / "results.json").read_text())
    cells = _cells(document, "hanging")
    assert cells[HANGING_SCENARIO]["verdict"] == "timed_out"
    assert "no result within 3 s" in cells[HANGING_SCENARIO]["detail"]
    assert {r["verdict"] for sid, r in cells.items() if sid != HANGING_SCENARIO} == {"conforms"}


def test_an_adapter_crashing_on_every_scenario_is_given_up_after_five(tmp_path: Path) -> None:
    """Five crashes in a row: the remaining cells are recorded as not run, with the last reason."""
    status = main(
        ["report", "--adapter", _spec(AlwaysAbortingAdapter), "--out", str(tmp_path), "--quiet"]
    )
    assert status == 1
    cells = list(
        _cells(json.loads((tmp_path / "results.json").read_text()), "always_aborting").values()
    )
    assert len(cells) == N_SCENARIOS and {c["verdict"] for c in cells} == {"crashed"}
    assert (
        sum(c["detail"].startswith("not run: 5 scenarios in a row") for c in cells)
        == N_SCENARIOS - 5
    )


def test_a_worker_dying_while_loading_makes_the_adapter_unavailable(tmp_path: Path) -> None:
    """An adapter whose import kills the worker: unavailable cells with the reason; asked for
    by name, it ran nothing, so status 1."""
    status = main(
        ["report", "--adapter", _spec(AbortsWhileLoadingAdapter), "--out", str(tmp_path), "--quiet"]
    )
    assert status == 1
    document = json.loads((tmp_path / "results.json").read_text())
    _validate(document)
    cells = [r for r in document["results"]]
    assert len(cells) == N_SCENARIOS
    assert {(c["verdict"], c["device"]) for c in cells} == {("unavailable", None)}
    assert "died while loading" in cells[0]["detail"] and "SIGABRT" in cells[0]["detail"]
    assert document["adapters"][0]["available"] is False


def test_an_import_path_naming_nothing_says_why(tmp_path: Path) -> None:
    """`module:attr` with a missing attribute: the worker says why; the report is still written
    and no cell passes (status 1: the adapter asked for ran nothing)."""
    status = main(
        ["report", "--adapter", f"{MODULE}:NoSuchAdapter", "--out", str(tmp_path), "--quiet"]
    )
    assert status == 1
    document = json.loads((tmp_path / "results.json").read_text())
    block = document["adapters"][0]
    why = block["error"] or block["reason"]
    assert "AttributeError" in why and "NoSuchAdapter" in why
    assert {r["verdict"] for r in document["results"]} in ({"unavailable"}, {"error"})


def test_a_malformed_divergence_file_makes_every_cell_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken adapter is a failure (status 1), never a silent skip."""
    bad = tmp_path / "bad.toml"
    bad.write_text('["tutorial.watched_constant"]\nreason = "x"\n')
    monkeypatch.setenv("TAPECONF_TEST_DIVERGENCES", str(bad))
    out = tmp_path / "out"
    assert (
        main(["report", "--adapter", _spec(BadDivergencesAdapter), "--out", str(out), "--quiet"])
        == 1
    )
    document = json.loads((out / "results.json").read_text())
    assert {r["verdict"] for r in document["results"]} == {"error"}
    assert "exactly one of returns / raises" in document["adapters"][0]["error"]


# ---- streaming, interruption and resuming ------------------------------------------------------


def _partial_cells(path: Path) -> list[dict[str, Any]]:
    cells = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry["type"] == "cell":
            cells.append(entry["cell"])
    return cells


def test_an_interrupted_run_keeps_its_cells_and_resumes(tmp_path: Path) -> None:
    """Cells stream into the partial file; Ctrl-C keeps them (status 130); --resume runs the rest"""
    env = {
        **os.environ,
        "TAPECONF_TEST_SLOW": "1",
        "CI": "true",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(REPO_ROOT)]),
    }
    command = [
        sys.executable,
        "-m",
        "conformance",
        "report",
        "--adapter",
        _spec(SlowAdapter),
        "--out",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    partial = tmp_path / PARTIAL_NAME
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        not partial.exists() or len(_partial_cells(partial)) < 8
    ):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr
    assert not (tmp_path / "results.json").exists()
    kept = {r["id"]: r for r in _partial_cells(partial)}
    assert 8 <= len(kept) < N_SCENARIOS
    assert all(line.endswith("}") for line in partial.read_text().splitlines())

    assert (
        main(
            [
                "report",
                "--adapter",
                _spec(SlowAdapter),
                "--out",
                str(tmp_path),
                "--resume",
                "--quiet",
            ]
        )
        == 0
    )
    assert not partial.exists()
    cells = _cells(json.loads((tmp_path / "results.json").read_text()), "slow")
    assert len(cells) == N_SCENARIOS and {r["verdict"] for r in cells.values()} == {"conforms"}
    for scenario_id, record in kept.items():  # the same records, not re-run (timings would differ)
        assert cells[scenario_id] == record


def test_records_are_streamed_to_the_partial_file_as_they_arrive(tmp_path: Path) -> None:
    """Each record is in the partial file before the next arrives; the file is gone at the end."""
    seen: list[str] = []

    class Recording(Progress):
        def cell(self, adapter: str, verdict: str, *, failure: bool) -> None:
            if len(seen) < 3:
                seen.append(str(len(_partial_cells(tmp_path / PARTIAL_NAME))))
            super().cell(adapter, verdict, failure=failure)

    run = generate_report(["reference"], tmp_path, progress=Recording(quiet=True))
    assert len(run.document["results"]) == N_SCENARIOS
    assert seen == ["1", "2", "3"]  # each record is on disk before the next one arrives
    assert not (tmp_path / PARTIAL_NAME).exists()


# ---- writers ----------------------------------------------------------------------------------


HOSTILE = '</script><script>alert("x")</script> | `tick` <b>bold</b>\nsecond line & more'


def _hostile_document(reference_report: tuple[int, Path]) -> dict[str, Any]:
    document = json.loads((reference_report[1] / "results.json").read_text())
    record = document["results"][0]
    record["verdict"] = "unexpected"
    record["detail"] = HOSTILE
    record["observation"]["summary"] = HOSTILE
    document["adapters"][0]["mappings"][0]["why"] = HOSTILE
    return document


def test_html_escapes_framework_strings(reference_report: tuple[int, Path]) -> None:
    """Framework text never reaches the page unescaped, and the embedded JSON round-trips."""
    document = _hostile_document(reference_report)
    page = render_html(document)
    assert "alert(" in page  # the text is there ...
    assert '<script>alert("x")' not in page and "<b>bold</b>" not in page  # ... but never as markup
    assert page.count("</script>") == 2  # the data block's and the code block's own
    embedded = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
    )
    assert embedded is not None and json.loads(embedded.group(1)) == document
    for external in ("<link", "<img", "<script src", "@import", "url("):
        assert external not in page


def test_markdown_keeps_table_rows_intact(reference_report: tuple[int, Path]) -> None:
    """Pipes, newlines and tags in a framework message cannot break a Markdown table row."""
    document = _hostile_document(reference_report)
    text = render_markdown(document)
    row = next(line for line in text.splitlines() if line.startswith("| reference | ❌ unexpected"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 5
    assert "<b>" not in text and "<script>" not in text


def test_atomic_write_leaves_nothing_when_one_file_fails(tmp_path: Path) -> None:
    """If any file cannot be written, no target is replaced and no temporary is left."""
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(OSError):
        write_atomically({tmp_path / "a.txt": "new", tmp_path / "missing" / "b.txt": "new"})
    assert (tmp_path / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


# ---- progress -----------------------------------------------------------------------------------


class _Terminal:
    def __init__(self, tty: bool) -> None:
        self.text, self.tty = "", tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("tty", "ci", "bar"), [(True, "", True), (True, "true", False), (False, "", False)]
)
def test_progress_draws_a_bar_only_on_a_terminal_outside_ci(
    tty: bool, ci: str, bar: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redrawn bar on a terminal; plain lines when CI=true or stderr is not a terminal."""
    monkeypatch.setenv("CI", ci)
    stream = _Terminal(tty)
    progress = Progress(stream)
    progress.add_cells("reference", 2, "0.1.0 on CPU:0: 2 cells")
    progress.cell("reference", "conforms", failure=False)
    time.sleep(0.15)
    progress.cell("reference", "unexpected", failure=True)
    progress.adapter_done(
        "reference", __import__("collections").Counter(conforms=1, unexpected=1), 1.0
    )
    progress.close()
    assert ("\r" in stream.text) is bar
    assert "tapeconf: reference: 1 conforms, 1 unexpected (1.0 s)" in stream.text
    if not bar:
        assert stream.text.count("\n") == 2


def test_verdict_failures_decide_the_exit_status() -> None:
    """The statuses the command maps verdicts to (1 for these, 0 for the rest)."""
    failing = {v.value for v in Verdict if v.is_failure}
    assert failing == {"unexpected", "crashed", "timed_out", "error"}


# ---- environment --------------------------------------------------------------------------------


def test_gpu_and_cpu_come_from_nvidia_smi_and_cpuinfo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GPU block is nvidia-smi's answer when it exists, else null; the CPU model is /proc/cpuinfo's."""
    from conformance.report.environment import cpu_model, gpu_info

    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_info() is None
    smi = tmp_path / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 550.54.15'\necho 'NVIDIA H100 80GB HBM3, 550.54.15'\n"
    )
    smi.chmod(0o755)
    assert gpu_info() == {"model": "NVIDIA H100 80GB HBM3", "count": 2, "driver": "550.54.15"}
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14\n")
    assert cpu_model(cpuinfo) == "AMD EPYC 9R14"
