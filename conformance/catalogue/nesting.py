"""Section L of the spec: multiple and nested tapes, higher-order derivatives.

Every entry of the section (N01-N04 and their variants) is expressible with the neutral API. Where
a scenario needs a third or a mixed derivative, which the oracle does not compute, its forward
function lists the analytic first derivative as a second output, so the oracle checks the rest.
"""

from __future__ import annotations

from conformance.expect import returns, value
from conformance.registry import Oracle, scenario

_quartic = Oracle(lambda fw, x: x**4, at=(2.0,), pick=lambda d: [d.first[0][0], d.second[0][0]])


@scenario(
    "nesting.second_order",
    spec="N01",
    statement="an outer tape differentiates the inner tape's gradient: d2(x^4)/dx2 = 48 at 2",
    expect=returns([32.0, 48.0]),
    oracle=_quartic,
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = x**4
        first = inner.gradient(y, x)
    return [first, outer.gradient(first, x)]


@scenario(
    "nesting.third_order",
    spec="N01",
    statement="three nested tapes give the third derivative: 24x = 48 at 2",
    expect=returns([32.0, 48.0, 48.0]),
    oracle=Oracle(
        lambda fw, x: (x**4, 4.0 * x**3),
        at=(2.0,),
        pick=lambda d: [d.first[0][0], d.first[1][0], d.second[1][0]],
    ),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as third:
        third.watch(x)
        with fw.GradientTape() as second:
            second.watch(x)
            with fw.GradientTape() as first:
                first.watch(x)
                y = x**4
            d1 = first.gradient(y, x)
        d2 = second.gradient(d1, x)
    return [d1, d2, third.gradient(d2, x)]


@scenario(
    "nesting.inner_gradient_after_outer_exit",
    spec="N02",
    statement="an inner gradient computed after the outer tape exited is not recorded: None",
    expect=returns([10.0, None]),
    oracle=Oracle(lambda fw, x: x * x, at=(5.0,)),
)
def _(fw):
    x = fw.constant(5.0)
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = x * x
    first = inner.gradient(y, x)
    return [first, outer.gradient(first, x)]


@scenario(
    "nesting.watching_is_tape_local",
    spec="N03",
    statement="each tape differentiates only what it watches, though both see the same ops",
    expect=returns([12.0, 4.0, [12.0, None]]),
    features=["variables"],
    oracle=Oracle(
        lambda fw, x1, x2: (x1**3, x2**2),
        at=(2.0, 2.0),
        pick=lambda d: [d.first[0][0], d.first[1][1], d.second[0][0]],
    ),
)
def _(fw):
    x1 = fw.Variable(2.0, trainable=False)
    x2 = fw.Variable(2.0, trainable=False)
    with fw.GradientTape() as tape1:
        with fw.GradientTape() as tape2:
            tape1.watch(x1)
            tape2.watch([x1, x2])
            y = x1**3
            z = x2**2
            dy, dz = tape2.gradient([y, z], [x1, x2])
        return [dy, dz, tape1.gradient([dy, dz], [x1, x2])]


@scenario(
    "nesting.inner_ignores_outer_watch",
    spec="N04",
    statement="a watch on the outer tape does not make the inner tape record: inner None, outer 6",
    expect=returns([None, 6.0]),
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            y = x * x
    return [inner.gradient(y, x), outer.gradient(y, x)]


@scenario(
    "nesting.outer_ignores_inner_watch",
    spec="N04",
    statement="a watch on the inner tape does not make the outer tape record: inner 6, outer None",
    expect=returns([6.0, None]),
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as outer:
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = x * x
        z = y * y
    return [inner.gradient(y, x), outer.gradient(z, x)]


@scenario(
    "nesting.outer_not_watching_no_second_order",
    spec="N04",
    statement="an outer tape that never watched x gives None for the second derivative",
    expect=returns([32.0, None]),
    oracle=Oracle(lambda fw, x: x**4, at=(2.0,)),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as outer:
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = x**4
        first = inner.gradient(y, x)
    return [first, outer.gradient(first, x)]


@scenario(
    "nesting.outer_sees_forward_and_backward",
    spec="N01 (implied)",
    statement="a persistent outer tape records both the forward ops and the inner gradient: "
    "it gives the first and the second derivative",
    expect=returns([32.0, 48.0]),
    oracle=_quartic,
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = x**4
        first = inner.gradient(y, x)
    return [outer.gradient(y, x), outer.gradient(first, x)]


@scenario(
    "nesting.mixed_partial",
    spec="N01 (implied)",
    statement="differentiating d(x*x*y)/dx with respect to y gives the mixed partial 2x",
    expect=returns([12.0, 6.0]),
    oracle=Oracle(
        lambda fw, x, y: (x * x * y, 2.0 * x * y),
        at=(3.0, 2.0),
        pick=lambda d: [d.first[0][0], d.first[1][1]],
    ),
)
def _(fw):
    x = fw.constant(3.0)
    y = fw.constant(2.0)
    with fw.GradientTape() as outer:
        outer.watch(y)
        with fw.GradientTape() as inner:
            inner.watch(x)
            f = x * x * y
        dx = inner.gradient(f, x)
    return [dx, outer.gradient(dx, y)]


@scenario(
    "nesting.hessian_vector_product",
    spec="N01, O01 (implied)",
    statement="output_gradients on the outer gradient gives a Hessian-vector product",
    expect=returns(value([6.0, 120.0])),
    oracle=Oracle(
        lambda fw, x, v: x**3 * v, at=([1.0, 2.0], [1.0, 10.0]), pick=lambda d: [d.second[0][0]]
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    v = fw.constant([1.0, 10.0])
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            f = fw.reduce_sum(x**3)
        g = inner.gradient(f, x)
    return outer.gradient(g, x, output_gradients=v)


@scenario(
    "nesting.gradient_penalty",
    spec="N01 (implied)",
    statement="a penalty on the squared gradient norm is differentiable (the WGAN-GP pattern)",
    expect=returns(value([36.0, 288.0])),
    oracle=Oracle(lambda fw, x: (3.0 * x**2) ** 2, at=([1.0, 2.0],)),  # with the analytic gradient
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            f = fw.reduce_sum(x**3)
        g = inner.gradient(f, x)
        penalty = fw.reduce_sum(g * g)
    return outer.gradient(penalty, x)


@scenario(
    "nesting.stop_gradient_on_inner_gradient",
    spec="N01, OP01 (implied)",
    statement="stop_gradient on the inner gradient hides it from the outer tape: None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = x**4
        first = fw.stop_gradient(inner.gradient(y, x))
    return outer.gradient(first, x)


# ---- second derivatives through each op's backward rule -----------------------------------------
# The backward functions are recorded ops too, so a wrong rule *of a rule* shows up only here.

def _FIRST_AND_SECOND(d):  # noqa: N802 - a constant-like pick
    return [d.first[0][0], d.second[0][0]]


def _second_order(fw, x, forward):
    """[first, second] derivative of sum(forward(x)) by two nested tapes.

    The outer target is summed explicitly: a non-scalar target is another behaviour (T11).
    """
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = fw.reduce_sum(forward(x))
        first = inner.gradient(y, x)
        total = fw.reduce_sum(first)
    return [first, outer.gradient(total, x)]


@scenario(
    "nesting.second_order_sqrt",
    spec="N01",
    statement="the second derivative through sqrt: -x^(-3/2) / 4",
    expect=returns([value([0.5, 0.25]), value([-0.25, -0.03125])]),
    oracle=Oracle(lambda fw, x: fw.sqrt(x), at=([1.0, 4.0],), pick=_FIRST_AND_SECOND),
)
def _(fw):
    return _second_order(fw, fw.constant([1.0, 4.0]), fw.sqrt)


@scenario(
    "nesting.second_order_tanh",
    spec="N01",
    statement="the second derivative through tanh: -2 tanh(x) (1 - tanh(x)^2)",
    expect=returns([value([0.7864477, 0.41997433]), value([-0.7268497, -0.6397000])]),
    oracle=Oracle(lambda fw, x: fw.tanh(x), at=([0.5, 1.0],), pick=_FIRST_AND_SECOND),
)
def _(fw):
    return _second_order(fw, fw.constant([0.5, 1.0]), fw.tanh)


@scenario(
    "nesting.second_order_sigmoid",
    spec="N01",
    statement="the second derivative through sigmoid: s (1 - s) (1 - 2 s)",
    expect=returns([value([0.23500371, 0.19661193]), value([-0.05755679, -0.09085775])]),
    oracle=Oracle(lambda fw, x: fw.sigmoid(x), at=([0.5, 1.0],), pick=_FIRST_AND_SECOND),
)
def _(fw):
    return _second_order(fw, fw.constant([0.5, 1.0]), fw.sigmoid)


@scenario(
    "nesting.second_order_gather",
    spec="N01, OP08",
    statement="the second derivative through a gather of x^3 with a repeated index: 6x per use",
    expect=returns([value([6.0, 12.0]), value([12.0, 12.0])]),
    oracle=Oracle(
        lambda fw, x: fw.gather(x * x * x, [0, 0, 1]), at=([1.0, 2.0],), pick=_FIRST_AND_SECOND
    ),
)
def _(fw):
    return _second_order(fw, fw.constant([1.0, 2.0]), lambda x: fw.gather(x * x * x, [0, 0, 1]))


@scenario(
    "nesting.second_order_stack",
    spec="N01",
    statement="the second derivative through stack([x^2, x^3]): 2 + 6x",
    expect=returns([value([5.0, 16.0]), value([8.0, 14.0])]),
    oracle=Oracle(
        lambda fw, x: fw.stack([x * x, x * x * x], 0), at=([1.0, 2.0],), pick=_FIRST_AND_SECOND
    ),
)
def _(fw):
    return _second_order(fw, fw.constant([1.0, 2.0]), lambda x: fw.stack([x * x, x * x * x], 0))


@scenario(
    "nesting.second_order_concat",
    spec="N01",
    statement="the second derivative through concat([x^2, x^3]) along axis 0: 2 + 6x",
    expect=returns([value([5.0, 16.0]), value([8.0, 14.0])]),
    oracle=Oracle(
        lambda fw, x: fw.concat([x * x, x * x * x], 0), at=([1.0, 2.0],), pick=_FIRST_AND_SECOND
    ),
)
def _(fw):
    return _second_order(fw, fw.constant([1.0, 2.0]), lambda x: fw.concat([x * x, x * x * x], 0))


def _second_order_weighted(fw, x, forward):
    """With output gradients u watched by the outer tape: [u f'(x), u f''(x), f'(x)].

    The last two are the outer gradient of sum(first) with respect to x and to u: they differentiate
    the backward rule with respect to its upstream argument, which unit seeds never exercise.
    """
    u = fw.constant([3.0, 3.0])
    with fw.GradientTape() as outer:
        outer.watch([x, u])
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = forward(x)
        first = inner.gradient(y, x, output_gradients=u)
        total = fw.reduce_sum(first)
    by_x, by_u = outer.gradient(total, [x, u])
    return [first, by_x, by_u]


def _weighted_oracle(forward, at):
    return Oracle(
        lambda fw, x, u: (forward(fw, x) * u, forward(fw, x)),
        at=(at, [3.0, 3.0]),
        pick=lambda d: [d.first[0][0], d.second[0][0], d.first[1][0]],
    )


@scenario(
    "nesting.second_order_sqrt_weighted",
    spec="N01, O01",
    statement="sqrt's backward rule differentiated with respect to x and to its upstream gradient",
    expect=returns([value([1.5, 0.75]), value([-0.75, -0.09375]), value([0.5, 0.25])]),
    oracle=_weighted_oracle(lambda fw, x: fw.sqrt(x), [1.0, 4.0]),
)
def _(fw):
    return _second_order_weighted(fw, fw.constant([1.0, 4.0]), fw.sqrt)


@scenario(
    "nesting.second_order_tanh_weighted",
    spec="N01, O01",
    statement="tanh's backward rule differentiated with respect to x and to its upstream gradient",
    expect=returns([
        value([2.3593431, 1.259923]), value([-2.1805491, -1.9191]), value([0.7864477, 0.41997433])
    ]),
    oracle=_weighted_oracle(lambda fw, x: fw.tanh(x), [0.5, 1.0]),
)
def _(fw):
    return _second_order_weighted(fw, fw.constant([0.5, 1.0]), fw.tanh)


@scenario(
    "nesting.second_order_sigmoid_weighted",
    spec="N01, O01",
    statement="sigmoid's backward rule differentiated with respect to x and to its upstream "
    "gradient",
    expect=returns([
        value([0.7050111, 0.5898358]), value([-0.1726704, -0.2725733]),
        value([0.23500371, 0.19661193]),
    ]),
    oracle=_weighted_oracle(lambda fw, x: fw.sigmoid(x), [0.5, 1.0]),
)
def _(fw):
    return _second_order_weighted(fw, fw.constant([0.5, 1.0]), fw.sigmoid)
