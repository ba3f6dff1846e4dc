"""Section I of the spec: the dtype of a gradient, and TF's convention for complex gradients.

Skipped: D01's bfloat16 case (bfloat16 is not a neutral dtype). Int, bool and string sources are
section A's (W16-W20). Complex scenarios are exempt from the numeric oracle: the oracle's finite
differences are real-valued, and the convention (``conj(dy/dz) * upstream``) is the behaviour.
"""

from __future__ import annotations

import numpy as np

from conformance.expect import any_value, raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_square = Oracle(lambda fw, x: x * x, at=(3.0,))
_CONVENTION = "TF's complex gradient convention (conj of dy/dz times upstream) is the behaviour"


@scenario(
    "dtypes.float16_preserved",
    spec="D01",
    statement="the gradient of a float16 source is float16",
    expect=returns(value(6.0, dtype="float16")),
    features=["float16"],
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0, dtype=fw.float16)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "dtypes.float64_preserved",
    spec="D01",
    statement="the gradient of a float64 source is float64",
    expect=returns(value(6.0, dtype="float64")),
    features=["float64"],
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0, dtype=fw.float64)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.gradient(y, x)


@scenario(
    "dtypes.float64_source_through_cast",
    spec="D01",
    statement="a float64 source computed on in float32 (through cast) gets a float64 gradient",
    expect=returns(value(2.0, dtype="float64")),
    features=["float64"],
    oracle=Oracle(lambda fw, x: x * 2.0, at=(3.0,)),  # the cast is the identity on values
)
def _(fw):
    x = fw.constant(3.0, dtype=fw.float64)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(x, fw.float32) * 2.0
    return tape.gradient(y, x)


@scenario(
    "dtypes.float32_source_through_float64",
    spec="D01",
    statement="a float32 source computed on in float64 gets a float32 gradient",
    expect=returns(value(6.0, dtype="float32")),
    features=["float64"],
    oracle=_square,
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(x, fw.float64) * fw.cast(x, fw.float64)
    return tape.gradient(y, x)


@scenario(
    "dtypes.float16_source_through_cast",
    spec="D01",
    statement="a float16 source computed on in float32 gets a float16 gradient",
    expect=returns(value(2.0, dtype="float16")),
    features=["float16"],
    oracle=Oracle(lambda fw, x: x * 2.0, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0, dtype=fw.float16)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(x, fw.float32) * 2.0
    return tape.gradient(y, x)


@scenario(
    "dtypes.mixed_sources_keep_their_dtypes",
    spec="D01",
    statement="one call with float16, float32 and float64 sources returns each in its own dtype",
    expect=returns([value(2.0, dtype="float16"), value(1.0), value(1.0, dtype="float64")]),
    features=["float16", "float64"],
    oracle=Oracle(
        lambda fw, a, b, c: a * b + c,
        at=(1.0, 2.0, 3.0),
        pick=lambda d: [d.first[0][0], d.first[0][1], d.first[0][2]],
    ),
)
def _(fw):
    a = fw.constant(1.0, dtype=fw.float16)
    b = fw.constant(2.0)
    c = fw.constant(3.0, dtype=fw.float64)
    with fw.GradientTape() as tape:
        tape.watch([a, b, c])
        y = fw.cast(a, fw.float32) * b + fw.cast(c, fw.float32)
    return tape.gradient(y, [a, b, c])


@scenario(
    "dtypes.complex_holomorphic",
    spec="D02",
    statement="for a holomorphic y = z*z, TF returns conj(dy/dz) = conj(2z), not 2z",
    expect=returns(value(2 - 4j, dtype="complex64")),
    features=["complex"],
    oracle_exempt=_CONVENTION,
)
def _(fw):
    z = fw.constant(1.0 + 2.0j, dtype=fw.complex64)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = z * z
    return tape.gradient(y, z, output_gradients=fw.ones_like(y))


@scenario(
    "dtypes.complex_real_valued_target",
    spec="D02",
    statement="for real-valued y = real(z * conj(z)) = |z|^2, TF returns 2 dy/dconj(z) = 2z",
    expect=returns(value(2 + 4j, dtype="complex64")),
    features=["complex"],
    oracle_exempt=_CONVENTION,
)
def _(fw):
    z = fw.constant(1.0 + 2.0j, dtype=fw.complex64)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = fw.real(z * fw.conj(z))
    return tape.gradient(y, z)


@scenario(
    "dtypes.complex_abs",
    spec="D02",
    statement="the gradient of abs(z) is z/|z|",
    expect=returns(value(0.4472136 + 0.8944272j, dtype="complex64")),
    features=["complex"],
    oracle_exempt=_CONVENTION,
)
def _(fw):
    z = fw.constant(1.0 + 2.0j, dtype=fw.complex64)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = fw.abs(z)
    return tape.gradient(y, z)


@scenario(
    "dtypes.complex_real_part",
    spec="D02",
    statement="the gradient of real(z) is 1+0j",
    expect=returns(value(1 + 0j, dtype="complex64")),
    features=["complex"],
    oracle_exempt=_CONVENTION,
)
def _(fw):
    z = fw.constant(1.0 + 2.0j, dtype=fw.complex64)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = fw.real(z)
    return tape.gradient(y, z)


@scenario(
    "dtypes.complex_imag_part",
    spec="D02",
    statement="the gradient of imag(z) is 1j (not -1j)",
    expect=returns(value(1j, dtype="complex64")),
    features=["complex"],
    oracle_exempt=_CONVENTION,
)
def _(fw):
    z = fw.constant(1.0 + 2.0j, dtype=fw.complex64)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = fw.imag(z)
    return tape.gradient(y, z)


@scenario(
    "dtypes.complex128_preserved",
    spec="D01, D02",
    statement="a complex128 source gets a complex128 gradient with the same convention",
    expect=returns(value(2 - 4j, dtype="complex128")),
    features=["complex"],
    oracle_exempt=_CONVENTION,
)
def _(fw):
    z = fw.constant(1.0 + 2.0j, dtype=fw.complex128)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = z * z
    return tape.gradient(y, z, output_gradients=fw.ones_like(y))


@scenario(
    "dtypes.complex_output_gradient",
    spec="D02, O01",
    statement="a complex output gradient multiplies the conjugated derivative: 1j * conj(2z)",
    expect=returns(value(4 + 2j, dtype="complex64")),
    features=["complex"],
    oracle_exempt=_CONVENTION,
)
def _(fw):
    z = fw.constant(1.0 + 2.0j, dtype=fw.complex64)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = z * z
    return tape.gradient(y, z, output_gradients=fw.constant(1j, dtype=fw.complex64))


@scenario(
    "dtypes.real_source_complex_target",
    spec="D02",
    statement="a real source of a complex target gets the real part of the complex gradient",
    expect=returns(1.0),
    features=["complex"],
    oracle_exempt=_CONVENTION,
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(x, fw.complex64) * fw.constant(1.0 + 2.0j, dtype=fw.complex64)
    return tape.gradient(y, x, output_gradients=fw.ones_like(y))


# ---- what constant() makes of Python and NumPy values ------------------------------------------
# TF's conversion rules decide the dtype of every tensor a program makes; a port that assumes
# another framework's defaults (int64, float64) computes in another precision.


@scenario(
    "dtypes.python_int_is_int32",
    spec="D03",
    statement="a Python int becomes int32, and one too large for int32 becomes int64",
    expect=returns([value(3, dtype="int32"), value(2**40, dtype="int64")]),
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [fw.constant(3), fw.constant(2**40)]


@scenario(
    "dtypes.mixed_int_float_list_is_float32",
    spec="D03",
    statement="a Python list mixing ints and floats becomes float32, nested lists a matrix",
    expect=returns([value([1.0, 2.5]), value([[1, 2], [3, 4]], dtype="int32")]),
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [fw.constant([1, 2.5]), fw.constant([[1, 2], [3, 4]])]


@scenario(
    "dtypes.numpy_dtypes_are_kept",
    spec="D03",
    statement="NumPy values keep their dtype: float64 and int64 arrays, a float32 scalar, and a "
    "list holding a NumPy float64 becomes float64",
    expect=returns([
        value([1.0, 2.0], dtype="float64"),
        value([1, 2], dtype="int64"),
        value(1.5, dtype="float32"),
        value([1.0, 2.0], dtype="float64"),
    ]),
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [
        fw.constant(np.array([1.0, 2.0])),
        fw.constant(np.array([1, 2], dtype=np.int64)),
        fw.constant(np.float32(1.5)),
        fw.constant([np.float64(1.0), 2]),
    ]


@scenario(
    "dtypes.python_bool_and_complex",
    spec="D03",
    statement="Python bools become bool and a Python complex becomes complex128",
    expect=returns([value([True, False], dtype="bool"), value(1 + 2j, dtype="complex128")]),
    features=["complex"],
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [fw.constant([True, False]), fw.constant(1 + 2j)]


@scenario(
    "dtypes.explicit_dtype_converts_python_values",
    spec="D03",
    statement="constant(2, dtype=float32) is 2.0 float32; a variable converts to its value",
    expect=returns([value(2.0), value(1.5)]),
    features=["variables"],
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [fw.constant(2, dtype=fw.float32), fw.constant(fw.Variable(1.5))]


@scenario(
    "dtypes.tensor_with_other_dtype_rejected",
    spec="D03",
    statement="constant(a float32 tensor, dtype=float64) is a TypeError: tensors are not cast",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    return fw.constant(fw.constant(1.0), dtype=fw.float64)


@scenario(
    "dtypes.none_is_not_convertible",
    spec="D03",
    statement="constant(None) is a ValueError (an unsupported type)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
)
def _(fw):
    return fw.constant(None)


@scenario(
    "dtypes.ragged_list_rejected",
    spec="D03",
    statement="a non-rectangular nested list is a ValueError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
)
def _(fw):
    return fw.constant([[1.0], [2.0, 3.0]])


@scenario(
    "dtypes.fractional_float_to_int_rejected",
    spec="D03",
    statement="constant(2.5, dtype=int32) is a TypeError: no silent truncation",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    return fw.constant(2.5, dtype=fw.int32)


@scenario(
    "dtypes.numpy_of_scalar_is_numpy_scalar",
    spec="W10",
    statement=".numpy() of a scalar tensor is a NumPy scalar (np.generic), of a vector an ndarray",
    expect=returns([True, True]),
)
def _(fw):
    return [
        isinstance(fw.constant(1.0).numpy(), np.generic),
        isinstance(fw.constant([1.0]).numpy(), np.ndarray),
    ]


# ---- dtypes in arithmetic ----------------------------------------------------------------------


@scenario(
    "dtypes.mixed_float_widths_rejected",
    spec="D03",
    statement="float32 + float64 is an error naming the mismatched input (#1): TF never promotes",
    expect=raises(ErrorKind.DTYPE_MISMATCH, match=r"input #1\(zero-based\)"),
    features=["float64"],
)
def _(fw):
    return fw.constant(1.0) + fw.constant(1.0, dtype=fw.float64)


@scenario(
    "dtypes.integer_mean_truncates",
    spec="D03",
    statement="reduce_mean of int32 values is an int32 and truncates: mean([1, 2]) = 1",
    expect=returns(value(1, dtype="int32")),
    oracle_exempt="an integer reduction, not a derivative",
)
def _(fw):
    return fw.reduce_mean(fw.constant([1, 2]))


@scenario(
    "dtypes.integer_division_is_float64",
    spec="D03",
    statement="int32 / int32 is true division in float64: 3 / 2 = 1.5",
    expect=returns(value(1.5, dtype="float64")),
    oracle_exempt="a division of integers, not a derivative",
)
def _(fw):
    return fw.constant(3) / fw.constant(2)


@scenario(
    "dtypes.int32_range_decides_int64",
    spec="D03",
    statement="a list of Python ints is int32 while every value fits in [-2**31, 2**31), int64 "
    "beyond either end",
    expect=returns([
        value([2**31 - 1], dtype="int32"),
        value([2**31], dtype="int64"),
        value([-(2**31)], dtype="int32"),
        value([-(2**31) - 1], dtype="int64"),
    ]),
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [
        fw.constant([2**31 - 1]),
        fw.constant([2**31]),
        fw.constant([-(2**31)]),
        fw.constant([-(2**31) - 1]),
    ]


@scenario(
    "dtypes.int_beyond_int64_rejected",
    spec="D03",
    statement="a Python int beyond int64 is a ValueError (out-of-range integer)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
)
def _(fw):
    return fw.constant([2**63])


@scenario(
    "dtypes.numpy_array_cast_to_explicit_dtype",
    spec="D03",
    statement="a NumPy array with an explicit dtype is cast: float64 and int arrays to float32, a "
    "float array to int32 (truncating), a complex array to float32 (its real part)",
    expect=returns([
        value([1.5, 2.0]), value([1.0, 2.0]), value([1], dtype="int32"), value([1.0]),
    ]),
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [
        fw.constant(np.array([1.5, 2.0]), dtype=fw.float32),
        fw.constant(np.array([1, 2]), dtype=fw.float32),
        fw.constant(np.array([1.5]), dtype=fw.int32),
        fw.constant(np.array([1 + 1j]), dtype=fw.float32),
    ]


@scenario(
    "dtypes.numpy_object_array_rejected",
    spec="D03",
    statement="a NumPy object array is a ValueError (unsupported object type)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
)
def _(fw):
    return fw.constant(np.array([1, None], dtype=object))


@scenario(
    "dtypes.python_floats_not_converted_to_int",
    spec="D03",
    statement="a list of Python floats with dtype=int32 is a TypeError, even for whole numbers",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    return fw.constant([1.0, 2.0], dtype=fw.int32)


@scenario(
    "dtypes.python_values_widen_to_explicit_dtype",
    spec="D03",
    statement="Python bools convert to an explicit int32 and floats to complex64",
    expect=returns([value([1], dtype="int32"), value([1.5 + 0j], dtype="complex64")]),
    features=["complex"],
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [fw.constant([True], dtype=fw.int32), fw.constant([1.5], dtype=fw.complex64)]


@scenario(
    "dtypes.empty_lists_are_float32",
    spec="D03",
    statement="an empty list is a float32 tensor of shape [0], a list of empty lists [2, 0]",
    expect=returns([any_value("float32", [0]), any_value("float32", [2, 0])]),
)
def _(fw):
    return [fw.constant([]), fw.constant([[], []])]


@scenario(
    "dtypes.numpy_scalars_in_lists",
    spec="D03",
    statement="NumPy scalars in a list decide its dtype: a float32 one with Python floats is "
    "float32, float64 beside float32 is float64",
    expect=returns([value([1.0, 2.0]), value([1.0, 2.0], dtype="float64")]),
    oracle_exempt="a conversion, not a derivative",
)
def _(fw):
    return [
        fw.constant([np.float32(1.0), 2.0]),
        fw.constant([np.float64(1.0), np.float32(2.0)]),
    ]


@scenario(
    "dtypes.integer_mean_truncates_toward_zero",
    spec="D03",
    statement="reduce_mean of negative int32 values truncates toward zero: -1.5 gives -1",
    expect=returns([value(-1, dtype="int32"), value(-1, dtype="int32")]),
    oracle_exempt="an integer reduction, not a derivative",
)
def _(fw):
    return [fw.reduce_mean(fw.constant([-1, -2])), fw.reduce_mean(fw.constant([-3, 0]))]


@scenario(
    "dtypes.cast_between_complex_and_real_gradients",
    spec="D01, D02",
    statement="through cast complex -> float32 the gradient is complex (3+0j); through float32 "
    "-> complex it is real (1.0)",
    expect=returns([value(3 + 0j, dtype="complex64"), 1.0]),
    features=["complex"],
    oracle_exempt="TF's complex gradient convention; the oracle differentiates real functions",
)
def _(fw):
    z = fw.constant(1.0 + 2.0j, dtype=fw.complex64)
    x = fw.constant(2.0)
    c = fw.constant(1.0 + 1.0j, dtype=fw.complex64)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch([z, x])
        to_real = fw.cast(z, fw.float32) * 3.0
        to_complex = fw.real(fw.cast(x, fw.complex64) * c)
    return [tape.gradient(to_real, z), tape.gradient(to_complex, x)]


@scenario(
    "dtypes.kernel_error_names_the_op",
    spec="OP16",
    statement="an op without a kernel for the dtype names the op in its node and its [Op:...] tag",
    expect=raises("unknown", match=r"\{\{node Sqrt\}\}(.|\n)*\[Op:Sqrt\] name: $"),
)
def _(fw):
    return fw.sqrt(fw.constant(4))
