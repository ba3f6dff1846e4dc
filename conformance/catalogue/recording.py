"""Section D of the spec: pausing a tape with ``stop_recording()`` and clearing it with ``reset()``.

Covers S01-S07 and R01-R02. Skipped spec entries: none; S07's "no WARNING" half is not pinned,
because an expectation can require a warning but not its absence. S05, R03 and later do not exist
in the spec.
"""

from __future__ import annotations

from conformance.expect import raises, returns
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_square = Oracle(lambda fw, x: x * x, at=(3.0,))


@scenario(
    "recording.stop_recording_block",
    spec="S01",
    statement="ops inside stop_recording() are not recorded: the gradient is None",
    expect=returns(None),
    features=["stop_recording"],
)
def _(fw):
    x = fw.constant(4.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        with tape.stop_recording():
            y = x**2
    return tape.gradient(y, x)


@scenario(
    "recording.stop_recording_resumes",
    spec="S02",
    statement="recording resumes after the stop_recording() block ends",
    expect=returns([None, 4.0, 8.0]),
    features=["stop_recording", "variables"],
    oracle=Oracle(
        lambda fw, x2, x: (x2 * x2, (x * 2.0) * (x * 2.0)),
        at=(2.0, 1.0),
        pick=lambda d: [d.first[0][0], d.first[1][1]],
    ),
)
def _(fw):
    with fw.GradientTape(persistent=True) as tape:
        x = fw.Variable(1.0)
        x2 = x * 2
        with tape.stop_recording():
            y = x2 * x2
        z = x2 * x2
    return [tape.gradient(y, x2), tape.gradient(z, x2), tape.gradient(z, x)]


@scenario(
    "recording.stop_recording_other_tape_still_records",
    spec="S01, N03",
    statement="stop_recording() pauses only its own tape: an enclosing tape still records",
    expect=returns([None, 6.0]),
    features=["stop_recording"],
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with fw.GradientTape(persistent=True) as inner:
            inner.watch(x)
            with inner.stop_recording():
                y = x * x
    return [inner.gradient(y, x), outer.gradient(y, x)]


@scenario(
    "recording.stop_recording_never_entered",
    spec="S03",
    statement="stop_recording() on a never-entered tape raises",
    expect=raises(ErrorKind.NOT_RECORDING, "RuntimeError"),
    features=["stop_recording"],
)
def _(fw):
    tape = fw.GradientTape()
    with tape.stop_recording():
        pass


@scenario(
    "recording.stop_recording_after_consumed",
    spec="S03",
    statement="stop_recording() after a non-persistent tape was consumed raises",
    expect=raises(ErrorKind.NOT_RECORDING, "RuntimeError"),
    features=["stop_recording"],
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with tape.stop_recording():
        pass


@scenario(
    "recording.stop_recording_after_exit",
    spec="S04",
    statement="stop_recording() after the block exited raises (in TF, another type than S03)",
    expect=raises(ErrorKind.NOT_RECORDING, "ValueError"),
    features=["stop_recording"],
)
def _(fw):
    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
    with tape.stop_recording():
        pass


@scenario(
    "recording.stop_recording_nested",
    spec="S04",
    statement="stop_recording() nested inside stop_recording() of the same tape raises",
    expect=raises(ErrorKind.NOT_RECORDING, "ValueError"),
    features=["stop_recording"],
)
def _(fw):
    with fw.GradientTape() as tape:
        with tape.stop_recording():
            with tape.stop_recording():
                pass


@scenario(
    "recording.gradient_in_stop_recording_non_persistent",
    spec="S06",
    statement="gradient() in stop_recording() consumes a one-shot tape; a fresh one records on",
    expect=returns([6.0, None]),
    features=["stop_recording"],
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        with tape.stop_recording():
            g = tape.gradient(y, x)
        z = x * x * x
    return [g, tape.gradient(z, x)]


@scenario(
    "recording.gradient_in_stop_recording_persistent",
    spec="S07",
    statement="gradient() in a persistent tape's stop_recording() is not recorded: no higher order",
    expect=returns([6.0, None]),
    features=["stop_recording"],
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        with tape.stop_recording():
            g = tape.gradient(y, x)
    return [g, tape.gradient(g, x)]


@scenario(
    "recording.reset_discards_and_keeps_recording",
    spec="R01",
    statement="reset() discards ops and watches so far; later ops are recorded again",
    expect=returns([2.0, None]),
    features=["reset", "variables"],
    oracle=Oracle(lambda fw, v: v * v, at=(1.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        v = fw.Variable(1.0)
        tape.watch(x)
        loss = v * v + x
        tape.reset()
        loss += v * v + x * x
    return [tape.gradient(loss, v), tape.gradient(loss, x)]


@scenario(
    "recording.reset_then_watch_again",
    spec="R01",
    statement="a tensor watched again after reset() gets gradients from the ops after the reset",
    expect=returns(27.0),
    features=["reset"],
    oracle=Oracle(lambda fw, x: x * x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        x * x
        tape.reset()
        tape.watch(x)
        z = x * x * x
    return tape.gradient(z, x)


@scenario(
    "recording.reset_disconnects_earlier_targets",
    spec="R01",
    statement="a target computed before reset() is no longer connected: its gradient is None",
    expect=returns(None),
    features=["reset"],
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        tape.watch(x)
    return tape.gradient(y, x)


@scenario(
    "recording.reset_after_exit",
    spec="R02",
    statement="reset() after the tape's block exited raises",
    expect=raises(ErrorKind.NOT_RECORDING, "ValueError"),
    features=["reset"],
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        x * x
    tape.reset()


@scenario(
    "recording.reset_never_entered",
    spec="R02",
    statement="reset() on a never-entered tape raises",
    expect=raises(ErrorKind.NOT_RECORDING, "ValueError"),
    features=["reset"],
)
def _(fw):
    tape = fw.GradientTape()
    tape.reset()


@scenario(
    "recording.reset_after_in_context_gradient",
    spec="R02, L04",
    statement="reset() after an in-context gradient() on a non-persistent tape raises: it stopped",
    expect=raises(ErrorKind.NOT_RECORDING, "ValueError"),
    features=["reset"],
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.gradient(y, x)
        tape.reset()
