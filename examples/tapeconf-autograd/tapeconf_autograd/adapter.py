"""HIPS autograd behind the neutral tape API: an out-of-tree tapeconf adapter.

autograd has no tape and no tensor type: it differentiates Python functions of NumPy arrays. The
namespace records every neutral op as it runs (``tapeconf_autograd._trace``) and answers
``GradientTape.gradient`` with ``autograd.make_vjp`` over the function that maps the requested
sources to the target; nested gradients become nested autograd traces. Where autograd's semantics
differ from TensorFlow's (no watching, zeros instead of ``None``, reusable vjps, its own complex
convention) the adapter shows autograd's behaviour: the differences are declared in
``divergences.toml``, and every translation decision is a row of ``mappings()``.

    >>> fw = AutogradAdapter().namespace("CPU:0")
    >>> x = fw.constant(3.0)
    >>> with fw.GradientTape() as tape:
    ...     y = x * x
    >>> float(tape.gradient(y, x))   # autograd: x is an argument, watched or not
    6.0
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata, resources
from typing import Any

from conformance.kit import ErrorRule, classify_by_rules, flatten, pack_sequence_as
from conformance.protocol import FEATURES, ErrorKind, Mapping_

__all__ = ["AUTOGRAD_ERROR_RULES", "AutogradAdapter", "classify_autograd_error"]

_NO_TAPE = "autograd differentiates functions, not recordings"

#: Why a feature is unsupported, in words a user porting TensorFlow code can act on.
_UNSUPPORTED: dict[str, str] = {
    "variables": "autograd has no variable type: parameters are plain arrays passed to the "
    "differentiated function, and updating one makes a new array",
    "watch_accessed_variables": f"{_NO_TAPE}: there is no automatic watching to turn off; "
    "pass only the wanted sources",
    "watched_variables": f"{_NO_TAPE}: the differentiated arrays are exactly the sources",
    "stop_recording": f"{_NO_TAPE}: apply fw.stop_gradient to the values to exclude",
    "reset": f"{_NO_TAPE}: there is no tape to reset",
    "batch_jacobian": "autograd has no per-example jacobian (no vmap): take autograd.jacobian "
    "and keep its diagonal blocks",
    "threads": f"{_NO_TAPE}: there is no tape to be thread-local",
    "strings": "autograd differentiates numeric arrays only; keep strings outside the function",
}

# ---- errors ------------------------------------------------------------------------------------

#: (exception type names, message regex, kind), first match wins; each rule is tested with
#: an error raised by real autograd/NumPy code (tests/test_tapeconf_autograd.py).
AUTOGRAD_ERROR_RULES: tuple[ErrorRule, ...] = (
    ErrorRule(("TypeError",), r"Can't differentiate w\.r\.t\. type", ErrorKind.DTYPE_NOT_DIFFERENTIABLE),
    ErrorRule(("NotImplementedError",), r"VJP of .* not defined", ErrorKind.NOT_DIFFERENTIABLE),
    ErrorRule(
        ("ValueError",),
        r"could not be broadcast|mismatch in its core dimension|cannot reshape array"
        r"|input array dimensions .* must match|must have the same shape",
        ErrorKind.SHAPE_MISMATCH,
    ),
    ErrorRule(("AttributeError",), r"", ErrorKind.INTERNAL),
    ErrorRule(("TypeError",), r"", ErrorKind.INVALID_ARGUMENT),
    ErrorRule(("ValueError",), r"", ErrorKind.INVALID_ARGUMENT),
    ErrorRule(("IndexError",), r"", ErrorKind.INVALID_ARGUMENT),
)


def classify_autograd_error(error: BaseException) -> ErrorKind:
    """Map an exception raised through autograd or NumPy to a neutral kind."""
    return classify_by_rules(error, AUTOGRAD_ERROR_RULES)


# ---- ops -----------------------------------------------------------------------------------------

#: Neutral ops whose arguments are all tensors: neutral name -> the autograd.numpy function.
#: The same table builds the namespace and the mapping rows, so the report cannot drift.
_TENSOR_OPS: dict[str, str] = {
    "add": "add",
    "subtract": "subtract",
    "multiply": "multiply",
    "divide": "true_divide",
    "pow": "power",
    "maximum": "maximum",
    "minimum": "minimum",
    "negative": "negative",
    "square": "square",
    "sqrt": "sqrt",
    "exp": "exp",
    "log": "log",
    "sin": "sin",
    "cos": "cos",
    "tanh": "tanh",
    "abs": "abs",
    "sign": "sign",
    "floor": "floor",
    "round": "round",
    "real": "real",
    "imag": "imag",
    "conj": "conj",
    "where": "where",
    "matmul": "matmul",
    "zeros_like": "zeros_like",
    "ones_like": "ones_like",
    "norm": "linalg.norm",
    # protocol 1.2, extended_ops
    "equal": "equal",
    "not_equal": "not_equal",
    "greater": "greater",
    "greater_equal": "greater_equal",
    "less": "less",
    "less_equal": "less_equal",
    "logical_and": "logical_and",
    "logical_or": "logical_or",
    "logical_not": "logical_not",
    "ceil": "ceil",
    "reciprocal": "reciprocal",
    "clip_by_value": "clip",
}

_DTYPES = ("float16", "float32", "float64", "int32", "int64", "bool", "complex64", "complex128")


def _sigmoid(x: Any) -> Any:
    """The logistic function as autograd's own examples write it."""
    import autograd.numpy as anp

    return 0.5 * (anp.tanh(x / 2.0) + 1.0)


def _relu(x: Any) -> Any:
    import autograd.numpy as anp

    return anp.maximum(0.0, x)


def _softmax(x: Any, *, axis: int) -> Any:
    import autograd.numpy as anp

    exps = anp.exp(x - anp.max(x, axis=axis, keepdims=True))
    return exps / anp.sum(exps, axis=axis, keepdims=True)


def _identity(x: Any) -> Any:
    return x


def _cast(x: Any, *, dtype: Any) -> Any:
    return x.astype(dtype)


def _stop_gradient(x: Any) -> Any:
    """The value with every autograd box removed: no trace, at any level, sees through it."""
    from autograd.tracer import getval

    return getval(x)


def _reshape(x: Any, *, shape: Any) -> Any:
    import autograd.numpy as anp

    return anp.reshape(x, shape)


def _gather(params: Any, *, indices: Any, axis: int) -> Any:
    """``params[..., indices, ...]`` on ``axis``: autograd differentiates indexing, not np.take."""
    import numpy as np

    where = (slice(None),) * axis if axis >= 0 else (Ellipsis,)
    after = () if axis >= 0 else (slice(None),) * (-axis - 1)
    return params[(*where, np.asarray(indices), *after)]


def _concatenate(*arrays: Any, axis: int) -> Any:
    import autograd.numpy as anp

    return anp.concatenate(arrays, axis=axis)


def _stack(*arrays: Any, axis: int) -> Any:
    import autograd.numpy as anp

    return anp.stack(arrays, axis=axis)


def _static(value: Any) -> Any:
    """A shape/axis/perm argument as a Python value (tensors are read, lists become tuples)."""
    import numpy as np

    from tapeconf_autograd._trace import Tensor

    if isinstance(value, Tensor):
        value = np.asarray(value).tolist()
    return tuple(value) if isinstance(value, list) else value


def _shaped_ops() -> dict[str, Callable[..., Any]]:
    """Neutral ops with static arguments, each one recorded autograd.numpy call."""
    import autograd.numpy as anp

    from tapeconf_autograd._trace import record

    def reduction(native: Callable[..., Any]) -> Callable[..., Any]:
        def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
            return record(native, (x,), {"axis": _static(axis), "keepdims": keepdims})

        return reduce

    return {
        "cast": lambda x, dtype: record(_cast, (x,), {"dtype": dtype}),
        "softmax": lambda x, axis=-1: record(_softmax, (x,), {"axis": axis}),
        "reduce_sum": reduction(anp.sum),
        "reduce_mean": reduction(anp.mean),
        "reduce_max": reduction(anp.max),
        "reshape": lambda x, shape: record(_reshape, (x,), {"shape": _static(shape)}),
        "transpose": lambda x, perm=None: record(anp.transpose, (x,), {"axes": _static(perm)}),
        "concat": lambda values, axis: record(_concatenate, tuple(values), {"axis": axis}),
        "stack": lambda values, axis=0: record(_stack, tuple(values), {"axis": axis}),
        "gather": lambda params, indices, axis=0: record(
            _gather, (params,), {"indices": _static(indices), "axis": axis}
        ),
        "tile": lambda x, multiples: record(anp.tile, (x,), {"reps": _static(multiples)}),
        # protocol 1.2, extended_ops
        "argmax": lambda x, axis=None: record(anp.argmax, (x,), {"axis": axis}),
        "reduce_min": reduction(anp.min),
        "reduce_prod": reduction(anp.prod),
        "tensordot": lambda a, b, axes: record(anp.tensordot, (a, b), {"axes": _static(axes)}),
        "broadcast_to": lambda x, shape: record(_broadcast_to, (x,), {"shape": _static(shape)}),
        "expand_dims": lambda x, axis: record(anp.expand_dims, (x,), {"axis": axis}),
        "squeeze": lambda x, axis=None: record(anp.squeeze, (x,), {"axis": _static(axis)}),
        "unstack": lambda x, axis=0: list(
            record(_unstack, (x,), {"axis": axis}, multiple_outputs=True)
        ),
        "cond": _python_cond,
        "while_loop": _python_while_loop,
    }


def _broadcast_to(x: Any, *, shape: Any) -> Any:
    """``np.broadcast_to`` with the shape positional, as autograd's gradient rule takes it."""
    import autograd.numpy as anp

    return anp.broadcast_to(x, shape)


def _unstack(x: Any, *, axis: int) -> tuple[Any, ...]:
    """The slices of ``x`` along ``axis``: indexing, autograd's idiom (it has no unstack)."""
    where = (slice(None),) * (axis % max(len(x.shape), 1))
    return tuple(x[(*where, i)] for i in range(x.shape[axis]))


def _python_cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """TF's eager cond is Python's if, which autograd differentiates as it runs."""
    return true_fn() if bool(pred) else false_fn()


def _python_while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any) -> Any:
    """TF's eager while_loop is Python's while, which autograd differentiates as it runs."""
    values = list(loop_vars)
    while bool(cond(*values)):
        values = list(body(*values))
    return type(loop_vars)(values)


def _arange(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None) -> Any:
    """np.arange as a new leaf (``range(limit)`` and ``range(start, limit, delta)``)."""
    import numpy as np

    from tapeconf_autograd._trace import Tensor

    if limit is None:
        start, limit = 0, start
    return Tensor(np.arange(_static(start), _static(limit), _static(delta), dtype=dtype))


def _native(path: str) -> Callable[..., Any]:
    """``"linalg.norm"`` -> ``autograd.numpy.linalg.norm``."""
    import autograd.numpy as anp

    target: Any = anp
    for part in path.split("."):
        target = getattr(target, part)
    return target


def _tensor_op(native: Callable[..., Any]) -> Callable[..., Any]:
    from tapeconf_autograd._trace import record

    def op(*tensors: Any) -> Any:
        return record(native, tensors)

    op.__name__ = getattr(native, "__name__", "op")
    return op


# ---- creating tensors ----------------------------------------------------------------------------


def constant(value: Any, dtype: Any = None) -> Any:
    """``np.asarray(value, dtype)`` as a new leaf; Python floats are float32 (the neutral API's
    rule: NumPy alone would make them float64)."""
    import numpy as np

    from tapeconf_autograd._trace import Tensor, value_of

    value = value_of(value)
    if isinstance(value, (list, tuple)):
        value = [value_of(item) for item in value]
    array = np.asarray(value, dtype=dtype)
    if (
        dtype is None
        and array.dtype == np.float64
        and not isinstance(value, (np.ndarray, np.generic))
    ):
        array = array.astype(np.float32)
    return Tensor(array)


def _filled(native: Callable[..., Any]) -> Callable[..., Any]:
    import numpy as np

    from tapeconf_autograd._trace import Tensor

    def create(shape: Any, dtype: Any = np.float32) -> Any:
        return Tensor(native(_static(shape), dtype))

    return create


def _no_variables(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(f"fw.Variable: {_UNSUPPORTED['variables']}")


# ---- custom gradients ----------------------------------------------------------------------------


def custom_gradient(f: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """TensorFlow's decorator as an autograd ``primitive`` with a ``defvjp_argnums`` rule
    (``custom_gradient()`` without ``f`` is the decorator itself, as in TensorFlow).

    Each call defines a primitive whose forward runs ``f`` on fresh leaves. Its vjp rule runs ``f``
    again on the inputs as autograd hands them to the rule (still traced by any enclosing
    ``make_vjp``) to get a ``grad_fn`` whose closure sees those traced inputs, and returns
    ``grad_fn(*upstream)`` for the differentiated inputs. So a gradient function's ops are traced
    by an outer ``make_vjp``: second order goes through the custom gradient. ``None`` for an input
    gives zeros (autograd's convention for "no gradient"); ``f`` should be pure, as autograd's
    primitives are.
    """
    if f is None:
        return custom_gradient
    from autograd.extend import defvjp_argnums, primitive

    from tapeconf_autograd._trace import Tensor, record, value_of

    @functools.wraps(f)
    def decorated(*args: Any) -> Any:
        structure: list[Any] = []

        def forward(*values: Any) -> tuple[Any, ...]:
            outputs, _ = f(*(Tensor(v) for v in values))
            structure[:] = [outputs]
            return tuple(value_of(o) for o in flatten(outputs))

        def make_vjp(argnums: Sequence[int], ans: Any, values: Sequence[Any], kwargs: Any) -> Any:
            _, grad_fn = f(*(Tensor(v) for v in values))

            def vjp(upstream: Any) -> tuple[Any, ...]:
                grads = grad_fn(*(Tensor(u) for u in upstream))
                grads = grads if isinstance(grads, (list, tuple)) else (grads,)
                return tuple(
                    _zeros_like(values[i]) if grads[i] is None else value_of(grads[i])
                    for i in argnums
                )

            return vjp

        native = primitive(forward)
        native.__name__ = f"custom_gradient({getattr(f, '__name__', 'f')})"
        defvjp_argnums(native, make_vjp)
        outputs = record(native, args, multiple_outputs=True)
        return pack_sequence_as(structure[0], list(outputs))

    return decorated


def _zeros_like(value: Any) -> Any:
    import autograd.numpy as anp

    return anp.zeros_like(value)


# ---- the namespace -------------------------------------------------------------------------------


@functools.cache
def _namespace_names() -> dict[str, Any]:
    import numpy as np

    from tapeconf_autograd import _trace

    return {
        **{name: getattr(np, name if name != "bool" else "bool_") for name in _DTYPES},
        **{name: _tensor_op(_native(native)) for name, native in _TENSOR_OPS.items()},
        **_shaped_ops(),
        "sigmoid": _tensor_op(_sigmoid),
        "relu": _tensor_op(_relu),
        "identity": _tensor_op(_identity),
        "stop_gradient": _tensor_op(_stop_gradient),
        "constant": constant,
        "zeros": _filled(np.zeros),
        "ones": _filled(np.ones),
        "range": _arange,
        "Variable": _no_variables,
        "GradientTape": _trace.GradientTape,
        "UnconnectedGradients": _trace.UnconnectedGradients,
        "custom_gradient": custom_gradient,
    }


# ---- mapping decisions ---------------------------------------------------------------------------

_DECISIONS: tuple[Mapping_, ...] = (
    Mapping_(
        "a tensor",
        "Tensor: a NumPy array plus the node that produced it",
        "autograd has no tape: the adapter records each op so it can replay it as a function",
    ),
    Mapping_(
        "constant(value, dtype)",
        "np.asarray(value, dtype), a new leaf",
        "Python floats become float32 as the neutral API defines (NumPy would pick float64); "
        "Python ints keep NumPy's int64",
    ),
    Mapping_(
        "Variable(...)",
        "NotImplementedError",
        "autograd has no variables: parameters are arrays passed as arguments",
    ),
    Mapping_(
        "GradientTape(persistent=)",
        "no native object; persistent is ignored",
        "a vjp returned by autograd.make_vjp can be called any number of times",
    ),
    Mapping_(
        "with GradientTape(), tape.watch(x)",
        "nothing: recording is always on",
        "autograd differentiates with respect to the arguments it is given, watched or not",
    ),
    Mapping_(
        "tape.gradient(target, sources)",
        "vjp, out = autograd.make_vjp(f, argnum=all sources)(*sources); vjp(ones_like(out))",
        "f replays the recording from the sources to the targets (autograd.builtins.tuple of "
        "them); everything else is a closed-over value; packed like sources",
    ),
    Mapping_(
        "gradient(..., output_gradients=g)",
        "vjp(g)",
        "autograd does not check the cotangent's shape or dtype against the target",
    ),
    Mapping_(
        "gradient(..., unconnected_gradients=)",
        "ignored: unconnected sources get zeros",
        "autograd's vjp returns zeros for an argument the function does not use, never None",
    ),
    Mapping_(
        "gradient of an integer or bool source",
        "autograd's own TypeError",
        "autograd's vector spaces exist for floating and complex arrays only",
    ),
    Mapping_(
        "a source given twice",
        "one make_vjp argument, its gradient returned at both places",
        "an autograd function takes each argument once",
    ),
    Mapping_(
        "nested tapes / gradient of a gradient",
        "the gradient is a recorded node whose function is make_vjp of the replayed sub-graph",
        "an outer gradient replays it under an outer make_vjp: autograd's trace levels give "
        "higher-order derivatives with no special case",
    ),
    Mapping_(
        "tape.jacobian(target, sources)",
        "autograd.jacobian(f_t, argnum=i) per target t, source i",
        "experimental_use_pfor and parallel_iterations are ignored",
    ),
    Mapping_(
        "batch_jacobian, stop_recording(), reset(), watched_variables()",
        "NotImplementedError",
        "autograd differentiates functions, not recordings, and has no vmap",
    ),
    Mapping_(
        "custom_gradient(f)",
        "autograd.extend.primitive + defvjp_argnums",
        "the rule re-runs f on the traced inputs and returns grad_fn(*upstream), so an outer "
        "make_vjp traces grad_fn; a None gradient becomes zeros",
    ),
    Mapping_(
        "stop_gradient(x)",
        "autograd.tracer.getval(x)",
        "removes every box, so no trace at any level sees through it",
    ),
    Mapping_("sigmoid(x)", "0.5 * (np.tanh(x / 2) + 1)", "autograd's examples' logistic function"),
    Mapping_(
        "relu(x)", "np.maximum(0.0, x)", "autograd's examples' relu; a tie splits the gradient"
    ),
    Mapping_("softmax(x, axis)", "exp(x - max) / sum(exp(x - max))", "numerically stable softmax"),
    Mapping_("identity(x)", "x itself", "NumPy values are immutable here: nothing to copy"),
    Mapping_("cast(x, dtype)", "x.astype(dtype)", "autograd's ArrayBox.astype"),
    Mapping_(
        "zeros(shape, dtype), ones(shape, dtype)",
        "np.zeros / np.ones, a leaf",
        "float32 by default, as the neutral API defines",
    ),
    Mapping_(
        "reduce_sum / reduce_mean / reduce_max",
        "np.sum / np.mean / np.max (axis, keepdims)",
        "autograd splits a max's gradient evenly between ties",
    ),
    Mapping_(
        "reshape, transpose, tile, concat, stack",
        "np.reshape, np.transpose(axes=perm), np.tile, np.concatenate, np.stack",
        "shapes, perms and multiples are static arguments",
    ),
    Mapping_(
        "gather(params, indices, axis)",
        "params[:, ..., indices] (indexing on axis)",
        "autograd defines no gradient for np.take; indexing is its idiom; dense gradients",
    ),
    Mapping_(
        "operators + - * / ** @ < > <= >= == !=",
        "the autograd.numpy functions",
        "== is elementwise like tf.Tensor's, so tensors are unhashable",
    ),
    Mapping_(
        "operators & | ^ ~ (1.2)",
        "np.bitwise_and, bitwise_or, bitwise_xor, invert",
        "NumPy's own operators: logical on bool arrays, bitwise on integers",
    ),
    Mapping_(
        "equal ... less_equal, logical_and/or/not, ceil, reciprocal, clip_by_value (1.2)",
        "np.equal ... np.less_equal, np.logical_and/or/not, np.ceil, np.reciprocal, np.clip",
        "the autograd.numpy functions; the logical ones take any dtype (nonzero is True)",
    ),
    Mapping_(
        "argmax(x, axis=None) (1.2)",
        "np.argmax(x, axis=axis)",
        "NumPy's default axis=None flattens (TF's default is axis 0); autograd gives no gradient",
    ),
    Mapping_(
        "reduce_min / reduce_prod, tensordot, broadcast_to, expand_dims, squeeze (1.2)",
        "np.min / np.prod (axis, keepdims), np.tensordot, np.broadcast_to, np.expand_dims, "
        "np.squeeze",
        "the autograd.numpy functions with static shape and axis arguments",
    ),
    Mapping_(
        "unstack(x, axis=0) (1.2)",
        "x[..., i, ...] for each i on axis (one node, several outputs)",
        "NumPy has no unstack; indexing is autograd's idiom",
    ),
    Mapping_(
        "range(start, limit=None, delta=1, dtype=None) (1.2)",
        "np.arange(start, limit, delta, dtype), a leaf",
        "NumPy's defaults: int bounds give int64, float bounds float64",
    ),
    Mapping_(
        "cond(pred, true_fn, false_fn), while_loop(cond, body, loop_vars) (1.2)",
        "Python if / while on bool(pred)",
        "TF's eager cond and while_loop run in Python too; autograd differentiates Python "
        "control flow as it runs",
    ),
    Mapping_("dtypes float16 ... complex128", "np.float16 ... np.complex128", "NumPy's own types"),
    Mapping_("device 'CPU:0'", "NumPy on the CPU", "autograd runs on NumPy only"),
)


# ---- the adapter ---------------------------------------------------------------------------------


class AutogradAdapter:
    """HIPS autograd behind the neutral tape API (see the module docstring)."""

    name = "autograd"
    protocol_version = "1.2"  # the tapeconf adapter protocol this adapter was written for
    distribution = "autograd"  # `tapeconf adapters` reads its version from package metadata

    def available(self) -> str | None:
        try:
            import autograd  # noqa: F401
        except ImportError as error:
            return f"autograd is not installed (pip install autograd==1.9.1): {error}"
        return None

    def version(self) -> str:
        return metadata.version("autograd")

    def devices(self) -> Sequence[str]:
        return ["CPU:0"]

    def features(self, device: str | None = None) -> Mapping[str, str | None]:
        return {name: _UNSUPPORTED.get(name) for name in FEATURES}

    def namespace(self, device: str) -> Any:
        if device != "CPU:0":
            raise ValueError(f"autograd runs on NumPy, on CPU:0 only; got device {device!r}")
        return types.SimpleNamespace(**_namespace_names())

    def to_numpy(self, value: Any) -> Any:
        import numpy as np

        return np.asarray(value.value) if self.is_tensor(value) else value

    def dtype_name(self, value: Any) -> str:
        return str(value.dtype)

    def is_tensor(self, value: Any) -> bool:
        from tapeconf_autograd._trace import Tensor

        return isinstance(value, Tensor)

    def classify_error(self, error: BaseException) -> ErrorKind:
        return classify_autograd_error(error)

    def warning_loggers(self) -> Sequence[str]:
        return ["autograd"]  # autograd warns through ``warnings``, which the runner records anyway

    def mappings(self) -> Sequence[Mapping_]:
        ops = tuple(
            Mapping_(name, f"np.{native}", "the autograd.numpy function of that meaning")
            for name, native in _TENSOR_OPS.items()
        )
        return _DECISIONS + ops

    def divergences_path(self) -> str | None:
        return str(resources.files("tapeconf_autograd").joinpath("divergences.toml"))
