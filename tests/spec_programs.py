"""The TF catalogue's example programs (sections A–N; ids as in docs/spec.md), functions of ``tf``.

Each program runs one entry of the spec (or one variant of it) against whatever module is passed
as ``tf`` and *returns* what the spec's snippet prints, or lets the exception propagate. Running
the same program with ``tensorflow`` and with ``reference_impl`` and comparing the two outcomes is
the differential test (``test_differential_tf.py``): TensorFlow grades the reference.

Rules the programs follow:
- every program creates its own tensors (nothing at module level), so programs are independent;
- variables are never returned: ``watched_variables()`` is reported as the program's own names for
  them (``_names``), so the comparison is about identity, not about two libraries' objects;
- a call that TF's ``log_first_n`` rate-limits is written in the program body, because the limit
  is keyed by the caller's file:line; each program runs at most once per process and library;
- an exception a spec snippet catches on purpose is recorded with ``_attempt`` and returned, so
  it is compared like any other result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["COMPARE_MODES", "LEFT_OUT", "PROGRAMS", "Program"]

#: How strictly two outcomes of a program must agree.
#: ``full``: values (None, structure, dtype, shape), exception type and message, warnings;
#: ``type``: both raise and the exception type names agree; ``raises``: both raise, any type.
COMPARE_MODES = ("full", "type", "raises")


@dataclass(frozen=True)
class Program:
    """One runnable spec program: the spec entry it belongs to and how its outcome is compared."""

    entry: str
    fn: Callable[[Any], Any]
    compare: str = "full"
    why: str = ""

    def __post_init__(self) -> None:
        if self.compare not in COMPARE_MODES:
            raise ValueError(
                f"Program {self.fn.__name__}: compare={self.compare!r}, "
                f"but should be one of {COMPARE_MODES}"
            )
        if self.compare != "full" and not self.why:
            raise ValueError(
                f"Program {self.fn.__name__}: compare={self.compare!r} needs a one-line `why`"
            )


#: Program name (the function's name) -> Program, in spec order.
PROGRAMS: dict[str, Program] = {}


def program(entry: str, compare: str = "full", why: str = "") -> Callable:
    """Register the decorated function as a program of spec entry ``entry``."""

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if fn.__name__ in PROGRAMS:
            raise ValueError(f"Program {fn.__name__} is registered twice")
        PROGRAMS[fn.__name__] = Program(entry=entry, fn=fn, compare=compare, why=why)
        return fn

    return register


def _names(watched: Any, **candidates: Any) -> tuple[str, ...]:
    """Name each watched variable by identity among the program's own variables, in order."""
    return tuple(
        next((name for name, var in candidates.items() if var is item), "<unknown variable>")
        for item in watched
    )


def _attempt(thunk: Callable[[], Any]) -> Any:
    """Run ``thunk``; return its value, or ``("raised", type name, message)`` if it raised.

    Only for snippets that catch an exception on purpose and go on (L11, U04): the recorded
    exception is compared like a value, so it cannot turn into a silent pass.
    """
    try:
        return thunk()
    except Exception as error:  # noqa: BLE001 - recorded and compared, not swallowed
        return ("raised", type(error).__name__, str(error))


_T08_WHY = "TF fails inside itself (AttributeError: no 'dtype'/'_id'); the message is an accident"
_NO_SHAPE_WHY = (
    "TF fails inside itself (AttributeError: 'list' has no 'shape'); the message is an accident"
)


# ---- A. Watching and recording ----


@program("W01")
def w01(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        y = x * x
    return t.gradient(y, x)


@program("W02")
def w02(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    return t.gradient(y, x)


@program("W04")
def w04(tf):
    v = tf.Variable(3.0)
    with tf.GradientTape() as t:
        w = tf.Variable(2.0)
        y = v * v + w * w
    return t.gradient(y, [v, w]), _names(t.watched_variables(), v=v, w=w)


@program("W05")
def w05(tf):
    v = tf.Variable(3.0, trainable=False)
    with tf.GradientTape(persistent=True) as t:
        y = v * v
        t.watch(v)
        z = v * v
    return t.gradient(y, v), t.gradient(z, v), _names(t.watched_variables(), v=v)


@program("W05")
def w05_never_watched(tf):
    v = tf.Variable(3.0, trainable=False)
    with tf.GradientTape() as t:
        y = v * v
    return t.gradient(y, v), _names(t.watched_variables(), v=v)


@program("W06")
def w06(tf):
    x = tf.Variable(2.0)
    w = tf.Variable(5.0)
    with tf.GradientTape(watch_accessed_variables=False, persistent=True) as t:
        t.watch(x)
        y = x**2
        z = w**3
    return t.gradient(y, x), t.gradient(z, w), _names(t.watched_variables(), x=x, w=w)


@program("W06")
def w06_created_inside(tf):
    with tf.GradientTape(watch_accessed_variables=False) as t:
        v = tf.Variable(2.0)
        y = v * v
    return t.gradient(y, v), _names(t.watched_variables(), v=v)


@program("W07")
def w07(tf):
    v = tf.Variable(3.0)
    r = v.read_value()
    with tf.GradientTape() as t:
        y = r * r
    return t.gradient(y, v)


@program("W08")
def w08(tf):
    v = tf.Variable(3.0)
    y = v * v
    with tf.GradientTape() as t:
        z = y * 2.0
    return t.gradient(z, v)


@program("W09")
def w09(tf):
    v = tf.Variable(3.0)
    with tf.GradientTape() as t:
        a = v * 1.0
    y = a * a
    return t.gradient(y, v)


@program("W10")
def w10(tf):
    v = tf.Variable(3.0)
    with tf.GradientTape() as t:
        y = tf.constant(v.numpy()) * v
    return t.gradient(y, v)


@program("W11")
def w11(tf):
    x, y, z = tf.constant(1.0), tf.constant(2.0), tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch([x, {"a": y, "b": (z,)}])
        t.watch(x)
        t.watch([])
        out = x * y * z
    return t.gradient(out, [x, y, z])


@program("W12")
def w12_ndarray(tf):
    with tf.GradientTape() as t:
        t.watch(np.array(1.0))


@program("W12")
def w12_float(tf):
    with tf.GradientTape() as t:
        t.watch(3.0)


@program("W12")
def w12_none(tf):
    with tf.GradientTape() as t:
        t.watch(None)


@program(
    "W13",
    compare="type",
    why="TF crashes inside itself (AttributeError: 'NoneType' has no '_tape'); type pinned only",
)
def w13(tf):
    x = tf.constant(3.0)
    t = tf.GradientTape()
    t.watch(x)


@program("W14")
def w14(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        pass
    t.watch(x)
    with t:
        z = x * x
    return t.gradient(z, x), t.gradient(x, x)


@program("W14")
def w14_in_own_stop_recording(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        with t.stop_recording():
            t.watch(x)
        z = x * x
    return t.gradient(z, x)


@program("W15")
def w15(tf):
    x = tf.constant(3.0)
    with tf.GradientTape():
        with tf.GradientTape() as inner:
            with inner.stop_recording():
                inner.watch(x)
            y = x * x
    return inner.gradient(y, x)


@program("W15")
def w15_after_exit(tf):
    x = tf.constant(3.0)
    with tf.GradientTape():
        with tf.GradientTape() as inner:
            pass
        inner.watch(x)
        with inner:
            y = x * x
    return inner.gradient(y, x)


@program("W16")
def w16(tf):
    x = tf.constant(3)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    return t.gradient(y, x)


@program("W17")
def w17(tf):
    with tf.GradientTape() as t:
        for i in range(7):
            t.watch(tf.constant(i))


@program("W18")
def w18(tf):
    s = tf.constant("abc")
    b = tf.constant(True)
    with tf.GradientTape(persistent=True) as t:
        t.watch([s, b])
        y = tf.cast(b, tf.float32) * 2.0
    return t.gradient(s, s), t.gradient(y, b)


@program("W19")
def w19(tf):
    x = tf.constant(3)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.cast(x, tf.float32) * 2.0
    return t.gradient(y, x)


@program("W20")
def w20(tf):
    x = tf.constant(3.7)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = tf.cast(tf.cast(x, tf.int32), tf.float32) * x
    return t.gradient(y, x), t.gradient(tf.cast(x, tf.int32), x)


@program("W22")
def w22(tf):
    x = tf.constant(3.0)
    out = {}
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        thread = threading.Thread(target=lambda: out.update(y=x * x))
        thread.start()
        thread.join()
        z = x * x
    return t.gradient(out["y"], x), t.gradient(z, x)


# ---- B. watched_variables() ----


@program("V02")
def v02(tf):
    t = tf.GradientTape()
    before = t.watched_variables()
    with t:
        pass
    return before, t.watched_variables()


@program("V03")
def v03(tf):
    v = tf.Variable(1.0)
    w = tf.Variable(2.0)
    with tf.GradientTape() as t:
        y = v * v  # noqa: F841 - recorded, then discarded by reset
        t.reset()
        z = w * w  # noqa: F841 - recorded after the reset
    return _names(t.watched_variables(), v=v, w=w)


@program("V04")
def v04(tf):
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        y = v * v
    t.gradient(y, v)
    return _names(t.watched_variables(), v=v)


@program("V05")
def v05_assign_add(tf):
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        v.assign_add(1.0)
    return _names(t.watched_variables(), v=v)


@program("V05")
def v05_assign(tf):
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        v.assign(5.0)
    return _names(t.watched_variables(), v=v)


@program("V06")
def v06(tf):
    v = tf.Variable(1.0)
    n = tf.Variable(1.0, trainable=False)
    with tf.GradientTape() as t:
        y = n * 2.0  # noqa: F841 - a read of a non-trainable variable
        with t.stop_recording():
            z = v * 2.0  # noqa: F841 - a read while not recording
    return _names(t.watched_variables(), v=v, n=n)


@program("V06")
def v06_auto_watch_off(tf):
    v = tf.Variable(1.0)
    with tf.GradientTape(watch_accessed_variables=False) as t:
        y = v * 2.0  # noqa: F841 - a read with auto-watch off
    return _names(t.watched_variables(), v=v)


@program("V07")
def v07(tf):
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        t.watch(v)
    return _names(t.watched_variables(), v=v)


@program("V08")
def v08(tf):
    v = tf.Variable(3)
    with tf.GradientTape() as t:
        y = v * v
    return t.gradient(y, v), _names(t.watched_variables(), v=v)


@program("V10")
def v10(tf):
    v = tf.Variable(1.0)
    w = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as t:
        y = v * 2.0
    t.gradient(y, v)
    with t:
        z = w * 2.0  # noqa: F841 - reads w on the re-entered tape
    return _names(t.watched_variables(), v=v, w=w)


# ---- C. Tape lifecycle, persistence, re-entry ----


@program("L01")
def l01_gradient_twice(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        z = y * y
    t.gradient(z, x)
    t.gradient(y, x)


@program("L01")
def l01_gradient_then_jacobian(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        z = y * y
    t.gradient(z, x)
    t.jacobian(y, x)


@program("L01")
def l01_jacobian_then_gradient(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        z = y * y
    t.jacobian(z, x)
    t.gradient(y, x)


@program("L02")
def l02(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
        z = y * y
    g1, g2 = t.gradient(z, x), t.gradient(y, x)
    return g1, g2, t.gradient(z, x) is g1


@program("L02")
def l02_autodiff_alias(tf):
    return tf.autodiff.GradientTape is tf.GradientTape


@program("L03")
def l03_gradient(tf):
    x = tf.constant(3.0)
    t = tf.GradientTape(persistent=True)
    t.gradient(x * x, x)


@program("L03")
def l03_jacobian(tf):
    x = tf.constant(3.0)
    t = tf.GradientTape(persistent=True)
    t.jacobian(x * x, x)


@program("L04")
def l04(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        g = t.gradient(y, x)
        z = g * x  # noqa: F841 - not recorded: the gradient call ended recording
    return g


@program("L04")
def l04_second_gradient_inside(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        t.gradient(y, x)
        t.gradient(y, x)


@program("L05")
def l05(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x**3
        dy = t.gradient(y, x)
        d2y = t.gradient(dy, x)
    return dy, d2y, t.gradient(d2y, x)


@program("L05")
def l05_loop_logs_once(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x**3
        grads = [t.gradient(y, x) for _ in range(3)]
    return grads


@program("L06")
def l06(tf):
    with tf.GradientTape() as t:
        with t:
            pass


@program("L09")
def l09(tf):
    t = tf.GradientTape()
    x = tf.constant(3.0)
    with t:
        t.watch(x)
        y = x * x
    g1 = t.gradient(y, x)
    with t:
        z = x * x * x
    return g1, t.gradient(z, x)


@program("L09")
def l09_watch_again(tf):
    t = tf.GradientTape()
    x = tf.constant(3.0)
    with t:
        t.watch(x)
        y = x * x
    g1 = t.gradient(y, x)
    with t:
        t.watch(x)
        z = x * x * x
    return g1, t.gradient(z, x)


@program("L11")
def l11(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    rejected = _attempt(lambda: t.gradient(y, None))
    empty = t.gradient(y, {})
    reused = _attempt(lambda: t.gradient(y, x))
    return rejected, empty, reused


@program("L11")
def l11_error_does_not_consume(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    rejected = _attempt(lambda: t.gradient(y, None))
    return rejected, t.gradient(y, x)


@program("L12")
def l12(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
    g = t.gradient
    del t
    return g(y, x)


# ---- D. stop_recording() and reset() ----


@program("S01")
def s01(tf):
    x = tf.constant(4.0)
    with tf.GradientTape() as t:
        t.watch(x)
        with t.stop_recording():
            y = x**2
    return t.gradient(y, x)


@program("S02")
def s02(tf):
    with tf.GradientTape(persistent=True) as t:
        x = tf.Variable(1.0)
        x2 = x * 2
        with t.stop_recording():
            y = x2 * x2
        z = x2 * x2
    return t.gradient(y, x2), t.gradient(z, x2), t.gradient(z, x)


@program("S03")
def s03_never_entered(tf):
    t = tf.GradientTape()
    with t.stop_recording():
        pass


@program("S03")
def s03_after_consumed(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, x)
    with t.stop_recording():
        pass


@program("S04")
def s04_after_exit(tf):
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
    with t.stop_recording():
        pass


@program("S04")
def s04_nested(tf):
    with tf.GradientTape() as t:
        with t.stop_recording():
            with t.stop_recording():
                pass


@program("S06")
def s06(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        with t.stop_recording():
            g = t.gradient(y, x)
        z = x * x * x
    return g, t.gradient(z, x)


@program("S07")
def s07(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
        with t.stop_recording():
            g = t.gradient(y, x)
    return g, t.gradient(g, x)


@program("R01")
def r01(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        v = tf.Variable(1.0)
        t.watch(x)
        loss = v * v + x
        t.reset()
        loss += v * v + x * x
    return t.gradient(loss, v), t.gradient(loss, x)


@program("R02")
def r02_after_exit(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x  # noqa: F841 - something recorded before the exit
    t.reset()


@program("R02")
def r02_never_entered(tf):
    t = tf.GradientTape()
    t.reset()


@program("R02")
def r02_after_gradient_in_context(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        t.gradient(y, x)
        t.reset()


# ---- E. Targets ----


@program("T01")
def t01(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
    return t.gradient(x, x)


@program("T01")
def t01_2x2(tf):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as t:
        t.watch(x)
    return t.gradient(x, x)


@program("T02")
def t02(tf):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as t:
        pass
    return t.gradient(x, x)


@program("T02")
def t02_unwatched_intermediate(tf):
    c = tf.constant(3.0)
    with tf.GradientTape() as t:
        y = c * c
    return t.gradient(y, y)


@program("T03")
def t03(tf):
    x = tf.constant(3)
    with tf.GradientTape() as t:
        t.watch(x)
    return t.gradient(x, x)


@program("T05")
def t05(tf):
    with tf.GradientTape() as g:
        x = tf.Variable([3.0])
        y = tf.Variable([2.0])
    return g.gradient(x, y)


@program("T06")
def t06(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
    t.gradient(None, x)


@program("T07")
def t07(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient([y, None], x)


@program(
    "T08",
    compare="type",
    why=_T08_WHY,
)
def t08_float(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
    t.gradient(3.0, x)


@program(
    "T08",
    compare="type",
    why=_T08_WHY,
)
def t08_ndarray(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
    t.gradient(np.array(3.0, np.float32), x)


@program("T11")
def t11(tf):
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    return t.gradient(y, x)


@program("T11")
def t11_tensordot(tf):
    x2 = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(x2)
        y = tf.tensordot(x2, tf.ones(3), 0)
    return t.gradient(y, x2)


@program("T13")
def t13(tf):
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        a = x * x
        b = tf.cast(x, tf.int32) * 5
        i = tf.argmax([x, 1.0])
    return t.gradient(b, x), t.gradient([a, b], x), t.gradient(i, x)


# ---- F. Sources and result structure ----


@program("SRC01")
def src01(tf):
    with tf.GradientTape(persistent=True) as g:
        x1, x2, x3 = tf.constant(3.0), tf.constant(3.1), tf.constant(3.2)
        g.watch([x1, x2, x3])
        y = x1 + 2 * x2 + 3 * x3
    return (
        g.gradient(y, x1),
        g.gradient(y, (x1,)),
        g.gradient(y, [(x1, x2), (x2, x3)]),
        g.gradient(y, [x1, {"x2": x2, "x3": x3}]),
        g.gradient(y, []),
    )


@program("SRC04")
def src04(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, None)


@program("SRC04")
def src04_list_with_none(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, [x, None])


_SRC05_WHY = (
    "type and message depend on the value by accident (dtypes.as_dtype); 'raises' is pinned"
)


@program("SRC05", compare="raises", why=_SRC05_WHY)
def src05_3_0(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, 3.0)


@program("SRC05", compare="raises", why=_SRC05_WHY)
def src05_1_0(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, 1.0)


@program("SRC05", compare="raises", why=_SRC05_WHY)
def src05_2_0(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, 2.0)


@program("SRC05", compare="raises", why=_SRC05_WHY)
def src05_0_5(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, 0.5)


@program("SRC05", compare="raises", why=_SRC05_WHY)
def src05_np_float32(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, np.float32(3.0))


@program("SRC05", compare="raises", why=_SRC05_WHY)
def src05_str(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, "x")


@program("SRC05")
def src05_workaround(tf):
    x = tf.convert_to_tensor(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    return t.gradient(y, x)


@program("SRC06")
def src06(tf):
    x, y, s = tf.constant(3.0), tf.constant(5.0), tf.constant("unknown")
    with tf.GradientTape() as t:
        t.watch([x, y, s])
        z = y * y
    return t.gradient([x, y, z, s], [x, y, s])


@program("SRC07")
def src07(tf):
    x = [tf.Variable(2.0), tf.Variable(3.0), tf.Variable(5.0)]
    with tf.GradientTape() as t:
        f = max(x)
    return t.gradient(f, x)


# ---- G. output_gradients ----


@program("O01")
def o01(tf):
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
    return (
        t.gradient(y, x, output_gradients=tf.constant([10.0, 100.0])),
        t.gradient(y, x, output_gradients=tf.constant(10.0)),
    )


@program("O03")
def o03_shape(tf):
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
    t.gradient(y, x, output_gradients=tf.constant([1.0, 2.0, 3.0]))


@program("O03")
def o03_dtype(tf):
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
    t.gradient(y, x, output_gradients=tf.constant([1.0, 1.0], tf.float64))


@program("O05")
def o05(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        a = x * 2.0
        b = x * 3.0
    t.gradient([a, b], x, output_gradients=[None, 10.0])


@program("O05")
def o05_single_none(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        a = x * 2.0
    t.gradient(a, x, output_gradients=[None])


@program("O06")
def o06(tf):
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(x)
    return t.gradient(x, x, output_gradients=tf.constant([5.0, 7.0]))


# ---- H. unconnected_gradients ----


@program("U01")
def u01(tf):
    x = tf.constant(1.0)
    y = tf.constant(3.0)
    with tf.GradientTape() as g:
        g.watch([x, y])
        z = y * 2
    return g.gradient(z, x)


@program("U02")
def u02(tf):
    x = tf.constant([[1.0, 1.0], [1.0, 1.0]], tf.float64)
    y = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as g:
        g.watch([x, y])
        z = y * 2
    return (
        g.gradient(z, x, unconnected_gradients="zero"),
        g.gradient(z, [x, y], unconnected_gradients=tf.UnconnectedGradients.ZERO),
    )


@program("U02")
def u02_float16(tf):
    x = tf.constant([1.0, 2.0], tf.float16)
    y = tf.constant(3.0)
    with tf.GradientTape() as g:
        g.watch([x, y])
        z = y * 2
    return g.gradient(z, x, unconnected_gradients="zero")


@program("U02")
def u02_nothing_watched(tf):
    x = tf.constant([1.0, 2.0])
    y = tf.constant(3.0)
    with tf.GradientTape() as g:
        z = y * 2
    return g.gradient(z, x, unconnected_gradients="zero")


@program("U04")
def u04_nonsense(tf):
    x = tf.constant(1.0)
    with tf.GradientTape() as g:
        g.watch(x)
        z = x * 2
    g.gradient(z, x, unconnected_gradients="nonsense")


@program("U04")
def u04_upper_case(tf):
    x = tf.constant(1.0)
    with tf.GradientTape() as g:
        g.watch(x)
        z = x * 2
    g.gradient(z, x, unconnected_gradients="ZERO")


@program("U04")
def u04_tape_still_usable(tf):
    x = tf.constant(1.0)
    with tf.GradientTape() as g:
        g.watch(x)
        z = x * 2
    rejected = _attempt(lambda: g.gradient(z, x, unconnected_gradients="nonsense"))
    return rejected, g.gradient(z, x)


@program("U05")
def u05(tf):
    x = tf.constant(1.0)
    i = tf.constant([1, 2])
    s = tf.constant("abc")
    with tf.GradientTape() as g:
        g.watch(x)
        z = x * 2
    return g.gradient(z, [x, i, s], unconnected_gradients="zero")


@program("U06")
def u06(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.stop_gradient(x * x)
    return t.gradient(y, x, unconnected_gradients="zero")


@program("U06")
def u06_default(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.stop_gradient(x * x)
    return t.gradient(y, x)


# ---- I. dtypes ----


def _square_gradient(tf, dtype):
    """d(x*x)/dx at 3 in ``dtype`` (the body of D01's loop)."""
    x = tf.constant(3.0, dtype)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    return t.gradient(y, x)


@program("D01")
def d01_float16(tf):
    return _square_gradient(tf, tf.float16)


@program("D01")
def d01_bfloat16(tf):
    return _square_gradient(tf, tf.bfloat16)


@program("D01")
def d01_float64(tf):
    return _square_gradient(tf, tf.float64)


@program("D01")
def d01_float64_through_cast(tf):
    x = tf.constant(3.0, tf.float64)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.cast(x, tf.float32) * 2.0
    return t.gradient(y, x)


@program("D02")
def d02(tf):
    z = tf.constant(1.0 + 2.0j, tf.complex64)
    with tf.GradientTape(persistent=True) as t:
        t.watch(z)
        a = z * z
        b = tf.math.real(z * tf.math.conj(z))
        c = tf.abs(z)
    return t.gradient(a, z), t.gradient(b, z), t.gradient(c, z)


@program("D02")
def d02_real_imag(tf):
    z = tf.constant(1.0 + 2.0j, tf.complex64)
    with tf.GradientTape(persistent=True) as t:
        t.watch(z)
        re = tf.math.real(z)
        im = tf.math.imag(z)
    return t.gradient(re, z), t.gradient(im, z)


# ---- J. Ops, special values, sparse gradients, control flow ----


@program("OP01")
def op01(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        a = tf.stop_gradient(x * x)
        b = x * tf.stop_gradient(x)
    return t.gradient(a, x), t.gradient(b, x)


def _counting_identity(tf, calls: list):
    """A custom-gradient ``x * 1.0`` whose backward function appends to ``calls``."""

    @tf.custom_gradient
    def f(x):
        return x * 1.0, lambda dy: calls.append(1) or dy

    return f


@program("OP02")
def op02(tf):
    calls = []
    f = _counting_identity(tf, calls)
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(tf.stop_gradient(x))
    return t.gradient(y, x), len(calls)


@program("OP02")
def op02_unwatched(tf):
    calls = []
    f = _counting_identity(tf, calls)
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        y = f(x)
    return t.gradient(y, x), len(calls)


@program("OP03")
def op03(tf):
    x = tf.constant(2.3)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        outs = [tf.round(x), tf.floor(x), tf.math.ceil(x), tf.sign(x)]
    return [t.gradient(o, x) for o in outs]


@program("OP05")
def op05(tf):
    x = tf.constant([-1.0, 0.0, 1.0])
    a = tf.constant(1.0)
    b = tf.constant(1.0)
    m = tf.constant([1.0, 3.0, 3.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, a, b, m])
        r, ab, mx, rm = tf.nn.relu(x), tf.abs(x), tf.maximum(a, b), tf.reduce_max(m)
    return t.gradient(r, x), t.gradient(ab, x), t.gradient(mx, [a, b]), t.gradient(rm, m)


@program("OP06")
def op06(tf):
    z = tf.constant(0.0)
    zz = tf.constant([0.0, 0.0])
    big = tf.constant(100.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch([z, zz, big])
        a, b, c, d, e = tf.sqrt(z), tf.norm(zz), z**0.0, tf.exp(big), z**2
    return [t.gradient(o, s) for o, s in [(a, z), (b, zz), (c, z), (d, big), (e, z)]]


@program("OP07")
def op07(tf):
    x = tf.constant([0.0, 4.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        a = tf.where(x > 0, tf.sqrt(x), tf.zeros_like(x))
        b = tf.where(x > 0, tf.math.log(x), tf.zeros_like(x))
    return t.gradient(a, x), t.gradient(b, x)


def _indexed_slices(tf, g):
    """What OP08 prints about a sparse gradient: its type name, parts and dense value."""
    return type(g).__name__, g.indices, g.values, g.dense_shape, tf.convert_to_tensor(g)


@program("OP08")
def op08(tf):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as t:
        y = tf.gather(v, [2, 0, 2])
    return _indexed_slices(tf, t.gradient(y, v))


@program("OP08")
def op08_watched_constant(tf):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.gather(x, [0, 2])
    return _indexed_slices(tf, t.gradient(y, x))


@program("OP08")
def op08_embedding_lookup(tf):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as t:
        y = tf.nn.embedding_lookup(v, [1, 1])
    return _indexed_slices(tf, t.gradient(y, v))


@program("OP08")
def op08_sparse_read(tf):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as t:
        y = v.sparse_read([1]) * 3
    return _indexed_slices(tf, t.gradient(y, v))


@program("OP09")
def op09(tf):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape(persistent=True) as t:
        s = tf.reduce_sum(tf.gather(v, [0])) + tf.reduce_sum(tf.gather(v, [0, 2]))
        d = tf.reduce_sum(tf.gather(v, [0])) + tf.reduce_sum(v * 2.0)
    return _indexed_slices(tf, t.gradient(s, v)), t.gradient(d, v)


@program("OP09")
def op09_zero_unconnected(tf):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    u = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as t:
        s = tf.reduce_sum(tf.gather(v, [0, 2]))
    sparse, dense = t.gradient(s, [v, u], unconnected_gradients="zero")
    return _indexed_slices(tf, sparse), dense


@program("OP11")
def op11(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = tf.cond(x < x, lambda: x, lambda: x * x)
        w = tf.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, a * 2), [0, x])[1]
    return g.gradient(y, x), g.gradient(w, x)


@program("OP14")
def op14(tf):
    x = tf.constant(3.0)
    v = tf.Variable(0.0)
    u = tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        v.assign(x * 2.0)
        y = v * v
        a = u * 1.0
        u.assign_add(1.0)
        w = a + u * u
    return t.gradient(y, x), t.gradient(y, v), t.gradient(w, u)


@program("OP14")
def op14_value_at_read_time(tf):
    v = tf.Variable(3.0)
    with tf.GradientTape() as t:
        y = v * v
        v.assign(100.0)
    return t.gradient(y, v)


# ---- K. tf.custom_gradient and recorded operations ----


@program("C01")
def c01(tf):
    @tf.custom_gradient
    def f(x):
        return x * x, lambda dy: dy * 100.0

    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    return t.gradient(y, x)


@program("C01")
def c01_grad_fn_returns_none(tf):
    @tf.custom_gradient
    def f(x):
        return x * x, lambda dy: None

    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = f(x)
    return t.gradient(y, x), t.gradient(y, x, unconnected_gradients="zero")


@program("C02")
def c02(tf):
    @tf.custom_gradient
    def identity(x):
        return x, lambda _: []

    x = tf.Variable(1.0)
    with tf.GradientTape() as t:
        y = identity(x)
    t.gradient(y, [x])


@program("C02")
def c02_two_inputs_one_gradient(tf):
    @tf.custom_gradient
    def product(a, b):
        return a * b, lambda dy: dy * b

    a, b = tf.constant(2.0), tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch([a, b])
        y = product(a, b)
    t.gradient(y, [a, b])


@program("C03")
def c03(tf):
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def f(x):
        return x * v, lambda dy: dy * v

    f(tf.constant(3.0))


@program("C03")
def c03_with_variables_kwarg(tf):
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def f(x):
        def grad(dy, variables=None):
            return dy * v, [dy * x * 10.0]

        return x * v, grad

    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    return t.gradient(y, [x, v])


@program("C04")
def c04(tf):
    @tf.custom_gradient
    def f(x):
        def grad(_):
            raise RuntimeError("boom from grad")

        return x, grad

    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    t.gradient(y, x)


@program("C05")
def c05(tf):
    seen = []

    @tf.custom_gradient
    def two(x):
        return (x * 1.0, x * 2.0), lambda d1, d2: seen.append((d1, d2)) or d1 + d2

    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        a, b = two(x)
    return t.gradient(a, x), seen


@program("C06")
def c06(tf):
    @tf.custom_gradient
    def f(x):
        def g1(dz):
            @tf.custom_gradient
            def fo(_):
                return -1.1, lambda ddz: -2.1 * ddz

            return dz * fo(x)

        return x + 10.0, g1

    c = tf.constant(1.0)
    with tf.GradientTape() as outer:
        outer.watch(c)
        with tf.GradientTape() as inner:
            inner.watch(c)
            d = f(c) ** 4.0
        first = inner.gradient(d, c)
    return first, outer.gradient(first, c)


# ---- L. Multiple and nested tapes, higher order ----


@program("N01")
def n01(tf):
    x = tf.constant(2.0)
    with tf.GradientTape() as g2:
        g2.watch(x)
        with tf.GradientTape() as g1:
            g1.watch(x)
            y = x**4
        d1 = g1.gradient(y, x)
    return d1, g2.gradient(d1, x)


@program("N01")
def n01_third_order(tf):
    x = tf.constant(2.0)
    with tf.GradientTape() as g3:
        g3.watch(x)
        with tf.GradientTape() as g2:
            g2.watch(x)
            with tf.GradientTape() as g1:
                g1.watch(x)
                y = x**4
            d1 = g1.gradient(y, x)
        d2 = g2.gradient(d1, x)
    return d1, d2, g3.gradient(d2, x)


@program("N01")
def n01_doc_example(tf):
    x = tf.constant(5.0)
    with tf.GradientTape() as g:
        g.watch(x)
        with tf.GradientTape() as gg:
            gg.watch(x)
            y = x * x
        dy_dx = gg.gradient(y, x)
    return dy_dx, g.gradient(dy_dx, x)


@program("N02")
def n02(tf):
    x = tf.constant(5.0)
    with tf.GradientTape() as g:
        g.watch(x)
        with tf.GradientTape() as gg:
            gg.watch(x)
            y = x * x
    dy_dx = gg.gradient(y, x)
    return dy_dx, g.gradient(dy_dx, x)


@program("N03")
def n03(tf):
    x1 = tf.Variable(2.0, trainable=False)
    x2 = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as tape1:
        with tf.GradientTape() as tape2:
            tape1.watch(x1)
            tape2.watch([x1, x2])
            y = x1**3
            z = x2**2
            dy, dz = tape2.gradient([y, z], [x1, x2])
        return dy, dz, tape1.gradient([dy, dz], [x1, x2])


@program("N04")
def n04(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            y = x * x
    return inner.gradient(y, x), outer.gradient(y, x)


@program("N04")
def n04_mirror(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * x
        z = y * y
    return inner.gradient(y, x), outer.gradient(z, x)


@program("N04")
def n04_outer_not_watching(tf):
    x = tf.constant(2.0)
    with tf.GradientTape() as g2:
        with tf.GradientTape() as g1:
            g1.watch(x)
            y = x**4
        d1 = g1.gradient(y, x)
    return d1, g2.gradient(d1, x)


# ---- M. jacobian ----


@program("J01")
def j01(tf):
    with tf.GradientTape() as g:
        x = tf.constant([1.0, 2.0])
        g.watch(x)
        y = x * x
    return g.jacobian(y, x)


@program("J03")
def j03(tf):
    x = tf.constant([1.0, 2.0])
    w = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as g:
        g.watch([x, w])
        y = x * x
    return (
        g.jacobian(y, {"x": x, "w": (w,)}),
        g.jacobian(y, w, unconnected_gradients="zero"),
    )


@program("J04")
def j04(tf):
    with tf.GradientTape() as g:
        x = tf.constant([1.0, 2.0])
        g.watch(x)
        y = x * x
    g.jacobian(y, x, experimental_use_pfor=False)


@program("J04")
def j04_persistent(tf):
    with tf.GradientTape(persistent=True) as g:
        x = tf.constant([1.0, 2.0])
        g.watch(x)
        y = x * x
    return g.jacobian(y, x, experimental_use_pfor=False)


@program("J05")
def j05(tf):
    with tf.GradientTape() as g:
        x = tf.constant(3.0)
        g.watch(x)
        y = x * x
        z = y * y
        return g.jacobian(z, x)


@program(
    "J06",
    compare="type",
    why=_NO_SHAPE_WHY,
)
def j06(tf):
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as g:
        g.watch(x)
        y1 = x * x
        y2 = x * 3.0
    g.jacobian([y1, y2], x)


@program("J06")
def j06_int_target(tf):
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as g:
        g.watch(x)
        y = tf.cast(x, tf.int32) * 2
    return g.jacobian(y, x)


@program("J07")
def j07(tf):
    with tf.GradientTape(persistent=True) as g:
        inp = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        g.watch(inp)
        out = tf.nn.embedding_lookup(inp, [0, 2])
    return g.jacobian(out, inp)


# ---- N. batch_jacobian ----


@program("B02")
def b02_first_dimension_mismatch(tf):
    x = tf.random.uniform([2, 3])
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = tf.concat([x, x], axis=0)
    g.batch_jacobian(y, x)


@program("B02")
def b02_rank1_source(tf):
    with tf.GradientTape(persistent=True) as g:
        pass
    g.batch_jacobian(tf.random.uniform([2, 2]), tf.random.uniform([2]))


@program("B02")
def b02_rank1_target(tf):
    x = tf.random.uniform([2, 2])
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = tf.reduce_sum(x, axis=1)
    g.batch_jacobian(y, x)


@program(
    "B02",
    compare="type",
    why=_NO_SHAPE_WHY,
)
def b02_list_source(tf):
    x = tf.random.uniform([2, 3])
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * 2.0
    g.batch_jacobian(y, [x])


@program("B03")
def b03(tf):
    x = tf.constant([[1.0, 2.0]])
    w = tf.constant([[3.0, 4.0]])
    with tf.GradientTape() as g:
        g.watch([x, w])
        y = w * 2.0
    return g.batch_jacobian(y, x)


@program("B04")
def b04(tf):
    with tf.GradientTape() as g:
        x = tf.constant([[1.0, 2.0]])
        g.watch(x)
        y = x * x
    g.batch_jacobian(y, x, experimental_use_pfor=False)


@program("B05")
def b05(tf):
    with tf.GradientTape() as g:
        x = tf.constant([[3.0]])
        g.watch(x)
        y = x * x
        z = y * y
    g.batch_jacobian(z, x)
    g.batch_jacobian(y, x)


@program("B06")
def b06(tf):
    x = tf.constant([[1.0], [2.0]])
    with tf.GradientTape() as g:
        g.watch(x)
        y = x * tf.reduce_sum(x)
    return g.batch_jacobian(y, x)


@program("B07")
def b07(tf):
    with tf.GradientTape(persistent=True) as g:
        x = tf.constant([[3.0]])
        g.watch(x)
        y = x * x
        z = y * y
        return g.batch_jacobian(z, x)


@program("B07")
def b07_non_persistent(tf):
    with tf.GradientTape() as g:
        x = tf.constant([[3.0]])
        g.watch(x)
        y = x * x
        z = y * y
        return g.batch_jacobian(z, x)


#: Spec entries (sections A–N) that have no program here, and why.
LEFT_OUT: dict[str, str] = {
    "W23": "composite tensors (SparseTensor/RaggedTensor) are not implemented by the reference",
    "OP04": "needs tf.raw_ops (an op without a registered gradient), which the reference lacks",
    "OP12": "needs tf.Graph and v1 control flow (graph mode), outside the eager tape",
    "C07": "uses the TF-internal API tensorflow.python.eager.record, not a public name",
    "J08": "the tf.function retracing WARNING is non-deterministic; the spec says not to pin it",
    "O04": "undefined behaviour (TF reads output_gradients out of bounds); nothing can be pinned",
}
