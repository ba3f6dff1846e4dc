"""Section K of the spec: ``custom_gradient`` — user backward functions and how the tape calls them.

Every scenario here is exempt from the numeric oracle: a custom gradient overrides the math on
purpose, so finite differences of the forward function would disagree by design.

Skipped: C07 (``record_operation`` returning too few gradients) uses TensorFlow's internal
``tensorflow.python.eager.record`` module, which is not part of the neutral API.
"""

from __future__ import annotations

from conformance.expect import raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import UserError, scenario

_OVERRIDE = "a custom gradient overrides the math; finite differences would disagree by design"


@scenario(
    "custom_gradient.overrides_gradient",
    spec="C01",
    statement="the gradient function's result replaces the true derivative (100, not 6)",
    expect=returns(100.0),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * x, lambda dy: dy * 100.0

    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


@scenario(
    "custom_gradient.upstream_has_output_shape",
    spec="C01",
    statement="the gradient function receives the upstream gradient with the output's shape",
    expect=returns([value([4.0, 8.0, 12.0]), value([2.0, 2.0, 2.0])]),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    seen = []

    @fw.custom_gradient
    def f(x):
        def grad(dy):
            seen.append(dy)
            return dy * 2.0 * x

        return x * x, grad

    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(f(x) * 2.0)
    return [tape.gradient(y, x), seen[0]]


@scenario(
    "custom_gradient.none_means_no_gradient",
    spec="C01",
    statement="a gradient function returning None gives the source no gradient: None",
    expect=returns(None),
    features=["custom_gradient"],
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * x, lambda dy: None

    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


@scenario(
    "custom_gradient.none_with_zero_option",
    spec="C01, U02",
    statement="a gradient function returning None gives 0.0 with unconnected_gradients='zero'",
    expect=returns(0.0),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * x, lambda dy: None

    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x, unconnected_gradients="zero")


@scenario(
    "custom_gradient.one_gradient_per_input",
    spec="C01, C02",
    statement="with two inputs the gradient function returns one gradient each; None for one input "
    "gives that source None",
    expect=returns([3.0, None]),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    @fw.custom_gradient
    def product(a, b):
        return a * b, lambda dy: (dy * b, None)

    a = fw.constant(2.0)
    b = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = product(a, b)
    return tape.gradient(y, [a, b])


@scenario(
    "custom_gradient.mixed_with_ordinary_ops",
    spec="C01 (implied)",
    statement="a custom gradient on one path is summed with ordinary gradients on another",
    expect=returns(102.0),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * 1.0, lambda dy: dy * 100.0

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x) + x * 2.0
    return tape.gradient(y, x)


@scenario(
    "custom_gradient.called_once_per_gradient",
    spec="C01 (implied)",
    statement="the gradient function runs only when gradient() is called, once per call",
    expect=returns([0, 1, 2]),
    features=["custom_gradient"],
)
def _(fw):
    calls = []

    @fw.custom_gradient
    def f(x):
        def grad(dy):
            calls.append(1)
            return dy

        return x * 1.0, grad

    x = fw.constant(1.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = f(x)
    counts = [len(calls)]
    tape.gradient(y, x)
    counts.append(len(calls))
    tape.gradient(y, x)
    counts.append(len(calls))
    return counts


@scenario(
    "custom_gradient.too_few_gradients",
    spec="C02",
    statement="a gradient function returning fewer gradients than inputs raises a ValueError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
    features=["custom_gradient", "variables"],
)
def _(fw):
    @fw.custom_gradient
    def identity(x):
        # x * 1.0, not x: a framework may reject returning an input unchanged, another behaviour
        return x * 1.0, lambda _: []

    x = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        y = identity(x)
    return tape.gradient(y, [x])


@scenario(
    "custom_gradient.one_gradient_for_two_inputs",
    spec="C02",
    statement="two inputs but one gradient returned raises a ValueError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
    features=["custom_gradient"],
)
def _(fw):
    @fw.custom_gradient
    def product(a, b):
        return a * b, lambda dy: dy * b

    a = fw.constant(2.0)
    b = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = product(a, b)
    return tape.gradient(y, [a, b])


@scenario(
    "custom_gradient.variables_need_keyword",
    spec="C03",
    statement="a function using a variable needs a gradient function accepting 'variables'; "
    "checked at forward time, with no tape",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
    features=["custom_gradient", "variables"],
)
def _(fw):
    v = fw.Variable(2.0)

    @fw.custom_gradient
    def f(x):
        return x * v, lambda dy: dy * v

    return f(fw.constant(3.0))


@scenario(
    "custom_gradient.variables_keyword_gradients",
    spec="C03",
    statement="with a 'variables' keyword the second returned list holds the variables' gradients",
    expect=returns([2.0, 30.0]),
    features=["custom_gradient", "variables"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    v = fw.Variable(2.0)

    @fw.custom_gradient
    def f(x):
        def grad(dy, variables=None):
            return dy * v, [dy * x * 10.0]

        return x * v, grad

    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, [x, v])


@scenario(
    "custom_gradient.exception_propagates",
    spec="C04",
    statement="an exception raised in a gradient function propagates unchanged (type and message)",
    expect=raises(ErrorKind.USER_ERROR, "RuntimeError", match="^boom from grad$"),
    features=["custom_gradient"],
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        def grad(_):
            raise UserError("boom from grad")

        return x * 1.0, grad  # not x itself: returning an input unchanged is another behaviour

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


@scenario(
    "custom_gradient.unused_output_gets_zeros",
    spec="C05",
    statement="of a two-output function, the unused output's upstream gradient is zeros, not None",
    expect=returns([1.0, 1.0, 0.0]),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    seen = []

    @fw.custom_gradient
    def two(x):
        def grad(d1, d2):
            seen.append((d1, d2))
            return d1 + d2

        return (x * 1.0, x * 2.0), grad

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a, _ = two(x)
    gradient = tape.gradient(a, x)
    d1, d2 = seen[0]
    return [gradient, d1, d2]


@scenario(
    "custom_gradient.gradient_function_is_recorded",
    spec="C06, N01",
    statement="ops in a gradient function are recorded by an outer tape: the second derivative "
    "follows the custom gradient (3x -> 3), not the true one (2)",
    expect=returns([9.0, 3.0]),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * x, lambda dy: dy * 3.0 * x

    x = fw.constant(3.0)
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        first = inner.gradient(y, x)
    return [first, outer.gradient(first, x)]


@scenario(
    "custom_gradient.nested_second_order_override",
    spec="C06",
    statement="a custom gradient inside a gradient function overrides the second derivative",
    expect=returns([-5856.4, -9423.48]),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        def first_order(dz):
            @fw.custom_gradient
            def second_order(_):
                return -1.1, lambda ddz: -2.1 * ddz

            return dz * second_order(x)

        return x + 10.0, first_order

    c = fw.constant(1.0)
    with fw.GradientTape() as outer:
        outer.watch(c)
        with fw.GradientTape() as inner:
            inner.watch(c)
            d = f(c) ** 4.0
        first = inner.gradient(d, c)
    return [first, outer.gradient(first, c)]


@scenario(
    "custom_gradient.two_outputs_both_used",
    spec="C01, C05",
    statement="of a two-output function with both outputs used, the gradient function gets each "
    "output's upstream gradient (1 and 2) and its answer is the gradient: 3 * 1 + 5 * 2",
    expect=returns([13.0, 1.0, 2.0]),
    features=["custom_gradient"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    seen = []

    @fw.custom_gradient
    def two(x):
        def grad(d1, d2):
            seen.append((d1, d2))
            return d1 * 3.0 + d2 * 5.0

        return (x * 1.0, x * 2.0), grad

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a, b = two(x)
        y = a + b * 2.0
    gradient = tape.gradient(y, x)
    d1, d2 = seen[0]
    return [gradient, d1, d2]


@scenario(
    "custom_gradient.outputs_only_into_gradientless_ops",
    spec="C05, OP02",
    statement="outputs that feed only gradient-less ops (round): the gradient is None and the "
    "gradient function is never called",
    expect=returns([None, 0]),
    features=["custom_gradient"],
)
def _(fw):
    calls = []

    @fw.custom_gradient
    def two(x):
        def grad(d1, d2):
            calls.append(1)
            return d1 + d2

        return (x * 1.0, x * 2.0), grad

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a, b = two(x)
        y = fw.round(a) + fw.round(b)
    return [tape.gradient(y, x), len(calls)]


@scenario(
    "custom_gradient.too_few_variable_gradients",
    spec="C03",
    statement="a gradient function returning fewer variable gradients than variables raises a "
    "ValueError naming the rule",
    expect=raises(
        ErrorKind.INVALID_ARGUMENT, "ValueError", "Must return gradient for each variable"
    ),
    features=["custom_gradient", "variables"],
)
def _(fw):
    v = fw.Variable(2.0)

    @fw.custom_gradient
    def f(x):
        def grad(dy, variables=None):
            return dy * v, []

        return x * v, grad

    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, [x, v])


@scenario(
    "custom_gradient.skipped_op_does_not_stop_backprop",
    spec="C05, OP02",
    statement="a two-output custom op whose outputs only feed round() is skipped, and the backward "
    "pass goes on to the product recorded before it: 2x = 2, no gradient-function call",
    expect=returns([2.0, 0]),
    features=["custom_gradient"],
    oracle_exempt="the value is 2x at 1; the point is that the skipped op does not end the pass",
)
def _(fw):
    calls = []

    @fw.custom_gradient
    def two(x):
        def grad(d1, d2):
            calls.append(1)
            return d1 + d2

        return (x * 1.0, x * 2.0), grad

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        square = x * x
        a, b = two(x)
        y = square + fw.round(a) + fw.round(b)
    return [tape.gradient(y, x), len(calls)]


# ---- found by tapeconf fuzz (docs/fuzz.md): a shrunk program, TensorFlow's outcome expected


@scenario(
    "custom_gradient.arguments_reach_f_as_given",
    spec="C08",
    statement="the decorated function gets its arguments unconverted: f(None) fails inside f",
    expect=raises(
        ErrorKind.INVALID_ARGUMENT, "TypeError", match="NoneType"
    ),  # the message is the user code's
    features=["custom_gradient"],
)
def _(fw):
    @fw.custom_gradient
    def double(a):
        def grad(upstream):
            return upstream * 2.0

        return a * 2.0, grad

    with fw.GradientTape():
        return double(None)  # e.g. a gradient that was None, passed on


@scenario(
    "custom_gradient.python_float_output_is_float32",
    spec="C09",
    statement="a Python float returned by the decorated function is converted on its own: float32 "
    "for a float64 input, and so is the gradient its grad_fn passes on",
    expect=returns([value(2.0), value(1.0)]),
    features=["custom_gradient", "float64"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return 2.0, lambda dy: dy

    x = fw.constant(1.0, dtype=fw.float64)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return [y, tape.gradient(y, x)]


@scenario(
    "custom_gradient.sparse_upstream_passes_through",
    spec="C10, J07",
    statement="grad_fn gets a gather's sparse upstream gradient as it is, and returning it keeps "
    "it sparse: the Jacobian densifies it, with the 'dense representation' WARNING",
    expect=returns(
        value([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), warns={"to a dense representation": 1}
    ),
    features=["custom_gradient", "jacobian"],
    oracle_exempt=_OVERRIDE,
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * 1.0, lambda dy: dy

    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.gather(f(x), [0, 2])
    return tape.jacobian(y, x)


@scenario(
    "custom_gradient.called_without_a_function_is_the_decorator",
    spec="C01",
    statement="custom_gradient() with no function returns the decorator: @custom_gradient() works "
    "as @custom_gradient",
    expect=returns([6.0, 5.0]),
    features=["custom_gradient"],
    oracle_exempt="the gradient 5.0 is the one grad_fn returns, by definition",
)
def _(fw):
    @fw.custom_gradient()
    def double(x):
        return x * 2.0, lambda dy: dy * 5.0

    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = double(x)
    return [y, tape.gradient(y, x)]


@scenario(
    "custom_gradient.variable_watched_after_the_call_is_unconnected",
    spec="C11",
    statement="a variable read by the decorated function enters the op as a fresh read: watched "
    "only after the call (watch_accessed_variables=False), it gets None; watched before, grad's "
    "variable gradient",
    expect=returns([None, 3.5]),
    features=["custom_gradient", "variables", "watch_accessed_variables"],
    oracle_exempt="the 3.5 is the variable gradient grad returns, by definition",
)
def _(fw):
    x = fw.constant([1.5, 2.0])
    v = fw.Variable(1.5)

    @fw.custom_gradient
    def scale(a):
        def grad(upstream, variables=None):
            return upstream * 3.0, [fw.reduce_sum(upstream * a) for _ in variables]

        return a * v, grad

    results = []
    for watch_before in (False, True):
        with fw.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            if watch_before:
                tape.watch(v)
            y = scale(x)
            if not watch_before:
                tape.watch(v)
        results.append(tape.gradient(y, v))
    return results

