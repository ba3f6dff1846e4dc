"""The catalogue's expected numbers are checked against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.expect import Returns, tolerance
from conformance.oracle import Derivatives, expected_numbers, oracle_values
from conformance.registry import all_scenarios

WITH_ORACLE = [s for s in all_scenarios() if s.oracle is not None]


@pytest.mark.parametrize("scenario", WITH_ORACLE, ids=[s.id for s in WITH_ORACLE])
def test_expected_values_match_finite_differences(scenario):
    """Every expected derivative in the catalogue equals its finite-difference estimate."""
    picked = oracle_values(scenario.oracle)
    expected = expected_numbers(scenario)
    assert len(picked) == len(expected), (
        f"oracle picks {len(picked)} derivatives but the expectation has {len(expected)} numbers "
        f"[{scenario.id}]"
    )
    assert any(fd is not None for fd in picked), f"the oracle checks nothing [{scenario.id}]"
    tol = tolerance("float32")
    for index, (fd, want) in enumerate(zip(picked, expected, strict=True)):
        if fd is None:  # not a derivative (a forward value): TensorFlow alone checks it
            continue
        assert fd.shape == want.shape, (
            f"[{index}] shape={fd.shape}, but should be {want.shape} [{scenario.id}]"
        )
        close = np.abs(fd - want) <= tol * (1.0 + np.abs(want))
        assert close.all(), (
            f"[{index}] finite differences={fd}, but expected {want} [{scenario.id}]"
        )


def test_every_value_scenario_has_an_oracle_or_a_reason():
    """A scenario that returns numbers either has an oracle or says why it needs none."""
    missing = [
        s.id
        for s in all_scenarios()
        if isinstance(s.expect, Returns)
        and expected_numbers(s)
        and s.oracle is None
        and not s.oracle_exempt
    ]
    assert missing == []


def test_oracle_is_a_real_check():
    """The finite differences of x**3 at 2 give 12 and 12 (first, and d/dx of the first): wrong values fail."""
    d = Derivatives(lambda fw, x: x * x * x, at=(2.0,))
    assert abs(d.first[0][0] - 12.0) < 1e-6
    assert abs(d.second[0][0] - 12.0) < 1e-4
    vector = Derivatives(lambda fw, x: fw.reduce_sum(x * x), at=([1.0, 2.0],))
    np.testing.assert_allclose(vector.first[0][0], [2.0, 4.0], rtol=1e-7)
    np.testing.assert_allclose(vector.second[0][0], [2.0, 2.0], rtol=1e-5)
