"""Section H of the spec: ``unconnected_gradients`` — what a source the target does not reach gets.

Every entry of the section is expressible with the neutral API (U05's string source needs the
``strings`` feature). Not covered here: the nested ``tf.function`` variant of U06 (tf.function is
outside the neutral API). U04's "a rejected value does not consume the tape" is pinned by
``lifecycle.rejected_unconnected_value_does_not_consume``.
"""

from __future__ import annotations

from conformance.expect import raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_ZEROS = "zeros for an unconnected source by definition; no derivative to check"


@scenario(
    "unconnected.default_none",
    spec="U01",
    statement="by default a watched source the target does not depend on gets None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(1.0)
    y = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        z = y * 2
    return tape.gradient(z, x)


@scenario(
    "unconnected.used_elsewhere_still_none",
    spec="U01",
    statement="a source used by recorded ops that do not lead to the target also gets None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(1.0)
    y = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        _ = x * 5.0  # recorded, but not on the path to z
        z = y * 2
    return tape.gradient(z, x)


@scenario(
    "unconnected.explicit_none",
    spec="U01, U02",
    statement="UnconnectedGradients.NONE and the string 'none' both ask for the default None",
    expect=returns([None, None]),
)
def _(fw):
    x = fw.constant(1.0)
    y = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = y * 2
    return [
        tape.gradient(z, x, unconnected_gradients=fw.UnconnectedGradients.NONE),
        tape.gradient(z, x, unconnected_gradients="none"),
    ]


@scenario(
    "unconnected.zero_has_source_shape_and_dtype",
    spec="U02",
    statement="unconnected_gradients='zero' gives zeros with the source's shape and dtype",
    expect=returns(value([[0.0, 0.0], [0.0, 0.0]], dtype="float64")),
    features=["float64"],
    oracle_exempt=_ZEROS,
)
def _(fw):
    x = fw.constant([[1.0, 1.0], [1.0, 1.0]], dtype=fw.float64)
    y = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        z = y * 2
    return tape.gradient(z, x, unconnected_gradients="zero")


@scenario(
    "unconnected.zero_enum_only_fills_unconnected",
    spec="U02",
    statement="UnconnectedGradients.ZERO fills only unconnected sources; the others keep theirs",
    expect=returns([value([[0.0, 0.0], [0.0, 0.0]], dtype="float64"), 2.0]),
    features=["float64"],
    oracle=Oracle(
        lambda fw, x, y: y * 2,
        at=([[1.0, 1.0], [1.0, 1.0]], 3.0),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    x = fw.constant([[1.0, 1.0], [1.0, 1.0]], dtype=fw.float64)
    y = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        z = y * 2
    return tape.gradient(z, [x, y], unconnected_gradients=fw.UnconnectedGradients.ZERO)


@scenario(
    "unconnected.zero_float16",
    spec="U02",
    statement="a float16 unconnected source gets float16 zeros",
    expect=returns(value([0.0, 0.0], dtype="float16")),
    features=["float16"],
    oracle_exempt=_ZEROS,
)
def _(fw):
    x = fw.constant([1.0, 2.0], dtype=fw.float16)
    y = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        z = y * 2
    return tape.gradient(z, x, unconnected_gradients="zero")


@scenario(
    "unconnected.zero_when_nothing_watched",
    spec="U02",
    statement="'zero' gives zeros even when nothing at all was watched or recorded",
    expect=returns(value([0.0, 0.0])),
    oracle_exempt=_ZEROS,
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    y = fw.constant(3.0)
    with fw.GradientTape() as tape:
        z = y * 2
    return tape.gradient(z, x, unconnected_gradients="zero")


@scenario(
    "unconnected.zero_variable_source",
    spec="U02",
    statement="an unconnected variable source gets zeros in the variable's shape with 'zero'",
    expect=returns(value([0.0, 0.0, 0.0])),
    features=["variables"],
    oracle_exempt=_ZEROS,
)
def _(fw):
    v = fw.Variable([1.0, 2.0, 3.0])
    y = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(y)
        z = y * 2
    return tape.gradient(z, v, unconnected_gradients="zero")


@scenario(
    "unconnected.bad_value_rejected",
    spec="U04",
    statement="an unknown unconnected_gradients value is rejected with a ValueError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
)
def _(fw):
    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        z = x * 2
    return tape.gradient(z, x, unconnected_gradients="nonsense")


@scenario(
    "unconnected.value_is_case_sensitive",
    spec="U04",
    statement="the string values are case-sensitive: 'ZERO' is rejected",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
)
def _(fw):
    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        z = x * 2
    return tape.gradient(z, x, unconnected_gradients="ZERO")


@scenario(
    "unconnected.zero_int_source",
    spec="U05",
    statement="with 'zero', a watched int32 source gets int32 zeros instead of None",
    expect=returns([2.0, value([0, 0], dtype="int32")]),
    oracle=Oracle(
        lambda fw, x, i: x * 2, at=(1.0, [1.0, 2.0]), pick=lambda d: [d.first[0][0], d.first[0][1]]
    ),
)
def _(fw):
    x = fw.constant(1.0)
    i = fw.constant([1, 2], dtype=fw.int32)
    with fw.GradientTape() as tape:
        tape.watch(x)
        z = x * 2
    return tape.gradient(z, [x, i], unconnected_gradients="zero")


@scenario(
    "unconnected.zero_string_source",
    spec="U05",
    statement="with 'zero', a string source gets an empty-string tensor, not None",
    expect=returns(True),
    features=["strings"],
)
def _(fw):
    x = fw.constant(1.0)
    s = fw.constant("abc")
    with fw.GradientTape() as tape:
        tape.watch(x)
        z = x * 2
    grad = tape.gradient(z, s, unconnected_gradients="zero")
    return grad is not None and bool(grad == fw.constant(""))


@scenario(
    "unconnected.stop_gradient_zero",
    spec="U06",
    statement="a target cut off by stop_gradient counts as unconnected: 'zero' gives 0.0",
    expect=returns(0.0),
    oracle_exempt=_ZEROS,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.stop_gradient(x * x)
    return tape.gradient(y, x, unconnected_gradients="zero")


@scenario(
    "unconnected.stop_gradient_none",
    spec="U06",
    statement="a target cut off by stop_gradient gives None by default",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.stop_gradient(x * x)
    return tape.gradient(y, x)
