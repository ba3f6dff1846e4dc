"""Section J, continued: the ops of the 1.2 neutral API (``EXTENDED_NAMES``, feature
``extended_ops``) — comparisons and masks, logical and bitwise operators, argmax, tensordot,
range, unstack, broadcast_to, expand_dims/squeeze, clip_by_value, reduce_min/prod, ceil,
reciprocal, and eager ``cond``/``while_loop``.

Each op is pinned where tape programs lean on it: what its gradient is (with broadcasting and a
second order where it is differentiable), that a non-differentiable one (bool and index results)
gives ``None`` and cuts nothing else, and which dtype and argument errors it raises. An adapter of
protocol 1.1 does not answer ``extended_ops``, so these cells are ``unsupported`` for it.

The last sections use core names only (no ``extended_ops``): indexing out of bounds (OPX08), ``+``
of strings (OPX09) and batched matmul size errors (OPX04), paths of ``reference_impl/_ops.py``
that the rest of the catalogue never ran.
"""

from __future__ import annotations

from conformance.expect import either, raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_EXT = ["extended_ops"]
_KINK = "the value at a kink or tie is a convention (a subgradient); finite differences are undefined"
_NOT_DERIVATIVES = "comparisons, indices and shapes, not derivatives"


def _bools(*items: object) -> object:
    return value(list(items), dtype="bool")


# ---- comparisons and masks --------------------------------------------------------------------


@scenario(
    "ops.comparison_functions_give_bool",
    spec="OPX01",
    statement="equal, not_equal, greater, greater_equal, less and less_equal are elementwise and "
    "give bool tensors",
    expect=returns([
        _bools(True, False), _bools(False, True), _bools(False, True),
        _bools(True, True), _bools(False, False), _bools(True, False),
    ]),
    features=_EXT,
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    x = fw.constant([1.0, 3.0])
    y = fw.constant([1.0, 2.0])
    return [
        fw.equal(x, y), fw.not_equal(x, y), fw.greater(x, y),
        fw.greater_equal(x, y), fw.less(x, y), fw.less_equal(x, y),
    ]


@scenario(
    "ops.comparison_mask_gradient",
    spec="OPX01",
    statement="a comparison cast to a float mask is a constant factor: d/dx sum(mask * x^2) is "
    "2x where the mask is set, 0 elsewhere",
    expect=returns(value([0.0, 4.0])),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.cast(fw.greater(x, 1.0), x.dtype) * x * x),
        at=([0.5, 2.0],),
    ),
)
def _(fw):
    x = fw.constant([0.5, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.cast(fw.greater(x, 1.0), fw.float32) * x * x)
    return tape.gradient(y, x)


@scenario(
    "ops.comparison_has_no_gradient",
    spec="OPX01",
    statement="a bool comparison result is not differentiable: the gradient of its float cast is "
    "None",
    expect=returns(None),
    features=_EXT,
)
def _(fw):
    x = fw.constant([0.5, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.cast(fw.less_equal(x, 1.0), fw.float32))
    return tape.gradient(y, x)


@scenario(
    "ops.comparison_dtype_mismatch_raises",
    spec="OPX01",
    statement="comparing a float32 tensor with an int32 tensor raises (no promotion)",
    expect=raises(ErrorKind.DTYPE_MISMATCH),
    features=_EXT,
)
def _(fw):
    return fw.greater(fw.constant([1.0, 2.0]), fw.constant([1, 2], dtype=fw.int32))


@scenario(
    "ops.comparison_shape_mismatch_raises",
    spec="OPX01",
    statement="comparing tensors of shapes [2] and [3] raises: the shapes do not broadcast",
    expect=raises(ErrorKind.SHAPE_MISMATCH),
    features=_EXT,
)
def _(fw):
    return fw.less(fw.constant([1.0, 2.0]), fw.constant([1.0, 2.0, 3.0]))


@scenario(
    "ops.ordering_complex_rejected",
    spec="OPX01",
    statement="ordering comparisons have no complex kernel: less on complex64 raises",
    expect=raises(ErrorKind.UNKNOWN),
    features=[*_EXT, "complex"],
)
def _(fw):
    z = fw.constant([1.0 + 1.0j], dtype=fw.complex64)
    return fw.less(z, z)


@scenario(
    "ops.equality_operator_unequal_shapes",
    spec="OPX01",
    statement="== and != on tensors whose shapes do not broadcast answer with one bool scalar "
    "(False, True) instead of raising",
    expect=returns([value(False, dtype="bool"), value(True, dtype="bool")]),
    features=_EXT,
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    y = fw.constant([1.0, 2.0, 3.0])
    return [x == y, x != y]


@scenario(
    "ops.equality_with_none",
    spec="OPX01",
    statement="a tensor compared with None is the Python bool: == gives False, != gives True",
    expect=returns([False, True]),
    features=_EXT,
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    return [x == None, x != None]  # noqa: E711 - the operator itself is the behaviour


@scenario(
    "ops.variable_equality_is_elementwise",
    spec="OPX01",
    statement="== on a variable compares its value elementwise; == and != with an "
    "unbroadcastable shape are one False and one True",
    expect=returns([_bools(True, False), value(False, dtype="bool"), value(True, dtype="bool")]),
    features=[*_EXT, "variables"],
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    v = fw.Variable([1.0, 2.0])
    longer = fw.constant([1.0, 2.0, 3.0])
    return [v == 1.0, v == longer, v != longer]


# ---- logical and bitwise ----------------------------------------------------------------------


@scenario(
    "ops.logical_functions_combine_masks",
    spec="OPX02",
    statement="logical_and, logical_or and logical_not combine bool masks elementwise",
    expect=returns([_bools(True, False, False), _bools(True, True, False), _bools(False, True, True)]),
    features=_EXT,
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    a = fw.constant([True, False, False])
    b = fw.constant([True, True, False])
    return [fw.logical_and(a, b), fw.logical_or(a, b), fw.logical_not(a)]


@scenario(
    "ops.logical_mask_routes_gradient",
    spec="OPX02, OP07",
    statement="where(logical_and(x > 0, x < 2), x*x, 3x) sends each element the derivative of "
    "the branch its mask picks",
    expect=returns(value([3.0, 2.0, 3.0])),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.where(fw.logical_and(x > 0.0, x < 2.0), x * x, 3.0 * x)),
        at=([-1.0, 1.0, 3.0],),
    ),
)
def _(fw):
    x = fw.constant([-1.0, 1.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        inside = fw.logical_and(x > 0.0, x < 2.0)
        y = fw.reduce_sum(fw.where(inside, x * x, 3.0 * x))
    return tape.gradient(y, x)


@scenario(
    "ops.logical_rejects_non_bool",
    spec="OPX02",
    statement="logical_and of float tensors raises: the logical ops take bool only",
    expect=raises(ErrorKind.DTYPE_MISMATCH, match=r"LogicalAnd as input #0\(zero-based\)"),
    features=_EXT,
)
def _(fw):
    return fw.logical_and(fw.constant([1.0]), fw.constant([0.0]))


@scenario(
    "ops.logical_not_rejects_non_bool",
    spec="OPX02",
    statement="logical_not of a float tensor raises: it takes bool only",
    expect=raises(ErrorKind.DTYPE_MISMATCH, match=r"LogicalNot as input #0\(zero-based\)"),
    features=_EXT,
)
def _(fw):
    return fw.logical_not(fw.constant([1.0]))


@scenario(
    "ops.logical_shape_mismatch_raises",
    spec="OPX02",
    statement="logical_or of bool tensors of shapes [2] and [3] raises",
    expect=raises(ErrorKind.SHAPE_MISMATCH),
    features=_EXT,
)
def _(fw):
    return fw.logical_or(fw.constant([True, False]), fw.constant([True, False, True]))


@scenario(
    "ops.bool_operators_are_logical",
    spec="OPX02",
    statement="&, |, ^ and ~ on bool tensors are logical and, or, xor and not",
    expect=returns([_bools(True, False), _bools(True, True), _bools(False, True), _bools(False, True)]),
    features=_EXT,
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    a = fw.constant([True, False])
    b = fw.constant([True, True])
    return [a & b, a | b, a ^ b, ~a]


@scenario(
    "ops.int_operators_are_bitwise",
    spec="OPX02",
    statement="&, |, ^ and ~ on int32 tensors are bitwise and keep int32",
    expect=returns([
        value([2, 1], dtype="int32"), value([7, 7], dtype="int32"),
        value([5, 6], dtype="int32"), value([-7, -4], dtype="int32"),
    ]),
    features=_EXT,
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    a = fw.constant([6, 3], dtype=fw.int32)
    b = fw.constant([3, 5], dtype=fw.int32)
    return [a & b, a | b, a ^ b, ~a]


@scenario(
    "ops.bitwise_operators_reject_floats",
    spec="OPX02, OP16",
    statement="& on float tensors raises: the bitwise kernels take integers only",
    expect=raises(ErrorKind.UNKNOWN),
    features=_EXT,
)
def _(fw):
    return fw.constant([6.0]) & fw.constant([3.0])


@scenario(
    "ops.invert_rejects_floats",
    spec="OPX02, OP16",
    statement="~ on a float tensor raises: Invert takes integers (and bool) only",
    expect=raises(ErrorKind.UNKNOWN),
    features=_EXT,
)
def _(fw):
    return ~fw.constant([6.0])


# ---- argmax ---------------------------------------------------------------------------------


@scenario(
    "ops.argmax_indices",
    spec="OPX03",
    statement="argmax gives int64 indices over axis 0 by default, over the axis given, and the "
    "first index of a tie",
    expect=returns([
        value([1, 0, 1], dtype="int64"), value([1, 2], dtype="int64"), value(0, dtype="int64"),
    ]),
    features=_EXT,
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    x = fw.constant([[1.0, 5.0, 3.0], [7.0, 2.0, 9.0]])
    return [fw.argmax(x), fw.argmax(x, axis=1), fw.argmax(fw.constant([2.0, 2.0]))]


@scenario(
    "ops.argmax_has_no_gradient",
    spec="OPX03",
    statement="argmax is not differentiable: the gradient of its float cast is None",
    expect=returns(None),
    features=_EXT,
)
def _(fw):
    x = fw.constant([1.0, 3.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(fw.argmax(x), fw.float32)
    return tape.gradient(y, x)


@scenario(
    "ops.argmax_gather_selects_gradient",
    spec="OPX03, OP08",
    statement="gathering the argmax element sends the whole gradient to it (densified: one-hot)",
    expect=returns(value([0.0, 1.0, 0.0])),
    features=_EXT,
    oracle=Oracle(lambda fw, x: fw.gather(x, fw.argmax(x)), at=([1.0, 3.0, 2.0],)),
)
def _(fw):
    x = fw.constant([1.0, 3.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.gather(x, fw.argmax(x))
    return fw.multiply(tape.gradient(y, x), 1.0)


# ---- tensordot ------------------------------------------------------------------------------

_A23 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
_B32 = [[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]]
_W22 = [[1.0, 2.0], [3.0, 4.0]]
_W32 = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


@scenario(
    "ops.tensordot_one_axis_gradients",
    spec="OPX04",
    statement="tensordot(a, b, 1) contracts a's last axis with b's first, as matmul: gradients "
    "w @ b^T and a^T @ w",
    expect=returns([
        value([[1.0, 4.0, 6.0], [3.0, 10.0, 12.0]]),
        value([[13.0, 18.0], [17.0, 24.0], [21.0, 30.0]]),
    ]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(fw.tensordot(a, b, 1) * fw.constant(_W22, dtype=a.dtype)),
        at=(_A23, _B32),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant(_A23)
    b = fw.constant(_B32)
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.reduce_sum(fw.tensordot(a, b, 1) * fw.constant(_W22))
    return tape.gradient(y, [a, b])


@scenario(
    "ops.tensordot_listed_axes_gradients",
    spec="OPX04",
    statement="tensordot(a, b, [[0], [0]]) contracts the named axes (a^T b, shape [3, 2]) and "
    "differentiates both operands",
    expect=returns([
        value([[5.0, 11.0, 17.0], [11.0, 25.0, 39.0]]),
        value([[22.0, 28.0], [49.0, 64.0]]),
    ]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(
            fw.tensordot(a, b, [[0], [0]]) * fw.constant(_W32, dtype=a.dtype)
        ),
        at=(_A23, _W22),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant(_A23)
    b = fw.constant(_W22)
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.reduce_sum(fw.tensordot(a, b, [[0], [0]]) * fw.constant(_W32))
    return tape.gradient(y, [a, b])


@scenario(
    "ops.tensordot_outer_product",
    spec="OPX04",
    statement="tensordot(a, b, 0) is the outer product: shape [2, 3], each operand's gradient "
    "sums the other",
    expect=returns([value([[1.0, 4.0, 9.0], [4.0, 10.0, 18.0]]), value([6.0, 6.0]), value([3.0, 3.0, 3.0])]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(fw.tensordot(a, b, 0)),
        at=([1.0, 2.0], [1.0, 2.0, 3.0]),
        pick=lambda d: [None, d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant([1.0, 2.0])
    b = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        outer = fw.tensordot(a, b, 0)
        y = fw.reduce_sum(outer)
    return [outer * fw.constant([[1.0, 2.0, 3.0], [2.0, 2.5, 3.0]]), *tape.gradient(y, [a, b])]


@scenario(
    "ops.tensordot_size_mismatch_raises",
    spec="OPX04",
    statement="tensordot over axes of sizes 3 and 2 raises MatMul's size error (the contraction "
    "does not match)",
    expect=raises(ErrorKind.UNKNOWN, match="Matrix size-incompatible"),
    features=_EXT,
)
def _(fw):
    return fw.tensordot(fw.constant([[1.0, 2.0, 3.0]]), fw.constant(_W22), 1)


# ---- range ----------------------------------------------------------------------------------


@scenario(
    "ops.range_values_and_dtypes",
    spec="OPX05",
    statement="range(limit), range(start, limit), a float delta, mixed bounds and dtype= give "
    "int32 for ints and float32 once a bound or dtype is float",
    expect=returns([
        value([0, 1, 2], dtype="int32"), value([1, 2, 3], dtype="int32"),
        value([0.0, 0.25, 0.5, 0.75]), value([1.0, 2.0]), value([0.0, 1.0, 2.0]),
    ]),
    features=_EXT,
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    return [
        fw.range(3), fw.range(1, 4), fw.range(0.0, 1.0, 0.25), fw.range(1, 2.5),
        fw.range(3, dtype=fw.float32),
    ]


@scenario(
    "ops.range_weights_gradient",
    spec="OPX05",
    statement="a range is a constant: d/dx sum(x * range(3.0)) is [0, 1, 2]",
    expect=returns(value([0.0, 1.0, 2.0])),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(x * fw.range(3, dtype=x.dtype)), at=([5.0, 6.0, 7.0],)
    ),
)
def _(fw):
    x = fw.constant([5.0, 6.0, 7.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(x * fw.range(3, dtype=fw.float32))
    return tape.gradient(y, x)


@scenario(
    "ops.range_bound_must_convert_to_dtype",
    spec="OPX05",
    statement="range(2.5, dtype=int32) raises: each bound is converted to the requested dtype, "
    "and 2.5 is no int32",
    expect=raises(ErrorKind.INVALID_ARGUMENT, type="TypeError", match="Cannot convert 2.5"),
    features=_EXT,
)
def _(fw):
    return fw.range(2.5, dtype=fw.int32)


@scenario(
    "ops.range_zero_delta_raises",
    spec="OPX05",
    statement="range with delta 0 raises (it would never end)",
    expect=raises(ErrorKind.UNKNOWN, match="delta != 0"),
    features=_EXT,
)
def _(fw):
    return fw.range(0, 3, 0)


@scenario(
    "ops.range_rejects_bool_bounds",
    spec="OPX05",
    statement="range of a bool bound raises (its bounds must be int or float)",
    expect=either(raises(ErrorKind.UNKNOWN), raises(ErrorKind.INVALID_ARGUMENT)),
    features=_EXT,
)
def _(fw):
    return fw.range(fw.constant(True))


# ---- shapes: unstack, broadcast_to, expand_dims, squeeze ----------------------------------------


@scenario(
    "ops.unstack_rows_gradient",
    spec="OPX06",
    statement="unstack splits along axis 0 and each piece carries its gradient back: "
    "d(r0 . r1) is [r1, r0]",
    expect=returns(value([[3.0, 4.0], [1.0, 2.0]])),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.unstack(x)[0] * fw.unstack(x)[1]),
        at=([[1.0, 2.0], [3.0, 4.0]],),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        first, second = fw.unstack(x)
        y = fw.reduce_sum(first * second)
    return tape.gradient(y, x)


@scenario(
    "ops.unstack_last_axis_gradient",
    spec="OPX06",
    statement="unstack(x, axis=-1) gives the columns; using only the second column gives zeros "
    "to the first",
    expect=returns([value([2.0, 4.0]), value([[0.0, 4.0], [0.0, 8.0]])]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.square(fw.unstack(x, axis=-1)[1])),
        at=([[1.0, 2.0], [3.0, 4.0]],),
        pick=lambda d: [None, d.first[0][0]],
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        columns = fw.unstack(x, axis=-1)
        y = fw.reduce_sum(fw.square(columns[1]))
    return [columns[1], tape.gradient(y, x)]


@scenario(
    "ops.unstack_axis_out_of_range_raises",
    spec="OPX06",
    statement="unstack of a matrix along axis 2 raises, naming the valid range [-2, 2)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, type="ValueError", match=r"not in range \[-2, 2\)"),
    features=_EXT,
)
def _(fw):
    return fw.unstack(fw.ones([2, 2]), axis=2)


@scenario(
    "ops.unstack_scalar_raises",
    spec="OPX06",
    statement="unstack of a scalar raises: there is no axis to split",
    expect=raises(ErrorKind.INVALID_ARGUMENT, type="ValueError"),
    features=_EXT,
)
def _(fw):
    return fw.unstack(fw.constant(1.0))


@scenario(
    "ops.broadcast_to_sums_gradient",
    spec="OPX06",
    statement="broadcast_to's gradient sums over the broadcast rows; to the same shape it passes "
    "the gradient through",
    expect=returns([value([9.0, 12.0]), value([1.0, 1.0])]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: (
            fw.reduce_sum(fw.broadcast_to(x, [3, 2]) * fw.constant(_W32, dtype=x.dtype)),
            fw.reduce_sum(fw.broadcast_to(x, [2])),
        ),
        at=([1.0, 2.0],),
        pick=lambda d: [d.first[0][0], d.first[1][0]],
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        rows = fw.reduce_sum(fw.broadcast_to(x, [3, 2]) * fw.constant(_W32))
        same = fw.reduce_sum(fw.broadcast_to(x, [2]))
    return [tape.gradient(rows, x), tape.gradient(same, x)]


@scenario(
    "ops.broadcast_to_incompatible_raises",
    spec="OPX06",
    statement="broadcast_to a shape the tensor does not broadcast to raises a shape error",
    expect=raises(ErrorKind.SHAPE_MISMATCH),
    features=_EXT,
)
def _(fw):
    return fw.broadcast_to(fw.constant([1.0, 2.0]), [3])


@scenario(
    "ops.expand_dims_squeeze_gradient",
    spec="OPX06",
    statement="expand_dims and squeeze only reshape: the gradient comes back in the source's shape",
    expect=returns(value([1.0, 2.0])),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(
            fw.squeeze(fw.expand_dims(x, -1) * fw.constant([[1.0], [2.0]], dtype=x.dtype))
        ),
        at=([3.0, 4.0],),
    ),
)
def _(fw):
    x = fw.constant([3.0, 4.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        column = fw.expand_dims(x, -1) * fw.constant([[1.0], [2.0]])
        y = fw.reduce_sum(fw.squeeze(column))
    return tape.gradient(y, x)


@scenario(
    "ops.squeeze_non_unit_axis_raises",
    spec="OPX06",
    statement="squeeze of an axis whose size is not 1 raises",
    expect=raises(ErrorKind.UNKNOWN),
    features=_EXT,
)
def _(fw):
    return fw.squeeze(fw.constant([[1.0, 3.0], [2.0, 3.0]]), axis=1)


# ---- elementwise and reductions ---------------------------------------------------------------


@scenario(
    "ops.ceil_has_no_gradient",
    spec="OP03",
    statement="ceil is piecewise constant: its values round up and its gradient is None",
    expect=returns([value([2.0, -1.0]), None]),
    features=_EXT,
    oracle_exempt=_NOT_DERIVATIVES,
)
def _(fw):
    x = fw.constant([1.2, -1.5])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.ceil(x)
        total = fw.reduce_sum(y)
    return [y, tape.gradient(total, x)]


@scenario(
    "ops.ceil_rejects_int",
    spec="OPX07, OP16",
    statement="ceil has kernels for floating types only: ceil of int32 raises",
    expect=raises(ErrorKind.UNKNOWN, match="not in the list of allowed values: bfloat16, half, float, double"),
    features=_EXT,
)
def _(fw):
    return fw.ceil(fw.constant([1, 2], dtype=fw.int32))


@scenario(
    "ops.reciprocal_first_and_second_order",
    spec="OPX07, N01",
    statement="reciprocal's derivatives: -1/x^2 = -0.25 and 2/x^3 = 0.25 at 2",
    expect=returns([-0.25, 0.25]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.reciprocal(x), at=(2.0,), pick=lambda d: [d.first[0][0], d.second[0][0]]
    ),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = fw.reciprocal(x)
        first = inner.gradient(y, x)
    return [first, outer.gradient(first, x)]


@scenario(
    "ops.clip_by_value_gradient",
    spec="OPX07",
    statement="clip_by_value passes the gradient inside the bounds and gives zeros where it clips",
    expect=returns(value([0.0, 1.0, 0.0])),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.clip_by_value(x, 0.0, 1.0)), at=([-1.0, 0.5, 2.0],)
    ),
)
def _(fw):
    x = fw.constant([-1.0, 0.5, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.clip_by_value(x, 0.0, 1.0))
    return tape.gradient(y, x)


@scenario(
    "ops.reduce_min_axis_gradient",
    spec="OPX07",
    statement="reduce_min over axis 0 sends each column's gradient to its minimum",
    expect=returns(value([[1.0, 0.0], [0.0, 1.0]])),
    features=_EXT,
    oracle=Oracle(lambda fw, x: fw.reduce_sum(fw.reduce_min(x, axis=0)), at=([[1.0, 5.0], [7.0, 2.0]],)),
)
def _(fw):
    x = fw.constant([[1.0, 5.0], [7.0, 2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.reduce_min(x, axis=0))
    return tape.gradient(y, x)


@scenario(
    "ops.reduce_min_tie_splits",
    spec="OPX07, OP05",
    statement="reduce_min splits the gradient evenly between tied minima: [0.5, 0.5, 0]",
    expect=returns(value([0.5, 0.5, 0.0])),
    features=_EXT,
    oracle_exempt=_KINK,
)
def _(fw):
    x = fw.constant([2.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_min(x)
    return tape.gradient(y, x)


@scenario(
    "ops.reduce_prod_gradient",
    spec="OPX07",
    statement="reduce_prod's gradient is the product of the other elements, also beside a zero",
    expect=returns([value([[5.0, 1.0], [2.0, 7.0]]), value([3.0, 0.0])]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x, z: (fw.reduce_sum(fw.reduce_prod(x, axis=1)), fw.reduce_prod(z)),
        at=([[1.0, 5.0], [7.0, 2.0]], [0.0, 3.0]),
        pick=lambda d: [d.first[0][0], d.first[1][1]],
    ),
)
def _(fw):
    x = fw.constant([[1.0, 5.0], [7.0, 2.0]])
    z = fw.constant([0.0, 3.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        rows = fw.reduce_sum(fw.reduce_prod(x, axis=1))
        with_zero = fw.reduce_prod(z)
    return [tape.gradient(rows, x), tape.gradient(with_zero, z)]


# ---- eager control flow -----------------------------------------------------------------------


@scenario(
    "ops.cond_differentiates_taken_branch",
    spec="OP11",
    statement="cond records only the branch its predicate takes: d cond(x > 0, x^2, -x) is 6 at "
    "3 and -1 at -2",
    expect=returns([6.0, -1.0]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, a, b: (
            fw.cond(a > 0.0, lambda: a * a, lambda: -a),
            fw.cond(b > 0.0, lambda: b * b, lambda: -b),
        ),
        at=(3.0, -2.0),
        pick=lambda d: [d.first[0][0], d.first[1][1]],
    ),
)
def _(fw):
    def gradient_at(start):
        x = fw.constant(start)
        with fw.GradientTape() as tape:
            tape.watch(x)
            y = fw.cond(x > 0.0, lambda: x * x, lambda: -x)
        return tape.gradient(y, x)

    return [gradient_at(3.0), gradient_at(-2.0)]


@scenario(
    "ops.cond_second_order",
    spec="OP11, N01",
    statement="nested tapes differentiate through cond twice: d2/dx2 of x^3 is 12 at 2",
    expect=returns([12.0, 12.0]),
    features=_EXT,
    oracle=Oracle(
        lambda fw, x: fw.cond(x > 0.0, lambda: x * x * x, lambda: x),
        at=(2.0,),
        pick=lambda d: [d.first[0][0], d.second[0][0]],
    ),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = fw.cond(x > 0.0, lambda: x * x * x, lambda: x)
        first = inner.gradient(y, x)
    return [first, outer.gradient(first, x)]


@scenario(
    "ops.while_loop_gradient",
    spec="OP11",
    statement="while_loop records the iterations that ran: three multiplications by x give "
    "3x^2 = 12 at 2, and the counter ends at 3",
    expect=returns([3.0, 12.0]),
    features=_EXT,
    oracle=Oracle(lambda fw, x: x * x * x, at=(2.0,), pick=lambda d: [None, d.first[0][0]]),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        count, y = fw.while_loop(
            lambda i, acc: i < 3, lambda i, acc: (i + 1, acc * x), (fw.constant(0), fw.constant(1.0))
        )
    return [fw.cast(count, fw.float32), tape.gradient(y, x)]


@scenario(
    "ops.while_loop_list_vars",
    spec="OP11",
    statement="while_loop with list loop variables returns a list; its gradient counts every "
    "iteration: doubling 2 while below 20 gives 32 = 16x, so d/dx = 16",
    expect=returns([32.0, 16.0]),
    features=_EXT,
    oracle=Oracle(lambda fw, x: x * 16.0, at=(2.0,), pick=lambda d: [None, d.first[0][0]]),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        result = fw.while_loop(lambda acc: acc < 10.0 * x, lambda acc: [acc * 2.0], [x])
    return [result[0], tape.gradient(result[0], x)]


# ---- indexing bounds (core names: tensors support x[i]) ------------------------------------------

_M22 = [[1.0, 2.0], [3.0, 4.0]]


@scenario(
    "ops.index_out_of_bounds_raises",
    spec="OPX08",
    statement="x[2] on a dimension of size 2 raises StridedSlice's out-of-bounds error",
    expect=raises(ErrorKind.UNKNOWN, match="slice index 2 of dimension 0 out of bounds"),
)
def _(fw):
    return fw.constant(_M22)[2]


@scenario(
    "ops.negative_index_out_of_bounds_raises",
    spec="OPX08",
    statement="x[-3] on a dimension of size 2 raises, naming the index as -3 + 2 = -1",
    expect=raises(ErrorKind.UNKNOWN, match="slice index -1 of dimension 0 out of bounds"),
)
def _(fw):
    return fw.constant(_M22)[-3]


@scenario(
    "ops.index_after_slice_out_of_bounds_raises",
    spec="OPX08",
    statement="x[:, 2] raises for dimension 1: the full slice before it is skipped",
    expect=raises(ErrorKind.UNKNOWN, match="slice index 2 of dimension 1 out of bounds"),
)
def _(fw):
    return fw.constant(_M22)[:, 2]


@scenario(
    "ops.too_many_indices_raises",
    spec="OPX08",
    statement="three indices into a matrix raise: the input has only 2 dims",
    expect=raises(ErrorKind.UNKNOWN, match="Index out of range using input dim 2"),
)
def _(fw):
    return fw.constant(_M22)[0, 0, 0]


@scenario(
    "ops.second_index_out_of_bounds_raises",
    spec="OPX08",
    statement="x[0, 5] raises for dimension 1: the in-bounds index 0 before it passes",
    expect=raises(ErrorKind.UNKNOWN, match="slice index 5 of dimension 1 out of bounds"),
)
def _(fw):
    return fw.constant(_M22)[0, 5]


@scenario(
    "ops.tensor_index_out_of_bounds_raises",
    spec="OPX08",
    statement="an int32 tensor used as an index is checked like a Python int: x[constant(5)] raises",
    expect=raises(ErrorKind.UNKNOWN, match="slice index 5 of dimension 0 out of bounds"),
)
def _(fw):
    return fw.constant(_M22)[fw.constant(5, dtype=fw.int32)]


@scenario(
    "ops.ellipsis_index_out_of_bounds_raises",
    spec="OPX08",
    statement="x[..., 5] raises for the last dimension: the ellipsis stands for the ones before it",
    expect=raises(ErrorKind.UNKNOWN, match="slice index 5 of dimension 1 out of bounds"),
)
def _(fw):
    return fw.constant(_M22)[..., 5]


@scenario(
    "ops.ellipsis_then_indices_out_of_bounds_raises",
    spec="OPX08",
    statement="x[..., 0, 5] raises for dimension 1: the ellipsis stands for no dimension here",
    expect=raises(ErrorKind.UNKNOWN, match="slice index 5 of dimension 1 out of bounds"),
)
def _(fw):
    return fw.constant(_M22)[..., 0, 5]


@scenario(
    "ops.multiple_ellipses_raise",
    spec="OPX08",
    statement="x[..., ...] raises: a slice spec may hold one ellipsis",
    expect=raises(ErrorKind.UNKNOWN, match="Multiple ellipses in slice spec not allowed"),
)
def _(fw):
    return fw.constant(_M22)[..., ...]


@scenario(
    "ops.list_index_is_a_tuple",
    spec="OPX08",
    statement="a Python list of ints indexes like a tuple: x[[0, 1]] is x[0, 1] = 2.0, and its "
    "gradient lands on that element",
    expect=returns([2.0, value([[0.0, 3.0], [0.0, 0.0]])]),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(x[[0, 1]] * 3.0), at=(_M22,), pick=lambda d: [None, d.first[0][0]]
    ),
)
def _(fw):
    x = fw.constant(_M22)
    with fw.GradientTape() as tape:
        tape.watch(x)
        picked = x[[0, 1]]
        y = fw.reduce_sum(picked * 3.0)
    return [picked, tape.gradient(y, x)]


@scenario(
    "ops.newaxis_index_out_of_bounds_raises",
    spec="OPX08",
    statement="x[None, 5] raises for dimension 0: a new axis takes no input dimension",
    expect=raises(ErrorKind.UNKNOWN, match="slice index 5 of dimension 0 out of bounds"),
)
def _(fw):
    return fw.constant(_M22)[None, 5]


@scenario(
    "ops.negative_index_gradient",
    spec="OPX08, OP08",
    statement="x[:, -1] takes the last column, and its gradient lands there only",
    expect=returns(value([[0.0, 3.0], [0.0, 3.0]])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(x[:, -1] * 3.0), at=(_M22,)),
)
def _(fw):
    x = fw.constant(_M22)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(x[:, -1] * 3.0)
    return tape.gradient(y, x)


# ---- strings ------------------------------------------------------------------------------------


@scenario(
    "ops.string_add_concatenates",
    spec="OPX09",
    statement="+ on string tensors concatenates elementwise, with a Python str on either side",
    expect=returns(["abcd", ["abcd", "xcd"], "cdab"]),
    features=["strings"],
)
def _(fw):
    both = fw.constant("ab") + fw.constant("cd")
    broadcast = fw.constant(["ab", "x"]) + "cd"
    reflected = "cd" + fw.constant("ab")
    return [
        both.numpy().decode(),
        [item.decode() for item in broadcast.numpy()],
        reflected.numpy().decode(),
    ]


@scenario(
    "ops.string_add_rejects_numbers",
    spec="OPX09",
    statement="a string tensor + an int32 tensor raises: Add wants a string for input 1",
    expect=raises(ErrorKind.DTYPE_MISMATCH, match=r"input #1\(zero-based\) was expected to be a string"),
    features=["strings"],
)
def _(fw):
    return fw.constant("ab") + fw.constant(1, dtype=fw.int32)


@scenario(
    "ops.batch_matmul_size_mismatch_raises",
    spec="OPX04",
    statement="a batched matmul of [2, 2, 3] by [2, 2, 3] raises BatchMatMulV2's size error",
    expect=raises(ErrorKind.UNKNOWN, match=r"Matrix size-incompatible: In\[0\]: \[2,2,3\]"),
)
def _(fw):
    return fw.matmul(fw.ones([2, 2, 3]), fw.ones([2, 2, 3]))


@scenario(
    "ops.batch_matmul_by_matrix_size_mismatch_raises",
    spec="OPX04",
    statement="a matmul of [2, 2, 3] by a [2, 3] matrix is batched too: BatchMatMulV2's size error",
    expect=raises(ErrorKind.UNKNOWN, match=r"In\[0\]: \[2,2,3\], In\[1\]: \[2,3\] .*BatchMatMulV2"),
)
def _(fw):
    return fw.matmul(fw.ones([2, 2, 3]), fw.ones([2, 3]))


@scenario(
    "ops.matrix_by_batch_matmul_size_mismatch_raises",
    spec="OPX04",
    statement="a matmul of a [2, 3] matrix by [2, 2, 3] is batched too: BatchMatMulV2's size error",
    expect=raises(ErrorKind.UNKNOWN, match=r"In\[0\]: \[2,3\], In\[1\]: \[2,2,3\] .*BatchMatMulV2"),
)
def _(fw):
    return fw.matmul(fw.ones([2, 3]), fw.ones([2, 2, 3]))
