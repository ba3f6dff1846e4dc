"""A fixed-seed sample of generated programs: the reference must match real TensorFlow on every
one of them (issue 9's CI gate). A failure prints each shrunk program and both observations."""

from __future__ import annotations

import pytest

pytest.importorskip("hypothesis")
pytest.importorskip("tensorflow")

from conformance.fuzz.session import Fuzzer  # noqa: E402

SEED = 2026
PROGRAMS = 300


@pytest.mark.timeout(900)
def test_reference_matches_tensorflow_on_a_fixed_sample():
    """300 programs drawn with one seed: no difference from TensorFlow, no oracle failure."""
    result = Fuzzer(["reference"], seed=SEED, max_examples=PROGRAMS).run()
    assert result.programs == PROGRAMS
    assert result.per_adapter.get("reference") == PROGRAMS
    report = "\n\n".join(
        f"{f.oracle} on {f.adapter}: {f.detail}\n{f.source}"
        f"TensorFlow: {(f.tensorflow or {}).get('summary')}\nreference: {(f.observed or {}).get('summary')}"
        for f in result.findings
    )
    assert not result.findings, f"{len(result.findings)} findings:\n\n{report}"
