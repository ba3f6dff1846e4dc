"""The expectation language's warning counts and typed "any value" leaves."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.divergences import DivergenceFileError, load_divergences
from conformance.expect import (
    ExpectationSyntaxError,
    TensorLeaf,
    any_value,
    from_json,
    match_tree,
    returns,
    warnings_mismatch,
)

_FLOAT2 = TensorLeaf(np.zeros(2, np.float32), "float32")


@pytest.mark.parametrize(
    "observed, expected, ok",
    [
        (_FLOAT2, any_value("float32", [2]), True),
        (_FLOAT2, any_value("float32", [3]), False),
        (_FLOAT2, any_value("float64", [2]), False),
        (_FLOAT2, any_value(None, None), True),
        (None, any_value(), False),
        (2.0, any_value(), False),
    ],
)
def test_any_value_checks_dtype_and_shape_only(observed, expected, ok):
    """any_value matches a tensor of its dtype and shape whatever the numbers, and nothing else."""
    assert (match_tree(observed, expected) is None) is ok


def test_any_value_json_form():
    """{"any": true, "dtype", "shape"} reads as any_value; a bad shape is a typed error."""
    assert from_json({"any": True, "dtype": "float32", "shape": [2]}) == any_value("float32", [2])
    assert from_json({"any": True, "shape": [1, 3]}) == any_value("float32", [1, 3])
    with pytest.raises(ExpectationSyntaxError, match="non-negative ints"):
        from_json({"any": True, "shape": [-1]})


@pytest.mark.parametrize(
    "warns, observed, problem",
    [
        (["spam"], ["spam once"], None),
        (["spam"], [], "should include 'spam'"),
        ({"spam": 2}, ["spam", "spam", "eggs"], None),
        ({"spam": 1}, ["spam", "spam"], "should appear 1 time(s), not 2"),
        ({"spam": 0}, ["eggs"], None),
        ({"spam": 0}, ["spam"], "not 1"),
    ],
)
def test_warning_counts(warns, observed, problem):
    """warns= as a list means at least once; as {substring: n}, exactly n warnings contain it."""
    found = warnings_mismatch(returns(None, warns=warns).warns, observed)
    assert found is None if problem is None else problem in found


@pytest.mark.parametrize("bad", ["spam", {"spam": -1}, {"spam": True}, [1]])
def test_bad_warns_are_typed_errors(bad):
    with pytest.raises(ExpectationSyntaxError, match="warns="):
        returns(None, warns=bad)


def test_divergence_file_warning_counts(tmp_path):
    """A divergence file's warns may be a table of substring = times; a bad one names the entry."""
    good = tmp_path / "good.toml"
    good.write_text('["a.b"]\nreason = "r"\nreturns = "null"\nwarns = { "careful" = 2 }\n')
    entry = load_divergences(good)["a.b"]
    assert warnings_mismatch(entry.expect.warns, ["careful", "careful"]) is None
    assert warnings_mismatch(entry.expect.warns, ["careful"]) is not None
    bad = tmp_path / "bad.toml"
    bad.write_text('["a.b"]\nreason = "r"\nreturns = "null"\nwarns = "careful"\n')
    with pytest.raises(DivergenceFileError, match=r"\[a.b\].*warns"):
        load_divergences(bad)
