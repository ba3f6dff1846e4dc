"""The JAX adapter: TensorFlow-shaped tape code gives JAX's answers, cross-checked with jax.grad."""

from __future__ import annotations

import functools
import itertools
import logging
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from adapters import _jax_trace as trace  # noqa: E402
from adapters.jax_adapter import (  # noqa: E402
    _TENSOR_OPS,
    JAX_ERROR_RULES,
    JaxAdapter,
    _matching_rule,
    classify_jax_error,
)
from conformance.protocol import FEATURES, NEUTRAL_NAMES, ErrorKind, validate_adapter  # noqa: E402

ADAPTER = JaxAdapter()


@pytest.fixture
def fw() -> Any:
    return ADAPTER.namespace("CPU:0")


def values(tree: Any) -> Any:
    """Wrappers replaced by Python floats / nested lists, structure kept (for exact asserts)."""
    if isinstance(tree, dict):
        return {key: values(item) for key, item in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(values(item) for item in tree)
    if ADAPTER.is_tensor(tree):
        return np.asarray(ADAPTER.to_numpy(tree)).tolist()
    return tree


def close(tree: Any, expected: Any) -> bool:
    got = values(tree)
    if isinstance(expected, dict):
        return got.keys() == expected.keys() and all(close(tree[k], expected[k]) for k in expected)
    if isinstance(expected, (list, tuple)) and not isinstance(got, float):
        return type(got) is type(expected) and all(
            close(t, e) for t, e in zip(tree, expected, strict=True)
        )
    return bool(np.allclose(got, expected, rtol=2e-3, atol=2e-3))


# ---- protocol ------------------------------------------------------------------------------


def test_validate_adapter_passes() -> None:
    """The adapter satisfies the protocol, answers every feature and defines every neutral name."""
    validate_adapter(ADAPTER)
    assert set(ADAPTER.features()) == set(FEATURES)
    namespace = ADAPTER.namespace("CPU:0")
    assert all(hasattr(namespace, name) for name in NEUTRAL_NAMES)
    assert ADAPTER.available() is None
    assert ADAPTER.version() == jax.__version__


def test_unsupported_features_have_reasons_and_raise(fw: Any) -> None:
    """Features with no JAX equivalent are declared with a reason and raise NotImplementedError."""
    features = ADAPTER.features()
    unsupported = {name for name, why in features.items() if why is not None}
    assert unsupported == {
        "watch_accessed_variables",
        "watched_variables",
        "stop_recording",
        "reset",
        "float64",
        "strings",
    }
    assert all(len(features[name]) > 20 for name in unsupported)
    assert "jax_enable_x64 is off by default" in features["float64"]
    tape = fw.GradientTape()
    for call in (tape.stop_recording, tape.reset, tape.watched_variables):
        with pytest.raises(NotImplementedError, match="JAX differentiates functions"):
            call()
    with pytest.raises(NotImplementedError, match="watch_accessed_variables"):
        fw.GradientTape(watch_accessed_variables=False)


def test_module_imports_without_jax() -> None:
    """With jax unimportable, the module still imports and available() says how to install it."""
    code = (
        "import sys; sys.modules['jax'] = None\n"
        "from adapters.jax_adapter import JaxAdapter\n"
        "print(JaxAdapter().available())\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "jax is not installed (pip install 'tape-conformance[jax]', or 'jax[cpu]==0.10.2')" in (
        done.stdout
    )


def test_devices_metadata_and_paths() -> None:
    """CPU:0 always; GPU:0 exactly when JAX sees a GPU; the divergence file sits by the module."""
    try:
        has_gpu = bool(jax.devices("gpu"))
    except RuntimeError:
        has_gpu = False
    assert list(ADAPTER.devices()) == (["CPU:0", "GPU:0"] if has_gpu else ["CPU:0"])
    path = Path(ADAPTER.divergences_path())
    assert path.parts[-3:] == ("adapters", "divergences", "jax.toml")
    assert path.parent.parent == Path(trace.__file__).resolve().parent
    assert ADAPTER.warning_loggers() == ["jax"]


def test_every_mapping_row_is_complete() -> None:
    """Every mapping row names the neutral call, the native call and why; every op has a row."""
    rows = ADAPTER.mappings()
    assert all(row.neutral.strip() and row.native.strip() and row.why.strip() for row in rows)
    neutral = {row.neutral for row in rows}
    assert set(_TENSOR_OPS) <= neutral
    for name in ("tape.gradient(target, sources)", "tape.watch(x)", "custom_gradient(f)"):
        assert name in neutral


def test_tensor_conversions(fw: Any) -> None:
    """to_numpy, dtype_name and is_tensor answer for tensors and variables; others pass through."""
    x, v = fw.constant([1.0, 2.0]), fw.Variable(3)
    assert ADAPTER.is_tensor(x) and ADAPTER.is_tensor(v) and ADAPTER.is_tensor(jnp.ones(1))
    assert not ADAPTER.is_tensor(np.ones(1)) and not ADAPTER.is_tensor(1.0)
    assert ADAPTER.to_numpy(x).tolist() == [1.0, 2.0] and ADAPTER.to_numpy(v).tolist() == 3
    assert ADAPTER.to_numpy("text") == "text"
    assert (ADAPTER.dtype_name(x), ADAPTER.dtype_name(v)) == ("float32", "int32")
    assert ADAPTER.dtype_name(fw.constant(1.0 + 2.0j, fw.complex64)) == "complex64"


def test_namespaces_are_independent() -> None:
    """A scenario that sets an attribute on its namespace does not leak into the next one."""
    first = ADAPTER.namespace("CPU:0")
    first.constant = None
    assert ADAPTER.namespace("CPU:0").constant is not None


# ---- the tutorial's scenarios, written as a TensorFlow user would ----------------------------


def test_unwatched_constant_still_gets_its_gradient(fw: Any) -> None:
    """Scenario a: watch is a no-op in JAX; the requested source is differentiated anyway."""
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    assert values(tape.gradient(y, x)) == 6.0 == float(jax.grad(lambda u: u * u)(3.0))


def test_watched_constant_and_variable(fw: Any) -> None:
    """Scenarios b and c: 6.0 for a watched constant and for a variable."""
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    v = fw.Variable(3.0)
    with fw.GradientTape() as tape2:
        z = v * v
    assert values(tape.gradient(y, x)) == 6.0
    assert (
        values(tape2.gradient(z, v))
        == 6.0
        == float(jax.grad(lambda p: p["x"] ** 2)({"x": 3.0})["x"])
    )


def test_op_before_tape_is_replayed_from_the_source(fw: Any) -> None:
    """Scenario d: x2 = x1 + 2 before the tape still depends on x1 (JAX's f(x1) = (x1+2)**2)."""
    x1 = fw.Variable(3.0)
    x2 = x1 + 2
    with fw.GradientTape() as tape:
        y = x2 * x2
    expected = float(jax.grad(lambda u: (u + 2) ** 2)(3.0))
    assert values(tape.gradient(y, x1)) == expected == 10.0
    # with x2 also a source, the replay takes x2 as an argument and cuts the path from x1
    assert values(tape.gradient(y, [x1, x2])) == [0.0, 10.0]


def test_non_persistent_tape_answers_twice(fw: Any) -> None:
    """Scenarios e and f: a pullback is reusable, persistent or not."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    with fw.GradientTape(persistent=True) as persistent:
        z = x * x
    assert values([tape.gradient(y, x), tape.gradient(y, x)]) == [6.0, 6.0]
    assert values([persistent.gradient(z, x), persistent.gradient(z, x)]) == [6.0, 6.0]


def test_gan_two_tapes(fw: Any) -> None:
    """Scenario g: two tapes over one shared forward pass give [-12, 324]."""
    g, d = fw.Variable(3.0), fw.Variable(2.0)
    with fw.GradientTape() as gen_tape, fw.GradientTape() as disc_tape:
        fake = g * g
        out = d * fake
        gen_loss = -out
        disc_loss = out * out
    result = [gen_tape.gradient(gen_loss, g), disc_tape.gradient(disc_loss, d)]
    by_hand = [
        float(jax.grad(lambda gg: -(2.0 * gg * gg))(3.0)),
        float(jax.grad(lambda dd: (dd * 9.0) ** 2)(2.0)),
    ]
    assert values(result) == by_hand == [-12.0, 324.0]


def test_second_and_third_derivatives(fw: Any) -> None:
    """Scenario h: nested tapes are nested JAX transformations (2.0 for x**2, 6.0 for x**3)."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as outer:
        with fw.GradientTape() as inner:
            y = x * x
        dx = inner.gradient(y, x)
    assert values([dx, outer.gradient(dx, x)]) == [6.0, 2.0]

    with fw.GradientTape() as t3:
        with fw.GradientTape() as t2:
            with fw.GradientTape() as t1:
                y = x**3
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    cube = lambda u: u**3
    by_hand = [
        float(f(3.0))
        for f in (jax.grad(cube), jax.grad(jax.grad(cube)), jax.grad(jax.grad(jax.grad(cube))))
    ]
    assert values([d1, d2, d3]) == by_hand == [27.0, 18.0, 6.0]


@pytest.mark.parametrize("unconnected", [None, "none", "zero", "ZERO_ENUM"])
def test_unconnected_source_gets_zeros(fw: Any, unconnected: str | None) -> None:
    """Scenario i: JAX returns zeros for an unused argument, whatever unconnected_gradients says."""
    x, z = fw.constant(3.0), fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch([x, z])
        y = x * x
    kwargs = {} if unconnected is None else {"unconnected_gradients": unconnected}
    if unconnected == "ZERO_ENUM":
        kwargs = {"unconnected_gradients": fw.UnconnectedGradients.ZERO}
    grads = tape.gradient(y, [x, z], **kwargs)
    by_hand = jax.grad(lambda a, b: a * a, argnums=1)(3.0, jnp.array([1.0, 2.0]))
    assert values(grads) == [6.0, np.asarray(by_hand).tolist()] == [6.0, [0.0, 0.0]]


@pytest.mark.parametrize("make", ["constant", "Variable"])
def test_integer_source_raises_jax_grads_type_error(fw: Any, make: str) -> None:
    """Scenario j: an int source raises jax.grad's own TypeError, classified as such."""
    x = getattr(fw, make)(3)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(TypeError) as caught:
        tape.gradient(y, x)
    with pytest.raises(TypeError) as native:
        jax.grad(lambda u: u * u)(jnp.asarray(3))
    assert str(caught.value) == str(native.value)
    assert "grad requires real- or complex-valued inputs" in str(caught.value)
    assert ADAPTER.classify_error(caught.value) is ErrorKind.DTYPE_NOT_DIFFERENTIABLE


def test_integer_and_bool_targets_raise_jax_grads_output_error(fw: Any) -> None:
    """An int or bool target fails jax.grad's output check; one float target among several is enough."""
    x = fw.constant(3.7)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        as_int = fw.cast(x, fw.int32) * 5
        above = x > 1.0
        floating = x * x
    for target, native_output in ((as_int, jnp.int32(15)), (above, jnp.bool_(True))):
        with pytest.raises(TypeError) as caught:
            tape.gradient(target, x)
        with pytest.raises(TypeError) as native:
            jax.grad(lambda _, out=native_output: out)(3.7)
        assert str(caught.value) == str(native.value)
        assert ADAPTER.classify_error(caught.value) is ErrorKind.DTYPE_NOT_DIFFERENTIABLE
    by_hand = jax.grad(lambda u: u * u + (u.astype(jnp.int32) * 5).astype(jnp.float32))(3.7)
    assert close(tape.gradient([floating, as_int], x), float(by_hand)) and close(by_hand, 7.4)


@pytest.mark.parametrize("target", ["None", "float", "ndarray", "list with None"])
def test_non_tensor_targets_raise_a_type_error(fw: Any, target: str) -> None:
    """None, Python numbers and NumPy arrays are no output of the replayed function: TypeError.

    jax.vjp would answer zeros for them (jax.grad too, but for None), which hides the mistake.
    """
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    given = {
        "None": None,
        "float": 3.0,
        "ndarray": np.ones((), np.float32),
        "list with None": [y, None],
    }
    for call in (tape.gradient, tape.jacobian):
        with pytest.raises(TypeError, match="not a tensor computed by fw ops") as caught:
            call(given[target], x)
        assert ADAPTER.classify_error(caught.value) is ErrorKind.INVALID_ARGUMENT
    assert float(jax.vjp(lambda u: 3.0, 3.0)[1](1.0)[0]) == 0.0  # what the check prevents


def test_batch_jacobian_needs_one_tensor_source(fw: Any) -> None:
    """A list source is refused with a TypeError instead of being stacked into a new constant."""
    x = fw.constant(np.ones((2, 3), np.float32))
    with fw.GradientTape() as tape:
        y = x * 2.0
    with pytest.raises(TypeError, match="the source is a list, not one tensor") as caught:
        tape.batch_jacobian(y, [x])
    assert ADAPTER.classify_error(caught.value) is ErrorKind.INVALID_ARGUMENT


def test_cast_is_jnp_astype(fw: Any) -> None:
    """cast → jnp.astype: the dtype changes, float casts carry gradients, int casts cut the path."""
    x, h = fw.constant(3.7), fw.constant(2.0, fw.float16)
    with fw.GradientTape() as tape:
        as_int = fw.cast(x, fw.int32)
        mixed = x * fw.cast(as_int, fw.float32)
        squared = fw.cast(h, fw.float32) ** 2
    assert (ADAPTER.dtype_name(as_int), values(as_int)) == ("int32", 3)
    by_hand = jax.grad(lambda u: u * u.astype(jnp.int32).astype(jnp.float32))(3.7)
    assert values(tape.gradient(mixed, x)) == float(by_hand) == 3.0
    half = tape.gradient(squared, h)
    assert (ADAPTER.dtype_name(half), values(half)) == ("float16", 4.0)


def test_intermediate_source_is_its_own_argument(fw: Any) -> None:
    """Sources [x, a] with a = 2x are jax.vjp of f(x, a): x keeps only the paths avoiding a."""
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        a = x * 2.0
        y = a * a + x * 5.0
    _, pullback = jax.vjp(lambda u, b: b * b + u * 5.0, 3.0, 6.0)
    by_hand = [float(g) for g in pullback(1.0)]
    assert values(tape.gradient(y, [x, a])) == by_hand == [5.0, 12.0]
    assert values(tape.gradient(y, x)) == float(jax.grad(lambda u: (u * 2.0) ** 2 + u * 5.0)(3.0))


def test_small_jacobians_are_jit_compiled_custom_gradients_stay_eager(fw: Any, caplog: Any) -> None:
    """A jacobian of jnp ops is one XLA program; gradients and custom gradients stay eager."""
    point = [0.5, 1.5, 2.5, 3.5, 4.5]  # a shape no other test uses
    x = fw.constant(point)

    @fw.custom_gradient
    def doubled(u: Any) -> Any:
        return u * 1.0, lambda dy: dy * 2.0

    @fw.custom_gradient
    def concrete(u: Any) -> Any:
        return u * 1.0, lambda dy: dy * float(fw.reduce_sum(dy))  # float() needs a concrete dy

    with fw.GradientTape() as tape:
        plain = fw.sin(x) * x
        custom = doubled(x)
        eager = fw.reduce_sum(concrete(x))
    with caplog.at_level(logging.WARNING), jax.log_compiles(True):
        plain_jacobian = tape.jacobian(plain, x)
        plain_gradient = tape.gradient(plain, x)
        custom_jacobian = tape.jacobian(custom, x)
        eager_gradient = tape.gradient(eager, x)
    compiled = [m for m in (r.getMessage() for r in caplog.records) if m.startswith("Compiling")]
    assert sum(m.startswith("Compiling jit(transformed)") for m in compiled) == 1  # plain only
    by_hand = jax.jacrev(lambda u: jnp.sin(u) * u)(jnp.array(point))
    assert close(plain_jacobian, np.asarray(by_hand).tolist())
    assert close(plain_gradient, np.asarray(by_hand).sum(axis=0).tolist())
    assert values(custom_jacobian) == (2.0 * np.eye(5)).tolist()
    assert values(eager_gradient) == [5.0] * 5


# ---- JAX's own behaviour behind declared divergences -------------------------------------------


JAX_IDIOMS: dict[str, tuple[Any, Any, list[float], list[float]]] = {
    # name: (neutral program on fw, the same in plain JAX, the point, JAX's gradient there)
    "abs at 0 has derivative 1": (
        lambda fw, x: fw.reduce_sum(fw.abs(x)),
        lambda u: jnp.sum(jnp.abs(u)),
        [-1.0, 0.0, 1.0],
        [-1.0, 1.0, 1.0],
    ),
    "maximum splits ties": (
        lambda fw, x: fw.reduce_sum(fw.maximum(x, fw.constant([0.0, 1.0, 1.0]))),
        lambda u: jnp.sum(jnp.maximum(u, jnp.array([0.0, 1.0, 1.0]))),
        [-1.0, 1.0, 2.0],
        [0.0, 0.5, 1.0],
    ),
    "where over sqrt gives NaN": (
        lambda fw, x: fw.reduce_sum(fw.where(x > 0, fw.sqrt(x), fw.zeros_like(x))),
        lambda u: jnp.sum(jnp.where(u > 0, jnp.sqrt(u), jnp.zeros_like(u))),
        [0.0, 4.0, 1.0],
        [float("nan"), 0.25, 0.5],
    ),
}


@pytest.mark.parametrize("name", sorted(JAX_IDIOMS))
def test_divergent_values_are_jaxs_own(fw: Any, name: str) -> None:
    """The values the divergence file declares are what the same program gives in plain JAX."""
    neutral, plain, point, expected = JAX_IDIOMS[name]
    x = fw.constant(point)
    with fw.GradientTape() as tape:
        y = neutral(fw, x)
    got = np.asarray(ADAPTER.to_numpy(tape.gradient(y, x)))
    native = np.asarray(jax.grad(plain)(jnp.array(point)))
    assert np.array_equal(got, native, equal_nan=True)
    assert np.array_equal(got, np.array(expected, np.float32), equal_nan=True)


# ---- the rest of the tape API ----------------------------------------------------------------


def test_jacobian(fw: Any) -> None:
    """jacobian is jax.jacrev of the replayed function; unconnected sources get zeros."""
    x, w = fw.constant([1.0, 2.0]), fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        y = x * x
    by_hand = np.asarray(jax.jacrev(lambda u: u * u)(jnp.array([1.0, 2.0]))).tolist()
    assert values(tape.jacobian(y, x)) == by_hand == [[2.0, 0.0], [0.0, 4.0]]
    result = values(tape.jacobian(y, {"x": x, "w": (w,)}))
    assert result == {"x": [[2.0, 0.0], [0.0, 4.0]], "w": ([[0.0] * 3, [0.0] * 3],)}


def test_batch_jacobian_is_the_true_per_example_jacobian(fw: Any) -> None:
    """batch_jacobian = vmap(jacrev(per_example)): diagonal blocks even when rows interact."""
    x = fw.constant([[1.0], [2.0]])
    with fw.GradientTape() as tape:
        y = x * fw.reduce_sum(x)
    full = jax.jacrev(lambda u: u * jnp.sum(u))(jnp.array([[1.0], [2.0]]))  # [2,1,2,1]
    diagonal = [np.asarray(full[b, :, b, :]).tolist() for b in range(2)]
    assert values(tape.batch_jacobian(y, x)) == diagonal == [[[4.0]], [[5.0]]]

    rows = fw.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    with fw.GradientTape() as tape2:
        squares = rows * rows
        unrelated = fw.constant(np.ones((2, 3), np.float32)) * 2.0
    jac = tape2.batch_jacobian(squares, rows)
    assert jac.shape == (2, 3, 3)
    assert values(jac)[1] == np.diag([6.0, 8.0, 10.0]).tolist()
    assert values(tape2.batch_jacobian(unrelated, rows)) == np.zeros((2, 3, 3)).tolist()


def test_batch_jacobian_shape_errors(fw: Any) -> None:
    """A batch-size mismatch or a rank-0 target is reported by vmap itself: a shape mismatch."""
    x = fw.constant(np.ones((2, 3), np.float32))
    with fw.GradientTape() as tape:
        doubled = fw.concat([x, x], axis=0)
        scalar = fw.reduce_sum(x)
    for target, message in ((doubled, "inconsistent sizes"), (scalar, "rank should be at least 1")):
        with pytest.raises(ValueError, match=message) as caught:
            tape.batch_jacobian(target, x)
        assert ADAPTER.classify_error(caught.value) is ErrorKind.SHAPE_MISMATCH


def test_output_gradients(fw: Any) -> None:
    """output_gradients is the pullback's cotangent; JAX checks its shape and dtype."""
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        y = x * x
    weights = fw.constant([10.0, 100.0])
    _, pullback = jax.vjp(lambda u: u * u, jnp.array([1.0, 2.0]))
    by_hand = np.asarray(pullback(jnp.array([10.0, 100.0]))[0]).tolist()
    assert values(tape.gradient(y, x, output_gradients=weights)) == by_hand == [20.0, 400.0]
    assert values(tape.gradient(x, x, output_gradients=fw.constant([5.0, 7.0]))) == [5.0, 7.0]
    cases = (
        (fw.constant([1.0, 2.0, 3.0]), ErrorKind.SHAPE_MISMATCH),
        (fw.constant(10.0), ErrorKind.SHAPE_MISMATCH),  # no broadcasting of the seed in JAX
        (fw.constant([1.0, 1.0], fw.float16), ErrorKind.DTYPE_MISMATCH),
    )
    for cotangent, kind in cases:
        with pytest.raises(ValueError, match="unexpected JAX type") as caught:
            tape.gradient(y, x, output_gradients=cotangent)
        assert ADAPTER.classify_error(caught.value) is kind


def test_nested_structures_of_sources(fw: Any) -> None:
    """The result mirrors the structure of sources (lists, tuples, dicts); a repeated source too."""
    x1, x2, x3 = fw.constant(3.0), fw.constant(3.1), fw.constant(3.2)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch([x1, x2, x3])
        y = x1 + 2 * x2 + 3 * x3
    assert values(tape.gradient(y, (x1,))) == (1.0,)
    assert close(tape.gradient(y, [(x1, x2), (x2, x3)]), [(1.0, 2.0), (2.0, 3.0)])
    assert close(tape.gradient(y, [x1, {"x2": x2, "x3": x3}]), [1.0, {"x2": 2.0, "x3": 3.0}])
    assert tape.gradient(y, []) == []
    assert values(tape.gradient(y, [x1, x1])) == [1.0, 1.0]
    assert close(tape.gradient([y, y * 2.0], x3), 9.0)  # several targets are summed


def test_list_arguments_holding_tensors_stay_connected(fw: Any) -> None:
    """An op argument like [x, y] becomes jnp.asarray of the items: recorded, so differentiable."""
    x, y = fw.constant(2.0), fw.constant(5.0)
    with fw.GradientTape() as tape:
        biggest = fw.reduce_max([x, y * 1.0])
    assert values(tape.gradient(biggest, [x, y])) == [0.0, 1.0]


def test_custom_gradient_overrides_the_gradient(fw: Any) -> None:
    """custom_gradient → jax.custom_vjp: grad_fn replaces the derivative; None means zero."""

    @fw.custom_gradient
    def hundred(x: Any) -> Any:
        return x * x, lambda dy: dy * 100.0

    @fw.custom_gradient
    def blocked(x: Any) -> Any:
        return x * 2.0, lambda dy: None

    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        y = hundred(x)
        z = blocked(x)
    assert values(y) == 9.0
    assert values([tape.gradient(y, x), tape.gradient(z, x)]) == [100.0, 0.0]


def test_custom_gradient_unused_output_gets_zero_upstream(fw: Any) -> None:
    """JAX zero-fills the upstream of an output the target does not use."""
    seen: list[Any] = []

    @fw.custom_gradient
    def two(x: Any) -> Any:
        return (x * 1.0, x * 2.0), lambda d1, d2: seen.append((d1, d2)) or d1 + d2

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        a, _ = two(x)
    assert values(tape.gradient(a, x)) == 1.0
    assert values(seen) == [(1.0, 0.0)]


def test_custom_gradient_wrong_count_is_jaxs_error(fw: Any) -> None:
    """A grad_fn returning the wrong number of gradients fails custom_vjp's structure check."""

    @fw.custom_gradient
    def identity(x: Any) -> Any:
        return x, lambda _: []

    x = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        y = identity(x)
    with pytest.raises(TypeError, match=r"Custom VJP bwd rule must produce") as caught:
        tape.gradient(y, [x])
    assert ADAPTER.classify_error(caught.value) is ErrorKind.INVALID_ARGUMENT


def test_nested_custom_gradients_match_hand_written_custom_vjp(fw: Any) -> None:
    """Second order through custom gradients agrees with the same program in jax.custom_vjp."""

    @fw.custom_gradient
    def shifted(x: Any) -> Any:
        def grad_fn(dz: Any) -> Any:
            @fw.custom_gradient
            def factor(_: Any) -> Any:
                return -1.1, lambda ddz: -2.1 * ddz

            return dz * factor(x)

        return x + 10.0, grad_fn

    c = fw.constant(1.0)
    with fw.GradientTape() as outer:
        with fw.GradientTape() as inner:
            d = shifted(c) ** 4.0
        first = inner.gradient(d, c)
    second = outer.gradient(first, c)

    @jax.custom_vjp
    def factor(x: Any) -> Any:
        return jnp.asarray(-1.1)

    factor.defvjp(lambda x: (jnp.asarray(-1.1), None), lambda _, ddz: (-2.1 * ddz,))

    @jax.custom_vjp
    def plain_shifted(x: Any) -> Any:
        return x + 10.0

    plain_shifted.defvjp(lambda x: (x + 10.0, x), lambda x, dz: (dz * factor(x),))
    by_hand = jax.grad(lambda u: plain_shifted(u) ** 4.0)
    assert close([first, second], [float(by_hand(1.0)), float(jax.grad(by_hand)(1.0))])
    assert close(first, -5856.4)


# ---- variables, dtypes, recording ------------------------------------------------------------


def test_assign_replaces_the_leaf(fw: Any) -> None:
    """assign makes a new leaf: it cuts the assigned value's history and earlier reads."""
    x, v, u = fw.constant(3.0), fw.Variable(0.0), fw.Variable(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        v.assign(x * 2.0)
        y = v * v
        a = u * 1.0
        u.assign_add(1.0)
        w = a + u * u
    assert values([tape.gradient(y, x), tape.gradient(y, v), tape.gradient(w, u)]) == [
        0.0,
        12.0,
        4.0,
    ]
    v.assign(100.0)  # y was read from the old leaf: the variable's new leaf is not used by y
    assert values(tape.gradient(y, v)) == 0.0
    assert values(v) == 100.0


def test_non_trainable_variable_is_differentiated_when_asked(fw: Any) -> None:
    """trainable=False changes nothing in JAX: a requested source is an argument."""
    v = fw.Variable(3.0, trainable=False)
    with fw.GradientTape() as tape:
        y = v * v
    assert values(tape.gradient(y, v)) == 6.0


def test_float64_truncates_and_complex64_works(fw: Any) -> None:
    """x64 is off: float64 requests give float32 with JAX's warning; complex64 gradients work."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = fw.constant(3.0, fw.float64)
    assert ADAPTER.dtype_name(x) == "float32"
    assert any("float64" in str(w.message) and "jax_enable_x64" in str(w.message) for w in caught)

    z = fw.constant(1.0 + 2.0j, fw.complex64)
    with fw.GradientTape() as tape:
        squared = z * z
        modulus = fw.real(z * fw.conj(z))
    by_hand = complex(jax.grad(lambda u: jnp.real(u * jnp.conj(u)))(jnp.complex64(1.0 + 2.0j)))
    assert complex(values(tape.gradient(modulus, z))) == pytest.approx(by_hand) == 2.0 - 4.0j
    assert complex(values(tape.gradient(squared, z))) == pytest.approx(2.0 + 4.0j)  # vjp, no conj
    assert ADAPTER.dtype_name(tape.gradient(squared, z)) == "complex64"


def test_stop_gradient_and_dtype_preservation(fw: Any) -> None:
    """stop_gradient is jax.lax.stop_gradient; float16 sources get float16 gradients."""
    x = fw.constant(3.0)
    h = fw.constant(3.0, fw.float16)
    with fw.GradientTape() as tape:
        stopped = fw.stop_gradient(x * x)
        half = x * fw.stop_gradient(x)
        y16 = h * h
    assert values([tape.gradient(stopped, x), tape.gradient(half, x)]) == [0.0, 3.0]
    assert ADAPTER.dtype_name(tape.gradient(y16, h)) == "float16"


def test_replay_is_iterative_and_uses_recorded_values(fw: Any) -> None:
    """A chain longer than Python's recursion limit replays; values are those recorded."""
    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        y = x
        for _ in range(sys.getrecursionlimit() + 200):
            y = y * 1.0005
    steps = sys.getrecursionlimit() + 200
    assert close(tape.gradient(y, x), 1.0005**steps)


def test_gradient_through_jacobian_and_hessian(fw: Any) -> None:
    """Jacobians are recorded nodes too: a jacobian of a gradient is the Hessian."""
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as outer:
        with fw.GradientTape() as inner:
            y = fw.reduce_sum(x**3)
        g = inner.gradient(y, x)
    hessian = jax.hessian(lambda u: jnp.sum(u**3))(jnp.array([1.0, 2.0]))
    assert values(outer.jacobian(g, x)) == np.asarray(hessian).tolist() == [[6.0, 0.0], [0.0, 12.0]]


def test_tutorial_scenarios_through_the_runner() -> None:
    """The suite's own observe() on the tutorial scenarios yields JAX's outcomes."""
    from conformance.catalogue import tutorial  # noqa: F401  (registers the scenarios)
    from conformance.outcome import observe
    from conformance.registry import get

    expected = {
        "tutorial.unwatched_constant": 6.0,
        "tutorial.op_outside_tape": 10.0,
        "tutorial.non_persistent_second_gradient": 6.0,
        "tutorial.two_tapes_gan": [-12.0, 324.0],
        "tutorial.second_derivative": [6.0, 2.0],
    }
    for scenario_id, outcome in expected.items():
        observation = observe(get(scenario_id), ADAPTER, "CPU:0")
        assert observation.error is None, observation.describe()
        leaves = observation.value if isinstance(observation.value, list) else [observation.value]
        assert [float(leaf.array) for leaf in leaves] == (
            outcome if isinstance(outcome, list) else [outcome]
        )
        assert all(leaf.dtype == "float32" for leaf in leaves)


# ---- error classification, each rule with a real JAX error -------------------------------------


def _leaked_tracer() -> Any:
    leaked: list[Any] = []
    jax.jit(lambda u: leaked.append(u) or u)(1.0)
    return leaked[0] + 1.0


def _while_loop_gradient() -> Any:
    loop = lambda u: jax.lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, u)
    return jax.grad(loop)(1.0)


def _bad_custom_vjp() -> Any:
    f = jax.custom_vjp(lambda u: u)
    f.defvjp(lambda u: (u, None), lambda _, g: ())
    return jax.grad(f)(1.0)


def _bad_pullback(cotangent: Any) -> Any:
    _, pullback = jax.vjp(lambda u: u * u, jnp.ones(2))
    return pullback(cotangent)


REAL_JAX_ERRORS: dict[str, tuple[Any, ErrorKind]] = {
    "grad of an int input": (
        lambda: jax.grad(lambda u: u * u)(3),
        ErrorKind.DTYPE_NOT_DIFFERENTIABLE,
    ),
    "grad of a complex output": (
        lambda: jax.grad(lambda u: u * u)(1.0 + 2.0j),
        ErrorKind.DTYPE_NOT_DIFFERENTIABLE,
    ),
    "broadcasting": (lambda: jnp.ones(3) + jnp.ones(2), ErrorKind.SHAPE_MISMATCH),
    "matmul": (lambda: jnp.ones((2, 3)) @ jnp.ones((2, 3)), ErrorKind.SHAPE_MISMATCH),
    "reshape": (lambda: jnp.reshape(jnp.ones(4), (3,)), ErrorKind.SHAPE_MISMATCH),
    "vmap sizes": (
        lambda: jax.vmap(lambda a, b: a)(jnp.ones(2), jnp.ones(3)),
        ErrorKind.SHAPE_MISMATCH,
    ),
    "vmap rank": (lambda: jax.vmap(lambda a: a)(jnp.ones(())), ErrorKind.SHAPE_MISMATCH),
    "cotangent shape": (lambda: _bad_pullback(jnp.ones(3)), ErrorKind.SHAPE_MISMATCH),
    "cotangent dtype": (lambda: _bad_pullback(jnp.ones(2, jnp.float16)), ErrorKind.DTYPE_MISMATCH),
    "lax dtypes": (lambda: jax.lax.add(jnp.float32(1), jnp.float16(1)), ErrorKind.DTYPE_MISMATCH),
    "while_loop reverse": (_while_loop_gradient, ErrorKind.NOT_DIFFERENTIABLE),
    "cotangent structure": (
        lambda: _bad_pullback((jnp.ones(2), jnp.ones(2))),
        ErrorKind.INVALID_ARGUMENT,
    ),
    "custom_vjp bwd structure": (_bad_custom_vjp, ErrorKind.INVALID_ARGUMENT),
    "invalid JAX type": (lambda: jax.vjp(lambda u: u, "x"), ErrorKind.INVALID_ARGUMENT),
    "invalid array type": (lambda: jnp.asarray("x"), ErrorKind.INVALID_ARGUMENT),
    "concretization": (lambda: jax.jit(lambda u: float(u))(1.0), ErrorKind.INVALID_ARGUMENT),
    "tracer bool": (
        lambda: jax.jit(lambda u: 1.0 if u > 0 else 0.0)(1.0),
        ErrorKind.INVALID_ARGUMENT,
    ),
    "tracer array": (lambda: jax.jit(lambda u: np.asarray(u))(1.0), ErrorKind.INVALID_ARGUMENT),
    "tracer integer": (lambda: jax.jit(lambda i: [1, 2, 3][i])(1), ErrorKind.INVALID_ARGUMENT),
    "leaked tracer": (_leaked_tracer, ErrorKind.INVALID_ARGUMENT),
    "attribute": (lambda: jnp.ones(2).no_such_attribute, ErrorKind.INTERNAL),
    "other TypeError": (lambda: jnp.take(jnp.ones(3), [0]), ErrorKind.INVALID_ARGUMENT),
    "other ValueError": (
        lambda: jnp.linalg.norm(jnp.ones(3), ord="bogus"),
        ErrorKind.INVALID_ARGUMENT,
    ),
    "IndexError": (lambda: jnp.ones(3)[0, 0], ErrorKind.INVALID_ARGUMENT),
}


def _raised(make_error: Any) -> BaseException:
    try:
        make_error()
    except Exception as error:  # the error is the test's subject: returned, never swallowed
        return error
    pytest.fail(f"{make_error} did not raise")


@pytest.mark.parametrize("label", sorted(REAL_JAX_ERRORS))
def test_error_rules_on_real_jax_errors(label: str) -> None:
    """Each classification rule, on an error raised by real JAX code."""
    make_error, kind = REAL_JAX_ERRORS[label]
    assert classify_jax_error(_raised(make_error)) is kind


def test_every_error_rule_is_exercised() -> None:
    """Every rule of JAX_ERROR_RULES is the first match of at least one real JAX error."""
    hit = {_matching_rule(_raised(make_error)) for make_error, _ in REAL_JAX_ERRORS.values()}
    assert set(range(len(JAX_ERROR_RULES))) <= hit


def test_user_exceptions_are_not_claimed() -> None:
    """An exception from the scenario's own code (not JAX) is left unknown, not misfiled."""
    assert classify_jax_error(RuntimeError("boom from grad")) is ErrorKind.UNKNOWN


# ---- compile-free host values and reused compiled transformations -----------------------------


class _CompileLog(logging.Handler):
    """The names of the XLA programs JAX compiles while attached (``jax.log_compiles``)."""

    def __init__(self) -> None:
        super().__init__()
        self.compiled: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Finished XLA compilation of "):
            self.compiled.append(message.split(" in ")[0])


def _compiles(make: Any) -> list[str]:
    handler = _CompileLog()
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles(True), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            jax.block_until_ready(make())
    finally:
        logger.removeHandler(handler)
    return handler.compiled


def _array_facts(make: Any) -> Any:
    """What a conversion gives: value, dtype, weak type, shape, placement and its warnings, or
    the error it raises (type and message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            made = make()
            facts: Any = (repr(np.asarray(made).tolist()), str(made.dtype), made.weak_type)
            facts += (made.shape, made.committed, made.sharding)
        except Exception as error:  # the error is what is compared: its type and message
            facts = (type(error).__name__, str(error))
    return facts, [f"{w.category.__name__}: {w.message}" for w in caught]


HOST_VALUES = [
    3.0, -0.0, float("nan"), float("inf"), 2, -5, 300, True, 1 + 2j, 3.7, 1e10, 2**31 - 1, 2**40,
    np.float16(2.5), np.float32(1.5), np.float64(1.1), np.int64(7), np.bool_(True),
    np.complex128(1 + 1j), np.array([1.1, 2.2]), np.arange(6).reshape(2, 3), np.array([[1 + 2j]]),
    np.array([1e10, -3.7, np.nan, np.inf]), np.zeros((0, 3)), [1, 2], [[1.5, 2.5]],
    [1.0, np.float16(2)], [np.int32(1), 5], (1, 2.5), [True, False], [], [[]], [2**40], None,
]  # fmt: skip
HOST_DTYPES = ["float32", "float16", "float64", "int32", "int64", "bool", "complex64", None]


@pytest.mark.parametrize("dtype", HOST_DTYPES)
def test_host_constants_are_exactly_jnp_asarray(dtype: str | None) -> None:
    """constant() built on the host gives jnp.asarray's value, type, placement, warnings, errors."""
    native_dtype = None if dtype is None else getattr(jnp, dtype)
    device = jax.devices("cpu")[0]
    for value, placement in itertools.product(HOST_VALUES, (device, None)):
        want = _array_facts(functools.partial(jnp.asarray, value, native_dtype, device=placement))
        got = _array_facts(lambda: trace.constant(value, native_dtype, placement).value)  # noqa: B023
        assert got == want, f"constant({value!r}, {dtype}, device={placement})"


def test_host_constants_and_operands_compile_nothing(fw: Any) -> None:
    """A constant, a list operand or a NumPy operand of a new shape is transferred, not compiled
    (jnp.asarray compiles one convert_element_type per shape, dtype and weak type)."""
    assert _compiles(lambda: jnp.asarray(np.ones((5, 7, 3), np.float16), device=jax.devices()[0]))
    assert _compiles(lambda: fw.constant(np.ones((7, 5, 3), np.float16)).value) == []
    assert _compiles(lambda: fw.constant([[1.5] * 9] * 2, fw.float16).value) == []
    assert _compiles(lambda: trace._as_input(np.ones((3, 7, 5), np.float16))) == []
    assert _compiles(lambda: trace._as_input([[0.5] * 11])) == []


def test_gradient_seed_is_jnp_ones_like() -> None:
    """The ones seeding a gradient are jnp.ones_like's: dtype, weak type, placement, values."""
    device = jax.devices("cpu")[0]
    outputs = [
        jnp.asarray([1.0, 2.0], device=device),
        jnp.asarray(np.ones((2, 3), np.float16)),
        jnp.asarray(3.0, device=device),  # weakly typed
        jnp.asarray([1 + 2j], jnp.complex64, device=device),
        jnp.asarray([1, 2], jnp.int32),
    ]
    for output in outputs:
        want = _array_facts(functools.partial(jnp.ones_like, output))
        assert _array_facts(functools.partial(trace._ones_like, output)) == want, output


def _sine_jacobian(fw: Any, shift: float, size: int = 3, scale: float = 2.0) -> Any:
    x = fw.constant(np.linspace(0.5, 1.5, size).astype(np.float32))
    with fw.GradientTape() as tape:
        y = fw.sin(x * scale) + fw.constant(shift)
    return x, tape.jacobian(y, x)


def _bits(jacobian: Any) -> tuple[Any, ...]:
    array = np.asarray(values(jacobian), np.float32)
    return array.shape, array.tobytes()


def _compiled_afresh(fw: Any, shift: float, **shape: Any) -> tuple[Any, ...]:
    """The same Jacobian from a program compiled for it alone (the cache emptied first)."""
    saved = dict(trace._COMPILED)
    trace._COMPILED.clear()
    try:
        return _bits(_sine_jacobian(fw, shift, **shape)[1])
    finally:
        trace._COMPILED.clear()
        trace._COMPILED.update(saved)


def test_compiled_jacobian_is_reused_with_the_same_numbers(fw: Any) -> None:
    """A Jacobian of a graph of the same structure reuses its compiled program (no compile) and
    answers, to the bit, what a program compiled for it alone answers."""
    trace._COMPILED.clear()
    _sine_jacobian(fw, 1.0)
    assert len(trace._COMPILED) == 1
    holder: list[Any] = []
    assert _compiles(lambda: holder.extend(_sine_jacobian(fw, 5.0)) or holder[1].value) == []
    assert len(trace._COMPILED) == 1
    assert _bits(holder[1]) == _compiled_afresh(fw, 5.0)
    x = np.asarray(holder[0].value)
    by_hand = jax.jacrev(lambda u: jnp.sin(u * 2.0) + 5.0)(x)
    np.testing.assert_allclose(values(holder[1]), by_hand, rtol=1e-6)


def test_compiled_jacobian_cache_is_never_stale(fw: Any) -> None:
    """A new shape recompiles (jax.jit's own cache); another baked-in constant is another entry,
    down to the sign of zero; each answer is the bits of a program compiled for it alone."""
    trace._COMPILED.clear()
    _sine_jacobian(fw, 1.0)
    wider = _sine_jacobian(fw, 1.0, size=4)[1]
    assert _bits(wider)[0] == (4, 4)
    assert _bits(wider) == _compiled_afresh(fw, 1.0, size=4)
    for scale in (3.0, -0.0, 0.0):
        jacobian = _sine_jacobian(fw, 1.0, scale=scale)[1]
        assert _bits(jacobian) == _compiled_afresh(fw, 1.0, scale=scale)
        if scale == 0.0:  # d/dx sin(x * s) = s * cos(x * s): zeros signed as s
            assert np.all(np.signbit(np.diag(values(jacobian))) == np.signbit(scale))
    assert len(trace._COMPILED) == 4


def test_compiled_batch_jacobian_follows_the_batch(fw: Any) -> None:
    """batch_jacobian's program is keyed by its rows too: another batch size is answered right."""
    trace._COMPILED.clear()
    for rows in (2, 3, 2):
        x = fw.constant(np.arange(rows * 2, dtype=np.float32).reshape(rows, 2))
        with fw.GradientTape() as tape:
            y = x * x
        want = jax.vmap(jax.jacrev(lambda u: u * u))(jnp.asarray(x.value))
        np.testing.assert_array_equal(values(tape.batch_jacobian(y, x)), np.asarray(want))
    assert len(trace._COMPILED) == 2
