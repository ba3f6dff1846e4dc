"""Section A of the spec: which tensors a tape watches and which ops it records (W01-W23).

Skipped spec entries (the neutral API cannot express them):

- W23 ``watch-composite``: SparseTensor and RaggedTensor are not part of the neutral API.

W01, W02, W04 (plain variable) and W08 are pinned by the tutorial module.
"""

from __future__ import annotations

import threading

import numpy as np

from conformance.expect import raises, returns
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_square = Oracle(lambda fw, x: x * x, at=(3.0,))


@scenario(
    "watching.variable_created_inside_tape",
    spec="W04",
    statement="a trainable variable created inside the tape is watched like one created before it",
    expect=returns([6.0, 4.0]),
    features=["variables"],
    oracle=Oracle(
        lambda fw, v, w: v * v + w * w, at=(3.0, 2.0), pick=lambda d: [d.first[0][0], d.first[0][1]]
    ),
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        w = fw.Variable(2.0)
        y = v * v + w * w
    return tape.gradient(y, [v, w])


@scenario(
    "watching.non_trainable_variable_not_watched",
    spec="W05",
    statement="a variable with trainable=False is not watched automatically: its gradient is None",
    expect=returns(None),
    features=["variables"],
)
def _(fw):
    v = fw.Variable(3.0, trainable=False)
    with fw.GradientTape() as tape:
        y = v * v
    return tape.gradient(y, v)


@scenario(
    "watching.non_trainable_variable_explicit_watch",
    spec="W05",
    statement="watch() makes a non-trainable variable recordable, for ops after the watch only",
    expect=returns([None, 6.0]),
    features=["variables"],
    oracle=_square,
)
def _(fw):
    v = fw.Variable(3.0, trainable=False)
    with fw.GradientTape(persistent=True) as tape:
        y = v * v
        tape.watch(v)
        z = v * v
    return [tape.gradient(y, v), tape.gradient(z, v)]


@scenario(
    "watching.auto_watch_off_explicit_watch",
    spec="W06",
    statement="with watch_accessed_variables=False only explicitly watched variables get gradients",
    expect=returns([4.0, None]),
    features=["variables", "watch_accessed_variables"],
    oracle=Oracle(lambda fw, x: x**2, at=(2.0,)),
)
def _(fw):
    x = fw.Variable(2.0)
    w = fw.Variable(5.0)
    with fw.GradientTape(watch_accessed_variables=False, persistent=True) as tape:
        tape.watch(x)
        y = x**2
        z = w**3
    return [tape.gradient(y, x), tape.gradient(z, w)]


@scenario(
    "watching.auto_watch_off_variable_created_inside",
    spec="W06",
    statement="with watch_accessed_variables=False a variable created and read inside is unwatched",
    expect=returns(None),
    features=["variables", "watch_accessed_variables"],
)
def _(fw):
    with fw.GradientTape(watch_accessed_variables=False) as tape:
        v = fw.Variable(3.0)
        y = v * v
    return tape.gradient(y, v)


@scenario(
    "watching.read_before_tape",
    spec="W07",
    statement="a variable value read before the tape is a constant for it: the gradient is None",
    expect=returns(None),
    features=["variables"],
)
def _(fw):
    v = fw.Variable(3.0)
    r = v.read_value()
    with fw.GradientTape() as tape:
        y = r * r
    return tape.gradient(y, v)


@scenario(
    "watching.op_after_exit",
    spec="W09",
    statement="ops run after the tape exits are not recorded: their result contributes nothing",
    expect=returns(None),
    features=["variables"],
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        a = v * 1.0
    y = a * a
    return tape.gradient(y, v)


@scenario(
    "watching.watched_tensor_used_after_exit",
    spec="W09",
    statement="a watched tensor used only after the tape exits gets no gradient",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
    y = x * x
    return tape.gradient(y, x)


@scenario(
    "watching.numpy_breaks_chain",
    spec="W10",
    statement=".numpy() leaves the tape: a factor rebuilt from it is a constant",
    expect=returns(3.0),
    features=["variables"],
    # the tape differentiates c * v with c = 3.0 frozen by .numpy()
    oracle=Oracle(lambda fw, v: v * 3.0, at=(3.0,)),
)
def _(fw):
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = fw.constant(v.numpy()) * v
    return tape.gradient(y, v)


@scenario(
    "watching.watch_nested_structure",
    spec="W11",
    statement="watch() flattens nested lists, dicts, tuples; empty and repeated watches are fine",
    expect=returns([6.0, 3.0, 2.0]),
    oracle=Oracle(
        lambda fw, x, y, z: x * y * z,
        at=(1.0, 2.0, 3.0),
        pick=lambda d: [d.first[0][0], d.first[0][1], d.first[0][2]],
    ),
)
def _(fw):
    x, y, z = fw.constant(1.0), fw.constant(2.0), fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch([x, {"a": y, "b": (z,)}])
        tape.watch(x)
        tape.watch([])
        out = x * y * z
    return tape.gradient(out, [x, y, z])


@scenario(
    "watching.watch_twice_counts_once",
    spec="W11",
    statement="watching the same tensor twice does not double its gradient",
    expect=returns(6.0),
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "watching.watch_applies_to_later_ops_only",
    spec="W02, W05",
    statement="ops run before watch() are not recorded; ops after it are",
    expect=returns([None, 27.0]),
    oracle=Oracle(lambda fw, x: x * x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        y = x * x
        tape.watch(x)
        z = x * x * x
    return [tape.gradient(y, x), tape.gradient(z, x)]


@scenario(
    "watching.watch_intermediate_from_before_tape",
    spec="W08, W02",
    statement="watching a value computed before the tape stops there, not at its inputs",
    expect=returns([None, 10.0]),
    features=["variables"],
    oracle=Oracle(lambda fw, x2: x2 * x2, at=(5.0,)),
)
def _(fw):
    x1 = fw.Variable(3.0)
    x2 = x1 + 2
    with fw.GradientTape() as tape:
        tape.watch(x2)
        y = x2 * x2
    return tape.gradient(y, [x1, x2])


@scenario(
    "watching.watch_numpy_array",
    spec="W12",
    statement="watching a NumPy array raises: only tensors and variables can be watched",
    expect=raises(ErrorKind.INVALID_WATCH, "ValueError"),
)
def _(fw):
    with fw.GradientTape() as tape:
        tape.watch(np.array(1.0))


@scenario(
    "watching.watch_python_float",
    spec="W12",
    statement="watching a Python float raises: only tensors and variables can be watched",
    expect=raises(ErrorKind.INVALID_WATCH, "ValueError"),
)
def _(fw):
    with fw.GradientTape() as tape:
        tape.watch(3.0)


@scenario(
    "watching.watch_none",
    spec="W12",
    statement="watching None raises: only tensors and variables can be watched",
    expect=raises(ErrorKind.INVALID_WATCH, "ValueError"),
)
def _(fw):
    with fw.GradientTape() as tape:
        tape.watch(None)


@scenario(
    "watching.watch_before_enter",
    spec="W13",
    statement="watch() on a never-entered tape fails inside TF (AttributeError): kind only",
    expect=raises(ErrorKind.INTERNAL),
)
def _(fw):
    x = fw.constant(3.0)
    tape = fw.GradientTape()
    tape.watch(x)


@scenario(
    "watching.watch_with_no_tape_active_is_noop",
    spec="W14",
    statement="watch() while no tape is recording on the thread is silently ignored",
    expect=returns([None, 1.0]),
    oracle_exempt="dx/dx is the identity by definition; the other leaf is None",
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape(persistent=True) as tape:
        pass
    tape.watch(x)
    with tape:
        z = x * x
    return [tape.gradient(z, x), tape.gradient(x, x)]


@scenario(
    "watching.watch_in_own_stop_recording_is_noop",
    spec="W14",
    statement="watch() inside the only tape's stop_recording() block is silently ignored",
    expect=returns(None),
    features=["stop_recording"],
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        with tape.stop_recording():
            tape.watch(x)
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "watching.watch_while_other_tape_active",
    spec="W15",
    statement="watch() in a paused tape's stop_recording() works while another tape records",
    expect=returns(6.0),
    features=["stop_recording"],
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape():
        with fw.GradientTape() as inner:
            with inner.stop_recording():
                inner.watch(x)
            y = x * x
    return inner.gradient(y, x)


@scenario(
    "watching.watch_after_exit_while_other_tape_active",
    spec="W15",
    statement="watch() on an exited tape works when another tape is recording; re-entering uses it",
    expect=returns(6.0),
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape():
        with fw.GradientTape() as inner:
            pass
        inner.watch(x)
        with inner:
            y = x * x
    return inner.gradient(y, x)


@scenario(
    "watching.watch_int_tensor",
    spec="W16",
    statement="watching an int tensor warns and records nothing: the gradient is None",
    expect=returns(None, warns=["The dtype of the watched tensor must be floating"]),
)
def _(fw):
    x = fw.constant(3, dtype=fw.int32)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "watching.watch_bool_tensor",
    spec="W18",
    statement="a watched bool tensor is not recorded, even through a cast to float: None",
    expect=returns(None),
)
def _(fw):
    b = fw.constant(True)
    with fw.GradientTape() as tape:
        tape.watch(b)
        y = fw.cast(b, fw.float32) * 2.0
    return tape.gradient(y, b)


@scenario(
    "watching.watch_string_tensor",
    spec="W18",
    statement="a watched string tensor has no gradient, even with respect to itself: None",
    expect=returns(None),
    features=["strings"],
)
def _(fw):
    s = fw.constant("abc")
    with fw.GradientTape() as tape:
        tape.watch(s)
    return tape.gradient(s, s)


@scenario(
    "watching.int_source_through_cast",
    spec="W19",
    statement="a watched int tensor cast to float is not recorded: the gradient is None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3, dtype=fw.int32)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(x, fw.float32) * 2.0
    return tape.gradient(y, x)


@scenario(
    "watching.cast_to_int_cuts_path",
    spec="W20",
    statement="a cast to an integer type cuts the path: only the direct factor is differentiated",
    expect=returns(3.0),
    # floor(x) equals the int cast for x > 0, and is piecewise constant like it
    oracle=Oracle(lambda fw, x: fw.floor(x) * x, at=(3.7,)),
)
def _(fw):
    x = fw.constant(3.7)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(fw.cast(x, fw.int32), fw.float32) * x
    return tape.gradient(y, x)


@scenario(
    "watching.int_cast_target",
    spec="W20",
    statement="an int tensor cast from a watched float has no gradient: None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3.7)
    with fw.GradientTape() as tape:
        tape.watch(x)
        n = fw.cast(x, fw.int32)
    return tape.gradient(n, x)


@scenario(
    "watching.tape_is_thread_local",
    spec="W22",
    statement="ops run on another thread are not recorded by this thread's tape",
    expect=returns([None, 6.0]),
    features=["threads"],
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    results = {}
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        worker = threading.Thread(target=lambda: results.update(y=x * x))
        worker.start()
        worker.join()
        z = x * x
    return [tape.gradient(results["y"], x), tape.gradient(z, x)]


@scenario(
    "watching.int_watch_warning_rate_limited",
    spec="W17",
    statement="watching an int tensor seven times at one call site logs the dtype WARNING five "
    "times, no more",
    expect=returns(None, warns={"The dtype of the watched tensor must be floating": 5}),
)
def _(fw):
    with fw.GradientTape() as tape:
        for _ in range(7):
            tape.watch(fw.constant(1))
    return None


@scenario(
    "watching.watch_after_exit_warns_per_int",
    spec="W14, W16",
    statement="watching two int tensors after the tape exited is a no-op that still logs the "
    "dtype WARNING once per tensor",
    expect=returns(None, warns={"The dtype of the watched tensor must be floating": 2}),
)
def _(fw):
    with fw.GradientTape() as tape:
        pass
    tape.watch([fw.constant(1), fw.constant(2)])
    return None


@scenario(
    "watching.sparse_gradient_components_are_watched",
    spec="W23, W16",
    statement="watch([g, w]) of a gather's sparse gradient g watches g's components (the dtype "
    "WARNING for its int indices and shape) and still watches w after it: 8 at w = 2",
    expect=returns(8.0, warns={"The dtype of the watched tensor must be floating": 2}),
    oracle=Oracle(lambda fw, w: 2.0 * w * w, at=(2.0,)),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as inner:
        inner.watch(x)
        y = fw.reduce_sum(fw.gather(x, [0, 2]))
    g = inner.gradient(y, x)  # an IndexedSlices in TensorFlow: ones at 0 and 2
    w = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch([g, w])
        z = fw.reduce_sum(fw.multiply(g, w) * w)
    return tape.gradient(z, w)
