"""Section G of the spec: ``output_gradients`` weights the seed of ``gradient`` (a VJP).

Every entry of the section is expressible with the neutral API. Skipped: O04 (a list of output
gradients shorter or longer than the targets), because it is undefined in TensorFlow (its C++
reads the list without a bounds check, and the values it returns are accidents): nothing about it
can be pinned, and a framework that rejects the mismatch is right to.
"""

from __future__ import annotations

from conformance.expect import raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario


@scenario(
    "output_gradients.weights_the_seed",
    spec="O01",
    statement="output_gradients replaces the ones seed: the result is the vector-Jacobian product",
    expect=returns(value([20.0, 400.0])),
    oracle=Oracle(lambda fw, x, w: x * x * w, at=([1.0, 2.0], [10.0, 100.0])),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x, output_gradients=fw.constant([10.0, 100.0]))


@scenario(
    "output_gradients.scalar_broadcasts",
    spec="O01",
    statement="a scalar output gradient for a vector target is broadcast in the backward pass",
    expect=returns(value([20.0, 40.0])),
    oracle=Oracle(lambda fw, x: x * x * 10.0, at=([1.0, 2.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x, output_gradients=fw.constant(10.0))


@scenario(
    "output_gradients.not_kept_between_calls",
    spec="O01",
    statement="on a persistent tape, one call's output_gradients do not carry over to the next",
    expect=returns([value([20.0, 40.0]), value([2.0, 4.0])]),
    oracle=Oracle(
        lambda fw, x: (fw.reduce_sum(x * x) * 10.0, fw.reduce_sum(x * x)),
        at=([1.0, 2.0],),
        pick=lambda d: [d.first[0][0], d.first[1][0]],
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = fw.reduce_sum(x * x)
    weighted = tape.gradient(y, x, output_gradients=fw.constant(10.0))
    return [weighted, tape.gradient(y, x)]


@scenario(
    "output_gradients.zero_seed_gives_zeros",
    spec="O01",
    statement="an all-zero output gradient on a connected target gives zeros, not None",
    expect=returns(value([0.0, 0.0])),
    oracle=Oracle(lambda fw, x: x * x * 0.0, at=([1.0, 2.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x, output_gradients=fw.zeros_like(y))


@scenario(
    "output_gradients.one_per_target",
    spec="O01, O04",
    statement="each output gradient weights its own target of a list; the products are summed",
    expect=returns(320.0),
    oracle=Oracle(lambda fw, x: x * 2.0 * 10.0 + x * 3.0 * 100.0, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a = x * 2.0
        b = x * 3.0
    return tape.gradient([a, b], x, output_gradients=[fw.constant(10.0), fw.constant(100.0)])


@scenario(
    "output_gradients.several_sources",
    spec="O01",
    statement="one output gradient weights the gradient of every source",
    expect=returns([20.0, 30.0]),
    oracle=Oracle(
        lambda fw, x, y: x * y * 10.0, at=(3.0, 2.0), pick=lambda d: [d.first[0][0], d.first[0][1]]
    ),
)
def _(fw):
    x = fw.constant(3.0)
    y = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        z = x * y
    return tape.gradient(z, [x, y], output_gradients=fw.constant(10.0))


@scenario(
    "output_gradients.unconnected_target_stays_none",
    spec="O01, U01",
    statement="an output gradient does not connect an unconnected target: the result is still None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    w = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = w * 2.0
    return tape.gradient(y, x, output_gradients=fw.constant([1.0, 1.0]))


@scenario(
    "output_gradients.shape_mismatch",
    spec="O03",
    statement="an output gradient of the wrong shape fails in the backward pass as a shape error",
    expect=raises(ErrorKind.SHAPE_MISMATCH),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x, output_gradients=fw.constant([1.0, 2.0, 3.0]))


@scenario(
    "output_gradients.dtype_mismatch",
    spec="O03",
    statement="a float64 output gradient for a float32 target fails in the backward pass (dtype)",
    expect=raises(ErrorKind.DTYPE_MISMATCH),
    features=["float64"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x, output_gradients=fw.constant([1.0, 1.0], dtype=fw.float64))


@scenario(
    "output_gradients.int_for_float_target",
    spec="O03",
    statement="an int32 output gradient for a float32 target is not converted: a dtype error",
    expect=raises(ErrorKind.DTYPE_MISMATCH),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x, output_gradients=fw.constant([1, 1], dtype=fw.int32))


@scenario(
    "output_gradients.none_entry",
    spec="O05",
    statement="a None entry among output gradients is not read as 'use ones': TF fails in an op's "
    "gradient (an internal ValueError), so only the kind is pinned",
    expect=raises(ErrorKind.INVALID_ARGUMENT),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a = x * 2.0
        b = x * 3.0
    return tape.gradient([a, b], x, output_gradients=[None, fw.constant(10.0)])


@scenario(
    "output_gradients.single_none_entry",
    spec="O05",
    statement="output_gradients=[None] for one target fails the same way (TF internals; kind only)",
    expect=raises(ErrorKind.INVALID_ARGUMENT),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a = x * 2.0
    return tape.gradient(a, x, output_gradients=[None])


@scenario(
    "output_gradients.target_is_source",
    spec="O06",
    statement="when the target is the source itself, the output gradient is returned as is",
    expect=returns(value([5.0, 7.0])),
    oracle=Oracle(lambda fw, x, w: x * w, at=([1.0, 2.0], [5.0, 7.0])),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.gradient(x, x, output_gradients=fw.constant([5.0, 7.0]))
