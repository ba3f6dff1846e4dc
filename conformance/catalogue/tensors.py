"""Section P of the spec: tensors themselves, operands and conversion (P01-P08).

What a tape program does with a tensor besides differentiating it: its shape (P01), Python
numbers and NumPy arrays (P02), hashing and ``ref()`` (P03), converting Python values (P04) and
NumPy values (P05) with TensorFlow's dtype rules and error texts, lists that hold tensors
(autopacking, P06), sparse ``IndexedSlices`` gradients (P07) and gradients a custom gradient
returns as Python numbers (P08). Also two backpropagation shapes no other area pins: a value
used twice beside another path, and a broadcast that adds an axis and stretches a size-1 one.

Skipped: the ``repr`` of an ``IndexedSlices`` (TensorFlow's is the default ``<... object at
0x...>``), the device in ``x.device`` (the matrix runs on every device; the prefix is pinned),
NumPy's ``ComplexWarning`` (PyTorch emits its own once per process).
"""

from __future__ import annotations

import numpy as np

from conformance.expect import raises, returns, value
from conformance.registry import Oracle, scenario

_NOT_A_DERIVATIVE = "Python values read off a tensor, not derivatives"


# ---- shapes ------------------------------------------------------------------------------------


@scenario(
    "tensors.shape_methods",
    spec="P01",
    statement="x.shape is a TensorShape: rank, ndims, as_list(), num_elements() and its repr",
    expect=returns([2, 2, [2, 3], 6, "TensorShape([2, 3])"]),
)
def _(fw):
    shape = fw.zeros([2, 3]).shape
    return [shape.rank, shape.ndims, shape.as_list(), shape.num_elements(), repr(shape)]


@scenario(
    "tensors.shape_compares_with_lists",
    spec="P01",
    statement="x.shape equals a list or tuple of the same dimensions, nothing else; x.ndim is the "
    "rank and str(x.shape) the tuple's text",
    expect=returns([True, True, False, False, False, False, 2, "(2, 3)"]),
)
def _(fw):
    x = fw.zeros([2, 3])
    shape = x.shape
    return [shape == [2, 3], shape == (2, 3), shape != [2, 3], shape == [3, 2], shape == 6,
            shape == None, x.ndim, str(shape)]  # noqa: E711 - the comparison is the behaviour


# ---- Python numbers, NumPy arrays --------------------------------------------------------------


@scenario(
    "tensors.python_numbers",
    spec="P02",
    statement="float(), int(), bool(), format() and list indexing take a scalar tensor's value",
    expect=returns([2.5, 2, 7, 20, False, True, "2.50"]),
    oracle_exempt=_NOT_A_DERIVATIVE,
)
def _(fw):
    half = fw.constant(2.5)
    index = fw.constant(1)
    return [float(half), int(half), int(fw.constant(7)), [10, 20, 30][index],
            bool(fw.constant(0.0)), bool(half), format(half, ".2f")]


@scenario(
    "tensors.numpy_is_a_copy",
    spec="P02",
    statement="numpy() returns a copy (writing to it leaves the tensor alone), a NumPy scalar for "
    "a scalar tensor; np.asarray gives the values",
    expect=returns([
        "float32", "ndarray", value([1.0, 2.0]), value([[1.0, 2.0], [3.0, 4.0]]),
        value([[1.0, 2.0], [3.0, 4.0]], dtype="float64"),
    ]),
    oracle_exempt=_NOT_A_DERIVATIVE,
)
def _(fw):
    scalar = fw.constant(1.5)
    vector = fw.constant([1.0, 2.0])
    matrix = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    vector.numpy()[0] = 9.0
    matrix.numpy()[0, 0] = 9.0
    return [type(scalar.numpy()).__name__, type(vector.numpy()).__name__, vector,
            np.asarray(matrix), np.asarray(matrix, dtype=np.float64)]


@scenario(
    "tensors.device_is_a_full_name",
    spec="P02",
    statement="x.device is TensorFlow's full device name, /job:localhost/replica:0/task:0/device:...",
    expect=returns(True),
)
def _(fw):
    return fw.constant(1.0).device.startswith("/job:localhost/replica:0/task:0/device:")


# ---- identity: hashing, ref(), name ------------------------------------------------------------


@scenario(
    "tensors.ref_is_the_key",
    spec="P03",
    statement="x.ref() is a hashable key: equal for the same tensor, not for an equal one, and "
    "deref() gives the tensor back; an eager tensor has no name",
    expect=returns([True, False, True, False]),
)
def _(fw):
    x = fw.constant(1.0)
    keys = {x.ref(): "x"}
    return [x.ref() in keys, fw.constant(1.0).ref() in keys, x.ref().deref() is x,
            hasattr(x, "name")]


@scenario(
    "tensors.unhashable",
    spec="P03",
    statement="a tensor is unhashable (its == is elementwise): as a dict key it is a TypeError "
    "pointing to tensor.ref()",
    expect=raises("invalid_argument", "TypeError", r"use tensor\.ref\(\) as the key"),
)
def _(fw):
    keys = {fw.constant(1.0): 1}
    return len(keys)


# ---- converting Python values ------------------------------------------------------------------


@scenario(
    "tensors.fractional_float_to_int_message",
    spec="P04",
    statement="constant(1.5, dtype=int32) is a TypeError naming the value and the dtype",
    expect=raises("invalid_argument", "TypeError", "Cannot convert 1.5 to EagerTensor of dtype int32"),
)
def _(fw):
    return fw.constant(1.5, dtype=fw.int32)


@scenario(
    "tensors.unsupported_leaf_named",
    spec="P04",
    statement="a list of only unsupported values names the first of them (None) in the ValueError",
    expect=raises("invalid_argument", "ValueError", r"Attempt to convert a value \(None\) with an "
                  r"unsupported type \(<class 'NoneType'>\)"),
)
def _(fw):
    return fw.constant([None, Ellipsis])


@scenario(
    "tensors.unsupported_leaf_with_dtype",
    spec="P04",
    statement="with a dtype, a list holding None is still the unsupported-type ValueError",
    expect=raises("invalid_argument", "ValueError", r"Attempt to convert a value \(None\)"),
)
def _(fw):
    return fw.constant([None], dtype=fw.float32)


@scenario(
    "tensors.number_beside_none_rejected",
    spec="P04",
    statement="a number beside None in a list is the 'mixed types' ValueError",
    expect=raises("invalid_argument", "ValueError",
                  "Can't convert Python sequence with mixed types to Tensor"),
)
def _(fw):
    return fw.constant([1.0, None])


@scenario(
    "tensors.string_beside_number_rejected",
    spec="P04",
    statement="a string beside a number in a list is the 'mixed types' ValueError",
    expect=raises("invalid_argument", "ValueError",
                  "Can't convert Python sequence with mixed types to Tensor"),
)
def _(fw):
    return fw.constant(["a", 1])


@scenario(
    "tensors.ragged_list_message",
    spec="P04",
    statement="a ragged list is the 'non-rectangular' ValueError",
    expect=raises("invalid_argument", "ValueError",
                  "Can't convert non-rectangular Python sequence to Tensor"),
)
def _(fw):
    return fw.constant([[1.0], [1.0, 2.0]])


@scenario(
    "tensors.bool_with_bool_dtype",
    spec="P04",
    statement="Python bools convert to an explicit bool dtype",
    expect=returns(value([True, False], dtype="bool")),
    oracle_exempt="a bool value, not a derivative",
)
def _(fw):
    return fw.constant([True, False], dtype=fw.bool)


# ---- converting NumPy values -------------------------------------------------------------------


@scenario(
    "tensors.numpy_complex_to_real_keeps_real_part",
    spec="P05",
    statement="a NumPy complex array converted to float32 keeps the real part; to complex64 it "
    "keeps both parts",
    expect=returns([value([1.0]), value([1.0 + 2.0j], dtype="complex64")]),
    features=["complex"],
    oracle_exempt="converted values, not derivatives",
)
def _(fw):
    array = np.array([1.0 + 2.0j])
    return [fw.constant(array, dtype=fw.float32), fw.constant(array, dtype=fw.complex64)]


@scenario(
    "tensors.numpy_strings_parse_as_numbers",
    spec="P05",
    statement="a NumPy array of numeric strings converts to a number dtype by parsing them",
    expect=returns([value([2.0]), value([2], dtype="int32")]),
    oracle_exempt="converted values, not derivatives",
)
def _(fw):
    return [fw.constant(np.array(["2"]), dtype=fw.float32),
            fw.constant(np.array([b"2"], dtype=object), dtype=fw.int32)]


@scenario(
    "tensors.numpy_unparsable_string_rejected",
    spec="P05",
    statement="a NumPy string that is no number, converted to float32, is NumPy's ValueError",
    expect=raises("invalid_argument", "ValueError", "could not convert string to float"),
)
def _(fw):
    return fw.constant(np.array(["a"]), dtype=fw.float32)


@scenario(
    "tensors.numpy_object_strings",
    spec="P05",
    statement="a NumPy object array of str becomes a string tensor of bytes",
    expect=returns(["bytes", "a", "b"]),
    features=["strings"],
)
def _(fw):
    items = list(fw.constant(np.array(["a", "b"], dtype=object)).numpy())
    return [type(items[0]).__name__, *(item.decode() for item in items)]


# ---- lists holding tensors (autopacking) -------------------------------------------------------


@scenario(
    "tensors.packed_list_takes_the_tensor_dtype",
    spec="P06",
    statement="an operand list holding a tensor is stacked with the tensor's dtype, nested too "
    "([1, x] is float32), and differentiates: d/dx sum(x * [1, x]) + sum([[x, 2], [3, 4]]) = 2x+2",
    expect=returns([True, 6.0]),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(x * fw.stack([1.0, x])) + x, at=(2.0,)),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        packed = x * [1, x]
        y = fw.reduce_sum(packed) + fw.reduce_sum(fw.constant(0.0) + [[x, 2], [3, 4]])
    return [packed.dtype == fw.float32, tape.gradient(y, x)]


@scenario(
    "tensors.packed_list_cast_to_the_operand_dtype",
    spec="P06",
    statement="in an op with a float64 tensor, a list holding a float32 tensor is cast to float64, "
    "differentiably: the gradient is float32",
    expect=returns(value(3.0)),
    features=["float64"],
    oracle=Oracle(lambda fw, x: x + 2.0 * x, at=(2.0,)),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.constant([1.0, 2.0], dtype=fw.float64) * [x, x])
    return tape.gradient(y, x)


# ---- sparse gradients --------------------------------------------------------------------------


@scenario(
    "tensors.gather_gradient_is_indexed_slices",
    spec="P07, OP08",
    statement="gather's gradient is an IndexedSlices of the source's dtype and shape; its negation "
    "is one too",
    expect=returns(["IndexedSlices", True, [3], "IndexedSlices", value([-1.0, 0.0, -1.0])]),
    oracle_exempt="the negated gradient of a sum of gathered rows: -1 at each index; the type is "
    "the point",
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.gather(x, [0, 2]))
    g = tape.gradient(y, x)
    return [type(g).__name__, g.dtype == fw.float32, g.shape.as_list(), type(-g).__name__,
            fw.multiply(-g, 1.0)]


@scenario(
    "tensors.sparse_through_neg_cast_add",
    spec="P07, OP08",
    statement="a gathered tensor's gradient stays IndexedSlices back through negative, cast and "
    "adding a scalar; through a product it is dense",
    expect=returns([
        ["IndexedSlices", "IndexedSlices", "IndexedSlices"], value([-1.0, 1.0, 1.0]),
        value([0.0, 3.0, 0.0]),
    ]),
    features=["float64"],
    oracle_exempt="sums of gathered rows: the types are the point, the values are 1, -1 and 3",
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        parts = [fw.negative(x), fw.cast(x, fw.float64), x + 1.0]
        sums = [fw.reduce_sum(fw.gather(part, [i])) for i, part in enumerate(parts)]
        product = fw.reduce_sum(fw.gather(x * 3.0, [1]))
    grads = [tape.gradient(s, x) for s in sums]
    total = fw.multiply(grads[0], 1.0) + fw.multiply(grads[1], 1.0) + fw.multiply(grads[2], 1.0)
    return [[type(g).__name__ for g in grads], total, tape.gradient(product, x)]


@scenario(
    "tensors.sparse_then_dense_contribution",
    spec="P07, OP09",
    statement="a gather's sparse contribution followed by a dense one adds up to a dense gradient",
    expect=returns(value([3.0, 2.0])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(x * 2.0) + fw.reduce_sum(fw.gather(x, [0])),
                  at=([1.0, 2.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(x * 2.0) + fw.reduce_sum(fw.gather(x, [0]))
    return tape.gradient(y, x)


# ---- gradients returned as Python numbers ------------------------------------------------------


@scenario(
    "tensors.python_number_gradient_flows_on",
    spec="P08, C01",
    statement="a custom gradient returned as a Python number is converted like an operand and "
    "flows on to the ops before it: d/dw f(3w) with grad 2 is 6",
    expect=returns(value(6.0)),
    features=["custom_gradient"],
    oracle_exempt="the custom gradient (2) replaces the derivative (1), so finite differences differ",
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * 1.0, lambda dy: 2.0

    w = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(w)
        y = f(w * 3.0)
    return tape.gradient(y, w)


@scenario(
    "tensors.python_number_gradient_cannot_be_summed",
    spec="P08",
    statement="a Python-number custom gradient that must be summed with another contribution is "
    "TensorFlow's AssertionError",
    expect=raises("unknown", "AssertionError"),
    features=["custom_gradient"],
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * 1.0, lambda dy: 2.0

    w = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(w)
        y = f(w) + w
    return tape.gradient(y, w)


# ---- backpropagation shapes --------------------------------------------------------------------


@scenario(
    "tensors.value_used_twice_beside_another_path",
    spec="J (implied)",
    statement="y = c + a*a with a = 2x, c = 3x: every path contributes, 3 + 8x = 11 at x = 1",
    expect=returns(11.0),
    oracle=Oracle(lambda fw, x: x * 3.0 + (x * 2.0) * (x * 2.0), at=(1.0,)),
)
def _(fw):
    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a = x * 2.0
        c = x * 3.0
        y = c + a * a
    return tape.gradient(y, x)


@scenario(
    "tensors.broadcast_adds_and_stretches_axes",
    spec="J (implied)",
    statement="a [2, 1] source broadcast against [1, 2, 3] gets its gradient summed over the added "
    "axis and its stretched one: [[3], [3]]",
    expect=returns(value([[3.0], [3.0]])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(x * fw.ones([1, 2, 3], dtype=x.dtype)),
                  at=([[1.0], [2.0]],)),
)
def _(fw):
    x = fw.constant([[1.0], [2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(x * fw.ones([1, 2, 3]))
    return tape.gradient(y, x)


@scenario(
    "tensors.sparse_gradient_through_a_slice",
    spec="P07, OP08",
    statement="a gather of a slice x[1:]: the sparse gradient is densified back through the slice",
    expect=returns(value([0.0, 1.0, 0.0])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(fw.gather(x[1:], [0])), at=([1.0, 2.0, 3.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.gather(x[1:], [0]))
    return tape.gradient(y, x)


@scenario(
    "tensors.numpy_number_to_string_rejected",
    spec="P05",
    statement="a NumPy float array converted to the string dtype is a ValueError naming the "
    "Python type (float)",
    expect=raises("invalid_argument", "ValueError",
                  r"Failed to convert a NumPy array to a Tensor \(Unsupported object type float\)"),
    features=["strings"],
)
def _(fw):
    string = fw.constant("").dtype  # the neutral API names no string dtype; a string tensor has it
    return fw.constant(np.array([1.0]), dtype=string)
