"""Fidelity: the idioms of real TensorFlow programs give, on ``reference_impl``, TensorFlow's outcome.

Each program below is one item of issues 13 and 11 (operand conversion, printing, variables,
conversion of Python and NumPy values, the tape's error types, custom gradients), written as a
function of ``tf`` and run with both libraries by the differential machinery of
``test_differential_tf`` (same normalisation, same comparison: values with dtype and shape,
exception type and message, logged warnings). TensorFlow grades the reference; where TensorFlow is
not installed these tests are skipped. A program that checks several related idioms records each
raised exception with ``_attempt``, so one failing idiom is shown beside the others.

Thread safety is not a differential question: two threads sharing one persistent tape must get the
analytic gradients (TensorFlow's documented behaviour: a tape is usable from any thread).
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from spec_programs import Program, _attempt, _names
from test_differential_tf import (  # noqa: F401 - the fixtures are used by name
    assert_outcomes_agree,
    reference,
    run_program,
    tensorflow,
)

#: Program name -> Program, in the order of the issues' lists.
FIDELITY: dict[str, Program] = {}


def program(compare: str = "full", why: str = "") -> Callable:
    """Register the decorated function as a fidelity program."""

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if fn.__name__ in FIDELITY:
            raise ValueError(f"Program {fn.__name__} is registered twice")
        FIDELITY[fn.__name__] = Program(entry="fidelity", fn=fn, compare=compare, why=why)
        return fn

    return register


class Unconvertible:
    """A value no library can make a tensor of, with a repr that is the same in every process."""

    def __repr__(self) -> str:
        return "<Unconvertible>"


# ---- operands of operators: Python numbers, NumPy values and lists beside a tensor ----


@program()
def python_number_left_of_variable(tf):
    v = tf.Variable(2.0)
    return 2 * v, 1 / v, 2 - v, 2**v, 3 + v, v * 2


@program()
def gradient_within_tape_block(tf):
    # TensorFlow's own eager test (backprop_test.testGradientWithinTapeBlock)
    v1 = tf.Variable(1.0)
    with tf.GradientTape() as t:
        loss = 2 * v1
        grad = t.gradient(loss, v1)
    with tf.GradientTape(persistent=True) as t:
        loss = 2 * v1
        persistent_grad = t.gradient(loss, v1)
    return grad, persistent_grad


@program()
def autodiff_guide_reciprocal(tf):
    # the autodiff guide: y1 = 1 / x for a variable x
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y0 = x**2
        y1 = 1 / x
    return tape.gradient(y0, x), tape.gradient(y1, x)


@program()
def numpy_scalar_operands(tf):
    x = tf.constant([1.0, 2.0])
    return (
        x * np.float32(2),
        np.float32(2) * x,
        np.float64(2) * x,
        x * np.float64(2),
        x * np.int32(2),
        x + np.int64(3),
        x * np.bool_(True),
        tf.constant(1.0, tf.float64) * np.float32(2),
    )


@program()
def list_and_numpy_array_operands(tf):
    x = tf.constant([1.0, 2.0])
    return (
        x * [3.0, 4.0],
        [3.0, 4.0] * x,
        x * [3, 4],
        x - np.array([1.0, 1.0], dtype=np.float32),
        x - np.array([1.0, 1.0]),
        np.array([1.0, 1.0]) - x,
        np.array([1.0, 2.0]) / x,
    )


@program()
def complex_operands(tf):
    x = tf.constant([1.0, 2.0])
    return (
        _attempt(lambda: x * 1j),
        tf.constant([1 + 0j]) * 1j,
        1.5 * tf.constant([1 + 1j], tf.complex64),
        tf.constant([1 + 1j]) * 1.5,
    )


@program()
def integer_tensor_beside_floats(tf):
    xi = tf.constant(1)
    return (
        _attempt(lambda: xi * 2.5),
        _attempt(lambda: 2.5 * xi),
        _attempt(lambda: xi + 2.5),
        _attempt(lambda: xi + [2.5]),
        _attempt(lambda: xi / 2.5),
        _attempt(lambda: 2.5 / xi),
        xi / 2,
        2 / xi,
        xi * True,
        xi + np.float32(3),
        xi * (2**40),
    )


@program()
def matmul_with_lists(tf):
    x = tf.constant([[1.0, 2.0]])
    return (
        tf.matmul(x, [[1.0], [2.0]]),
        tf.matmul([[1.0, 2.0]], tf.constant([[1.0], [2.0]])),
        tf.matmul(x, [[1], [2]]),
        _attempt(lambda: tf.matmul([[1, 1]], tf.constant([[1.0], [2.0]]))),
        _attempt(lambda: tf.matmul(np.array([[1.0, 1.0]]), tf.constant([[1.0], [2.0]]))),
        x @ [[1.0], [2.0]],
        [[1.0, 2.0]] @ tf.constant([[1.0], [2.0]]),
        _attempt(lambda: tf.constant([[1]]) @ [[2.5]]),
        _attempt(lambda: tf.tensordot([1, 2], tf.constant([1.0, 2.0]), 1)),
    )


@program()
def where_operands(tf):
    c = tf.constant([True, False])
    x = tf.constant([1.0, 2.0])
    return (
        _attempt(lambda: tf.where(c, x)),
        tf.where(c, x, 0.0),
        tf.where(c, 0, x),
        tf.where(c, 1, x),
        tf.where(c, x, np.array([1.0, 1.0])),
        tf.where([True, False], x, 0.0),
        _attempt(lambda: tf.where(c, 1, 2.5)),
        _attempt(lambda: tf.where(x, x, x)),
        tf.where(x > 1),
    )


@program()
def function_operand_rules(tf):
    # each function converts as its TensorFlow counterpart: add/matmul/truediv hint with the
    # first operand; multiply/subtract/pow/maximum/comparisons match the first tensor
    x = tf.constant([1.0, 2.0])
    x64 = tf.constant([1.0, 2.0], tf.float64)
    v = tf.Variable(2.0)
    cases = {
        "add(1, x)": lambda: tf.add(1, x),
        "add(x, 1)": lambda: tf.add(x, 1),
        "add(np64, x)": lambda: tf.add(np.array([1.0, 1.0]), x),
        "add(x, np64)": lambda: tf.add(x, np.array([1.0, 1.0])),
        "add(1, v)": lambda: tf.add(1, v),
        "add(2, [1.5])": lambda: tf.add(2, [1.5]),
        "add(x, x64)": lambda: tf.add(x, x64),
        "subtract(1, x)": lambda: tf.subtract(1, x),
        "subtract(2, [1.5])": lambda: tf.subtract(2, [1.5]),
        "multiply(1, v)": lambda: tf.multiply(1, v),
        "multiply(np32, [1, 2])": lambda: tf.multiply(np.float32(2), [1, 2]),
        "multiply(x, x64)": lambda: tf.multiply(x, x64),
        "pow(2, x)": lambda: tf.pow(2, x),
        "maximum(0, x)": lambda: tf.maximum(0, x),
        "minimum(np64, x)": lambda: tf.minimum(np.array([1.0, 1.0]), x),
        "equal(1, x)": lambda: tf.equal(1, x),
        "greater(1, v)": lambda: tf.greater(1, v),
        "less_equal(1, x)": lambda: tf.less_equal(1, x),
        "divide(1, x)": lambda: tf.divide(1, x),
        "divide(np64, x)": lambda: tf.divide(np.array([1.0, 1.0]), x),
        "divide(2, [1.5])": lambda: tf.divide(2, [1.5]),
        "divide(x, x64)": lambda: tf.divide(x, x64),
        "truediv(1, x)": lambda: tf.math.truediv(1, x),
        "truediv(x, np64)": lambda: tf.math.truediv(x, np.array([1.0, 1.0])),
        "complex(1, x)": lambda: tf.complex(1, x),
        "complex(x, x)": lambda: tf.complex(x, x),
    }
    return {name: _attempt(case) for name, case in cases.items()}


@program()
def gradients_through_mixed_operands(tf):
    v = tf.Variable([1.0, 2.0])
    x = tf.constant([3.0, 4.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.reduce_sum(2 * v * np.float32(3) + [1.0, 2.0] * x - np.array([1.0, 1.0]) / v)
        z = tf.reduce_sum(tf.matmul([[1.0, 2.0]], tf.reshape(x, (2, 1))) ** np.float64(2))
    return tape.gradient(y, [v, x]), tape.gradient(z, x)


@program()
def equality_operators(tf):
    x = tf.constant([1.0, 2.0])
    v = tf.Variable([1.0, 2.0])
    longer = tf.constant([1.0, 2.0, 3.0])
    return (
        x == [1.0, 2.0],
        x == None,  # noqa: E711 - the operator's None rule is what is tested
        x != None,  # noqa: E711
        x == 1,
        x == longer,
        x != longer,
        v == longer,
        v == v,
        _attempt(lambda: x == "a"),
        _attempt(lambda: v == None),  # noqa: E711
        _attempt(lambda: tf.constant(1) == 1.5),
        _attempt(lambda: x < longer),
    )


@program()
def lists_holding_tensors(tf):
    x = tf.constant([1.0, 2.0])
    v = tf.Variable(2.0)
    return (
        tf.stack([x, [1.0, 2.0]]),
        tf.stack([1, x[0]]),
        tf.concat([[1, 2], x], 0),
        tf.convert_to_tensor([1, x[0]]),
        tf.convert_to_tensor([v, 1.0]),
        _attempt(lambda: tf.convert_to_tensor([x, tf.constant([1.0, 2.0], tf.float64)])),
    )


@program()
def ops_without_a_kernel_for_the_dtype(tf):
    cases = {
        "exp(1)": lambda: tf.exp(1),
        "sqrt(4)": lambda: tf.sqrt(4),
        "tanh(int)": lambda: tf.tanh(tf.constant([1, 2])),
        "sigmoid(bool)": lambda: tf.sigmoid(tf.constant(True)),
        "floor(int)": lambda: tf.floor(tf.constant(1)),
        "negative(bool)": lambda: tf.negative(tf.constant(True)),
        "abs(bool)": lambda: tf.abs(tf.constant(True)),
        "relu(bool)": lambda: tf.nn.relu(tf.constant(True)),
        "softmax(int)": lambda: tf.nn.softmax(tf.constant([1, 2])),
        "square(2)": lambda: tf.square(2),
        "round(int)": lambda: tf.round(tf.constant(3)),
        "reduce_sum(bool)": lambda: tf.reduce_sum(tf.constant([True])),
        "reduce_mean(string)": lambda: tf.reduce_mean(tf.constant(["a"])),
        "reduce_max(complex)": lambda: tf.reduce_max(tf.constant([1j])),
        "reduce_sum(complex)": lambda: tf.reduce_sum(tf.constant([1j, 2.0])),
        "abs(complex)": lambda: tf.abs(tf.constant(3 + 4j)),
        "exp(list)": lambda: tf.exp([1, 2]),
        "minimum(complex, number)": lambda: tf.minimum(tf.constant([1j]), 1j),
        "minimum(complex, numpy)": lambda: tf.minimum(tf.constant([1j]), np.complex128(1j)),
        "minimum(complex, list)": lambda: tf.minimum(tf.constant([1j]), [1j]),
        "minimum(complex, array)": lambda: tf.minimum(tf.constant([1j]), np.array([1j])),
        "exp(int array)": lambda: tf.exp(np.array([1, 2])),
        "reduce_max(complex array)": lambda: tf.reduce_max(np.array([1j])),
        "greater(complex, number)": lambda: tf.greater(tf.constant([1j]), 1j),
    }
    return {name: _attempt(case) for name, case in cases.items()}


@program()
def binary_ops_without_a_kernel_for_the_dtype(tf):
    values = {
        "bool": tf.constant(True),
        "complex64": tf.constant(1j, tf.complex64),
        "string": tf.constant("a"),
        "uint8": tf.constant(2, tf.uint8),
    }
    ops = ("add", "subtract", "multiply", "divide", "pow", "maximum", "minimum", "greater")
    ops += ("less_equal", "equal")
    results = {}
    for op in ops:
        for dtype, value in values.items():
            results[f"{op}({dtype})"] = _attempt(lambda op=op, v=value: getattr(tf.math, op)(v, v))
    results["matmul(bool)"] = _attempt(lambda: tf.matmul([[True]], [[True]]))
    return results


@program()
def numpy_scalars_decide_beside_a_variable(tf):
    # without a tensor operand, TF's fast path lets the first value carrying a dtype decide:
    # a variable, or a NumPy scalar (np.float64 is a Python float and does not)
    v, vi = tf.Variable(1.5), tf.Variable(1)
    cases = {}
    for label, scalar in (
        ("float16", np.float16(1.5)),
        ("float32", np.float32(1.5)),
        ("float64", np.float64(1.5)),
        ("int8", np.int8(1)),
        ("int32", np.int32(1)),
        ("bool", np.bool_(True)),
        ("float16 array", np.array([1.5], np.float16)),
    ):
        for var_label, var in (("float var", v), ("int var", vi)):
            cases[f"{label}, {var_label}"] = _attempt(lambda s=scalar, w=var: tf.multiply(s, w))
            cases[f"{var_label}, {label}"] = _attempt(lambda s=scalar, w=var: tf.minimum(w, s))
    cases["int8, float32"] = tf.multiply(np.int8(1), np.float32(2.0))
    cases["int8, tensor"] = tf.multiply(np.int8(1), tf.constant(2.0))
    return cases


@program()
def stack_converts_the_whole_list_first(tf):
    x = tf.constant([1.0, 2.0])
    return (
        tf.stack([1, 2.5]),
        tf.stack([[1, 2], [3.5, 4]]),
        tf.stack([1.5, 2.5], axis=-1),
        _attempt(lambda: tf.stack([1, 2.5], axis=-1)),
        _attempt(lambda: tf.stack([x, tf.constant([1.0, 2.0], tf.float64)])),
    )


@program()
def kernel_error_messages(tf):
    cases = {
        "matmul": lambda: tf.matmul(tf.ones((2, 3)), tf.ones((2, 3))),
        "matmul of lists": lambda: tf.matmul([[1.0, 2.0]], [[1.0, 2.0]]),
        "batch matmul": lambda: tf.matmul(tf.ones((4, 2, 3)), tf.ones((4, 2, 3))),
        "reduce_sum axis": lambda: tf.reduce_sum(tf.ones((2, 2)), axis=-3),
        "reduce_sum axis of a list": lambda: tf.reduce_sum([1.0, 2.0], axis=2),
        "reduce_mean axis": lambda: tf.reduce_mean(tf.ones((2,)), axis=2),
        "reduce_max axis": lambda: tf.reduce_max(tf.ones((2,)), axis=2),
        "reshape size": lambda: tf.reshape([1.0, 2.0, 3.0], (2, 2)),
        "reshape two -1": lambda: tf.reshape(tf.ones((4,)), (-1, -1)),
        "index": lambda: tf.constant([1.0, 2.0])[5],
        "negative index": lambda: tf.constant([1.0, 2.0])[-5],
        "index of a matrix": lambda: tf.ones((2, 3))[1, 7],
        "empty slice": lambda: tf.constant([1.0, 2.0])[5:9],
        "gather": lambda: tf.gather([1.0, 2.0], [5]),
        "gather negative": lambda: tf.gather([1.0, 2.0], [-1]),
        "gather 2-d indices": lambda: tf.gather(tf.ones((3, 2)), [[0], [4]]),
        "concat ranks": lambda: tf.concat([tf.ones((1,)), tf.ones((1, 1))], 0),
        "concat ranks of lists": lambda: tf.concat([[1.0], [[2.0]]], 0),
        "concat dimensions": lambda: tf.concat([tf.ones((1, 2)), tf.ones((1, 3))], 0),
        "concat of three": lambda: tf.concat([tf.ones((1,)), tf.ones((1,)), tf.ones((1, 1))], 0),
        "negative integer power": lambda: tf.pow(tf.constant([2, 2]), tf.constant([-2, 1])),
        "negative integer power of lists": lambda: tf.pow([2], [-1]),
        "shapes of a list operand": lambda: tf.multiply(tf.constant([1.0, 2.0]), [1.0, 2.0, 3.0]),
        "shapes of an array operand": lambda: tf.multiply(tf.constant([1.0, 2.0]), np.ones(3)),
        "shapes, hinted": lambda: tf.constant([1.0, 2.0]) + [1.0, 2.0, 3.0],
        "shapes of a comparison": lambda: tf.less(tf.constant([1.0, 2.0]), [1.0, 2.0, 3.0]),
    }
    return {name: _attempt(case) for name, case in cases.items()}


@program()
def string_and_logical_operators(tf):
    b = tf.constant([True, False])
    i = tf.constant([1, 2])
    x = tf.constant([1.0, 2.0])
    cases = {
        "string + string": lambda: tf.constant("a") + "b",
        "string + tensor": lambda: "b" + tf.constant("a"),
        "strings + string": lambda: tf.constant(["a", "b"]) + "c",
        "string + int": lambda: tf.constant("a") + 1,
        "b & b": lambda: b & b,
        "b | list": lambda: b | [True, True],
        "b ^ b": lambda: b ^ b,
        "~b": lambda: ~b,
        "True & b": lambda: True & b,
        "i & i": lambda: i & i,
        "~i": lambda: ~i,
        "x & x": lambda: x & x,
        "~x": lambda: ~x,
        "logical_and": lambda: tf.logical_and(b, [True, False]),
        "logical_and of ints": lambda: tf.logical_and(i, i),
        "logical_or": lambda: tf.logical_or(b, b),
        "math.logical_xor": lambda: tf.math.logical_xor(b, [True, True]),
    }
    return {name: _attempt(case) for name, case in cases.items()}


@program()
def casting_nan_to_int_is_silent(tf):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = tf.cast(tf.constant([np.nan, 1.5, -2.5]), tf.int32)
    return value, [str(w.message) for w in caught]


@program()
def casting_complex_to_real_warns(tf):
    return tf.cast(tf.constant([1 + 2j], tf.complex64), tf.float64), tf.cast(1.7, tf.int32)


# ---- printing and formatting ----


@program()
def shape_printing(tf):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    return (
        str(x.shape),
        str(tf.constant(1.0).shape),
        str(tf.constant([1.0]).shape),
        repr(x.shape),
        f"{x.shape}",
        x.shape == [3, 2],
        x.shape == (3, 2),
        x.shape != [3, 2],
        x.shape == [2, 3],
        type(x).__name__,
        "shape: {}".format(tf.Variable([1.0, 2.0]).shape),  # noqa: UP032 - format() is tested
    )


@program()
def tensor_printing(tf):
    matrix = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    return (
        str(matrix),
        repr(matrix),
        str(tf.constant([1.0, 2.0])),
        str(tf.constant(1.0)),
        str(tf.constant(True)),
        str(tf.constant(["a", "b"])),
        str(tf.constant([["a"], ["b"]])),
        repr(tf.constant("a")),
        repr(tf.Variable([[1.0, 2.0], [3.0, 4.0]])),
        str(tf.Variable([[1.0, 2.0], [3.0, 4.0]])),
        str(tf.constant([[1.0, 2.0]], tf.float16)),
    )


@program()
def tensor_formatting(tf):
    return (
        "hello, {}".format(tf.constant([[4.0]])),  # noqa: UP032 - format() is tested
        f"{tf.constant(4.0):.2f}",
        f"{tf.constant(4.0)}",
        f"{tf.constant(3)}",
        "{}".format(tf.Variable(4.0)),  # noqa: UP032
        _attempt(lambda: f"{tf.constant([4.0]):.2f}"),
        _attempt(lambda: f"{tf.Variable(4.0):.2f}"),
    )


# ---- variables ----


@program()
def variable_created_in_tape_is_not_watched(tf):
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        w = tf.Variable(2.0)
    with tf.GradientTape() as t2:
        v.assign(3.0)
    with tf.GradientTape() as t3:
        v.assign_add(3.0)
    return (
        _names(t.watched_variables(), w=w),
        _names(t2.watched_variables(), v=v),
        _names(t3.watched_variables(), v=v),
    )


@program()
def stop_gradient_does_not_watch_a_variable(tf):
    v = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        stopped = tf.stop_gradient(v)
        watched_after_stop = len(tape.watched_variables())
        y = tf.exp(v) + stopped
    return watched_after_stop, stopped, tape.gradient(stopped, v), tape.gradient(y, v)


@program()
def variables_and_tensors_are_unhashable(tf):
    v = tf.Variable([1.0, 2.0], name="vv")
    x = tf.constant([1.0, 2.0])
    return (
        _attempt(lambda: hash(v)),
        _attempt(lambda: {v}),
        _attempt(lambda: hash(x)),
        _attempt(lambda: {x: 1}),
        v.ref() == v.ref(),
        x.ref() in {x.ref()},
    )


@program()
def variable_len_and_names(tf):
    v = tf.Variable([1.0, 2.0], name="vv")
    read = v + 1.0
    return (
        _attempt(lambda: len(v)),
        _attempt(lambda: len(tf.Variable(1.0))),
        len(tf.constant([1.0, 2.0])),
        _attempt(lambda: len(tf.constant(1.0))),
        v.name,
        tf.Variable(1.0).name,
        tf.Variable(1.0, name="a/b").name,
        _attempt(lambda: v.read_value().name),
        _attempt(lambda: v.value().name),
        _attempt(lambda: read.name),
    )


@program()
def assign_returns_an_unread_view(tf):
    v = tf.Variable([1.0, 2.0], name="w")
    view = v.assign([3.0, 4.0])
    v.assign([5.0, 6.0])
    texts = (repr(view), view.name, type(view).__name__, type(v).__name__, view.numpy())
    outside = v.assign([1.0, 1.0])
    with tf.GradientTape(persistent=True) as read_only_view:
        y = tf.reduce_sum(outside * outside)
    with tf.GradientTape(persistent=True) as assigned_inside:
        inside = v.assign([1.0, 1.0])
        z = tf.reduce_sum(inside * inside)
    with tf.GradientTape(persistent=True) as both:
        u = tf.reduce_sum(v * outside)
    return (
        texts,
        read_only_view.gradient(y, v),
        _names(read_only_view.watched_variables(), v=v),
        assigned_inside.gradient(z, [v, inside]),
        _names(assigned_inside.watched_variables(), v=v),
        both.gradient(u, [v, outside]),
        repr(v.assign_add([1.0, 1.0])),
        repr(view.assign([7.0, 8.0])),
        v.numpy(),
        v.assign([0.0, 0.0], read_value=False),
    )


@program()
def variable_arguments_and_messages(tf):
    v = tf.Variable([1.0, 2.0])
    return (
        _attempt(lambda: tf.Variable(None)),
        tf.Variable(1.0, trainable="no").trainable,
        _attempt(lambda: v.assign([1.0, 2.0, 3.0])),
        _attempt(lambda: tf.Variable(1).assign(1.5)),
        _attempt(lambda: v.assign(tf.constant([1.0, 2.0], tf.float64))),
        _attempt(lambda: tf.Variable(True).assign_add(True)),
        _attempt(lambda: tf.Variable(True).assign_sub(True)),
        _attempt(lambda: tf.Variable("a").assign_add("b")),
        tf.Variable(1, dtype="float32").numpy(),
        tf.Variable(1, dtype=np.float64).numpy(),
    )


@program()
def dtype_equality(tf):
    v = tf.Variable(1.0)
    return (
        v.dtype == "float32",
        v.dtype == np.float32,
        v.dtype == tf.float32,
        tf.float32 == "garbage",
        tf.float32 == None,  # noqa: E711 - the comparison is what is tested
        tf.float32 != "float64",
        {tf.float32: 1}[tf.float32],
        tf.as_dtype("float32") == tf.float32,
    )


# ---- conversion of Python and NumPy values ----


@program()
def constant_copies_numpy_arrays(tf):
    a = np.array([1.0, 2.0])
    c = tf.constant(a)
    b = np.array([1.0, 2.0], np.float32)
    d = tf.convert_to_tensor(b)
    a[0] = b[0] = 9.0
    return c, d


@program()
def constant_rejects_unconvertible_values(tf):
    cases = {
        "object": lambda: tf.constant(Unconvertible()),
        "dict": lambda: tf.constant({"a": 1}),
        "set": lambda: tf.convert_to_tensor({1, 2}),
        "None": lambda: tf.constant(None),
        "[None]": lambda: tf.constant([None]),
        "[1, 'a']": lambda: tf.constant([1, "a"]),
        "[1.0, 'a']": lambda: tf.convert_to_tensor([1.0, "a"]),
        "[1, None]": lambda: tf.constant([1, None]),
        "ragged": lambda: tf.constant([[1], [1, 2]]),
        "2**63": lambda: tf.constant(2**63),
        "numpy object array": lambda: tf.constant(np.array([Unconvertible()])),
        "1.5 as int32": lambda: tf.constant(1.5, dtype=tf.int32),
        "1j as float64": lambda: tf.convert_to_tensor(1j, tf.float64),
        "1 as bool": lambda: tf.convert_to_tensor(1, tf.bool),
        "1 as string": lambda: tf.convert_to_tensor(1, tf.string),
        "'a' as float32": lambda: tf.convert_to_tensor("a", tf.float32),
        "tensor as float64": lambda: tf.convert_to_tensor(tf.constant([1.0]), tf.float64),
        "variable as float64": lambda: tf.convert_to_tensor(tf.Variable([1.0]), tf.float64),
        "constant(tensor, int32)": lambda: tf.constant(tf.constant([1.0, 2.0]), tf.int32),
        "constant shape mismatch": lambda: tf.constant([1, 2], shape=(3,)),
    }
    return {name: _attempt(case) for name, case in cases.items()}


@program(compare="type", why="the message holds the object's address, which differs per process")
def constant_of_a_bare_object(tf):
    return tf.constant(object())


@program()
def constant_dtype_rules(tf):
    return (
        tf.constant([], dtype=tf.int32),
        tf.constant([[], []], dtype=tf.int32),
        tf.constant([[]]),
        tf.constant(np.array([1.5, 2.0]), dtype=tf.int32),
        tf.convert_to_tensor(np.float64(1.5), dtype=tf.int32),
        tf.convert_to_tensor(np.array([1.5]), tf.complex64),
        tf.convert_to_tensor(True, tf.float32),
        tf.convert_to_tensor(1.5, tf.complex64),
        tf.convert_to_tensor(2**40, dtype=tf.int32),
        tf.constant([1, 2**40]),
        tf.constant(-(2**31)),
        tf.constant(2**31),
        tf.constant([1, True]),
        tf.constant([2.0, np.float64(1)]),
        tf.constant([np.float64(1), 2.0]),
        tf.constant([np.array([1.0, 2.0]), np.array([3.0, 4.0])]),
        tf.constant(tf.Variable([1.0, 2.0]), tf.float64),
        tf.constant(1.0, shape=(2, 2)),
        tf.constant([1, 2], shape=(2, 1)),
        tf.constant(["é"]),
        tf.constant(b"ab"),
    )


@program()
def integer_reductions(tf):
    return (
        tf.reduce_mean(tf.constant([1, 2])),
        tf.reduce_mean(tf.constant([-1, -2])),
        tf.reduce_mean(tf.constant([[1, 2], [3, 6]]), axis=0),
        tf.reduce_mean(tf.constant([1, 2], tf.int64)),
        tf.reduce_mean(tf.constant([255, 255], tf.uint8)),
        tf.reduce_mean([1, 2]),
        tf.reduce_sum(tf.constant([100, 100], tf.int8)),
        tf.reduce_sum(tf.constant([2**30, 2**30, 2**30])),
    )


@program()
def range_dtypes(tf):
    return (
        tf.range(0.0, 1.0, 0.25),
        tf.range(5),
        tf.range(1, 5.0),
        tf.range(np.float64(5)),
        tf.range(np.int64(5)),
        tf.range(5, dtype=tf.float32),
        tf.range(tf.constant([1.0, 2.0])[1]),
        tf.range(0, 1, 0.3, dtype=tf.float64),
        tf.range(2**40, 2**40 + 2),
    )


@program()
def complex_norm(tf):
    z = tf.constant([3 + 4j], tf.complex64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        n = tf.norm(z)
    return (
        n,
        tape.gradient(n, z),
        tf.norm(tf.constant([3 + 4j])),
        tf.norm(tf.constant([3.0, 4.0])),
        tf.norm([3.0, 4.0]),
        tf.norm(tf.constant([[3.0, 4.0]]), axis=1, keepdims=True),
    )


# ---- the tape: targets, sources, output gradients, flags ----


def _square_tape(tf):
    z = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        y = z * z
    return tape, y, z


@program()
def non_tensor_sources_and_targets(tf):
    cases = {}
    for item in (2.5, 3.0, 3, True, "x", [1.0], np.array([1.0]), np.float64(2.5), None):
        tape, y, z = _square_tape(tf)
        cases[f"source {item!r}"] = _attempt(
            lambda tape=tape, y=y, item=item: tape.gradient(y, item)
        )
        tape, y, z = _square_tape(tf)
        cases[f"target {item!r}"] = _attempt(
            lambda tape=tape, z=z, item=item: tape.gradient(item, z)
        )
    return cases


@program()
def numpy_jacobian_target(tf):
    z = tf.constant([3.0])
    with tf.GradientTape(persistent=True) as g:
        g.watch(z)
        y = z * z
    return (
        g.jacobian(np.array([1.0, 2.0], np.float32), z),
        g.jacobian(np.array([1.0, 2.0]), z),
        g.jacobian(y, z),
        _attempt(lambda: g.jacobian([1.0, 2.0], z)),
    )


@program()
def output_gradients_by_position(tf):
    z = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as g:
        g.watch(z)
        y = z * z
        y2 = z * 3.0
    return (
        g.gradient([y, y2], z, output_gradients=[tf.constant(2.0)]),
        g.gradient([y, y2], z, output_gradients=[tf.constant(2.0), 1.0, 1.0]),
        g.gradient(y, z, output_gradients=[1.0, 2.0]),
        _attempt(lambda: g.gradient(y, z, output_gradients=[1, 2])),
        _attempt(lambda: g.gradient(y, z, output_gradients=2)),
        _attempt(lambda: g.gradient([y, y2], z, output_gradients=[None])),
        _attempt(lambda: g.gradient(y * [1.0, 1.0], z, output_gradients=tf.constant([1.0] * 3))),
    )


@program()
def persistent_flag_is_tested_for_true(tf):
    results = {}
    for flag in ("yes", 1, True, 0, None):
        z = tf.constant(3.0)
        with tf.GradientTape(persistent=flag) as g:
            g.watch(z)
            y = z * z
        results[repr(flag)] = (
            _attempt(lambda g=g, y=y, z=z: g.gradient(y, z)),
            _attempt(lambda g=g, y=y, z=z: g.gradient(y, z)),
        )
    z = tf.constant(3.0)
    with tf.GradientTape(persistent="yes") as g:
        g.watch(z)
        y = z * z
    first = g.gradient(y, z)
    results["jacobian after release"] = (first, g.jacobian(y, z))
    v = tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables="no") as g:
        y = v * v
    results["watch_accessed_variables='no'"] = g.gradient(y, v)
    return results


@program()
def persistent_yes_inside_its_context(tf):
    z = tf.constant(3.0)
    with tf.GradientTape(persistent="yes") as g:
        g.watch(z)
        y = z * z
        first = _attempt(lambda: g.gradient(y, z))
    return first


# ---- custom gradients ----


@program()
def custom_gradient_receives_indexed_slices(tf):
    seen = []

    @tf.custom_gradient
    def f(a):
        def grad(dy):
            seen.append(type(dy).__name__)
            return dy

        return tf.identity(a), grad

    z = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as g:
        g.watch(z)
        y = tf.reduce_sum(tf.gather(f(z), [1]))
    result = g.gradient(y, z)
    return seen, type(result).__name__, tf.convert_to_tensor(result)


def _float_gradient_program(tf, kind):
    @tf.custom_gradient
    def f(a):
        return a * 2.0, lambda dy: 2.0

    z = tf.constant(3.0)
    with tf.GradientTape() as g:
        g.watch(z)
        if kind == "alone":
            y = f(z)
        elif kind == "scaled":
            y = f(z) * 3.0
        elif kind == "inner":
            y = f(z * z)
        else:  # the float must be summed with another contribution
            y = f(z) + z
    return g.gradient(y, z)


@program()
def watching_indexed_slices_watches_their_components(tf):
    v = tf.Variable([[1.5, 1.5], [2.0, 2.0]])
    with tf.GradientTape() as tape:
        rows = tf.gather(v, [0])
    sparse = tape.gradient(rows, v)
    with tf.GradientTape() as watcher:
        watcher.watch(sparse)  # logs the int32 warning for indices and dense_shape
        y = sparse.values * 2.0
    return type(sparse).__name__, watcher.gradient(y, sparse.values)


@program()
def casting_indexed_slices_keeps_them_sparse(tf):
    """tf.cast of a sparse gradient casts its values and stays IndexedSlices (found by fuzz), so
    using the result as a target fails as in TensorFlow, and its dense value is the cast."""
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape(persistent=True) as tape:
        rows = tf.gather(v, [1, 1])
        sparse = tape.gradient(rows, v)
        cast = tf.cast(sparse, tf.float64)
    same = tf.cast(sparse, tf.float32)
    seen = (type(cast).__name__, cast.dtype.name, type(same).__name__, same is sparse)
    return seen, tf.convert_to_tensor(cast), _attempt(lambda: tape.gradient(cast, v))


@program()
def custom_gradient_python_float_is_the_gradient(tf):
    return tuple(_float_gradient_program(tf, kind) for kind in ("alone", "scaled", "inner"))


@program(
    compare="type",
    why="TensorFlow's C++ aggregation fails an assertion with an empty message; the reference says why",
)
def custom_gradient_python_float_summed(tf):
    return _float_gradient_program(tf, "summed")


@program()
def custom_gradient_outputs_reach_the_forward_ops(tf):
    # a tape that records the forward ops but not the custom op (it watches a closed-over
    # tensor, not the input) differentiates through the forward ops: TF re-issues the outputs
    # through recorded identities
    z = tf.constant(3.0)

    @tf.custom_gradient
    def f(a):
        return a * z, lambda dy: dy * 100.0

    a = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(z)
        y = f(a)
    with tf.GradientTape(persistent=True) as both:
        both.watch([a, z])
        w = f(a)
    return t.gradient(y, z), both.gradient(w, [a, z])


@program()
def custom_gradient_variable_passed_as_argument(tf):
    # a variable given as an argument is an input, not one of grad_fn's variables: TF calls
    # grad_fn without them, and this grad_fn then fails iterating None
    v = tf.Variable(1.5)
    with tf.GradientTape() as tape:

        @tf.custom_gradient
        def f(a):
            def grad(upstream, variables=None):
                return upstream * 3.0, [tf.reduce_sum(upstream * a) for _ in variables]

            return a * v, grad

        y = f(v)
    return _attempt(lambda: tape.gradient(y, v))


@program()
def jacobian_reports_errors_as_its_vectorized_loop_does(tf):
    # TF computes jacobians in a traced pfor loop: a user error is reported "in user code:"
    # (autograph), a ValueError as pfor's; without pfor, as raised
    v = tf.Variable(1.5)
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)

        @tf.custom_gradient
        def needs_variables(a):
            def grad(upstream, variables=None):
                return upstream * 3.0, [tf.reduce_sum(upstream * a) for _ in variables]

            return a * v, grad

        @tf.custom_gradient
        def fails(a):
            def grad(dy):
                raise ValueError("boom")

            return a * 1.0, grad

        y = needs_variables(v)
        z = fails(x)
    return (
        _attempt(lambda: tape.jacobian(y, v)),
        _attempt(lambda: tape.jacobian(z, x)),
        _attempt(lambda: tape.jacobian(z, x, experimental_use_pfor=False)),
        _attempt(lambda: tape.batch_jacobian(tf.reshape(z, (2, 1)), tf.reshape(x, (2, 1)))),
    )


@program()
def backward_runs_for_every_op_a_target_depends_on(tf):
    # TensorFlow calls the backward function of each recorded op the target depends on, also
    # where no gradient reaches a requested source: this one raises
    @tf.custom_gradient
    def f(a):
        def grad(dy):
            raise NotImplementedError("f has no gradient")

        return a * 1.0, grad

    x, w = tf.constant(1.0), tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, w])
        y = x * 3.0 + f(w)
        unrelated = x * 2.0
    return _attempt(lambda: t.gradient(y, x)), t.gradient(unrelated, x)


# ---- tests ----


@pytest.mark.xdist_group("tensorflow")
@pytest.mark.parametrize("name", list(FIDELITY))
def test_reference_gives_tensorflows_outcome(name: str, tensorflow: Any, reference: Any) -> None:  # noqa: F811
    """The reference gives TensorFlow's outcome (values, dtypes, errors, warnings) on each idiom."""
    program = FIDELITY[name]
    expected = run_program(program, tensorflow)
    observed = run_program(program, reference)
    assert_outcomes_agree(observed, expected, program.compare, f"{name} reference vs tensorflow")


@pytest.fixture
def fast_thread_switching():
    """Switch threads as often as the interpreter can, so a data race shows up in a short test."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def test_gradient_from_another_thread_inside_the_context() -> None:
    """A gradient taken on another thread while the tape records is the gradient, and the tape
    leaves the recording thread's active set at the end of its block (TensorFlow, in a plain
    process, gives 6.0 and records later tapes normally; run here it crashes the interpreter, so
    this is not a differential test)."""
    import reference_impl as tf
    from reference_impl._core import state

    z = tf.constant(3.0)
    out: list[Any] = []
    with tf.GradientTape() as g:
        g.watch(z)
        y = z * z
        thread = threading.Thread(target=lambda: out.append(_attempt(lambda: g.gradient(y, z))))
        thread.start()
        thread.join()
        _ = z * 5.0
    assert [float(v) for v in out] == [6.0], f"gradient={out}, but should be [6.0] [threads]"
    assert state.tapes == [], f"active tapes={state.tapes}, but should be [] [threads]"
    with tf.GradientTape() as later:
        later.watch(z)
        w = z * 2.0
    assert float(later.gradient(w, z)) == 2.0


def test_two_threads_share_one_persistent_tape(fast_thread_switching: None) -> None:
    """Two threads differentiating one persistent tape, each w.r.t. another source, are exact."""
    import reference_impl as tf

    x, w = tf.constant(3.0), tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        y = x
        for _ in range(40):
            y = tf.sin(y) * w + x * w
    expected = {}
    for name, source in (("x", x), ("w", w)):
        expected[name] = float(tape.gradient(y, source))
    wrong: list[str] = []

    def differentiate(name: str, source: Any) -> None:
        for _ in range(150):
            got = float(tape.gradient(y, source))
            if got != expected[name]:
                wrong.append(f"d/d{name}={got}")

    threads = [
        threading.Thread(target=differentiate, args=(name, source))
        for name, source in (("x", x), ("w", w))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong, (
        f"wrong gradients={wrong[:5]} ({len(wrong)} of 300), but should be [] [threads]"
    )


def test_a_sparse_gradient_passes_add_and_subtract_of_an_unneeded_scalar():
    """TF's Add/Sub gradients hand an IndexedSlices upstream to x unchanged when y is a scalar
    that needs no gradient, and densify it otherwise; Neg, Identity and Cast keep it sparse
    (found by tapeconf fuzz)."""
    tf_real = pytest.importorskip("tensorflow")
    import reference_impl

    def kinds(tf):
        x = tf.constant([1.5, 2.0, 3.0])
        w = tf.constant([1.0, 1.0, 1.0])
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([x, w])
            through = tf.gather(x + np.float16(1.5), [0, 0, 1])
            minus = tf.gather(x - 2.0, [1])
            dense = tf.gather(x + w, [2])
            negated = tf.gather(-x, [0, 0])
            same = tf.gather(tf.identity(x), [1])
            wider = tf.gather(tf.cast(x, tf.float64), [2])
        grads = [tape.gradient(t, x) for t in (through, minus, dense, negated, same, wider)]
        return [(type(g).__name__, tf.convert_to_tensor(g).numpy().tolist()) for g in grads]

    assert kinds(reference_impl) == kinds(tf_real)


def test_zero_filled_gradients_read_the_variable():
    """unconnected_gradients="zero" fills zeros_like(source): a variable is read, so a persistent
    tape still recording watches it, as TensorFlow's (found by tapeconf fuzz)."""
    tf_real = pytest.importorskip("tensorflow")
    import reference_impl

    def counts(tf):
        v = tf.Variable([1.0, 2.0])
        x = tf.constant(1.5)
        with tf.GradientTape(persistent=True) as tape:
            tape.gradient(x * x, [v], unconnected_gradients="zero")
            inside = len(tape.watched_variables())
        return inside

    assert counts(reference_impl) == counts(tf_real) == 1


def test_a_sparse_gradient_negates_as_tensorflow():
    """-g of an IndexedSlices gradient is IndexedSlices with negated values (found by fuzz)."""
    tf_real = pytest.importorskip("tensorflow")
    import reference_impl

    def negated(tf):
        x = tf.constant([1.5, 2.5])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.gather(x, [0, 0, 1])
        g = -tape.gradient(y, x)
        return type(g).__name__, tf.convert_to_tensor(g).numpy().tolist()

    assert negated(reference_impl) == negated(tf_real)


def test_the_jacobian_of_relus_gradient_is_connected():
    """ReluGrad has a gradient of its own: zeros for the features, not None (found by fuzz)."""
    tf_real = pytest.importorskip("tensorflow")
    import reference_impl

    def second(tf):
        x = tf.constant([[1.5, -1.5, 2.0]])
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            first = tape.gradient(tf.nn.relu(x), x)
        return tape.jacobian(first, x).numpy().tolist()

    assert second(reference_impl) == second(tf_real)


def test_a_jacobian_of_a_variable_watches_it():
    """TF's jacobian reads its target under the tape: a trainable variable target is then
    listed in watched_variables (found by tapeconf fuzz)."""
    tf_real = pytest.importorskip("tensorflow")
    import reference_impl

    def listed(tf):
        with tf.GradientTape() as tape:
            v = tf.Variable([1.5, 2.5])
            jacobian = tape.jacobian(v, v)
            return jacobian.numpy().tolist(), len(tape.watched_variables())

    assert listed(reference_impl) == listed(tf_real)
