"""Section B of the spec: ``watched_variables()`` (V02-V10), plus reads and assignment (OP14).

Watched variables are reported by name (``["v", "w"]``): each entry of ``watched_variables()`` is
matched by identity against the scenario's own variables, so the order and the identity are both
pinned and the report stays readable.

Skipped spec entries: none in this section (V01 and V09 do not exist in the spec).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.expect import raises, returns, value
from conformance.registry import Oracle, scenario

_square = Oracle(lambda fw, x: x * x, at=(3.0,))


def _names(watched: Sequence[Any], **candidates: Any) -> list[str]:
    """Name each watched variable by identity with one of ``candidates`` ("?" if none)."""
    return [
        next((name for name, variable in candidates.items() if variable is item), "?")
        for item in watched
    ]


@scenario(
    "variables.watched_in_access_order",
    spec="W04",
    statement="watched_variables() lists the variables read, one created inside included, in order",
    expect=returns(["v", "w"]),
    features=["variables", "watched_variables"],
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        w = fw.Variable(2.0)
        v * v + w * w
    return _names(tape.watched_variables(), v=v, w=w)


@scenario(
    "variables.watched_empty_before_and_after_empty_tape",
    spec="V02",
    statement="watched_variables() is empty (no error) before entering and for an empty tape",
    expect=returns([[], []]),
    features=["watched_variables"],
)
def _(fw):
    tape = fw.GradientTape()
    before = list(tape.watched_variables())
    with tape:
        pass
    return [before, list(tape.watched_variables())]


@scenario(
    "variables.watched_cleared_by_reset",
    spec="V03",
    statement="reset() clears watched_variables(); later reads are listed again",
    expect=returns(["w"]),
    features=["variables", "watched_variables", "reset"],
)
def _(fw):
    v = fw.Variable(1.0)
    w = fw.Variable(2.0)
    with fw.GradientTape() as tape:
        v * v
        tape.reset()
        w * w
    return _names(tape.watched_variables(), v=v, w=w)


@scenario(
    "variables.watched_after_tape_consumed",
    spec="V04",
    statement="watched_variables() still answers after a non-persistent tape was consumed",
    expect=returns(["v"]),
    features=["variables", "watched_variables"],
)
def _(fw):
    v = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        y = v * v
    tape.gradient(y, v)
    return _names(tape.watched_variables(), v=v)


@scenario(
    "variables.assign_add_is_an_access",
    spec="V05",
    statement="assign_add() on a trainable variable inside the tape watches it",
    expect=returns(["v"]),
    features=["variables", "watched_variables"],
)
def _(fw):
    v = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        v.assign_add(1.0)
    return _names(tape.watched_variables(), v=v)


@scenario(
    "variables.assign_is_an_access",
    spec="V05",
    statement="assign() on a trainable variable inside the tape watches it",
    expect=returns(["v"]),
    features=["variables", "watched_variables"],
)
def _(fw):
    v = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        v.assign(5.0)
    return _names(tape.watched_variables(), v=v)


@scenario(
    "variables.non_trainable_read_not_listed",
    spec="V06",
    statement="reading a non-trainable variable does not list it in watched_variables()",
    expect=returns([]),
    features=["variables", "watched_variables"],
)
def _(fw):
    n = fw.Variable(1.0, trainable=False)
    with fw.GradientTape() as tape:
        n * 2.0
    return _names(tape.watched_variables(), n=n)


@scenario(
    "variables.read_in_stop_recording_not_listed",
    spec="V06",
    statement="a variable read only inside stop_recording() is not listed in watched_variables()",
    expect=returns([]),
    features=["variables", "watched_variables", "stop_recording"],
)
def _(fw):
    v = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        with tape.stop_recording():
            v * 2.0
    return _names(tape.watched_variables(), v=v)


@scenario(
    "variables.read_with_auto_watch_off_not_listed",
    spec="V06",
    statement="with watch_accessed_variables=False a read variable is not listed",
    expect=returns([]),
    features=["variables", "watched_variables", "watch_accessed_variables"],
)
def _(fw):
    v = fw.Variable(1.0)
    with fw.GradientTape(watch_accessed_variables=False) as tape:
        v * 2.0
    return _names(tape.watched_variables(), v=v)


@scenario(
    "variables.explicit_watch_unread_listed",
    spec="V07",
    statement="an explicitly watched variable is listed even if it is never read",
    expect=returns(["v"]),
    features=["variables", "watched_variables"],
)
def _(fw):
    v = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        tape.watch(v)
    return _names(tape.watched_variables(), v=v)


@scenario(
    "variables.non_trainable_explicit_watch_listed",
    spec="W05",
    statement="an explicitly watched non-trainable variable is listed in watched_variables()",
    expect=returns(["v"]),
    features=["variables", "watched_variables"],
)
def _(fw):
    v = fw.Variable(3.0, trainable=False)
    with fw.GradientTape() as tape:
        tape.watch(v)
        v * v
    return _names(tape.watched_variables(), v=v)


@scenario(
    "variables.int_variable_listed_without_gradient",
    spec="V08",
    statement="an int variable is trainable by default: it is listed, but its gradient is None",
    expect=returns([None, ["v"]]),
    features=["variables", "watched_variables"],
)
def _(fw):
    v = fw.Variable(3, dtype=fw.int32)
    with fw.GradientTape() as tape:
        y = v * v
    return [tape.gradient(y, v), _names(tape.watched_variables(), v=v)]


@scenario(
    "variables.reentered_persistent_accumulates",
    spec="V10",
    statement="re-entering a persistent tape adds to watched_variables() instead of starting over",
    expect=returns(["v", "w"]),
    features=["variables", "watched_variables"],
)
def _(fw):
    v = fw.Variable(1.0)
    w = fw.Variable(2.0)
    with fw.GradientTape(persistent=True) as tape:
        y = v * 2.0
    tape.gradient(y, v)
    with tape:
        w * 2.0
    return _names(tape.watched_variables(), v=v, w=w)


@scenario(
    "variables.read_value_is_an_access",
    spec="W04",
    statement="read_value() inside the tape is a recorded read of the variable",
    expect=returns(2.0),
    features=["variables"],
    oracle=Oracle(lambda fw, v: v * 2.0, at=(3.0,)),
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = v.read_value() * 2.0
    return tape.gradient(y, v)


@scenario(
    "variables.assign_not_differentiable",
    spec="OP14",
    statement="assign() is not differentiable: no gradient flows back to the assigned value",
    expect=returns(None),
    features=["variables"],
)
def _(fw):
    x = fw.constant(3.0)
    v = fw.Variable(0.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        v.assign(x * 2.0)
        y = v * v
    return tape.gradient(y, x)


@scenario(
    "variables.read_after_assign",
    spec="OP14",
    statement="a read after assign() differentiates with respect to the variable at its new value",
    expect=returns(12.0),
    features=["variables"],
    oracle=Oracle(lambda fw, v: v * v, at=(6.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    v = fw.Variable(0.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        v.assign(x * 2.0)
        y = v * v
    return tape.gradient(y, v)


@scenario(
    "variables.reads_around_assign_add",
    spec="OP14",
    statement="reads before and after assign_add() are separate uses: their contributions add",
    expect=returns(5.0),
    features=["variables"],
    # a = u; the update makes later reads u + 1; w = a + (u + 1)^2
    oracle=Oracle(lambda fw, u: u + (u + 1.0) * (u + 1.0), at=(1.0,)),
)
def _(fw):
    u = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        a = u * 1.0
        u.assign_add(1.0)
        w = a + u * u
    return tape.gradient(w, u)


@scenario(
    "variables.value_at_read_time",
    spec="OP14",
    statement="the gradient uses the value a read saw, not the value when gradient() runs",
    expect=returns(6.0),
    features=["variables"],
    oracle=_square,
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = v * v
    v.assign(100.0)
    return tape.gradient(y, v)


# ---- the Variable API beyond reads -------------------------------------------------------------


@scenario(
    "variables.assign_wrong_shape_raises",
    spec="OP14",
    statement="assigning a value of another shape raises ValueError (Shape mismatch)",
    expect=raises("shape_mismatch", "ValueError", "Shape mismatch"),
    features=["variables"],
)
def _(fw):
    v = fw.Variable([1.0, 2.0])
    v.assign([1.0, 2.0, 3.0])
    return v


@scenario(
    "variables.callable_initial_value",
    spec="OP14",
    statement="a callable initial_value is called once for the value; reads then differentiate",
    expect=returns([True, 6.0]),
    features=["variables"],
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,)),
)
def _(fw):
    v = fw.Variable(lambda: fw.constant(3.0))
    with fw.GradientTape() as tape:
        y = v * v
    return [abs(v.numpy().item() - 3.0) < 1e-6, tape.gradient(y, v)]


@scenario(
    "variables.assign_result_reads_new_value",
    spec="OP14",
    statement="what assign() returns reads the new value and differentiates as the variable: 2r = 4",
    expect=returns(4.0),
    features=["variables"],
    oracle=Oracle(lambda fw, r: r * r, at=(2.0,)),
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        r = v.assign(2.0)
        y = r * r
    return tape.gradient(y, v)


@scenario(
    "variables.value_method_is_a_read",
    spec="W04",
    statement="v.value() inside the tape is a read: it is watched and differentiates",
    expect=returns(3.0),
    features=["variables"],
    oracle=Oracle(lambda fw, x: x * 3.0, at=(2.0,)),
)
def _(fw):
    v = fw.Variable(2.0)
    with fw.GradientTape() as tape:
        y = v.value() * 3.0
    return tape.gradient(y, v)


@scenario(
    "variables.name",
    spec="OP14",
    statement="a variable's name is its name argument plus ':0', 'Variable:0' by default",
    expect=returns(["w:0", "Variable:0"]),
    features=["variables"],
)
def _(fw):
    return [fw.Variable(1.0, name="w").name, fw.Variable(1.0).name]


@scenario(
    "variables.ref_is_a_stable_key",
    spec="OP14",
    statement="v.ref() is a hashable key: equal for the same variable, different for another, and "
    "deref() gives the variable back",
    expect=returns([True, False, True, False, True]),
    features=["variables"],
)
def _(fw):
    v = fw.Variable(1.0)
    w = fw.Variable(1.0)
    keys = {v.ref(): "v"}
    return [v.ref() in keys, w.ref() in keys, v.ref() == v.ref(), v.ref() == w.ref(),
            v.ref().deref() is v]


@scenario(
    "variables.many_variables_unwatched_constant",
    spec="W01, W04",
    statement="after several variables are read in a tape, an unwatched constant still gets None",
    expect=returns([None, 1.0, 1.0, 1.0, 1.0, 1.0]),
    features=["variables"],
    oracle_exempt="the gradient of a plain sum is 1 per variable; the point is the None",
)
def _(fw):
    c = fw.constant(2.0)
    variables = [fw.Variable(float(i)) for i in range(5)]
    with fw.GradientTape() as tape:
        y = c * 3.0
        for v in variables:
            y = y + v
    return tape.gradient(y, [c, *variables])


@scenario(
    "variables.assign_results_update_the_variable",
    spec="OP14",
    statement="assign_add on what assign() returned updates the variable itself",
    expect=returns(value(3.0)),
    features=["variables"],
    oracle_exempt="assignments, not derivatives",
)
def _(fw):
    v = fw.Variable(0.0)
    r = v.assign(1.0)
    r.assign_add(2.0)
    return v.read_value()


@scenario(
    "variables.assign_add_result_differentiates",
    spec="OP14",
    statement="what assign_add() returns reads the new value: d(r * r)/dv = 2 (3 + 1) = 8",
    expect=returns(8.0),
    features=["variables"],
    oracle=Oracle(lambda fw, r: r * r, at=(4.0,)),
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        r = v.assign_add(1.0)
        y = r * r
    return tape.gradient(y, v)


@scenario(
    "variables.initial_value_required",
    spec="OP14",
    statement="Variable(None) is a ValueError saying that initial_value must be specified",
    expect=raises("invalid_argument", "ValueError", "initial_value"),
    features=["variables"],
)
def _(fw):
    return fw.Variable(None)


@scenario(
    "variables.unhashable",
    spec="OP14",
    statement="a variable is unhashable (its == is elementwise): using it as a dict key is a "
    "TypeError pointing to ref()",
    expect=raises("invalid_argument", "TypeError", "use variable.ref"),
    features=["variables"],
)
def _(fw):
    keys = {fw.Variable(1.0): 1}
    return len(keys)


@scenario(
    "variables.bool_assign_add_rejected",
    spec="OP14, OP16",
    statement="assign_add on a bool variable has no kernel: TF's InvalidArgumentError (no "
    "neutral kind yet)",
    expect=raises("unknown", match="No OpKernel was registered to support Op 'AssignAddVariableOp'"),
    features=["variables"],
)
def _(fw):
    v = fw.Variable(True, trainable=False)  # a bool cannot be trainable in every framework
    v.assign_add(True)
    return v


@scenario(
    "variables.sparse_read_rows",
    spec="OP08, OP14",
    statement="v.sparse_read(indices) reads those rows; its gradient is an IndexedSlices",
    expect=returns([value([3.0, 1.0]), "IndexedSlices", value([0.0, 0.0, 1.0])]),
    features=["variables"],
    oracle_exempt="a read value, and the gradient of one gathered row: 1 there, 0 elsewhere",
)
def _(fw):
    v = fw.Variable([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        y = fw.reduce_sum(v.sparse_read([2]))
    g = tape.gradient(y, v)
    return [v.sparse_read([2, 0]), type(g).__name__, fw.multiply(g, 1.0)]


@scenario(
    "variables.assign_sub_and_chained_assigns",
    spec="OP14",
    statement="assign_sub returns the updated variable (read_value=False: None); assign, "
    "assign_add and assign_sub on what assign returned update the variable itself",
    expect=returns([True, 2.0, None, 6.0, 4.5, 6.0]),
    features=["variables"],
    oracle_exempt="values after assignments, not derivatives",
)
def _(fw):
    v = fw.Variable(3.0)
    r = v.assign_sub(1.0)
    first = r.read_value()
    unread = v.assign_sub(1.0, read_value=False)
    after_assign = v.assign(5.0).assign(6.0).read_value()
    after_sub = v.assign(5.0).assign_sub(0.5).read_value()
    v.assign(5.0).assign_add(1.0)
    return [repr(r).startswith("<tf.Variable"), first, unread, after_assign,
            after_sub, v.read_value()]


@scenario(
    "variables.bool_assign_sub_rejected",
    spec="OP14, OP16",
    statement="assign_sub on a bool variable has no kernel: TF's InvalidArgumentError, listing "
    "XLA's kernels first (no neutral kind yet)",
    expect=raises("unknown", match="No OpKernel was registered to support Op 'AssignSubVariableOp'"
                  "(.|\n)*Registered kernels:\n  device='XLA_CPU_JIT'"),
    features=["variables"],
)
def _(fw):
    v = fw.Variable(True, trainable=False)
    v.assign_sub(True)
    return v


@scenario(
    "variables.tensor_initial_value_is_not_cast",
    spec="OP14, D03",
    statement="Variable(x, dtype=float64) of a float32 tensor is a ValueError: dtype= never casts",
    expect=raises("invalid_argument", "ValueError",
                  "Tensor conversion requested dtype float64 for Tensor with dtype float32"),
    features=["variables", "float64"],
)
def _(fw):
    return fw.Variable(fw.constant(2.5), dtype=fw.float64)


@scenario(
    "variables.variable_initial_value_is_not_cast",
    spec="OP14, D03",
    statement="Variable(v, dtype=float64) of a float32 variable is a ValueError: dtype= never casts",
    expect=raises("invalid_argument", "ValueError",
                  "Incompatible type conversion requested to type float64"),
    features=["variables", "float64"],
)
def _(fw):
    return fw.Variable(fw.Variable(1.0), dtype=fw.float64)


@scenario(
    "variables.list_initial_value_takes_the_dtype",
    spec="OP14, D03",
    statement="a list holding a float32 tensor converts to dtype=: Variable([x, 1.0], "
    "dtype=float64) is float64",
    expect=returns(value([2.5, 1.0], dtype="float64")),
    features=["variables", "float64"],
    oracle_exempt="a converted value, not a derivative",
)
def _(fw):
    return fw.Variable([fw.constant(2.5), 1.0], dtype=fw.float64).read_value()


@scenario(
    "variables.tensor_operand_times_variable",
    spec="W04, OP14",
    statement="a tensor on the left of * and - with a variable on the right reads the variable: "
    "d/dv (c*v + (c - v)) = c - 1",
    expect=returns(1.0),
    features=["variables"],
    oracle=Oracle(lambda fw, v: 2.0 * v + (2.0 - v), at=(3.0,)),
)
def _(fw):
    c = fw.constant(2.0)
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = c * v
        z = c - v
    return tape.gradient([y, z], v)


@scenario(
    "variables.list_initial_value_takes_the_first_tensor_dtype",
    spec="OP14, D03",
    statement="without dtype=, a nested list holding a tensor takes that tensor's dtype: "
    "Variable([[1, 2], [3, x]]) is float32",
    expect=returns(value([[1.0, 2.0], [3.0, 2.5]])),
    features=["variables"],
    oracle_exempt="a converted value, not a derivative",
)
def _(fw):
    return fw.Variable([[1, 2], [3, fw.constant(2.5)]]).read_value()


@scenario(
    "variables.list_initial_value_of_mixed_tensors_rejected",
    spec="OP14, D03",
    statement="without dtype=, a list of a float64 and a float32 tensor is not cast: the stack "
    "fails naming input #1",
    expect=raises("dtype_mismatch", match=r"Pack as input #1\(zero-based\) was expected to be a "
                  "double tensor but is a float tensor"),
    features=["variables", "float64"],
)
def _(fw):
    return fw.Variable([fw.constant(1.0, dtype=fw.float64), fw.constant(2.5)])


@scenario(
    "variables.read_inside_an_operand_list",
    spec="W04, OP14",
    statement="a variable inside a list operand (c * [v, 1.0]) is read and differentiates: c",
    expect=returns(2.0),
    features=["variables"],
    oracle=Oracle(lambda fw, v: 2.0 * v + 2.0, at=(3.0,)),
)
def _(fw):
    c = fw.constant(2.0)
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = fw.reduce_sum(c * [v, 1.0])
    return tape.gradient(y, v)
