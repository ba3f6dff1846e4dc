"""The JAX adapter: TensorFlow-shaped tape code answered by JAX's function transformations.

JAX has no tape. The namespace records every neutral op as it runs (``adapters._jax_trace``) and
answers ``GradientTape.gradient`` with ``jax.vjp`` over the function that maps the requested sources
to the target, replayed from the recording; nested gradients become nested transformations. Where
JAX's semantics differ from TensorFlow's (no watching, zeros instead of ``None``, reusable
pullbacks, no float64 by default) the adapter shows JAX's behaviour and never emulates TF's: the
differences are declared divergences, and every translation decision is a row of ``mappings()``.

    >>> from adapters.jax_adapter import JaxAdapter
    >>> fw = JaxAdapter().namespace("CPU:0")
    >>> x = fw.constant(3.0)
    >>> with fw.GradientTape() as tape:
    ...     y = x * x
    >>> float(tape.gradient(y, x))   # JAX: x is an argument, watched or not
    6.0
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.kit import ErrorRule, classify_by_rules
from conformance.protocol import FEATURES, ErrorKind, Mapping_

__all__ = ["JaxAdapter", "JAX_ERROR_RULES"]

_INSTALL_HINT = "jax is not installed (pip install 'tape-conformance[jax]', or 'jax[cpu]==0.10.2')"

#: Neutral ops whose arguments are all tensors: neutral name -> the native function recorded.
#: The same table builds the namespace and the mapping rows, so the report cannot drift.
_TENSOR_OPS: dict[str, str] = {
    "add": "jnp.add",
    "subtract": "jnp.subtract",
    "multiply": "jnp.multiply",
    "divide": "jnp.divide",
    "pow": "jnp.power",
    "maximum": "jnp.maximum",
    "minimum": "jnp.minimum",
    "negative": "jnp.negative",
    "square": "jnp.square",
    "sqrt": "jnp.sqrt",
    "exp": "jnp.exp",
    "log": "jnp.log",
    "sin": "jnp.sin",
    "cos": "jnp.cos",
    "tanh": "jnp.tanh",
    "sigmoid": "jax.nn.sigmoid",
    "relu": "jax.nn.relu",
    "abs": "jnp.abs",
    "sign": "jnp.sign",
    "floor": "jnp.floor",
    "round": "jnp.round",
    "real": "jnp.real",
    "imag": "jnp.imag",
    "conj": "jnp.conj",
    "norm": "jnp.linalg.norm",
    "where": "jnp.where",
    "matmul": "jnp.matmul",
    "identity": "jnp.asarray",
    "zeros_like": "jnp.zeros_like",
    "ones_like": "jnp.ones_like",
    "stop_gradient": "jax.lax.stop_gradient",
    # protocol 1.2, extended_ops
    "equal": "jnp.equal",
    "not_equal": "jnp.not_equal",
    "greater": "jnp.greater",
    "greater_equal": "jnp.greater_equal",
    "less": "jnp.less",
    "less_equal": "jnp.less_equal",
    "logical_and": "jnp.logical_and",
    "logical_or": "jnp.logical_or",
    "logical_not": "jnp.logical_not",
    "ceil": "jnp.ceil",
    "reciprocal": "jnp.reciprocal",
    "clip_by_value": "jnp.clip",
}

#: Neutral dtype name -> the jnp scalar type (float64/complex128/int64 truncate with x64 off).
_DTYPES: dict[str, str] = {
    "float16": "float16",
    "float32": "float32",
    "float64": "float64",
    "int32": "int32",
    "int64": "int64",
    "bool": "bool_",
    "complex64": "complex64",
    "complex128": "complex128",
}

_UNSUPPORTED: dict[str, str] = {
    "watch_accessed_variables": "JAX differentiates functions, not recordings: there is no "
    "automatic watching to turn off; pass only the wanted sources",
    "watched_variables": "JAX differentiates functions, not recordings: the differentiated "
    "parameters are exactly the sources passed to gradient",
    "stop_recording": "JAX differentiates functions, not recordings: use jax.lax.stop_gradient "
    "(fw.stop_gradient) on the values to exclude",
    "reset": "JAX differentiates functions, not recordings: there is no tape to reset",
    "float64": "jax_enable_x64 is off by default: float64 requests give float32 (with a "
    "UserWarning), and the adapter keeps JAX's default",
    "strings": "JAX arrays are numeric only: there is no string dtype",
}


# ---- errors ----------------------------------------------------------------------------------

_TRACER_ERRORS = (  # a traced value used where Python needs a concrete one, or leaked
    "ConcretizationTypeError",  # includes TracerBoolConversionError
    "TracerArrayConversionError",
    "TracerIntegerConversionError",
    "UnexpectedTracerError",
)

#: (exception type names, message regex, kind), first match wins; each rule is tested with
#: an error raised by real JAX code (tests/test_jax_adapter.py).
JAX_ERROR_RULES: tuple[ErrorRule, ...] = (
    ErrorRule(
        (),
        r"requires real- or complex-valued inputs|requires real-valued outputs",
        ErrorKind.DTYPE_NOT_DIFFERENTIABLE,
    ),
    ErrorRule(
        (),
        r"incompatible shapes|contracting dimensions to have the same shape|cannot reshape array"
        r"|inconsistent sizes for array axes|rank should be at least",
        ErrorKind.SHAPE_MISMATCH,
    ),
    ErrorRule((), r"requires arguments to have the same dtypes", ErrorKind.DTYPE_MISMATCH),
    ErrorRule(
        (),
        r"Reverse-mode differentiation does not work|Differentiation rule for .* not implemented",
        ErrorKind.NOT_DIFFERENTIABLE,
    ),
    ErrorRule((), r"tree structure|\(pytree\) structure", ErrorKind.INVALID_ARGUMENT),
    ErrorRule((), r"not a valid JAX (array )?type", ErrorKind.INVALID_ARGUMENT),
    *(ErrorRule((name,), r"", ErrorKind.INVALID_ARGUMENT) for name in _TRACER_ERRORS),
    ErrorRule(("AttributeError",), r"", ErrorKind.INTERNAL),
    ErrorRule(("TypeError",), r"", ErrorKind.INVALID_ARGUMENT),
    ErrorRule(("ValueError",), r"", ErrorKind.INVALID_ARGUMENT),
    ErrorRule(("IndexError",), r"", ErrorKind.INVALID_ARGUMENT),
)

#: "got float32[3], but expected float32[2]": JAX names both types; which part differs decides.
_TYPE_PAIR = re.compile(r"got (\w+)\[([^\]]*)\],? but expected (\w+)\[([^\]]*)\]")


def _classify_type_pair(message: str) -> ErrorKind | None:
    """Shape or dtype mismatch from a JAX message that names the got/expected types."""
    found = _TYPE_PAIR.search(message)
    if found is None:
        return None
    got_dtype, got_shape, want_dtype, want_shape = found.groups()
    if got_shape != want_shape:
        return ErrorKind.SHAPE_MISMATCH
    return ErrorKind.DTYPE_MISMATCH if got_dtype != want_dtype else None


def _matching_rule(error: BaseException) -> int | None:
    """Index of the first rule of ``JAX_ERROR_RULES`` that ``error`` matches."""
    return next((i for i, rule in enumerate(JAX_ERROR_RULES) if rule.matches(error)), None)


def classify_jax_error(error: BaseException) -> ErrorKind:
    """Map an exception raised through JAX to a neutral kind, by type name and message."""
    by_types = _classify_type_pair(str(error))
    if by_types is not None:
        return by_types
    return classify_by_rules(error, JAX_ERROR_RULES)


# ---- mapping decisions --------------------------------------------------------------------

_DECISIONS: tuple[Mapping_, ...] = (
    Mapping_(
        "a tensor",
        "TracedArray: a jax.Array plus the node that produced it",
        "JAX has no tape: the adapter records each op so it can replay it as a function",
    ),
    Mapping_(
        "constant(value, dtype)",
        "jnp.asarray(value, dtype=dtype, device=device), a new leaf",
        "JAX's own defaults: Python floats become float32, ints int32 (x64 off); host data is "
        "converted by NumPy to the type jnp.asarray gives and transferred with jax.device_put, "
        "so a new shape compiles nothing",
    ),
    Mapping_(
        "Variable(value, trainable=)",
        "a leaf that assign/assign_add replace",
        "a JAX parameter is a value in a pytree; updating it makes a new value, so reads before "
        "and after an assign hang off different leaves; trainable changes nothing",
    ),
    Mapping_(
        "variable read (v * v, read_value)",
        "a recorded read_variable node on the current leaf",
        "gradient(y, v) differentiates with respect to the leaf v holds at that time",
    ),
    Mapping_(
        "GradientTape(persistent=)",
        "no native object; persistent is ignored",
        "a pullback returned by jax.vjp can be called any number of times",
    ),
    Mapping_(
        "GradientTape(watch_accessed_variables=False)",
        "NotImplementedError",
        "JAX has no automatic watching to turn off",
    ),
    Mapping_(
        "with GradientTape()",
        "nothing: recording is always on",
        "JAX has no notion of being outside the tape: any value can be differentiated against",
    ),
    Mapping_(
        "tape.watch(x)",
        "no-op (its argument is not checked)",
        "the differentiated arguments are the sources given to gradient, watched or not",
    ),
    Mapping_(
        "tape.gradient(target, sources)",
        "out, pullback = jax.vjp(f, *sources); pullback(ones_like(out))",
        "f replays the recording from the sources to the target; everything else is a "
        "closed-over value; the result is packed into the structure of sources",
    ),
    Mapping_(
        "gradient(..., output_gradients=g)",
        "pullback(g)",
        "JAX checks the cotangent's structure, shape and dtype against the target "
        "(no broadcasting)",
    ),
    Mapping_(
        "gradient(..., unconnected_gradients=)",
        "ignored: unconnected sources get zeros",
        "jax.vjp returns zeros for arguments the function does not use, never None",
    ),
    Mapping_(
        "gradient of an integer or bool source",
        "jax.grad's input check (its TypeError)",
        "jax.vjp alone would return float0 zeros; jax.grad is what a JAX user writes for "
        "tape.gradient, so its check is the idiomatic answer",
    ),
    Mapping_(
        "gradient of an integer or bool target (no output_gradients)",
        "jax.grad's output check (its TypeError)",
        "jax.vjp seeded with ones would answer zeros; jax.grad refuses such outputs, as "
        "jax.jacrev (jacobian) does; several targets are summed first, so one floating "
        "target among them is enough",
    ),
    Mapping_(
        "a target that is not a tensor (None, Python number, NumPy array)",
        "TypeError raised by the adapter",
        "JAX differentiates the array outputs of a function of the sources: jax.vjp would "
        "silently answer zeros for a constant (jax.grad rejects only None)",
    ),
    Mapping_(
        "a None or Python number source",
        "a jax.vjp argument like any other",
        "None is an empty pytree, so its gradient is None; a Python float is a weakly typed "
        "scalar, so an unused one gets 0.0",
    ),
    Mapping_(
        "a source given twice",
        "one jax.vjp argument, its gradient returned at both places",
        "a JAX function takes each parameter once",
    ),
    Mapping_(
        "a source computed from another source",
        "the replay cuts the recording at the source",
        "f takes every source as its own argument, so paths into a source from earlier values "
        "are not replayed: with sources [x, a] and a = 2x, x's gradient counts only the paths "
        "that avoid a (jax.vjp of f(x, a)), where TensorFlow also counts the path through a",
    ),
    Mapping_(
        "nested tapes / gradient of a gradient",
        "the gradient is a recorded node whose function is jax.vjp of the replayed sub-graph",
        "an outer gradient replays it under JAX tracers: jax differentiates jax.vjp (nested "
        "transformations), wherever the inner gradient was computed",
    ),
    Mapping_(
        "tape.jacobian(target, sources)",
        "jax.jacrev(f, argnums=all sources)",
        "experimental_use_pfor and parallel_iterations are ignored; a nest target gives "
        "a nest per source",
    ),
    Mapping_(
        "tape.batch_jacobian(target, source)",
        "jax.vmap(jax.jacrev(per_example))(source, arange(target rows))",
        "per_example(row, b) puts row into source row b (jnp.where), reads target row b: true "
        "per-example jacobians even when rows interact; target and source must each be one "
        "tensor (a TypeError otherwise), as vmap maps over one array",
    ),
    Mapping_(
        "running jacobian, batch_jacobian",
        "jax.jit of the transformation for a graph of at most 64 jnp nodes, one compiled "
        "program per graph structure",
        "jacrev and vmap run every primitive batched, and eager JAX compiles each on first use "
        "(tens of milliseconds on CPU); a graph with the same primitives, constants and wiring "
        "reuses the program (jax.jit recompiles it for new shapes or dtypes); gradient stays an "
        "eager jax.vjp (cheap when repeated), and a graph with a custom gradient stays eager so "
        "grad_fn sees concrete values",
    ),
    Mapping_(
        "stop_recording(), reset(), watched_variables()",
        "NotImplementedError",
        "JAX differentiates functions, not recordings",
    ),
    Mapping_(
        "custom_gradient(f)",
        "jax.custom_vjp per call: fwd = f's outputs (inputs as "
        "residuals), bwd = f's grad_fn(*upstream)",
        "bwd re-runs f to get grad_fn (a closure is not a JAX residual); JAX zero-fills "
        "unused outputs' upstreams and checks what grad_fn returns; variables are not passed",
    ),
    Mapping_(
        "op arguments that are lists or NumPy arrays",
        "jnp.asarray(argument)",
        "TensorFlow converts them implicitly; jnp functions reject lists",
    ),
    Mapping_("Python scalar op arguments", "passed as they are", "JAX's weak typing applies"),
    Mapping_(
        "cast(x, dtype)", "jnp.astype(x, dtype)", "a cast to an integer type has zero gradient"
    ),
    Mapping_(
        "zeros(shape, dtype), ones(shape, dtype)",
        "jnp.zeros / jnp.ones on the device, a leaf",
        "created values, like constant: float32 by default as in TensorFlow and JAX",
    ),
    Mapping_("softmax(x, axis)", "jax.nn.softmax(x, axis=axis)", "tf.nn.softmax's JAX twin"),
    Mapping_(
        "reduce_sum / reduce_mean / reduce_max",
        "jnp.sum / jnp.mean / jnp.max (axis, keepdims)",
        "same meaning; JAX splits a max's gradient evenly between ties",
    ),
    Mapping_(
        "reshape, transpose, tile",
        "jnp.reshape(shape), jnp.transpose(axes=perm), jnp.tile(reps)",
        "shapes, perms and multiples are static arguments",
    ),
    Mapping_("concat, stack", "jnp.concatenate, jnp.stack", "same meaning, axis passed through"),
    Mapping_(
        "gather(params, indices, axis)",
        "jnp.take(params, indices, axis=axis)",
        "JAX gradients are dense: no IndexedSlices",
    ),
    Mapping_("x[index]", "a recorded x[index]", "tensor indices are used by value"),
    Mapping_(
        "operators + - * / ** @ < > <= >= == != abs()",
        "jnp.add, subtract, multiply, true_divide, power, matmul, less, ..., equal, abs",
        "== is elementwise like tf.Tensor's, so tensors are unhashable (like jax.Array)",
    ),
    Mapping_(
        "operators & | ^ ~ (1.2)",
        "jnp.bitwise_and, bitwise_or, bitwise_xor, bitwise_not",
        "jax.Array's own operators: logical on bool, bitwise on integers",
    ),
    Mapping_(
        "argmax(x, axis=None) (1.2, extended_ops)",
        "jnp.argmax(x, axis=axis)",
        "JAX's default axis=None flattens (TF's default is axis 0); int32 with x64 off",
    ),
    Mapping_(
        "reduce_min / reduce_prod (1.2)",
        "jnp.min / jnp.prod (axis, keepdims)",
        "same meaning; jnp.min splits the gradient evenly between ties",
    ),
    Mapping_(
        "tensordot(a, b, axes) (1.2)",
        "jnp.tensordot(a, b, axes=axes)",
        "axes are static: an int or a pair of axis tuples",
    ),
    Mapping_(
        "broadcast_to, expand_dims, squeeze, unstack (1.2)",
        "jnp.broadcast_to, jnp.expand_dims, jnp.squeeze, jnp.unstack (one node, several outputs)",
        "same meaning; unstack's pieces are a list, as TF's",
    ),
    Mapping_(
        "range(start, limit=None, delta=1, dtype=None) (1.2)",
        "jnp.arange(start, limit, delta, dtype) on the device, a leaf",
        "JAX's defaults: int bounds give int32, float bounds float32 (x64 off)",
    ),
    Mapping_(
        "cond(pred, true_fn, false_fn), while_loop(cond, body, loop_vars) (1.2)",
        "Python if / while on bool(pred), each op recorded as it runs",
        "TF's eager cond and while_loop run in Python too; lax.cond/lax.while_loop stage both "
        "branches into a compiled conditional (and lax.while_loop cannot be reverse-"
        "differentiated); JAX differentiates Python control flow on concrete values",
    ),
    Mapping_(
        "float16 ... complex128 dtypes",
        "jnp.float16 ... jnp.complex128",
        "float64/int64/complex128 truncate to 32-bit with a UserWarning (jax_enable_x64 is off)",
    ),
    Mapping_(
        "device 'CPU:0' / 'GPU:0'",
        "jax.devices('cpu'|'gpu')[0] for created tensors",
        "ops follow their inputs' device",
    ),
)


def _op_rows() -> tuple[Mapping_, ...]:
    return tuple(
        Mapping_(name, native, "the jax.numpy function of that meaning")
        for name, native in _TENSOR_OPS.items()
    )


# ---- the namespace ---------------------------------------------------------------------------


def _resolve_native(path: str) -> Callable[..., Any]:
    """``"jnp.linalg.norm"`` -> the function (``jnp`` is ``jax.numpy``)."""
    import jax
    import jax.numpy as jnp

    roots = {"jnp": jnp, "jax": jax}
    head, *rest = path.split(".")
    target: Any = roots[head]
    for part in rest:
        target = getattr(target, part)
    return target


def _static(value: Any) -> Any:
    """A shape/axis/perm argument as a Python value (tensors are read, lists become tuples)."""
    import numpy as np

    from adapters import _jax_trace as trace

    if isinstance(value, (trace.TracedArray, trace.Variable)):
        value = np.asarray(value).tolist()
    return tuple(value) if isinstance(value, list) else value


def _concatenate(*arrays: Any, axis: int) -> Any:
    import jax.numpy as jnp

    return jnp.concatenate(arrays, axis=axis)


def _stack(*arrays: Any, axis: int) -> Any:
    import jax.numpy as jnp

    return jnp.stack(arrays, axis=axis)


def _astype(x: Any, *, dtype: Any) -> Any:
    """``jnp.astype`` with the dtype as a keyword (a node's static arguments are keywords, and
    ``jnp.astype`` takes ``dtype`` positionally only)."""
    import jax.numpy as jnp

    return jnp.astype(x, dtype)


def _tensor_op(native: Callable[..., Any]) -> Callable[..., Any]:
    from adapters._jax_trace import record

    def op(*tensors: Any) -> Any:
        return record(native, tensors)

    op.__name__ = getattr(native, "__name__", "op")
    return op


def _shaped_ops() -> dict[str, Callable[..., Any]]:
    """Neutral ops with static arguments, each one recorded native call."""
    import jax
    import jax.numpy as jnp

    from adapters._jax_trace import record

    def reduction(native: Callable[..., Any]) -> Callable[..., Any]:
        def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
            return record(native, (x,), {"axis": _static(axis), "keepdims": keepdims})

        return reduce

    return {
        "cast": lambda x, dtype: record(_astype, (x,), {"dtype": dtype}),
        "softmax": lambda x, axis=-1: record(jax.nn.softmax, (x,), {"axis": axis}),
        "reduce_sum": reduction(jnp.sum),
        "reduce_mean": reduction(jnp.mean),
        "reduce_max": reduction(jnp.max),
        "reshape": lambda x, shape: record(jnp.reshape, (x,), {"shape": _static(shape)}),
        "transpose": lambda x, perm=None: record(jnp.transpose, (x,), {"axes": _static(perm)}),
        "concat": lambda values, axis: record(_concatenate, tuple(values), {"axis": axis}),
        "stack": lambda values, axis=0: record(_stack, tuple(values), {"axis": axis}),
        "gather": lambda params, indices, axis=0: record(
            jnp.take, (params, indices), {"axis": axis}
        ),
        "tile": lambda x, multiples: record(jnp.tile, (x,), {"reps": _static(multiples)}),
        # protocol 1.2, extended_ops
        "argmax": lambda x, axis=None: record(jnp.argmax, (x,), {"axis": axis}),
        "reduce_min": reduction(jnp.min),
        "reduce_prod": reduction(jnp.prod),
        "tensordot": lambda a, b, axes: record(jnp.tensordot, (a, b), {"axes": _axes(axes)}),
        "broadcast_to": lambda x, shape: record(jnp.broadcast_to, (x,), {"shape": _static(shape)}),
        "expand_dims": lambda x, axis: record(jnp.expand_dims, (x,), {"axis": axis}),
        "squeeze": lambda x, axis=None: record(jnp.squeeze, (x,), {"axis": _static(axis)}),
        "unstack": lambda x, axis=0: list(
            record(jnp.unstack, (x,), {"axis": axis}, multiple_outputs=True)
        ),
        "cond": _python_cond,
        "while_loop": _python_while_loop,
    }


def _axes(axes: Any) -> Any:
    """tensordot's axes as a static value: an int, or a pair of axis tuples (an int per
    operand is a one-axis tuple)."""
    if isinstance(axes, int):
        return axes
    return tuple(tuple(group) if isinstance(group, (list, tuple)) else (group,) for group in axes)


def _python_cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """TF's eager cond is Python's if: the branch taken is recorded as it runs."""
    return true_fn() if bool(pred) else false_fn()


def _python_while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any) -> Any:
    """TF's eager while_loop is Python's while: the iterations are recorded as they run."""
    values = list(loop_vars)
    while bool(cond(*values)):
        values = list(body(*values))
    return type(loop_vars)(values)


@functools.cache
def _namespace_names(device: str) -> dict[str, Any]:
    """The neutral names for ``device`` (built once; each namespace gets its own copy)."""
    import jax
    import jax.numpy as jnp

    from adapters import _jax_trace as trace

    platform, _, index = device.partition(":")
    native_device = jax.devices(platform.lower())[int(index or 0)]
    variable_class = type("Variable", (trace.Variable,), {"_device": native_device})
    variable_class.__module__ = trace.__name__
    dtypes = {name: getattr(jnp, native) for name, native in _DTYPES.items()}

    def constant(value: Any, dtype: Any = None) -> Any:
        return trace.constant(value, dtype, native_device)

    def filled(native: Callable[..., Any]) -> Callable[..., Any]:
        def create(shape: Any, dtype: Any = jnp.float32) -> Any:
            return trace.TracedArray(native(_static(shape), dtype, device=native_device))

        return create

    names: dict[str, Any] = {
        **dtypes,
        **{name: _tensor_op(_resolve_native(native)) for name, native in _TENSOR_OPS.items()},
        **_shaped_ops(),
        "constant": constant,
        "Variable": variable_class,
        "GradientTape": trace.GradientTape,
        "UnconnectedGradients": trace.UnconnectedGradients,
        "custom_gradient": trace.custom_gradient,
        "zeros": filled(jnp.zeros),
        "ones": filled(jnp.ones),
        "range": lambda start, limit=None, delta=1, dtype=None: trace.TracedArray(
            jnp.arange(_static(start), _static(limit), _static(delta), dtype, device=native_device)
        ),
    }
    return names


# ---- the adapter -----------------------------------------------------------------------------


class JaxAdapter:
    """JAX 0.10 behind the neutral tape API (see the module docstring)."""

    name = "jax"
    protocol_version = "1.2"
    distribution = "jax"

    def available(self) -> str | None:
        try:
            import jax  # noqa: F401
        except ImportError as error:
            return f"{_INSTALL_HINT}: {error}"
        return None

    def version(self) -> str:
        import jax

        return jax.__version__

    def devices(self) -> Sequence[str]:
        import jax

        try:
            has_gpu = bool(jax.devices("gpu"))
        except RuntimeError:  # JAX raises when no GPU backend is present
            has_gpu = False
        return ["CPU:0", "GPU:0"] if has_gpu else ["CPU:0"]

    def features(self, device: str | None = None) -> Mapping[str, str | None]:
        return {name: _UNSUPPORTED.get(name) for name in FEATURES}

    def namespace(self, device: str) -> Any:
        return types.SimpleNamespace(**_namespace_names(device))

    def to_numpy(self, value: Any) -> Any:
        import numpy as np

        from adapters import _jax_trace as trace

        if isinstance(value, trace.Variable):
            return np.asarray(value.handle.value)
        if isinstance(value, trace.TracedArray):
            return np.asarray(value.value)
        if self._is_jax_array(value):
            return np.asarray(value)
        return value

    def dtype_name(self, value: Any) -> str:
        return str(value.dtype)

    def is_tensor(self, value: Any) -> bool:
        from adapters import _jax_trace as trace

        return isinstance(value, (trace.TracedArray, trace.Variable)) or self._is_jax_array(value)

    @staticmethod
    def _is_jax_array(value: Any) -> bool:
        import jax

        return isinstance(value, jax.Array)

    def classify_error(self, error: BaseException) -> ErrorKind:
        return classify_jax_error(error)

    def warning_loggers(self) -> Sequence[str]:
        # JAX logs through the "jax" logger tree (e.g. jax._src.xla_bridge's platform fallback);
        # its dtype truncation warnings go through ``warnings``, which the runner records anyway.
        return ["jax"]

    def mappings(self) -> Sequence[Mapping_]:
        return _DECISIONS + _op_rows()

    def divergences_path(self) -> str | None:
        return str(Path(__file__).resolve().parent / "divergences" / "jax.toml")
