"""The tutorial this project grew from (shared/spec/seed_tutorial.md), one scenario per cell."""

from __future__ import annotations

from conformance.expect import raises, returns
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_square = Oracle(lambda fw, x: x * x, at=(3.0,))


@scenario(
    "tutorial.unwatched_constant",
    spec="W01",
    statement="ops on an unwatched constant are not recorded: the gradient is None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "tutorial.watched_constant",
    spec="W02",
    statement="watch() makes a constant's consumers recordable",
    expect=returns(6.0),
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "tutorial.variable",
    spec="W04",
    statement="a trainable variable read inside the tape is watched automatically",
    expect=returns(6.0),
    features=["variables"],
    oracle=_square,
)
def _(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "tutorial.op_outside_tape",
    spec="W08",
    statement="an op run before the tape is a constant for it: no gradient reaches the variable",
    expect=returns(None),
    features=["variables"],
)
def _(fw):
    x1 = fw.Variable(3.0)
    x2 = x1 + 2
    with fw.GradientTape() as tape:
        y = x2 * x2
    return tape.gradient(y, x1)


@scenario(
    "tutorial.non_persistent_second_gradient",
    spec="L01",
    statement="a non-persistent tape computes one set of gradients; the second call raises",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["variables"],
)
def _(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    return tape.gradient(y, x)


@scenario(
    "tutorial.persistent",
    spec="L02",
    statement="a persistent tape answers any number of gradient calls",
    expect=returns([6.0, 6.0]),
    features=["variables"],
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,), pick=lambda d: [d.first[0][0]] * 2),
)
def _(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape(persistent=True) as tape:
        y = x * x
    return [tape.gradient(y, x), tape.gradient(y, x)]


@scenario(
    "tutorial.two_tapes_gan",
    spec="L (multiple tapes), seed tutorial",
    statement="two tapes record one shared forward pass independently (the GAN step)",
    expect=returns([-12.0, 324.0]),
    features=["variables"],
    oracle=Oracle(
        lambda fw, g, d: (-(d * g * g), (d * g * g) ** 2),
        at=(3.0, 2.0),
        pick=lambda d: [d.first[0][0], d.first[1][1]],
    ),
)
def _(fw):
    g = fw.Variable(3.0)
    d = fw.Variable(2.0)
    with fw.GradientTape() as gen_tape, fw.GradientTape() as disc_tape:
        fake = g * g
        out = d * fake
        gen_loss = -out
        disc_loss = out * out
    return [gen_tape.gradient(gen_loss, g), disc_tape.gradient(disc_loss, d)]


@scenario(
    "tutorial.second_derivative",
    spec="N01",
    statement="nested tapes give the second derivative of x*x",
    expect=returns([6.0, 2.0]),
    features=["variables"],
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,), pick=lambda d: [d.first[0][0], d.second[0][0]]),
)
def _(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape() as outer:
        with fw.GradientTape() as inner:
            y = x * x
        dx = inner.gradient(y, x)
    return [dx, outer.gradient(dx, x)]
