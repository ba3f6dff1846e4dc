"""Section C of the spec: persistence, one-shot tapes, re-entry and what consumes a tape (L01-L12).

Skipped spec entries: none. L01's same-target case and L02's plain double call are pinned by the
tutorial module; ``tf.autodiff.GradientTape`` (L02) is outside the neutral API. L07, L08 and L10
do not exist in the spec.
"""

from __future__ import annotations

from conformance.expect import raises, returns
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_square = Oracle(lambda fw, x: x * x, at=(3.0,))
_cube = Oracle(lambda fw, x: x * x * x, at=(3.0,))


@scenario(
    "lifecycle.non_persistent_second_target",
    spec="L01",
    statement="a consumed non-persistent tape refuses a second gradient even for another target",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    tape.gradient(z, x)
    return tape.gradient(y, x)


@scenario(
    "lifecycle.gradient_then_jacobian",
    spec="L01",
    statement="jacobian() after gradient() on a non-persistent tape raises: one set per tape",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        total = fw.reduce_sum(y)
    tape.gradient(total, x)
    return tape.jacobian(y, x)


@scenario(
    "lifecycle.jacobian_then_gradient",
    spec="L01",
    statement="gradient() after jacobian() on a non-persistent tape raises: one set per tape",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        total = fw.reduce_sum(y)
    tape.jacobian(y, x)
    return tape.gradient(total, x)


@scenario(
    "lifecycle.persistent_returns_new_tensors",
    spec="L02",
    statement="a persistent tape answers several targets; each call returns a new tensor object",
    expect=returns([108.0, 6.0, False]),
    oracle=Oracle(
        lambda fw, x: ((x * x) * (x * x), x * x),
        at=(3.0,),
        pick=lambda d: [d.first[0][0], d.first[1][0]],
    ),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    g1 = tape.gradient(z, x)
    g2 = tape.gradient(y, x)
    return [g1, g2, tape.gradient(z, x) is g1]


@scenario(
    "lifecycle.never_entered_gradient",
    spec="L03",
    statement="gradient() on a never-entered tape raises the one-shot error, even when persistent",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
)
def _(fw):
    x = fw.constant(3.0)
    tape = fw.GradientTape(persistent=True)
    return tape.gradient(x * x, x)


@scenario(
    "lifecycle.never_entered_jacobian",
    spec="L03",
    statement="jacobian() on a never-entered tape raises the one-shot error, even when persistent",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    tape = fw.GradientTape(persistent=True)
    return tape.jacobian(x * x, x)


@scenario(
    "lifecycle.gradient_inside_non_persistent_context",
    spec="L04",
    statement="gradient() inside a non-persistent tape's block works and the block exits cleanly",
    expect=returns(6.0),
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        g = tape.gradient(y, x)
        g * x
    return g


@scenario(
    "lifecycle.second_gradient_inside_non_persistent_context",
    spec="L04, L01",
    statement="a second gradient() inside a non-persistent tape's block raises the one-shot error",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.gradient(y, x)
        return tape.gradient(y, x)


@scenario(
    "lifecycle.gradient_inside_persistent_context",
    spec="L05",
    statement="gradient() inside a persistent tape's block is recorded: higher orders follow",
    expect=returns([27.0, 18.0, 6.0]),
    # the second output is d(x^3)/dx written out, so its first and second derivatives are the
    # second and third derivatives of x^3
    oracle=Oracle(
        lambda fw, x: (x * x * x, 3.0 * x * x),
        at=(3.0,),
        pick=lambda d: [d.first[0][0], d.first[1][0], d.second[1][0]],
    ),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x**3
        dy = tape.gradient(y, x)
        d2y = tape.gradient(dy, x)
    return [dy, d2y, tape.gradient(d2y, x)]


@scenario(
    "lifecycle.gradient_inside_persistent_context_warns",
    spec="L05",
    statement="gradient() inside a persistent tape's block warns that it is less efficient",
    # TF logs this once per call site and process (log_first_n): this line must run first
    expect=returns(27.0, warns=["less efficient than calling it outside the context"]),
    oracle=_cube,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x**3
        return tape.gradient(y, x)


@scenario(
    "lifecycle.reenter_active_tape",
    spec="L06",
    statement="entering a tape that is already recording raises",
    expect=raises(ErrorKind.ALREADY_RECORDING, "ValueError"),
)
def _(fw):
    with fw.GradientTape() as tape:
        with tape:
            pass


@scenario(
    "lifecycle.reenter_after_consumed_starts_new_tape",
    spec="L09",
    statement="re-entering a consumed non-persistent tape silently starts a new, empty tape",
    expect=returns([6.0, None]),
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    tape = fw.GradientTape()
    with tape:
        tape.watch(x)
        y = x * x
    g1 = tape.gradient(y, x)
    with tape:
        z = x * x * x
    return [g1, tape.gradient(z, x)]


@scenario(
    "lifecycle.reenter_after_consumed_watch_again",
    spec="L09",
    statement="a consumed non-persistent tape re-entered and re-watched computes new gradients",
    expect=returns([6.0, 27.0]),
    oracle=Oracle(
        lambda fw, x: (x * x, x * x * x), at=(3.0,), pick=lambda d: [d.first[0][0], d.first[1][0]]
    ),
)
def _(fw):
    x = fw.constant(3.0)
    tape = fw.GradientTape()
    with tape:
        tape.watch(x)
        y = x * x
    g1 = tape.gradient(y, x)
    with tape:
        tape.watch(x)
        z = x * x * x
    return [g1, tape.gradient(z, x)]


@scenario(
    "lifecycle.reenter_persistent_continues",
    spec="L09, V10",
    statement="re-entering a persistent tape records on the same tape: paths span both blocks",
    expect=returns(27.0),
    oracle=_cube,
)
def _(fw):
    x = fw.constant(3.0)
    tape = fw.GradientTape(persistent=True)
    with tape:
        tape.watch(x)
        y = x * x
    with tape:
        z = y * x
    return tape.gradient(z, x)


@scenario(
    "lifecycle.reenter_unconsumed_non_persistent_continues",
    spec="L09",
    statement="re-entering an unconsumed non-persistent tape records on the same tape",
    expect=returns(27.0),
    oracle=_cube,
)
def _(fw):
    x = fw.constant(3.0)
    tape = fw.GradientTape()
    with tape:
        tape.watch(x)
        y = x * x
    with tape:
        z = y * x
    return tape.gradient(z, x)


@scenario(
    "lifecycle.rejected_sources_do_not_consume",
    spec="L11, SRC04",
    statement="a gradient() call rejected for bad sources leaves a non-persistent tape usable",
    expect=returns([True, 6.0]),
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    rejected = False
    try:
        tape.gradient(y, None)
    except Exception:
        rejected = True
    return [rejected, tape.gradient(y, x)]


@scenario(
    "lifecycle.rejected_unconnected_value_does_not_consume",
    spec="L11, U04",
    statement="a gradient() call rejected for a bad unconnected_gradients leaves the tape usable",
    expect=returns([True, 6.0]),
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    rejected = False
    try:
        tape.gradient(y, x, unconnected_gradients="bogus")
    except Exception:
        rejected = True
    return [rejected, tape.gradient(y, x)]


@scenario(
    "lifecycle.empty_sources_consume",
    spec="L11",
    statement="a successful gradient() with no sources still consumes a non-persistent tape",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, {})
    return tape.gradient(y, x)


@scenario(
    "lifecycle.bound_gradient_outlives_name",
    spec="L12",
    statement="deleting the tape's name does not release it: a bound gradient method still works",
    expect=returns(6.0),
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    gradient = tape.gradient
    del tape
    return gradient(y, x)


@scenario(
    "lifecycle.in_context_warning_once_per_call_site",
    spec="L05",
    statement="the in-context WARNING of a persistent tape is logged once per call site: three "
    "calls in a loop and one more elsewhere log it twice",
    expect=returns(4.0, warns={"less efficient than calling it outside the context": 2}),
    oracle=Oracle(lambda fw, x: x * x, at=(2.0,)),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        for _ in range(3):
            tape.gradient(y, x)
        last = tape.gradient(y, x)
    return last


@scenario(
    "lifecycle.consumed_wins_over_bad_target",
    spec="L01, T06",
    statement="a consumed tape asked for the gradient of None reports the consumed tape, not the "
    "bad target: the tape is checked first",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    return tape.gradient(None, x)


@scenario(
    "lifecycle.truthy_non_bool_persistent",
    spec="L02",
    statement="persistent=1 (truthy, not True) is not a persistent tape: the second gradient fails "
    "inside TensorFlow (an InternalError; loose: only the message start is pinned)",
    expect=raises(ErrorKind.UNKNOWN, match="^Internal state of the gradient tape is invalid"),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape(persistent=1) as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    return tape.gradient(y, x)


@scenario(
    "lifecycle.truthy_non_bool_persistent_inside",
    spec="L02, L04",
    statement="persistent=1 inside its block: gradient() refuses to run while recording "
    "(a RuntimeError; loose: only the message start is pinned)",
    expect=raises(ErrorKind.UNKNOWN, "RuntimeError", "^gradient\\(\\) cannot be invoked"),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape(persistent=1) as tape:
        tape.watch(x)
        y = x * x
        return tape.gradient(y, x)
