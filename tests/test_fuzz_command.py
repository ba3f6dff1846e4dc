"""``tapeconf fuzz`` end to end: worker faults are findings, never crashes of the run; the files
it writes follow their schema; bad arguments are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

from conformance.cli import main  # noqa: E402
from conformance.fuzz.session import _Worker  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKS = "def _(fw):\n    x = fw.constant(3.0)\n    with fw.GradientTape() as tape:\n        tape.watch(x)\n        y = x * x\n    return tape.gradient(y, x)\n"


def test_a_program_that_kills_its_worker_is_a_crash_and_the_worker_comes_back():
    """os._exit inside a program: a 'crash' record naming the exit, then the next program runs."""
    worker = _Worker("reference", timeout=20)
    try:
        assert worker.send("def _(fw):\n    __import__('os')._exit(3)\n")
        assert "exited with status 3" in worker.receive()["crash"]
        assert worker.send(WORKS)
        assert worker.receive()["value"] == {"dtype": "float32", "shape": [], "value": 6.0}
    finally:
        worker.close()


def test_a_program_that_hangs_is_a_hang_within_the_timeout():
    """An endless loop costs the timeout, no more; the worker is replaced."""
    worker = _Worker("reference", timeout=2)
    try:
        assert worker.send("def _(fw):\n    while True:\n        pass\n")
        assert "no answer within 2 s" in worker.receive()["hang"]
        assert worker.send(WORKS)
        assert worker.receive()["outcome"] == "returned"
    finally:
        worker.close()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fuzz", "--max-examples", "0"], "give at least 1"),
        (["fuzz", "--time-budget", "nan"], "positive, finite"),
        (["fuzz", "--out", ""], "output directory is empty"),
        (["fuzz", "--adapter", "no_such_adapter"], "unknown adapter"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_fuzz_writes_schema_valid_files(tmp_path, capsys):
    """A short run against real TensorFlow writes fuzz.json (valid) and FUZZ.md; the exit status
    says whether anything was found."""
    pytest.importorskip("tensorflow")
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    status = main(
        [
            "fuzz",
            "--adapter",
            "reference",
            "--max-examples",
            "15",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    document = json.loads((tmp_path / "fuzz.json").read_text())
    schemas = {
        name: json.loads((REPO_ROOT / "conformance/schema" / name).read_text())
        for name in ("fuzz.schema.json", "results.schema.json")
    }
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in schemas.values()
    )
    jsonschema.Draft202012Validator(schemas["fuzz.schema.json"], registry=registry).validate(
        document
    )
    assert document["programs"] == 15
    assert document["adapters"]["tensorflow"]["programs"] == 15
    assert status == (1 if document["findings"] else 0)
    assert (tmp_path / "FUZZ.md").read_text().startswith("# Generated tape programs")


def test_the_throughput_benchmark_runs(tmp_path):
    """benchmarks/bench_fuzz.py measures a pair end to end (no timing is asserted)."""
    pytest.importorskip("tensorflow")
    import subprocess
    import sys

    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks/bench_fuzz.py"),
            "--adapters",
            "reference",
            "--programs",
            "5",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| reference | 5 (5) |" in done.stdout
    (row,) = json.loads(out.read_text())
    assert row["programs"] == 5 and row["ms_per_program"]["tensorflow"] > 0


def test_the_html_report_shows_a_fuzz_run_when_given(tmp_path):
    """`tapeconf report --fuzz FILE`: the page gets a section with the findings and profiles."""
    from conformance.fuzz.output import load_fuzz_document
    from conformance.registry import get
    from conformance.report import generate_report

    fuzz_file = tmp_path / "fuzz.json"
    fuzz_file.write_text(json.dumps(_fuzz_document()))
    generate_report(
        ["reference"],
        tmp_path / "report",
        scenarios=[get("tutorial.watched_constant")],
        fuzz=load_fuzz_document(fuzz_file),
    )
    page = (tmp_path / "report" / "report.html").read_text()
    assert '<section id="fuzz">' in page
    assert "values|torch|plain derivative" in page and "None → value" not in page
    assert "<td>None</td><td>value</td><td>7</td>" in page


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "cannot read it as JSON"),
        ('{"kind": "other"}', "not a tapeconf fuzz result"),
        ('{"kind": "tapeconf-fuzz", "schema_version": true}', "schema_version True"),
        ('{"kind": "tapeconf-fuzz", "schema_version": 1}', "missing programs"),
    ],
)
def test_a_bad_fuzz_file_is_a_one_line_error_before_anything_runs(
    tmp_path, capsys, content, message
):
    bad = tmp_path / "fuzz.json"
    bad.write_text(content)
    assert (
        main(["report", "--adapter", "reference", "--out", str(tmp_path / "r"), "--fuzz", str(bad)])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "r" / "results.json").exists()


def _fuzz_document() -> dict:
    finding = {
        "oracle": "values",
        "adapter": "torch",
        "signature": "values|torch|plain derivative",
        "detail": "result=0.0, but should be 1.0",
        "source": WORKS,
        "features": [],
        "tensorflow": None,
        "observed": None,
        "oracle_verdicts": {},
        "scenario": "",
    }
    profile = {
        "tensorflow": "None",
        "adapter": "value",
        "count": 7,
        "smallest": WORKS,
        "tensorflow_observed": "returned None",
        "adapter_observed": "returned 6.0",
    }
    return {
        "schema_version": 1,
        "kind": "tapeconf-fuzz",
        "programs": 10,
        "settings": {"seed": 1},
        "commit": None,
        "adapters": {"tensorflow": {"version": "2.21.0", "programs": 10, "unsupported": 0}},
        "findings": [finding],
        "profiles": {"torch": [profile]},
    }
