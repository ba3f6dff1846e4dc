"""Adapters in another environment: the versioned worker protocol, ``--adapter NAME@PYTHON``,
and ``tapeconf diff`` telling semantic changes from reworded native messages.

The misbehaving "interpreters" are small executable scripts written into tmp_path and given as
``fake@SCRIPT``: the parent runs ``SCRIPT -m conformance.report.worker fake`` exactly as it runs a
real interpreter. Some speak the protocol by hand (as a worker in another language would) and then
break it; others run the real worker and break it on one scenario only, to show that the rest of
the run is untouched.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from adapters.reference_adapter import ReferenceAdapter
from conformance.cli import main
from conformance.pytest_plugin import ConformanceCell
from conformance.registry import all_scenarios
from conformance.report.runner import Runner
from conformance.report.wire import PROTOCOL_VERSION, ProtocolError, check_cell, check_hello

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO_ROOT / "conformance/schema/results.schema.json").read_text())
N_SCENARIOS = len(all_scenarios())
TARGET = "tutorial.watched_constant"  # the scenario the wrapping fakes misbehave on
TF_212 = REPO_ROOT / "envs" / "tf-2.12" / "bin" / "python"

HELLO = {
    "event": "hello",
    "protocol": PROTOCOL_VERSION,
    "adapter": {"name": "fake", "available": True, "version": "0.0", "devices": ["CPU:0"]},
}

# A worker written from the protocol alone: hello, then MODE on every request.
HAND_WRITTEN = """#!{python}
import json, os, sys, time
with open({log!r}, "a") as log:
    log.write("started\\n")
print(json.dumps({hello}), flush=True)
for line in sys.stdin:
    if {mode!r} == "garbage":
        print("Segmentation fault? no: just text", flush=True)
    elif {mode!r} == "not_a_message":
        print("[1, 2, 3]", flush=True)
    elif {mode!r} == "wrong_cell":
        print(json.dumps({{"event": "cell", "record": {{"id": "other.scenario"}}}}), flush=True)
    elif {mode!r} == "dies":
        os._exit(3)
    elif {mode!r} == "hangs":
        time.sleep(3600)
"""

# The real worker, which breaks the protocol on TARGET only.
WRAPPING = """#!{python}
import os, sys, time
from conformance.report import worker
real_emit = worker._emit

def emit(channel, message):
    if (message.get("record") or {{}}).get("id") == {target!r}:
        if {mode!r} == "garbage":
            channel.write("not json at all\\n")
            channel.flush()
            return
        if {mode!r} == "dies":
            os._exit(7)
        if {mode!r} == "hangs":
            time.sleep(3600)
    real_emit(channel, message)

worker._emit = emit
sys.exit(worker.main(sys.argv[3:]))
"""


def _script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def _hand_written(tmp_path: Path, mode: str, hello: dict[str, Any] = HELLO) -> Path:
    log = tmp_path / "starts.log"
    text = HAND_WRITTEN.format(python=sys.executable, log=str(log), hello=hello, mode=mode)
    return _script(tmp_path / f"python-{mode}", text)


def _starts(tmp_path: Path) -> int:
    return len((tmp_path / "starts.log").read_text().splitlines())


def _report(tmp_path: Path, *adapters: str, options: tuple[str, ...] = ()) -> tuple[int, dict]:
    out = tmp_path / "out"
    argv = ["report", "--out", str(out), "--quiet", *options]
    for adapter in adapters:
        argv += ["--adapter", adapter]
    status = main(argv)
    document = json.loads((out / "results.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return status, document


def _cells(document: dict[str, Any], adapter: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in document["results"] if r["adapter"] == adapter}


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tapeconf: error: "), stderr
    return lines[0]


# ---- the protocol's version ---------------------------------------------------------------------


def test_the_worker_says_which_protocol_it_speaks() -> None:
    """The real worker's hello carries "protocol": 1 and its interpreter and packages."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance.report.worker", "reference"],
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )
    hello = json.loads(done.stdout.splitlines()[0])
    assert hello["event"] == "hello" and hello["protocol"] == PROTOCOL_VERSION == 1
    assert hello["runtime"]["executable"] == sys.executable
    assert "numpy" in hello["runtime"]["packages"]
    block, _ = check_hello(hello, "reference")
    assert block["name"] == "reference" and block["available"] is True


def test_a_worker_speaking_another_version_is_refused(tmp_path: Path) -> None:
    """Protocol 2 in the hello: every cell is an error that names both versions."""
    script = _hand_written(tmp_path, "dies", {**HELLO, "protocol": 2})
    status, document = _report(tmp_path, f"fake@{script}")
    assert status == 1
    cells = list(_cells(document, "fake").values())
    assert len(cells) == N_SCENARIOS and {c["verdict"] for c in cells} == {"error"}
    assert "worker speaks protocol 2, this tapeconf speaks 1" in cells[0]["detail"]
    assert document["adapters"][0]["spec"] == f"fake@{script}"


def test_a_garbled_hello_makes_the_adapter_an_error(tmp_path: Path) -> None:
    """A first line that is not JSON is a protocol error, not a silently missing adapter."""
    script = _script(tmp_path / "python", "#!/bin/sh\necho 'hello there'\nsleep 3600\n")
    status, document = _report(tmp_path, f"fake@{script}")
    assert status == 1
    assert {r["verdict"] for r in document["results"]} == {"error"}
    assert document["adapters"][0]["error"].startswith("protocol error: ")
    assert "'hello there'" in document["adapters"][0]["error"]


# ---- a worker that writes garbage, dies or hangs ------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "complaint"),
    [
        ("garbage", "a line that is not JSON: 'Segmentation fault? no: just text'"),
        ("not_a_message", "JSON that is not a message: '[1, 2, 3]'"),
        ("wrong_cell", "the record's id is 'other.scenario', but"),
    ],
)
def test_garbage_costs_the_cell_and_the_worker_is_replaced(
    tmp_path: Path, mode: str, complaint: str
) -> None:
    """Each garbled answer: that cell crashed with "protocol error", a fresh worker goes on."""
    status, document = _report(tmp_path, f"fake@{_hand_written(tmp_path, mode)}")
    assert status == 1
    cells = list(_cells(document, "fake").values())
    assert len(cells) == N_SCENARIOS and {c["verdict"] for c in cells} == {"crashed"}
    for cell in cells[:5]:
        assert cell["detail"].startswith("protocol error: ") and complaint in cell["detail"]
    assert all(c["detail"].startswith("not run: 5 scenarios in a row") for c in cells[5:])
    assert _starts(tmp_path) == 5  # one worker per garbled cell; none after giving up


@pytest.mark.parametrize(
    ("mode", "verdict", "complaint"),
    [("dies", "crashed", "exited with status 3"), ("hangs", "timed_out", "no result within 1 s")],
)
def test_a_hand_written_worker_that_dies_or_hangs(
    tmp_path: Path, mode: str, verdict: str, complaint: str
) -> None:
    """Exiting (status 3) or hanging on a request: crashed / timed_out, and a new worker."""
    script = _hand_written(tmp_path, mode)
    status, document = _report(tmp_path, f"fake@{script}", options=("--timeout", "1"))
    assert status == 1
    first = _cells(document, "fake")[all_scenarios()[0].id]
    assert first["verdict"] == verdict and complaint in first["detail"]
    assert _starts(tmp_path) == 5


@pytest.mark.parametrize(
    ("mode", "verdict", "complaint"),
    [
        ("garbage", "crashed", "protocol error: the worker wrote a line that is not JSON"),
        ("dies", "crashed", "exited with status 7"),
        ("hangs", "timed_out", "no result within 2 s"),
    ],
)
def test_one_broken_cell_loses_nothing_else(
    tmp_path: Path, mode: str, verdict: str, complaint: str
) -> None:
    """The real worker, broken on one scenario: that cell is marked, every other one conforms."""
    script = _script(
        tmp_path / "python",
        WRAPPING.format(python=sys.executable, target=TARGET, mode=mode),
    )
    # the 2 s cap is for the broken cell; a worker (re)starting on a loaded machine gets longer
    options = ("--timeout", "2", "--startup-timeout", "120")
    status, document = _report(tmp_path, f"reference@{script}", options=options)
    assert status == 1
    cells = _cells(document, "reference")
    assert len(cells) == N_SCENARIOS
    assert cells[TARGET]["verdict"] == verdict and complaint in cells[TARGET]["detail"]
    assert {r["verdict"] for sid, r in cells.items() if sid != TARGET} == {"conforms"}


# ---- NAME@PYTHON --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A report of the reference adapter run by this interpreter named as NAME@PYTHON."""
    status, document = _report(tmp_path_factory.mktemp("elsewhere"), f"reference@{sys.executable}")
    assert status == 0
    return document


def test_an_interpreter_spec_gives_the_in_process_verdicts(
    reference_elsewhere: dict[str, Any],
) -> None:
    """reference@<this python>: cell for cell the verdicts and details of an in-process run."""
    cells = _cells(reference_elsewhere, "reference")
    adapter = ReferenceAdapter()
    assert len(cells) == N_SCENARIOS
    for scenario in all_scenarios():
        cell = ConformanceCell(scenario, adapter, "CPU:0", None).run()
        record = cells[scenario.id]
        assert (record["verdict"], record["detail"]) == (cell.verdict.value, cell.detail)
        assert record["observation"]["summary"] == cell.observation.describe()


def test_the_adapters_block_records_the_interpreter(reference_elsewhere: dict[str, Any]) -> None:
    """The spec keeps the (absolute) interpreter; the environment is the worker's."""
    block = reference_elsewhere["adapters"][0]
    assert block["spec"] == f"reference@{os.path.abspath(sys.executable)}"
    assert block["version"] == ReferenceAdapter().version()
    assert reference_elsewhere["environment"]["python_executable"] == sys.executable


def test_an_environment_without_this_project_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh venv: unavailable cells whose reason says conformance is missing and how to fix it."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    monkeypatch.chdir(tmp_path)  # so that the checkout is not importable from the working dir
    monkeypatch.delenv("PYTHONPATH", raising=False)
    python = venv / "bin" / "python"
    status, document = _report(tmp_path, f"torch@{python}")
    assert status == 1  # asked for by name and ran nothing
    assert {(r["verdict"], r["device"]) for r in document["results"]} == {("unavailable", None)}
    reason = document["adapters"][0]["reason"]
    assert reason.startswith(f"conformance is not importable by {python}")
    assert f"`{python} -m pip install --no-deps -e {REPO_ROOT}`" in reason


def test_a_missing_interpreter_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No such file: status 2, one line, nothing written."""
    out = tmp_path / "out"
    missing = tmp_path / "no-env" / "bin" / "python"
    assert main(["report", "--adapter", f"tensorflow@{missing}", "--out", str(out)]) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert f"no interpreter '{missing}'" in line
    assert not out.exists()


def test_two_specs_for_one_adapter_name_are_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """reference and reference@PYTHON would write the same cells: status 2."""
    argv = ["report", "--adapter", "reference", "--adapter", f"reference@{sys.executable}"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert "both name the adapter 'reference'" in _one_line_error(capsys.readouterr().err)


@pytest.mark.skipif(not TF_212.exists(), reason="no TensorFlow 2.12 environment in envs/tf-2.12")
def test_tensorflow_212_runs_in_its_own_environment() -> None:
    """The demonstration's setup: TF 2.12 with NumPy 1.23 answers in its own interpreter."""
    scenarios = [s for s in all_scenarios() if s.area == "tutorial"]
    spec = f"tensorflow@{TF_212}"
    result = Runner([spec], scenarios, jobs=1).run()
    assert result.adapters[0]["version"] == "2.12.0" and result.adapters[0]["spec"] == spec
    assert result.runtimes[spec]["packages"]["numpy"].startswith("1.23")
    assert {r["verdict"] for r in result.records} == {"conforms"}


# ---- the wire checks ----------------------------------------------------------------------------


def test_cell_records_must_answer_the_question_asked() -> None:
    """A record for another device or adapter, or with an unknown verdict, is a protocol error."""
    asked = {"scenario_id": TARGET, "device": "CPU:0", "adapter": "fake", "scenario_fields": {}}
    good = {"id": TARGET, "adapter": "fake", "device": "CPU:0", "verdict": "conforms"}
    record = check_cell({"event": "cell", "record": good}, **asked)
    assert record["detail"] == "" and record["observation"] is None
    for bad in ({"device": "GPU:0"}, {"adapter": "other"}, {"verdict": "fine"}):
        with pytest.raises(ProtocolError):
            check_cell({"event": "cell", "record": {**good, **bad}}, **asked)
    with pytest.raises(ProtocolError, match="no protocol version"):
        check_hello({"event": "hello", "adapter": HELLO["adapter"]}, "fake")


# ---- diff: semantic changes and reworded messages -----------------------------------------------


def _write(path: Path, document: dict[str, Any]) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def _raised(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in document["results"] if (r["observation"] or {}).get("error")]


def test_diff_says_no_semantic_change_and_lists_the_reworded_messages(
    reference_elsewhere: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only messages differ: status 0, "No semantic change", each message pair shown."""
    new = copy.deepcopy(reference_elsewhere)
    reworded = _raised(new)[0]
    reworded["observation"]["error"]["message"] += " name: "
    old_path, new_path = (
        _write(tmp_path / "old.json", reference_elsewhere),
        _write(tmp_path / "new.json", new),
    )
    assert main(["diff", old_path, new_path]) == 0
    out = capsys.readouterr().out
    assert "0 semantic, 1 native wording only" in out and "**No semantic change**" in out
    row = next(line for line in out.splitlines() if f"`{reworded['id']}`" in line)
    assert "| message |" in row and ' name: "</code>' in row
    assert main(["diff", "--strict", old_path, new_path]) == 1


def test_diff_keeps_semantic_changes_apart(
    reference_elsewhere: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another error kind or a value becoming None is semantic (status 1); a native type is not."""
    new = copy.deepcopy(reference_elsewhere)
    kind, retyped = _raised(new)[:2]
    kind["observation"]["error"]["kind"] = "internal"
    retyped["observation"]["error"]["native_type"] = "somewhere.ElseError"
    nulled = next(r for r in new["results"] if r["observation"]["value"] is not None)
    nulled["observation"]["value"] = None
    status = main(
        ["diff", _write(tmp_path / "a.json", reference_elsewhere), _write(tmp_path / "b.json", new)]
    )
    out = capsys.readouterr().out
    assert status == 1 and "**2 semantic changes**" in out
    semantic, wording = out.split("## Native wording only")
    assert f"`{kind['id']}`" in semantic and f"`{nulled['id']}`" in semantic
    assert f"| `{retyped['id']}` | reference/CPU:0 | native type |" in wording


def test_diff_can_compare_one_adapter(
    reference_elsewhere: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--adapter keeps only that adapter's cells; a name in neither file is a usage error."""
    old = copy.deepcopy(reference_elsewhere)
    new = copy.deepcopy(reference_elsewhere)
    for document in (old, new):
        other = copy.deepcopy(document["results"][0])
        other["adapter"] = "other"
        document["results"].append(other)
        document["adapters"].append({**document["adapters"][0], "name": "other"})
    new["results"][-1]["verdict"] = "crashed"
    paths = [_write(tmp_path / "o.json", old), _write(tmp_path / "n.json", new)]
    assert main(["diff", *paths]) == 1
    capsys.readouterr()
    assert main(["diff", "--adapter", "reference", *paths]) == 0
    assert f"No cell changed ({N_SCENARIOS} cells compared)." in capsys.readouterr().out
    assert main(["diff", "--adapter", "nope", *paths]) == 2
    assert "'nope' is in neither file" in _one_line_error(capsys.readouterr().err)
