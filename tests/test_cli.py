"""The `tapeconf` command: verbs, help, exit statuses and one-line errors for bad input."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.registry import all_scenarios

REPO_ROOT = Path(__file__).resolve().parent.parent
N_SCENARIOS = len(all_scenarios())
CONSOLE_SCRIPT = Path(sys.executable).parent / "tapeconf"


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tapeconf: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-report")
    assert main(["report", "--adapter", "reference", "--out", str(out), "--quiet"]) == 0
    return out / "results.json"


# ---- help and entry points ----------------------------------------------------------------------


@pytest.mark.parametrize("verb", [[], ["report"], ["diff"], ["list"], ["adapters"]])
def test_every_verb_has_help(verb: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` prints the verb's usage and exits 0."""
    assert main([*verb, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: tapeconf {' '.join(verb)}".rstrip())


def test_python_dash_m_conformance_is_tapeconf() -> None:
    """`python -m conformance` and the `tapeconf` console script print the same help."""
    module = subprocess.run(
        [sys.executable, "-m", "conformance", "--help"], capture_output=True, text=True
    )
    assert module.returncode == 0 and "report" in module.stdout and "diff" in module.stdout
    if CONSOLE_SCRIPT.exists():
        script = subprocess.run([str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True)
        assert (script.returncode, script.stdout) == (0, module.stdout)


def test_usage_errors_are_one_line_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown option or a missing verb: one line on stderr, status 2."""
    assert main(["report", "--no-such-option"]) == 2
    assert "--no-such-option" in _one_line_error(capsys.readouterr().err)
    assert main([]) == 2
    _one_line_error(capsys.readouterr().err)


# ---- report: bad input --------------------------------------------------------------------------


def test_unknown_adapter_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown name: status 2, one line naming it and the known adapters, nothing written."""
    out = tmp_path / "out"
    assert main(["report", "--adapter", "reference", "--adapter", "nope", "--out", str(out)]) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "'nope'" in line and "known adapters:" in line and "reference" in line
    assert not out.exists()


def test_import_path_to_a_missing_module_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`module:attr` whose module cannot be found: status 2 before any worker starts."""
    assert (
        main(["report", "--adapter", "no_such_module_xyz:Adapter", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "no module 'no_such_module_xyz'" in _one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("below_a_file", [True, False])
def test_output_directory_that_cannot_be_written(
    below_a_file: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output path under a file, or a file itself: status 2, one line, no file left behind."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    out = blocker / "reports" if below_a_file else blocker
    assert main(["report", "--adapter", "reference", "--out", str(out)]) == 2
    assert str(blocker) in _one_line_error(capsys.readouterr().err)
    assert [p.name for p in tmp_path.iterdir()] == ["blocker"]
    assert blocker.read_text() == "not a directory"


@pytest.mark.parametrize(("option", "value"), [("--jobs", "0"), ("--timeout", "-1")])
def test_nonsense_numbers_are_usage_errors(
    option: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["report", "--adapter", "reference", option, value, "--out", str(tmp_path / "o")]) == 2
    )
    assert option in _one_line_error(capsys.readouterr().err)


# ---- report: a run as CI sees it ----------------------------------------------------------------


def test_report_in_ci_prints_plain_lines(tmp_path: Path) -> None:
    """CI=true: a few `tapeconf:` lines on stderr, no bar; the three files; status 0."""
    env = {**os.environ, "CI": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "report", "--adapter", "reference", "--out", "r"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "\r" not in done.stderr and all(line.startswith("tapeconf: ") for line in lines)
    assert any(f"reference: {N_SCENARIOS} conforms" in line for line in lines)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "REPORT.md",
        "report.html",
        "results.json",
    ]


# ---- list and adapters --------------------------------------------------------------------------


def test_list_shows_every_scenario_by_area(capsys: pytest.CaptureFixture[str]) -> None:
    """Every scenario id appears once, under its area, with its spec entry and statement."""
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for scenario in all_scenarios():
        assert f"  {scenario.id} " in out and scenario.statement in out
    assert out.strip().endswith(
        f"{N_SCENARIOS} scenarios in {len({s.area for s in all_scenarios()})} areas"
    )


def test_list_by_area_and_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--area", "tutorial", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["area"] for row in rows} == {"tutorial"}
    assert {"id", "spec", "statement", "expectation", "features"} <= set(rows[0])
    assert main(["list", "--area", "nowhere"]) == 2
    assert "areas: tutorial" in _one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize("devices", [[], ["--devices"]], ids=["metadata", "worker"])
def test_adapters_describes_each(capsys: pytest.CaptureFixture[str], devices: list[str]) -> None:
    """`tapeconf adapters`: version and state (devices with --devices); one that cannot load
    says why."""
    argv = ["adapters", "--adapter", "reference", "--adapter", "json:NoAdapter", "--json"]
    assert main(argv + devices) == 0
    reference, missing = json.loads(capsys.readouterr().out)
    assert reference["name"] == "reference" and reference["available"] is True
    assert reference["version"] and bool(reference["devices"]) == bool(devices)
    assert missing["available"] is False and "NoAdapter" in missing["reason"]
    assert main(["adapters", "--adapter", "reference"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("reference") and "installed" in line and reference["version"] in line


# ---- diff ---------------------------------------------------------------------------------------


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def _record(document: dict[str, Any], scenario_id: str) -> dict[str, Any]:
    return next(r for r in document["results"] if r["id"] == scenario_id)


def test_diff_of_a_file_with_itself_is_empty(
    results_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No change: status 0 and a sentence saying so."""
    assert main(["diff", str(results_file), str(results_file)]) == 0
    assert f"No cell changed ({N_SCENARIOS} cells compared)." in capsys.readouterr().out


def test_diff_lists_changed_verdicts_and_outcomes(
    results_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A changed verdict and a changed error message are listed; float noise and timings are not."""
    old = json.loads(results_file.read_text())
    new = copy.deepcopy(old)
    _record(new, "tutorial.watched_constant")["verdict"] = "unexpected"
    _record(new, "tutorial.non_persistent_second_gradient")["observation"]["error"]["message"] = (
        "reworded"
    )
    _record(new, "tutorial.variable")["observation"]["value"]["value"] = 6.0 + 1e-9
    for record in new["results"]:
        record["observation"]["seconds"] += 1.0
    new["adapters"][0]["version"] = "9.9"
    status = main(
        ["diff", str(_write(tmp_path / "old.json", old)), str(_write(tmp_path / "new.json", new))]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "2 cells changed" in out
    assert "| `tutorial.watched_constant` | reference/CPU:0 | verdict |" in out
    assert "| `tutorial.non_persistent_second_gradient` | reference/CPU:0 | message |" in out
    assert "tutorial.variable`" not in out
    assert f"| reference | {old['adapters'][0]['version']} | 9.9 |" in out


def test_diff_lists_added_and_removed_cells(
    results_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = json.loads(results_file.read_text())
    new = copy.deepcopy(old)
    removed = new["results"].pop(0)
    added = copy.deepcopy(removed)
    added["device"] = "GPU:0"
    new["results"].append(added)
    assert (
        main(["diff", str(_write(tmp_path / "a.json", old)), str(_write(tmp_path / "b.json", new))])
        == 1
    )
    out = capsys.readouterr().out
    assert f"| `{removed['id']}` | reference/CPU:0 | removed |" in out
    assert f"| `{removed['id']}` | reference/GPU:0 | added |" in out


def test_diff_on_the_command_line_prints_markdown(results_file: Path, tmp_path: Path) -> None:
    """Through the console entry point: Markdown on stdout, status 1 for a change."""
    new = json.loads(results_file.read_text())
    _record(new, "tutorial.watched_constant")["verdict"] = "crashed"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "diff",
            str(results_file),
            str(_write(tmp_path / "n.json", new)),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and done.stdout.startswith("# tapeconf diff") and done.stderr == ""


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (None, "cannot read"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "the top level is not an object"),
        ('{"results": []}', "it has no schema_version"),
        (
            '{"schema_version": 99, "results": [], "adapters": [], "scenarios": []}',
            "schema_version 99",
        ),
        (
            '{"schema_version": 1, "results": [{"id": "a"}], "adapters": [], "scenarios": []}',
            "results[0]: the record's adapter is None",
        ),
    ],
)
def test_diff_rejects_bad_input_with_one_line(
    content: str | None,
    complaint: str,
    results_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Missing, malformed or foreign files: status 2, one line naming the file and the problem."""
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    assert main(["diff", str(results_file), str(bad)]) == 2
    captured = capsys.readouterr()
    line = _one_line_error(captured.err)
    assert str(bad) in line and complaint in line
    assert captured.out == ""
