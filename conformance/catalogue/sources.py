"""Section F of the spec: what may be a source, and the structure of the result (SRC01-SRC07).

Skipped spec entries and parts:

- SRC05's other Python scalars (``3.0``, ``1.0``, ``np.float32(3.0)``): TF's exception type and
  message depend on the value by accident (``dtypes.as_dtype`` reads small floats as DataType enum
  numbers), so only the ``0.5`` case, a plain invalid-argument error, is pinned.

List and tuple results compare alike (the suite matches sequences by order and length), so these
scenarios pin nesting, order and dict keys, not the container type.
"""

from __future__ import annotations

from conformance.expect import raises, returns
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario


def _linear(*arguments: int) -> Oracle:
    """y = x1 + 2*x2 + 3*x3 at (3.0, 3.1, 3.2), picking dy/dx for the given argument indices."""
    return Oracle(
        lambda fw, x1, x2, x3: x1 + 2.0 * x2 + 3.0 * x3,
        at=(3.0, 3.1, 3.2),
        pick=lambda d: [d.first[0][j] for j in arguments],
    )


def _linear_tape(fw):
    """A persistent tape holding y = x1 + 2*x2 + 3*x3, with x1, x2, x3 watched."""
    with fw.GradientTape(persistent=True) as tape:
        x1, x2, x3 = fw.constant(3.0), fw.constant(3.1), fw.constant(3.2)
        tape.watch([x1, x2, x3])
        y = x1 + 2 * x2 + 3 * x3
    return tape, y, (x1, x2, x3)


@scenario(
    "sources.single_tensor",
    spec="SRC01",
    statement="a bare source gives a bare gradient, not a one-element sequence",
    expect=returns(1.0),
    oracle=_linear(0),
)
def _(fw):
    tape, y, (x1, x2, x3) = _linear_tape(fw)
    return tape.gradient(y, x1)


@scenario(
    "sources.tuple_of_one",
    spec="SRC01",
    statement="a one-element tuple of sources gives a one-element sequence",
    expect=returns((1.0,)),
    oracle=_linear(0),
)
def _(fw):
    tape, y, (x1, x2, x3) = _linear_tape(fw)
    return tape.gradient(y, (x1,))


@scenario(
    "sources.nested_sequences",
    spec="SRC01",
    statement="nested sequences of sources (with a repeated source) keep their nesting and order",
    expect=returns([(1.0, 2.0), (2.0, 3.0)]),
    oracle=_linear(0, 1, 1, 2),
)
def _(fw):
    tape, y, (x1, x2, x3) = _linear_tape(fw)
    return tape.gradient(y, [(x1, x2), (x2, x3)])


@scenario(
    "sources.dict_in_list",
    spec="SRC01",
    statement="dicts inside the sources come back as dicts with the same keys",
    expect=returns([1.0, {"x2": 2.0, "x3": 3.0}]),
    oracle=_linear(0, 1, 2),
)
def _(fw):
    tape, y, (x1, x2, x3) = _linear_tape(fw)
    return tape.gradient(y, [x1, {"x2": x2, "x3": x3}])


@scenario(
    "sources.empty_list",
    spec="SRC01",
    statement="an empty list of sources gives an empty list",
    expect=returns([]),
)
def _(fw):
    tape, y, _ = _linear_tape(fw)
    return tape.gradient(y, [])


@scenario(
    "sources.empty_dict",
    spec="L11, SRC01",
    statement="an empty dict of sources gives an empty dict",
    expect=returns({}),
)
def _(fw):
    tape, y, _ = _linear_tape(fw)
    return tape.gradient(y, {})


@scenario(
    "sources.same_source_twice",
    spec="SRC01",
    statement="a source listed twice gets the full gradient in both places, not a split",
    expect=returns([6.0, 6.0]),
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,), pick=lambda d: [d.first[0][0]] * 2),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, [x, x])


@scenario(
    "sources.source_none",
    spec="SRC04",
    statement="a None source is rejected with a TypeError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, None)


@scenario(
    "sources.source_list_with_none",
    spec="SRC04",
    statement="a None inside a list of sources is rejected with a TypeError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, [x, None])


@scenario(
    "sources.python_float_source",
    spec="SRC05",
    statement="a Python float source is rejected (TF's type and message vary by value): kind only",
    expect=raises(ErrorKind.INVALID_ARGUMENT),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, 0.5)


@scenario(
    "sources.python_string_source",
    spec="SRC05",
    statement="a Python string source is rejected with a TypeError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, "x")


@scenario(
    "sources.string_source_gets_none",
    spec="SRC06",
    statement="a string tensor source just gets None, next to float sources with gradients",
    expect=returns([1.0, 11.0, None]),
    features=["strings"],
    oracle=Oracle(
        lambda fw, x, y: x + y + y * y, at=(3.0, 5.0), pick=lambda d: [d.first[0][0], d.first[0][1]]
    ),
)
def _(fw):
    x, y, s = fw.constant(3.0), fw.constant(5.0), fw.constant("unknown")
    with fw.GradientTape() as tape:
        tape.watch([x, y, s])
        z = y * y
    return tape.gradient([x, y, z, s], [x, y, s])


@scenario(
    "sources.python_max_selects_one_path",
    spec="SRC07",
    statement="Python max() over variables records only the selected one: the others get None",
    expect=returns([None, None, 1.0]),
    features=["variables"],
    oracle=Oracle(
        lambda fw, a, b, c: fw.maximum(fw.maximum(a, b), c),
        at=(2.0, 3.0, 5.0),
        pick=lambda d: [d.first[0][2]],
    ),
)
def _(fw):
    xs = [fw.Variable(2.0), fw.Variable(3.0), fw.Variable(5.0)]
    with fw.GradientTape() as tape:
        f = max(xs)
    return tape.gradient(f, xs)


@scenario(
    "sources.contributions_summed_over_paths",
    spec="SRC01 (mental model 4)",
    statement="a source reaching the target by several paths gets the sum of the contributions",
    expect=returns(9.0),
    oracle=Oracle(lambda fw, x: x * 3.0 + x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a = x * 3.0
        b = x * x
        y = a + b
    return tape.gradient(y, x)


@scenario(
    "sources.intermediate_as_source",
    spec="SRC01 (mental model 4)",
    statement="an intermediate tensor recorded on the tape can be a source, next to the leaf",
    expect=returns([24.0, 12.0]),
    oracle=Oracle(
        lambda fw, x, a: ((x * 2.0) * (x * 2.0), a * a),
        at=(3.0, 6.0),
        pick=lambda d: [d.first[0][0], d.first[1][1]],
    ),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a = x * 2.0
        y = a * a
    return tape.gradient(y, [x, a])


@scenario(
    "sources.variable_and_tensor_mixed",
    spec="SRC01, W04",
    statement="variables and watched tensors mix freely as sources of one call",
    expect=returns([3.0, 2.0]),
    features=["variables"],
    oracle=Oracle(
        lambda fw, v, x: v * x, at=(2.0, 3.0), pick=lambda d: [d.first[0][0], d.first[0][1]]
    ),
)
def _(fw):
    v = fw.Variable(2.0)
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = v * x
    return tape.gradient(y, [v, x])


@scenario(
    "sources.python_float_in_source_list",
    spec="SRC05",
    statement="a Python float inside a source list is not converted: TF fails inside the tape "
    "(an AttributeError; loose, only the kind is pinned)",
    expect=raises(ErrorKind.INTERNAL, "AttributeError"),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, [x, 2.0])


@scenario(
    "sources.none_in_source_list",
    spec="SRC04",
    statement="None inside a source list is a TypeError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, [x, None])


# ---- found by tapeconf fuzz (docs/fuzz.md): a shrunk program, TensorFlow's outcome expected


@scenario(
    "sources.unwatched_input_of_a_recorded_op",
    spec="SRC08",
    statement="a source the tape never watched gets None, even when a recorded op read it",
    expect=returns([None, 1.5]),
    oracle=Oracle(lambda fw, x, t: x * t, at=(1.5, -1.5), pick=lambda d: [d.first[0][1]]),
)
def _(fw):
    x = fw.constant(1.5)
    t = -x
    with fw.GradientTape() as tape:
        tape.watch(t)
        y = x * t  # recorded, since t is watched; x is only read
    return tape.gradient(y, [x, t])
