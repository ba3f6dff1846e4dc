"""The suite's own machinery: registry, expectations, divergence files, verdicts and the plugin."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from conformance import registry
from conformance.divergences import Divergence, DivergenceFileError, load_divergences
from conformance.expect import ANY, TensorLeaf, either, match_tree, raises, returns, value
from conformance.outcome import ErrorInfo, Observation, Verdict, judge
from conformance.protocol import ErrorKind
from conformance.registry import DuplicateScenarioError, ScenarioDefinitionError, scenario

# ---- registry ---------------------------------------------------------------------------------


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    return registry._REGISTRY


def test_duplicate_id_names_both_definitions(scratch_registry):
    """Registering an id twice fails at import, naming both places."""
    scenario("area.one", statement="s", spec="X1", expect=returns(None))(lambda fw: None)
    with pytest.raises(
        DuplicateScenarioError,
        match=r"'area.one'.*test_harness.py:\d+ and at .*test_harness.py:\d+",
    ):
        scenario("area.one", statement="s", spec="X1", expect=returns(None))(lambda fw: None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": "NoDot"}, "must look like 'area.name'"),
        ({"features": ["teleportation"]}, "unknown features \\['teleportation'\\]"),
        ({"expect": returns(1.5)}, "needs an oracle"),
    ],
)
def test_bad_scenario_definitions_are_rejected(scratch_registry, kwargs, message):
    """Malformed scenarios fail at registration with a message that says what is valid."""
    arguments = {"id": "area.bad", "statement": "s", "spec": "X1", "expect": returns(None)} | kwargs
    with pytest.raises(ScenarioDefinitionError, match=message):
        scenario(**arguments)(lambda fw: None)


def test_catalogue_is_large_and_cites_the_spec():
    """The catalogue has at least 120 scenarios, each citing a spec entry, over every area."""
    scenarios = registry.all_scenarios()
    assert len(scenarios) >= 120
    from conformance.catalogue import AREAS

    assert {s.area for s in scenarios} == set(AREAS)
    assert all(s.spec.strip() for s in scenarios)


# ---- expectations -------------------------------------------------------------------------------


def leaf(data, dtype="float32"):
    return TensorLeaf(np.asarray(data, dtype=dtype), dtype)


@pytest.mark.parametrize(
    ("observed", "expected", "ok"),
    [
        (leaf(6.0), 6.0, True),
        (leaf(6.01), 6.0, True),  # within float32's 2e-3
        (leaf(6.1), 6.0, False),
        (leaf(6.0, "float64"), 6.0, False),  # float leaves are float32 unless said otherwise
        (leaf(6.0, "float64"), value(6.0, dtype="float64"), True),
        (leaf(6.0000001, "float64"), value(6.0, dtype="float64"), True),
        (leaf(6.001, "float64"), value(6.0, dtype="float64"), False),
        (leaf(math.nan), math.nan, True),
        (leaf(math.inf), math.inf, True),
        (leaf(-math.inf), math.inf, False),
        (leaf([1.0, 2.0]), value([1.0, 2.0]), True),
        (leaf([1.0, 2.0]), value([[1.0, 2.0]]), False),  # shapes must match exactly
        (None, None, True),
        (leaf(0.0), None, False),  # zeros are not None
        (None, 0.0, False),
        ([leaf(1.0), None], (1.0, None), True),  # list and tuple are both sequences
        ([leaf(1.0)], [1.0, 2.0], False),
        ({"a": leaf(1.0)}, {"a": 1.0}, True),
        (3, 3, True),
        (True, 1, False),
        (leaf(5.0), ANY, True),
        (None, ANY, False),
    ],
)
def test_match_tree(observed, expected, ok):
    """Values compare with per-dtype tolerances; structure, None-ness, dtype and shape exactly."""
    assert (match_tree(observed, expected) is None) is ok


# ---- verdicts -----------------------------------------------------------------------------------


def _scenario(expect):
    return registry.Scenario("area.case", "s", "X1", expect, lambda fw: None)


def _raised(kind, type_name="RuntimeError", message="boom"):
    return Observation(error=ErrorInfo(kind, type_name, f"builtins.{type_name}", message))


def test_judge_conforms_diverges_and_fails():
    """A cell conforms to the spec, diverges as declared, or is unexpected (also when a divergence stops)."""
    spec = _scenario(returns(None))
    divergence = Divergence(
        "area.case", "torch raises instead", raises(ErrorKind.NOT_DIFFERENTIABLE), "x.toml:3"
    )
    assert judge(spec, "a", "CPU:0", Observation(value=None), None).verdict is Verdict.CONFORMS
    assert (
        judge(spec, "a", "CPU:0", Observation(value=leaf(1.0)), None).verdict is Verdict.UNEXPECTED
    )
    diverged = judge(spec, "a", "CPU:0", _raised(ErrorKind.NOT_DIFFERENTIABLE), divergence)
    assert (diverged.verdict, diverged.divergence_reason) == (
        Verdict.DIVERGES,
        "torch raises instead",
    )
    stale = judge(spec, "a", "CPU:0", Observation(value=None), divergence)
    assert (
        stale.verdict is Verdict.UNEXPECTED
        and "no longer happens" in stale.detail
        and "x.toml:3" in stale.detail
    )
    other = judge(spec, "a", "CPU:0", _raised(ErrorKind.CONSUMED_TAPE), divergence)
    assert other.verdict is Verdict.UNEXPECTED


def test_failure_message_names_what_scenario_and_where():
    """The one failure format: what=observed, but should be expected [scenario on adapter/device]."""
    cell = judge(_scenario(returns(6.0)), "torch", "CPU:0", Observation(value=leaf(5.0)), None)
    assert (
        cell.detail
        == "result=5.0 (float32), but should be 6.0 (tolerance 0.002) [area.case on torch/CPU:0]"
    )


def test_either_accepts_each_option_only():
    expect = either(returns(ANY), raises(ErrorKind.INVALID_ARGUMENT))
    assert (
        judge(_scenario(expect), "a", "CPU:0", Observation(value=leaf(1.0)), None).verdict
        is Verdict.CONFORMS
    )
    assert (
        judge(_scenario(expect), "a", "CPU:0", _raised(ErrorKind.INVALID_ARGUMENT), None).verdict
        is Verdict.CONFORMS
    )
    assert (
        judge(_scenario(expect), "a", "CPU:0", _raised(ErrorKind.CONSUMED_TAPE), None).verdict
        is Verdict.UNEXPECTED
    )


def test_error_type_and_message_are_checked_when_pinned():
    expect = raises(ErrorKind.CONSUMED_TAPE, "RuntimeError", match="one set of gradients")
    wrong_type = _raised(ErrorKind.CONSUMED_TAPE, "ValueError", "one set of gradients")
    wrong_text = _raised(ErrorKind.CONSUMED_TAPE, "RuntimeError", "twice")
    assert judge(_scenario(expect), "a", "CPU:0", wrong_type, None).verdict is Verdict.UNEXPECTED
    assert judge(_scenario(expect), "a", "CPU:0", wrong_text, None).verdict is Verdict.UNEXPECTED


# ---- divergence files ---------------------------------------------------------------------------


def _write(tmp_path, text):
    path = tmp_path / "fw.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_divergence_file_round_trip(tmp_path):
    path = _write(
        tmp_path,
        """
        # comment
        ["tutorial.unwatched_constant"]
        reason = "JAX differentiates arguments."
        returns = "6.0"

        ["tutorial.non_persistent_second_gradient"]
        reason = "torch frees the graph."
        raises = "consumed_tape"
        type = "RuntimeError"
        match = "second time"
    """,
    )
    entries = load_divergences(
        path, ["tutorial.unwatched_constant", "tutorial.non_persistent_second_gradient"]
    )
    assert entries["tutorial.unwatched_constant"].expect.tree == 6.0
    assert entries["tutorial.non_persistent_second_gradient"].location == f"{path}:7"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '["a.b"]\nreason = "r"\nreturns = "6.0"\nvalue = 1\n',
            r"fw.toml:1: \[a.b\] has unknown keys \['value'\]",
        ),
        ('["a.b"]\nreturns = "6.0"\n', r"fw.toml:1: \[a.b\] needs a non-empty reason"),
        (
            '\n\n["a.b"]\nreason = "r"\nraises = "explodes"\n',
            r"fw.toml:3: .*'explodes' is not an error kind; valid: consumed_tape",
        ),
        (
            '["a.b"]\nreason = "r"\nreturns = "[1.0,"\n',
            r"fw.toml:1: \[a.b\] returns must be a JSON string",
        ),
        ('["a.b"]\nreason = "r"\n', r"exactly one of returns / raises"),
        ('["a.b"\nreason = 1\n', r"fw.toml: not valid TOML: .*line 1"),
    ],
)
def test_malformed_divergence_files_name_file_and_line(tmp_path, body, message):
    """A malformed divergence file fails with its path, the entry's line and what is valid."""
    with pytest.raises(DivergenceFileError, match=message):
        load_divergences(_write(tmp_path, body))


def test_divergence_for_unknown_scenario_warns(tmp_path):
    path = _write(tmp_path, '["a.gone"]\nreason = "r"\nreturns = "null"\n')
    with pytest.warns(UserWarning, match="unknown scenario 'a.gone' matches nothing"):
        load_divergences(path, ["a.other"])


# ---- the pytest plugin ----------------------------------------------------------------------------


def test_plugin_unknown_adapter_lists_known_ones(pytester):
    """--adapter with an unknown name is a usage error that lists the registered adapters (by
    name: none is loaded to say so; `tapeconf adapters` says which are installed)."""
    pytester.makepyfile("from conformance.testing import test_conformance")
    result = pytester.runpytest("--adapter", "mxnet")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*unknown adapter 'mxnet'; known adapters: *reference*`tapeconf adapters` says which*"]
    )


def test_plugin_runs_the_matrix_and_names_versions(pytester):
    """The plugin parametrizes scenario x adapter x device and prints versions in the header."""
    pytester.makepyfile("from conformance.testing import test_conformance")
    result = pytester.runpytest("--adapter", "reference", "-k", "tutorial", "-q")
    result.assert_outcomes(passed=8)
    header = pytester.runpytest("--adapter", "reference", "--collect-only", "-q")
    header.stdout.fnmatch_lines(
        ["*test_conformance[[]tutorial.watched_constant-reference-CPU:0[]]*"]
    )
    verbose = pytester.runpytest("--adapter", "reference", "-k", "tutorial.persistent")
    verbose.stdout.fnmatch_lines(
        ["tapeconf: * scenarios", "  reference 0.1.0 on CPU:0 (0 declared divergences)"]
    )


def test_complex_and_nan_values_in_json_expectations():
    """Divergence files write complex numbers as "(2+4j)" and NaN as bare NaN inside a value."""
    import json

    from conformance.expect import ExpectationSyntaxError, from_json

    tree = from_json(json.loads('{"value": ["(2+4j)", NaN], "dtype": "complex64"}'))
    assert match_tree(leaf([2 + 4j, complex("nan")], "complex64"), tree) is None
    assert match_tree(leaf([2 - 4j, complex("nan")], "complex64"), tree) is not None
    with pytest.raises(ExpectationSyntaxError, match=r"write complex numbers like"):
        from_json({"value": "two"})
