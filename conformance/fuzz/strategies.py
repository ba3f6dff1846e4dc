"""Hypothesis strategies that build tape programs over the whole neutral API.

``programs()`` draws a ``Program`` one statement at a time: leaves (constants from Python
floats, ints, lists, NumPy scalars and arrays, every dtype, scalar to rank 3; variables, trainable
or not), tape blocks (persistent or not, ``watch_accessed_variables``, two sibling tapes in one
``with``, nesting to depth 3), and inside them watches (before or after the ops), ops of the
neutral op set with tensor, Python and NumPy operands on either side, variable updates and reads,
``stop_recording`` blocks, ``reset``, ``custom_gradient`` functions (one or two outputs, with a
variable), and ``gradient`` / ``jacobian`` / ``batch_jacobian`` calls inside and after the
context (including second calls on non-persistent tapes) with single, list, dict and nested
targets and sources, ``output_gradients`` and ``unconnected_gradients`` (enum and string).

Every choice is a Hypothesis draw, so a failing program shrinks: fewer statements, simpler
shapes (scalars first), float32 first, the first operand form first.

While it builds, the generator keeps TensorFlow's recording rule per tape (which names each tape
tracks); each op remembers which of its inputs were tracked by which tape. The finite-difference
oracle replays the program with exactly those inputs live and the others frozen.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance.fuzz.program import (
    FLOAT_DTYPES,
    GradientCall,
    Leaf,
    Op,
    Program,
    Statement,
    TapeBlock,
    flatten_nest,
    render_nest,
)

__all__ = ["programs"]

# dtypes, most common first (Hypothesis shrinks towards the front of a sampled list)
DTYPES = (
    ("float32",) * 10
    + ("float64",) * 3
    + ("int32", "float16", "complex64", "int64", "complex128", "bool")
)
SHAPES = ((), (2,), (), (3,), (2, 3), (2, 1), (1, 3), (3, 2), (2,), (2, 2, 3), (2, 1, 3))
FLOATS = (1.5, -0.5, 2.0, 0.25, -1.25, 3.0, 0.75, -2.0)
INTS = (2, 1, -1, 3, 0, -2)
TRAINABLE = FLOAT_DTYPES + ("complex64", "complex128")
MAX_DEPTH = 3

_NP_NAMES = {
    "float16": "np.float16",
    "float32": "np.float32",
    "float64": "np.float64",
    "int32": "np.int32",
    "int64": "np.int64",
    "bool": "np.bool_",
    "complex64": "np.complex64",
    "complex128": "np.complex128",
}


# ---- what the generator knows about each name ----------------------------------------------


@dataclass
class Info:
    dtype: str
    shape: tuple[int, ...]
    variable: bool = False
    trainable: bool = True  # variables only
    maybe_none: bool = False  # a gradient result that may be None at run time


@dataclass
class TapeState:
    name: str
    persistent: bool
    watch_accessed: bool
    recording: bool = False
    entered: bool = False
    tracked: set[str] = field(default_factory=set)


class Builder:
    """The state of one program being drawn."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw
        self.names: dict[str, Info] = {}
        self.tapes: dict[str, TapeState] = {}
        self.counter = 0
        self.returns: list[str] = []
        self.features: set[str] = set()
        self.uses_numpy = False
        self.statements_left = draw(st.integers(4, 14))

    # ---- small helpers
    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def choose(self, options: Any) -> Any:
        """One of ``options``, about uniformly; shrinks towards the first.

        Hypothesis draws small integers far more often than large ones (that finds bugs at
        boundaries); taken modulo the number of options, a wide draw is close to uniform, so
        the last op of a list is drawn about as often as the first.
        """
        options = list(options)
        return options[self.draw(st.integers(0, 2**16)) % len(options)]

    def coin(self, p_true: float) -> bool:
        """A biased coin that shrinks to False."""
        return self.draw(st.integers(0, 2**16)) % 100 >= 100 - p_true * 100

    def recording(self) -> list[TapeState]:
        return [t for t in self.tapes.values() if t.recording]

    def tensors(self, *, dtypes: Any = None, usable: bool = True) -> list[str]:
        return [
            n
            for n, info in self.names.items()
            if (dtypes is None or info.dtype in dtypes) and not (usable and info.maybe_none)
        ]

    def note_dtype(self, dtype: str) -> None:
        if dtype.startswith("complex"):
            self.features.add("complex")
        elif dtype in ("float16", "float64"):
            self.features.add(dtype)

    # ---- the recording rule (TensorFlow's), kept per tape
    def track(self, inputs: tuple[str, ...], outputs: list[str]) -> dict[str, tuple[bool, ...]]:
        """Which inputs each recording tape tracked; record the outputs where any was."""
        tracked: dict[str, tuple[bool, ...]] = {}
        for tape in self.recording():
            self.read_variables(tape, inputs)
            flags = tuple(
                name in tape.tracked and self.names[name].dtype in TRAINABLE for name in inputs
            )
            tracked[tape.name] = flags
            if any(flags):
                tape.tracked.update(o for o in outputs if self.names[o].dtype in TRAINABLE)
        return tracked

    def read_variables(self, tape: TapeState, inputs: tuple[str, ...]) -> None:
        """A trainable variable read while ``tape`` records is watched (watch_accessed_variables)."""
        if not tape.watch_accessed:
            return
        for name in inputs:
            info = self.names[name]
            if info.variable and info.trainable:
                tape.tracked.add(name)


def _values(b: Builder, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    count = math.prod(shape)
    if dtype == "bool":
        flat = [b.draw(st.booleans()) for _ in range(count)]
    elif dtype.startswith("int"):
        flat = [b.choose(INTS) for _ in range(count)]
    elif dtype.startswith("complex"):
        flat = [complex(b.choose(FLOATS), b.choose(FLOATS)) for _ in range(count)]
    else:
        flat = [b.choose(FLOATS) for _ in range(count)]
    return np.array(flat, dtype=np.dtype(dtype)).reshape(shape)


def _value_text(value: np.ndarray) -> str:
    """Source text of ``value``'s data (complex as ``(1.5-0.5j)``)."""
    return repr(value.tolist()) if value.ndim else repr(value.item())


# ---- leaves ------------------------------------------------------------------------------------


def leaf(
    b: Builder,
    *,
    dtype: str | None = None,
    shape: tuple[int, ...] | None = None,
    variable: bool | None = None,
    trainable: bool | None = None,
) -> Leaf:
    dtype = dtype or b.choose(DTYPES)
    shape = shape if shape is not None else b.choose(SHAPES)
    value = _values(b, dtype, shape)
    variable = b.coin(0.35) if variable is None else variable
    form = b.choose(("python", "python", "dtype_arg", "numpy_array", "numpy_scalar"))
    if form == "numpy_scalar" and shape:
        form = "numpy_array"
    python_default = {"float32": float, "int32": int, "bool": bool}
    dtype_arg = None
    if (
        form == "python"
        and dtype not in python_default
        and not (dtype == "complex128" and not shape)
    ):
        form = "dtype_arg"
    if form == "python":
        literal = _value_text(value)
    elif form == "dtype_arg":
        literal, dtype_arg = _value_text(value), f"fw.{dtype}"
    elif form == "numpy_scalar":
        literal = f"{_NP_NAMES[dtype]}({_value_text(value)})"
    else:
        literal = f"np.array({_value_text(value)}, dtype={_NP_NAMES[dtype]})"
    if form.startswith("numpy"):
        b.uses_numpy = True
    name = b.fresh("v" if variable else "x")
    trainable = not (variable and b.coin(0.25)) if trainable is None else trainable
    if variable:
        b.features.add("variables")
    b.note_dtype(dtype)
    b.names[name] = Info(dtype, shape, variable=variable, trainable=trainable)
    created = Leaf(
        name,
        "variable" if variable else "constant",
        literal,
        value,
        dtype,
        shape,
        dtype_arg,
        trainable,
    )
    for tape in b.recording():  # TF watches a trainable variable created inside a tape
        if variable and trainable and tape.watch_accessed:
            tape.tracked.add(name)
    return created


# ---- ops ---------------------------------------------------------------------------------------

_BINARY = {  # name: (operator or None, function, NumPy replay)
    "add": ("+", "fw.add", np.add),
    "subtract": ("-", "fw.subtract", np.subtract),
    "multiply": ("*", "fw.multiply", np.multiply),
    "divide": ("/", "fw.divide", np.divide),
    "pow": ("**", "fw.pow", np.power),
    "maximum": (None, "fw.maximum", np.maximum),
    "minimum": (None, "fw.minimum", np.minimum),
}


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


_UNARY = {  # name: (NumPy replay, dtypes it is generated for)
    "negative": (np.negative, "fic"),
    "square": (np.square, "fic"),
    "sqrt": (np.sqrt, "fc"),
    "exp": (np.exp, "fc"),
    "log": (np.log, "fc"),
    "sin": (np.sin, "fc"),
    "cos": (np.cos, "fc"),
    "tanh": (np.tanh, "fc"),
    "sigmoid": (_sigmoid, "fc"),
    "relu": (lambda x: np.maximum(x, 0), "fi"),
    "abs": (np.abs, "fic"),
    "sign": (np.sign, "fi"),
    "floor": (np.floor, "f"),
    "round": (np.round, "f"),
    "identity": (lambda x: x, "fic"),
    "real": (np.real, "c"),
    "imag": (np.imag, "c"),
    "conj": (np.conj, "c"),
    # protocol 1.2's extended_ops (the programs using them need that feature)
    "ceil": (np.ceil, "f"),
}
# (not reciprocal: TensorFlow's float32 vector kernel is one ulp off, 1/0.25 = 3.9999998, which a
# later cast to an integer turns into a difference of 1; docs/fuzz.md)
EXTENDED_UNARY = ("ceil",)

#: Conditions for ``where``: source text with ``{x}`` and ``{t}``, the NumPy replay, and whether
#: the condition uses protocol 1.2's comparison and logical ops.
_CONDITIONS = (
    ("{x} > {t}", lambda u, t: u > t, False),
    (
        "fw.logical_and(fw.logical_or(fw.greater({x}, {t}), fw.equal({x}, {t})), "
        "fw.logical_not(fw.less_equal({x}, {t})))",
        lambda u, t: u > t,
        True,
    ),
    (
        "fw.logical_or(fw.less({x}, {t}), "
        "fw.logical_and(fw.greater_equal({x}, {t}), fw.not_equal({x}, {t})))",
        lambda u, t: u != t,
        True,
    ),
)


def _kind(dtype: str) -> str:
    return {"f": "f", "i": "i", "c": "c", "b": "b"}[np.dtype(dtype).kind]


def _add_op(b: Builder, op: Op, outputs: list[tuple[str, Info]]) -> Op:
    for name, info in outputs:
        b.names[name] = info
        b.note_dtype(info.dtype)
    tracked = b.track(op.inputs, [name for name, _ in outputs])
    return dataclasses.replace(op, tracked=tracked)


def _broadcast_partner(b: Builder, shape: tuple[int, ...]) -> tuple[int, ...]:
    options = [shape, ()]
    if shape:
        options += [shape[1:], shape[-1:]]
        options += [
            tuple(1 if i == k else d for i, d in enumerate(shape)) for k in range(len(shape))
        ]
    return b.choose(dict.fromkeys(options))


def _operand(b: Builder, dtype: str, shape: tuple[int, ...]) -> tuple[str, tuple[str, ...], Any]:
    """Source text of a second operand of ``dtype`` broadcastable to ``shape``, the names it
    reads, and its NumPy value (``None`` when it is a name)."""
    form = b.choose(
        ("tensor", "python", "tensor", "numpy_scalar", "list", "numpy_array", "numpy_other")
    )
    partner_shape = _broadcast_partner(b, shape)
    if 0 in partner_shape:  # a literal cannot spell an empty (0, 1, 3): a scalar instead
        partner_shape = ()
    candidates = [n for n in b.tensors(dtypes=(dtype,)) if b.names[n].shape == partner_shape]
    if form == "tensor" and candidates:
        name = b.choose(candidates)
        return name, (name,), None
    value = _values(b, dtype, partner_shape if form in ("list", "numpy_array") else ())
    if form == "python" or (form == "tensor" and not candidates):
        if dtype in ("float32", "int32", "bool") or (form == "python" and dtype in FLOAT_DTYPES):
            python = value.item()
            if dtype in FLOAT_DTYPES and b.coin(0.2):
                python = int(python) or 1  # an int operand beside a float tensor
            return repr(python), (), np.asarray(python, dtype=np.float64)
        form = "numpy_scalar"
    b.uses_numpy = True
    if form == "numpy_scalar":
        return f"{_NP_NAMES[dtype]}({_value_text(value)})", (), value
    if form == "numpy_other":  # a NumPy scalar of another float width
        other = (
            b.choose([d for d in FLOAT_DTYPES if d != dtype]) if dtype in FLOAT_DTYPES else dtype
        )
        return f"{_NP_NAMES[other]}({_value_text(value)})", (), value
    if form == "list" and dtype in ("float32", "int32"):
        return _value_text(value), (), value
    return f"np.array({_value_text(value)}, dtype={_NP_NAMES[dtype]})", (), value


def binary_op(b: Builder, x: str) -> Op:
    info = b.names[x]
    name = b.choose(_BINARY)
    symbol, function, replay = _BINARY[name]
    text_y, inputs_y, value_y = _operand(b, info.dtype, info.shape)
    swap = b.coin(0.3)
    use_operator = symbol is not None and b.coin(0.6)
    left, right = (text_y, x) if swap else (x, text_y)
    text = f"{left} {symbol} {right}" if use_operator else f"{function}({left}, {right})"
    inputs = ((x,) + inputs_y) if not swap else (inputs_y + (x,))

    def run(*values: Any) -> Any:
        args = list(values)
        if value_y is not None:
            args.insert(0 if swap else 1, value_y)
        return replay(args[0], args[1])

    shape = np.broadcast_shapes(
        info.shape, np.shape(value_y) if value_y is not None else b.names[inputs_y[0]].shape
    )
    dtype = info.dtype
    if name == "divide" and dtype.startswith("int"):
        dtype = "float64"
    out = b.fresh("t")
    return _add_op(b, Op(out, text, inputs, run), [(out, Info(dtype, tuple(shape)))])


def unary_op(b: Builder, x: str) -> Op:
    info = b.names[x]
    kind = _kind(info.dtype)
    options = [n for n, (_, kinds) in _UNARY.items() if kind in kinds]
    if not options:
        return cast_op(b, x)
    # complex tensors are rare: give their own ops (real, imag, conj) an even chance
    name = b.choose(("real", "imag", "conj")) if kind == "c" and b.coin(0.5) else b.choose(options)
    replay = _UNARY[name][0]
    if name in EXTENDED_UNARY:
        b.features.add("extended_ops")
    dtype = info.dtype
    if name in ("real", "imag", "abs") and kind == "c":
        dtype = "float32" if dtype == "complex64" else "float64"
    out = b.fresh("t")
    text = f"fw.{name}({x})" if not (name == "negative" and b.coin(0.5)) else f"-{x}"
    return _add_op(b, Op(out, text, (x,), replay), [(out, Info(dtype, info.shape))])


def cast_op(b: Builder, x: str) -> Op:
    info = b.names[x]
    # never to its own dtype: TensorFlow then returns the input itself (an alias, which the
    # oracle's model of distinct tensors does not describe)
    targets = (
        ("float64", "float32", "int32", "float16") if info.dtype != "bool" else ("float32", "int32")
    )
    target = b.choose([d for d in targets if d != info.dtype])
    out = b.fresh("t")
    truncate = target.startswith("int")
    replay = (
        (lambda v: np.trunc(np.real(v)))
        if truncate
        else (lambda v: np.real(v) if np.iscomplexobj(v) else v)
    )
    b.note_dtype(target)
    return _add_op(
        b, Op(out, f"fw.cast({x}, fw.{target})", (x,), replay), [(out, Info(target, info.shape))]
    )


def reduce_op(b: Builder, x: str) -> Op:
    info = b.names[x]
    name = b.choose(
        ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod")
        if _kind(info.dtype) != "c"
        else ("reduce_sum", "reduce_mean", "reduce_prod")
    )
    if name in ("reduce_min", "reduce_prod"):
        b.features.add("extended_ops")
    axis = None
    args = [x]
    if info.shape and b.coin(0.4):
        axis = b.choose(range(-1, len(info.shape)))
        args.append(f"axis={axis}")
    keepdims = b.coin(0.2)
    if keepdims:
        args.append("keepdims=True")
    replay = {
        "reduce_sum": np.sum,
        "reduce_mean": np.mean,
        "reduce_max": np.max,
        "reduce_min": np.min,
        "reduce_prod": np.prod,
    }[name]
    if axis is None:
        shape = tuple(1 for _ in info.shape) if keepdims else ()
    else:
        dims = list(info.shape)
        if keepdims:
            dims[axis] = 1
        else:
            del dims[axis]
        shape = tuple(dims)
    out = b.fresh("t")
    op = Op(
        out,
        f"fw.{name}({', '.join(args)})",
        (x,),
        lambda v: replay(v, axis=axis, keepdims=keepdims),
    )
    return _add_op(b, op, [(out, Info(info.dtype, shape))])


def shape_op(b: Builder, x: str) -> Op:
    """reshape, transpose, tile, indexing, gather: ops that move elements around."""
    info = b.names[x]
    shape = info.shape
    choices = (
        ["reshape", "tile", "expand_dims", "clip_by_value"]
        + (["getitem", "gather"] if shape else [])
        + (["transpose"] if len(shape) >= 2 else [])
        + (["squeeze"] if 1 in shape else [])
    )
    name = b.choose(choices)
    if name == "clip_by_value" and _kind(info.dtype) not in "fi":
        name = "reshape"
    if name in ("expand_dims", "squeeze", "clip_by_value"):
        b.features.add("extended_ops")
    out = b.fresh("t")
    if name == "reshape":
        new = (-1,) if shape != (math.prod(shape),) else ((1, math.prod(shape)) if shape else (1,))
        text, replay = f"fw.reshape({x}, {list(new)})", (lambda v: np.reshape(v, new))
        result = (math.prod(shape),) if new == (-1,) else new
    elif name == "tile":
        multiples = [b.choose((2, 1)) for _ in shape]
        text, replay = f"fw.tile({x}, {multiples})", (lambda v: np.tile(v, multiples))
        result = tuple(d * m for d, m in zip(shape, multiples, strict=True))
    elif name == "transpose":
        text, replay = f"fw.transpose({x})", np.transpose
        result = tuple(reversed(shape))
    elif name == "expand_dims":
        axis = b.choose((0, -1))
        text, replay = f"fw.expand_dims({x}, {axis})", (lambda v: np.expand_dims(v, axis))
        result = np.expand_dims(np.empty(shape), axis).shape
    elif name == "squeeze":
        text, replay = f"fw.squeeze({x})", np.squeeze
        result = tuple(d for d in shape if d != 1)
    elif name == "clip_by_value":
        low, high = b.choose(((0.0, 1.0), (-1.0, 0.5), (1.0, 2.0)))
        if _kind(info.dtype) == "i":
            low, high = int(low), int(high) + 1
        text = f"fw.clip_by_value({x}, {low!r}, {high!r})"
        replay = lambda v: np.clip(v, low, high)  # noqa: E731
        result = shape
    elif name == "gather":
        axis = b.choose(range(len(shape))) if len(shape) > 1 else 0
        indices = [b.choose(range(shape[axis])) for _ in range(b.choose((2, 1, 3)))]
        text = f"fw.gather({x}, {indices}" + (f", axis={axis})" if axis else ")")
        replay = lambda v: np.take(v, indices, axis=axis)  # noqa: E731
        result = shape[:axis] + (len(indices),) + shape[axis + 1 :]
    else:
        key_text, key = b.choose(
            [("[0]", (0,)), ("[-1]", (-1,)), ("[1:]", (slice(1, None),))]
            + ([("[:, 0]", (slice(None), 0))] if len(shape) >= 2 else [])
        )
        text, replay = f"{x}{key_text}", (lambda v: v[key])
        result = np.empty(shape)[key].shape
    return _add_op(b, Op(out, text, (x,), replay), [(out, Info(info.dtype, tuple(result)))])


def combine_op(b: Builder, x: str) -> Op:
    """matmul, concat, stack, where, softmax, norm: ops with their own shape rules."""
    info = b.names[x]
    shape, dtype = info.shape, info.dtype
    choices = ["concat", "stack", "where"]
    if dtype in FLOAT_DTYPES:
        choices += ["softmax", "norm"] if shape else ["norm"]
    name = "matmul" if len(shape) == 2 and 0 not in shape and b.coin(0.5) else b.choose(choices)
    out = b.fresh("t")
    same = [n for n in b.tensors(dtypes=(dtype,)) if b.names[n].shape == shape]
    if name in ("concat", "stack", "where"):
        other = b.choose(same)  # x itself is always there
        if name == "concat":
            if not shape:
                name = "stack"
            else:
                text, replay = (
                    f"fw.concat([{x}, {other}], axis=0)",
                    (lambda u, v: np.concatenate([u, v])),
                )
                result = (shape[0] * 2,) + shape[1:]
        if name == "stack":
            text, replay = f"fw.stack([{x}, {other}])", (lambda u, v: np.stack([u, v]))
            result = (2,) + shape
        if name == "where":
            threshold = b.choose((0.0, 1.0)) if dtype != "bool" else None
            if dtype == "bool" or _kind(dtype) == "c":
                return unary_op(b, x) if dtype != "bool" else cast_op(b, x)
            condition, test, extended = b.choose(_CONDITIONS)
            if extended:
                b.features.add("extended_ops")
            condition = condition.format(x=x, t=repr(threshold))
            text = f"fw.where({condition}, {x}, {other})"
            replay = lambda u, v: np.where(test(u, threshold), u, v)  # noqa: E731
            result = shape
        return _add_op(b, Op(out, text, (x, other), replay), [(out, Info(dtype, result))])
    if name == "softmax":
        op = Op(
            out,
            f"fw.softmax({x})",
            (x,),
            lambda v: (
                np.exp(v - v.max(-1, keepdims=True))
                / np.exp(v - v.max(-1, keepdims=True)).sum(-1, keepdims=True)
            ),
        )
        return _add_op(b, op, [(out, Info(dtype, shape))])
    if name == "norm":
        op = Op(out, f"fw.norm({x})", (x,), lambda v: np.sqrt(np.sum(v * v)))
        return _add_op(b, op, [(out, Info(dtype, ()))])
    n = shape[1]
    partners = [
        m
        for m in b.tensors(dtypes=(dtype,))
        if len(b.names[m].shape) == 2 and b.names[m].shape[0] == n
    ]
    if partners and b.coin(0.6):
        other = b.choose(partners)
        text = f"{x} @ {other}" if b.coin(0.4) else f"fw.matmul({x}, {other})"
        result = (shape[0], b.names[other].shape[1])
        return _add_op(b, Op(out, text, (x, other), np.matmul), [(out, Info(dtype, result))])
    value = _values(b, dtype, (n, b.choose((1, 2))))
    literal = (
        _value_text(value)
        if dtype in ("float32", "int32")
        else f"np.array({_value_text(value)}, dtype={_NP_NAMES[dtype]})"
    )
    b.uses_numpy |= literal.startswith("np.")
    text = f"{x} @ {literal}" if b.coin(0.3) else f"fw.matmul({x}, {literal})"
    op = Op(out, text, (x,), lambda v: np.matmul(v, value))
    return _add_op(b, op, [(out, Info(dtype, (shape[0], value.shape[1])))])


def stop_gradient_op(b: Builder, x: str) -> Op:
    info = b.names[x]
    out = b.fresh("t")
    made = _add_op(
        b,
        Op(out, f"fw.stop_gradient({x})", (x,), lambda v: v, freezes=True),
        [(out, Info(info.dtype, info.shape))],
    )
    for tape in b.tapes.values():
        tape.tracked.discard(out)  # the output is a new tensor no tape has seen
    return dataclasses.replace(made, tracked={k: (False,) for k in made.tracked})


def custom_gradient_op(b: Builder, x: str) -> list[Statement]:
    """A ``@fw.custom_gradient`` function (one or two outputs, or reading a variable) and its call."""
    info = b.names[x]
    if info.dtype not in FLOAT_DTYPES:
        return [unary_op(b, x)]
    b.features.add("custom_gradient")
    fn = b.fresh("f")
    variables = [
        n
        for n in b.tensors(dtypes=(info.dtype,))
        if b.names[n].variable and b.names[n].shape == () and b.names[n].trainable
    ]
    form = b.choose(("single", "two_outputs", "variable"))
    made_variable: list[Statement] = []
    if form == "variable" and not variables:  # a scalar variable for the function to read
        made_variable.append(leaf(b, dtype=info.dtype, shape=(), variable=True, trainable=True))
        variables = [made_variable[0].name]
    scale = b.choose((3.0, 2.0, 0.5))
    if form == "single":
        replay: Callable[..., Any] = lambda a: np.exp(a) * 2.0  # noqa: E731
        body = [
            f"def {fn}(a):",
            "    out = fw.exp(a) * 2.0",
            "    def grad(upstream):",
            f"        return upstream * {scale!r}",
            "    return out, grad",
        ]
        outs = [b.fresh("t")]
    elif form == "two_outputs":
        replay = lambda a: (a * 2.0, np.sin(a))  # noqa: E731
        body = [
            f"def {fn}(a):",
            "    first = a * 2.0",
            "    second = fw.sin(a)",
            "    def grad(up_first, up_second):",
            f"        return up_first * {scale!r} + up_second",
            "    return (first, second), grad",
        ]
        outs = [b.fresh("t"), b.fresh("t")]
    else:
        var = b.choose(variables)
        replay = np.multiply
        body = [
            f"def {fn}(a):",
            f"    out = a * {var}",
            "    def grad(upstream, variables=None):",
            f"        return upstream * {scale!r}, [fw.reduce_sum(upstream * a) for _ in variables]",
            "    return out, grad",
        ]
        outs = [b.fresh("t")]
    definition = Op(None, "\n".join(["@fw.custom_gradient", *body]))
    name = ", ".join(outs)
    made = _add_op(
        b,
        Op(name, f"{fn}({x})", (x,) + ((var,) if form == "variable" else ()), replay, opaque=True),
        [(o, Info(info.dtype, info.shape)) for o in outs],
    )
    return [*made_variable, definition, made]


def variable_op(b: Builder, v: str) -> Op:
    """``v.assign(...)``, ``v.assign_add(...)`` or ``v.read_value()``."""
    info = b.names[v]
    method = b.choose(("read_value", "assign_add", "assign"))
    if method == "read_value":
        out = b.fresh("t")
        return _add_op(
            b,
            Op(out, f"{v}.read_value()", (v,), lambda value: value),
            [(out, Info(info.dtype, info.shape))],
        )
    value = _values(b, info.dtype, info.shape)
    literal = (
        _value_text(value)
        if info.dtype in ("float32", "int32", "bool")
        else f"np.array({_value_text(value)}, dtype={_NP_NAMES[info.dtype]})"
    )
    b.uses_numpy |= literal.startswith("np.")
    for tape in b.recording():  # an assign is an access (V05)
        b.read_variables(tape, (v,))
    update = (lambda old: old + value) if method == "assign_add" else (lambda old: value)
    return Op(None, f"{v}.{method}({literal})", (v,), update, assigns=v)


# ---- tapes and gradients -------------------------------------------------------------------------


def _pick_target(b: Builder, tape: TapeState) -> str:
    """Usually the newest tensor the tape recorded (a connected target), sometimes any."""
    names = b.tensors()
    recorded = [n for n in names if n in tape.tracked]
    if recorded and not b.coin(0.2):
        return recorded[-1] if b.coin(0.7) else b.choose(recorded)
    return b.choose(list(reversed(names)))


def _pick_sources(b: Builder, tape: TapeState) -> list[str]:
    """Candidate sources: the watched leaves and variables first, then anything."""
    leaves = [n for n in b.tensors() if not n.startswith("g")]
    watched = [n for n in leaves if n in tape.tracked and not n.startswith("t")]
    return watched if watched and not b.coin(0.2) else leaves


def _slice_recorded(b: Builder, tape: TapeState, target: str) -> bool:
    """Whether a jacobian's slice of ``target`` is recorded: TF slices under the tape, so a
    tracked tensor, or a trainable variable read there (and so watched), is connected."""
    info = b.names[target]
    auto = info.variable and info.trainable and tape.watch_accessed and info.dtype in TRAINABLE
    return target in tape.tracked or auto


def _nest(b: Builder, names: list[str]) -> Any:
    form = b.choose(("single", "list", "dict", "nested"))
    picked = list(dict.fromkeys(b.choose(names) for _ in range(b.choose((2, 1, 3)))))
    if form == "single" or len(picked) == 1 and form != "list":
        return picked[0]
    if form == "list":
        return picked
    if form == "dict":
        return {f"k{i}": n for i, n in enumerate(picked)}
    return [picked[0], {"inner": picked[1:]}] if len(picked) > 1 else [picked]


def gradient_call(b: Builder, tape: TapeState) -> Statement:
    # jacobians cost TensorFlow ten times a gradient (pfor traces a function): drawn less often
    method = b.choose(("gradient",) * 8 + ("jacobian", "batch_jacobian"))
    target = _pick_target(b, tape)
    leaves = _pick_sources(b, tape)
    kwargs: list[tuple[str, str]] = []
    seeds = None
    zero = False
    if method == "batch_jacobian":
        t_shape = b.names[target].shape
        sources_ok = [
            n for n in leaves if len(b.names[n].shape) >= 2 and t_shape[:1] == b.names[n].shape[:1]
        ]
        if len(t_shape) < 2 or not sources_ok:
            method = "jacobian"
        else:
            sources: Any = b.choose(sources_ok)
            b.features.add("batch_jacobian")
    if method == "jacobian":
        sources = b.choose(leaves) if b.coin(0.7) else _nest(b, leaves)
        b.features.add("jacobian")
    if method == "gradient":
        targets: Any = target if b.coin(0.8) else _nest(b, b.tensors())
        sources = _nest(b, leaves)
        if isinstance(targets, str) and 0 not in b.names[targets].shape and b.coin(0.2):
            t_info = b.names[targets]
            seed = _values(b, t_info.dtype, t_info.shape)
            text = (
                _value_text(seed)
                if t_info.dtype == "float32"
                else f"np.array({_value_text(seed)}, dtype={_NP_NAMES[t_info.dtype]})"
            )
            b.uses_numpy |= text.startswith("np.")
            name = b.fresh("s")
            b.names[name] = Info(t_info.dtype, t_info.shape)
            seeds = (name,)
            seed_leaf = Leaf(name, "constant", text, seed, t_info.dtype, t_info.shape)
            kwargs.append(("output_gradients", f"[{name}]" if b.coin(0.5) else name))
    else:
        targets = target
    if method in ("jacobian", "batch_jacobian") and b.coin(0.3):
        kwargs.append(("experimental_use_pfor", "False"))
    if b.coin(0.2):
        zero = True
        kwargs.append(
            ("unconnected_gradients", b.choose(('"zero"', "fw.UnconnectedGradients.ZERO")))
        )
    elif b.coin(0.05):
        kwargs.append(
            ("unconnected_gradients", b.choose(('"none"', "fw.UnconnectedGradients.NONE")))
        )
    name = b.fresh("g")
    connected = tuple(_slice_recorded(b, tape, n) for n in flatten_nest(targets))
    call = GradientCall(
        name,
        tape.name,
        method,
        targets,
        sources,
        tuple(kwargs),
        seeds,
        zero,
        connected,
        frozenset(tape.tracked),
    )
    b.returns.append(name)
    if method == "gradient" and isinstance(sources, str) and isinstance(targets, str):
        # a single gradient is a tensor later ops may use (nested derivatives)
        source_info = b.names[sources]
        b.names[name] = Info(source_info.dtype, source_info.shape, maybe_none=not zero)
        if not zero and (targets == sources or targets in tape.tracked) and sources in tape.tracked:
            b.names[name].maybe_none = False
        for outer in b.recording():
            if outer is not tape and targets in outer.tracked:
                outer.tracked.add(name)
    if tape.recording and not tape.persistent:
        tape.recording = False  # a non-persistent tape's gradient inside its context ends recording
    if seeds:
        return _Seq(seed_leaf, call)
    return call


class _Seq(tuple):
    """Two statements generated together (an output_gradients constant and its call)."""

    def __new__(cls, *statements: Statement) -> _Seq:
        return super().__new__(cls, statements)


def body_statement(b: Builder, depth: int, open_tapes: list[TapeState]) -> list[Statement]:
    b.statements_left -= 1
    choice = b.choose(
        (
            "op",
            "op",
            "op",
            "watch",
            "op",
            "block",
            "gradient",
            "variable",
            "stop_recording",
            "reset",
            "custom",
            "leaf",
            "watched_variables",
        )
    )
    tensors = b.tensors()
    if choice == "watch":
        tape = b.choose(open_tapes)
        watched = b.choose(tensors) if b.coin(0.8) else _nest(b, tensors)
        names = [watched] if isinstance(watched, str) else flatten_nest(watched)
        tape_text = render_nest(watched)
        for name in names:
            if b.names[name].dtype in TRAINABLE and tape.recording:
                tape.tracked.add(name)
        return [Op(None, f"{tape.name}.watch({tape_text})")]
    if choice == "block" and depth < MAX_DEPTH and b.statements_left > 2:
        return [tape_block(b, depth + 1)]
    if choice == "gradient":
        return _flat([gradient_call(b, b.choose(open_tapes))])
    if choice == "variable":
        variables = [n for n in tensors if b.names[n].variable]
        if variables:
            return [variable_op(b, b.choose(variables))]
    if choice == "stop_recording":
        tape = b.choose(open_tapes)
        if tape.recording:
            b.features.add("stop_recording")
            tape.recording = False
            inner = [op_statement(b)]
            tape.recording = True
            return [TapeBlock((), tuple(_flat(inner)), stop_recording=tape.name)]
    if choice == "reset":
        tape = b.choose(open_tapes)
        if tape.recording:
            b.features.add("reset")
            tape.tracked.clear()
            return [Op(None, f"{tape.name}.reset()", resets=tape.name)]
    if choice == "custom":
        return custom_gradient_op(b, b.choose(tensors))
    if choice == "leaf":
        return [leaf(b)]
    if choice == "watched_variables":
        tape = b.choose(open_tapes)
        b.features.add("watched_variables")
        name = b.fresh("n")
        b.returns.append(name)
        return [Op(name, f"len({tape.name}.watched_variables())")]
    return _flat([op_statement(b)])


def _flat(statements: list[Any]) -> list[Statement]:
    flat: list[Statement] = []
    for statement in statements:
        flat.extend(statement if isinstance(statement, (_Seq, list)) else [statement])
    return flat


def pick_operand(b: Builder) -> str:
    """Usually one of the newest tensors (programs grow chains), sometimes any."""
    names = b.tensors()
    return b.choose(names[-1:-4:-1]) if b.coin(0.7) else b.choose(names)


def op_statement(b: Builder) -> Statement | list[Statement]:
    x = pick_operand(b)
    kind = b.choose(
        (
            "binary",
            "unary",
            "binary",
            "unary",
            "reduce",
            "shape",
            "combine",
            "unary",
            "cast",
            "stop_gradient",
        )
    )
    if b.names[x].dtype == "bool":
        return cast_op(b, x)
    if _kind(b.names[x].dtype) == "c" and b.coin(0.4):
        kind = "unary"  # complex tensors are rare: their own ops (real, imag, conj) are unary
    if len(b.names[x].shape) == 2 and b.coin(0.2):
        kind = "combine"  # matmul needs a matrix: draw it whenever one is at hand
    maker = {
        "binary": binary_op,
        "unary": unary_op,
        "reduce": reduce_op,
        "shape": shape_op,
        "combine": combine_op,
        "cast": cast_op,
        "stop_gradient": stop_gradient_op,
    }[kind]
    return maker(b, x)


def tape_block(b: Builder, depth: int) -> TapeBlock:
    count = 2 if b.coin(0.15) else 1
    opened = []
    for _ in range(count):
        persistent = b.coin(0.4)
        watch_accessed = not b.coin(0.15)
        name = b.fresh("tape")
        args = []
        if persistent:
            args.append("persistent=True")
        if not watch_accessed:
            args.append("watch_accessed_variables=False")
            b.features.add("watch_accessed_variables")
        state = TapeState(name, persistent, watch_accessed, recording=True, entered=True)
        b.tapes[name] = state
        opened.append((state, ", ".join(args)))
    states = [s for s, _ in opened]
    body: list[Statement] = []
    constants = [n for n in b.tensors(dtypes=TRAINABLE) if not b.names[n].variable]
    if constants and b.coin(0.75):  # most programs watch a constant first
        watched = constants[-1] if b.coin(0.6) else b.choose(constants)
        for state in states:
            state.tracked.add(watched)
            body.append(Op(None, f"{state.name}.watch({watched})"))
    for _ in range(b.draw(st.integers(1, 5))):
        if b.statements_left <= 0:
            break
        body.extend(body_statement(b, depth, states))
    for state in states:
        state.recording = False
    return TapeBlock(tuple((s.name, args) for s, args in opened), tuple(body))


@st.composite
def programs(draw: Callable[[Any], Any]) -> Program:
    """A random tape program (see the module docstring for what it reaches)."""
    b = Builder(draw)
    statements: list[Statement] = [
        leaf(b, dtype=b.choose(("float32", "float64")) if b.coin(0.7) else None)
    ]
    for _ in range(draw(st.integers(0, 2))):
        statements.append(leaf(b))
    for _ in range(draw(st.integers(0, 1))):
        statements.extend(_flat([op_statement(b)]))  # an op before any tape
    for _ in range(draw(st.integers(1, 2))):
        block = tape_block(b, 1)
        statements.append(block)
        tapes = [b.tapes[name] for name, _ in block.tapes]
        for _ in range(draw(st.integers(0 if b.returns else 1, 2))):
            statements.extend(_flat([gradient_call(b, b.choose(tapes))]))
    if b.coin(0.15):
        statements.extend(_flat([op_statement(b)]))  # an op after the tapes
        b.returns.append(statements[-1].name)  # type: ignore[union-attr]
    return Program(tuple(statements), tuple(b.returns), tuple(sorted(b.features)), b.uses_numpy)
