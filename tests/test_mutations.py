"""Planted bugs in the reference implementation must make the suite fail, and say where.

Each mutation breaks one rule of the tape model; the scenarios pinning that rule must then be
``unexpected`` with a message naming the scenario, what was observed and what the spec says.
"""

from __future__ import annotations

import pytest

import reference_impl
from adapters.reference_adapter import ReferenceAdapter
from conformance.outcome import Verdict, judge, observe
from conformance.registry import get
from reference_impl import _core, _gradient_tape


def _verdict(scenario_id):
    scenario = get(scenario_id)
    adapter = ReferenceAdapter()
    return judge(scenario, adapter.name, "CPU:0", observe(scenario, adapter, "CPU:0"), None)


def _record_everything(primitive, inputs, outputs, kwargs=None):
    """Mutation: record every op on every active tape, watched inputs or not."""
    entry = _core.OpRecord(primitive, inputs, outputs, kwargs or {})
    for tape in _core.state.tapes:
        tape.tensor_ids.update(t._id for t in inputs)
        tape.record(entry)


def _backprop_without_recording(tape, targets, sources, seeds):
    """Mutation: run the backward pass with recording off (like forgetting create_graph)."""
    saved, _core.state.tapes = _core.state.tapes, []
    try:
        return _ORIGINAL_BACKPROP(tape, targets, sources, seeds)
    finally:
        _core.state.tapes = saved


_ORIGINAL_BACKPROP = _core.backprop
_ORIGINAL_GRADIENT = reference_impl.GradientTape.gradient


def _gradient_with_zeros(self, target, sources, output_gradients=None, unconnected_gradients=None):
    """Mutation: unconnected sources get zeros whatever the caller asked for."""
    return _ORIGINAL_GRADIENT(self, target, sources, output_gradients, unconnected_gradients="zero")

MUTATIONS = {
    "non-persistent tape reusable": (
        lambda mp: mp.setattr(reference_impl.GradientTape, "_consume", lambda self: None),
        "tutorial.non_persistent_second_gradient",
        "outcome=returned 6.0 (float32), but should be raises consumed_tape (RuntimeError)",
    ),
    "ops on unwatched constants recorded": (
        lambda mp: mp.setattr(_core, "record", _record_everything),
        "tutorial.unwatched_constant",
        "result=6.0 (float32), but should be None",
    ),
    "zeros instead of None": (
        lambda mp: mp.setattr(reference_impl.GradientTape, "gradient", _gradient_with_zeros),
        "tutorial.unwatched_constant",
        "result=0.0 (float32), but should be None",
    ),
    "backward pass not recorded (no create_graph)": (
        lambda mp: mp.setattr(_gradient_tape, "backprop", _backprop_without_recording),
        "tutorial.second_derivative",
        "[1]=None, but should be 2.0",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_planted_bug_is_caught(monkeypatch, name):
    """The mutated reference fails the scenario that pins the broken rule, with a clear message."""
    plant, scenario_id, message = MUTATIONS[name]
    assert _verdict(scenario_id).verdict is Verdict.CONFORMS  # sanity: it conforms unmutated
    plant(monkeypatch)
    cell = _verdict(scenario_id)
    assert cell.verdict is Verdict.UNEXPECTED
    assert message in cell.detail and f"[{scenario_id} on reference/CPU:0]" in cell.detail, (
        cell.detail
    )
