"""Section E of the spec: what may be a target, and how targets are seeded and summed (T01-T13).

Skipped spec entries and parts:

- T13's ``tf.argmax`` target: argmax is not in the neutral API (the int-target half is pinned).
- T03's string case is pinned as ``watching.watch_string_tensor``.
"""

from __future__ import annotations

import numpy as np

from conformance.expect import raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_IDENTITY = "the gradient of a tensor with respect to itself is ones by definition"


@scenario(
    "targets.source_is_target",
    spec="T01",
    statement="a watched source used as its own target has gradient one",
    expect=returns(1.0),
    oracle_exempt=_IDENTITY,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.gradient(x, x)


@scenario(
    "targets.unwatched_source_is_target",
    spec="T02",
    statement="a never-watched source used as its own target gets ones of its shape, not None",
    expect=returns(value([[1.0, 1.0], [1.0, 1.0]])),
    oracle_exempt=_IDENTITY,
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape() as tape:
        pass
    return tape.gradient(x, x)


@scenario(
    "targets.unwatched_source_read_by_recorded_op",
    spec="T04",
    statement="a never-watched source that is its own target but also an input of a recorded op on "
    "the way gets None: TensorFlow drops its seed with the op's unneeded gradient",
    expect=returns([None, -1.0]),
    oracle_exempt="None is the behaviour pinned; the -1.0 is the plain subtraction rule",
)
def _(fw):
    x = fw.constant(2.0)
    y = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(y)
        z = x - y
    return tape.gradient([z, x], [x, y])


@scenario(
    "targets.unrecorded_intermediate_is_target",
    spec="T02",
    statement="an unrecorded intermediate used as its own target has gradient one",
    expect=returns(1.0),
    oracle_exempt=_IDENTITY,
)
def _(fw):
    c = fw.constant(3.0)
    with fw.GradientTape() as tape:
        y = c * c
    return tape.gradient(y, y)


@scenario(
    "targets.int_source_is_target",
    spec="T03",
    statement="the identity gradient exists even for an int tensor: int32 one, not None",
    expect=returns(value(1, dtype="int32")),
    oracle_exempt=_IDENTITY,
)
def _(fw):
    x = fw.constant(3, dtype=fw.int32)
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.gradient(x, x)


@scenario(
    "targets.variable_target_other_variable",
    spec="T05",
    statement="a variable as target, differentiated with respect to another variable, gives None",
    expect=returns(None),
    features=["variables"],
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.Variable([3.0])
        y = fw.Variable([2.0])
    return tape.gradient(x, y)


@scenario(
    "targets.variable_target_itself",
    spec="T05, T01",
    statement="a variable as its own target has gradient one",
    expect=returns(1.0),
    features=["variables"],
    oracle_exempt=_IDENTITY,
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        v * 1.0
    return tape.gradient(v, v)


@scenario(
    "targets.target_none",
    spec="T06",
    statement="a bare None target is rejected with a TypeError that says it received None",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError", match="but received None"),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.gradient(None, x)


@scenario(
    "targets.target_list_with_none",
    spec="T07",
    statement="a None inside a target list is rejected (TF: an accidental dtype message)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient([y, None], x)


@scenario(
    "targets.target_python_float",
    spec="T08",
    statement="a Python float target is not converted; TF fails inside (AttributeError): kind only",
    expect=raises(ErrorKind.INTERNAL),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.gradient(3.0, x)


@scenario(
    "targets.target_numpy_array",
    spec="T08",
    statement="a NumPy array target is not converted; TF fails inside (AttributeError): kind only",
    expect=raises(ErrorKind.INTERNAL),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.gradient(np.array(3.0, np.float32), x)


@scenario(
    "targets.non_scalar_target_summed",
    spec="T11",
    statement="a non-scalar target is seeded with ones: the gradient of its sum",
    expect=returns(value([2.0, 4.0, 6.0])),
    oracle=Oracle(lambda fw, x: x * x, at=([1.0, 2.0, 3.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "targets.higher_rank_target_summed",
    spec="T11",
    statement="a [2, 3] target built from a [2] source sums over the extra axis",
    expect=returns(value([3.0, 3.0])),
    oracle=Oracle(lambda fw, x: fw.tile(fw.reshape(x, [2, 1]), [1, 3]), at=([1.0, 2.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.tile(fw.reshape(x, [2, 1]), [1, 3])
    return tape.gradient(y, x)


@scenario(
    "targets.int_target",
    spec="T13",
    statement="an int target computed from a watched float has no gradient: None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        b = fw.cast(x, fw.int32) * 5
    return tape.gradient(b, x)


@scenario(
    "targets.mixed_targets_int_ignored",
    spec="T13",
    statement="in a list of float and int targets the int one contributes nothing",
    expect=returns(4.0),
    oracle=Oracle(lambda fw, x: x * x, at=(2.0,)),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a = x * x
        b = fw.cast(x, fw.int32) * 5
    return tape.gradient([a, b], x)


@scenario(
    "targets.bool_target",
    spec="T13",
    statement="a bool target (a comparison of a watched float) has no gradient: None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        above = x > 1.0
    return tape.gradient(above, x)


@scenario(
    "targets.list_of_targets_summed",
    spec="T11, SRC01",
    statement="a list of targets is differentiated as the sum of the targets",
    expect=returns(16.0),
    oracle=Oracle(lambda fw, x: x * x + x * x * x, at=(2.0,)),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y1 = x * x
        y2 = x * x * x
    return tape.gradient([y1, y2], x)


@scenario(
    "targets.dict_of_targets_summed",
    spec="T11, SRC01",
    statement="a dict of targets is flattened like any nest and summed",
    expect=returns(16.0),
    oracle=Oracle(lambda fw, x: x * x + x * x * x, at=(2.0,)),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y1 = x * x
        y2 = x * x * x
    return tape.gradient({"square": y1, "cube": y2}, x)


@scenario(
    "targets.constant_target",
    spec="W01, T02",
    statement="a target not produced by a recorded op (nor a source) contributes nothing: None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3.0)
    c = fw.constant(5.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        x * x
    return tape.gradient(c, x)


@scenario(
    "targets.source_downstream_of_target",
    spec="T02",
    statement="differentiating an input with respect to a value computed from it gives None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(x, y)


@scenario(
    "targets.python_float_in_target_list",
    spec="T08",
    statement="a Python float inside a target list is not converted: TF fails inside the tape "
    "(an AttributeError; loose, only the kind is pinned)",
    expect=raises(ErrorKind.INTERNAL, "AttributeError"),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient([y, 2.0], x)


@scenario(
    "targets.string_target",
    spec="T08",
    statement="a Python string as the target is a TypeError (it is not converted to a tensor)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        x * x
    return tape.gradient("abc", x)
