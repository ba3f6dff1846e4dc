"""The PyTorch adapter: protocol, the tutorial's scenarios as torch really runs them, error kinds.

Programs are written in the neutral API as a TensorFlow user would; expected values and errors are
torch 2.13's real behaviour (notes/frameworks.md section 3).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from adapters.torch_adapter import TorchAdapter  # noqa: E402
from conformance.divergences import load_divergences  # noqa: E402
from conformance.protocol import (  # noqa: E402
    FEATURES,
    NEUTRAL_NAMES,
    ErrorKind,
    validate_adapter,
)
from conformance.registry import all_scenarios  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def adapter() -> TorchAdapter:
    return TorchAdapter()


@pytest.fixture(scope="module")
def fw(adapter: TorchAdapter):
    return adapter.namespace("CPU:0")


def value(adapter: TorchAdapter, tensor) -> np.ndarray:
    """A tensor's value as NumPy, through the adapter."""
    return np.asarray(adapter.to_numpy(tensor))


def raised(fn) -> BaseException:
    """The exception ``fn()`` raises; fails the test if it returns."""
    with pytest.raises(Exception) as info:
        fn()
    return info.value


# ---- protocol and metadata ----------------------------------------------------------------------


def test_validate_adapter_passes(adapter):
    """The adapter satisfies the protocol, namespace included."""
    validate_adapter(adapter)
    namespace = adapter.namespace("CPU:0")
    assert all(hasattr(namespace, name) for name in NEUTRAL_NAMES)


def test_metadata(adapter):
    """Availability, version, devices, loggers and the divergence file path."""
    assert adapter.name == "torch"
    assert adapter.available() is None
    assert adapter.version() == torch.__version__
    assert adapter.devices()[0] == "CPU:0"
    assert ("GPU:0" in adapter.devices()) == torch.cuda.is_available()
    assert list(adapter.warning_loggers()) == []
    path = Path(adapter.divergences_path())
    assert path == REPO_ROOT / "adapters" / "divergences" / "torch.toml"


def test_unknown_device_is_rejected(adapter):
    """A device the adapter lacks raises ValueError naming the available ones."""
    with pytest.raises(ValueError, match="CPU:0"):
        adapter.namespace("TPU:0")


def test_features_declare_what_torch_lacks(adapter):
    """Exactly FEATURES are answered; the tape-only ones are unsupported with a reason."""
    features = adapter.features()
    assert set(features) == set(FEATURES)
    unsupported = {name for name, reason in features.items() if reason is not None}
    assert unsupported == {"reset", "watched_variables", "watch_accessed_variables", "strings"}
    assert all(len(features[name]) > 20 for name in unsupported)


def test_every_mapping_row_is_filled(adapter):
    """Every mapping row names the neutral call, the native call and why."""
    rows = adapter.mappings()
    assert len(rows) >= 30
    for row in rows:
        assert row.neutral.strip() and row.native.strip() and row.why.strip(), row


def test_declared_divergences_are_live(adapter):
    """Every divergence entry names an existing scenario that torch runs, with a one-line reason.

    An entry for a removed scenario, or for one skipped as unsupported, would never be judged and
    would hide nothing but itself; the conformance run only warns about the first kind.
    """
    scenarios = {s.id: s for s in all_scenarios()}
    declared = load_divergences(adapter.divergences_path())
    assert sorted(set(declared) - set(scenarios)) == []
    features = adapter.features()
    skipped = [i for i in declared if any(features[f] for f in scenarios[i].features)]
    assert skipped == []
    assert all("\n" not in d.reason and d.reason.endswith(".") for d in declared.values())


def test_module_imports_without_torch():
    """With torch unimportable, the module imports and available() says how to install it."""
    program = (
        "import sys; sys.modules['torch'] = None\n"
        "from adapters.torch_adapter import TorchAdapter\n"
        "print(TorchAdapter().available())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (
        "torch is not installed (pip install 'tape-conformance[torch]', or torch==2.13.0)"
    )


def test_conversions(adapter, fw):
    """to_numpy, dtype_name and is_tensor on tensors, variables and plain values."""
    assert adapter.dtype_name(fw.constant(3.0)) == "float32"
    assert adapter.dtype_name(fw.constant(3)) == "int64"
    assert adapter.dtype_name(fw.constant(1 + 2j)) == "complex64"
    assert adapter.dtype_name(fw.constant([True])) == "bool"
    assert adapter.dtype_name(fw.constant(1.0, dtype=fw.float16)) == "float16"
    np.testing.assert_array_equal(value(adapter, fw.conj(fw.constant([1 + 2j]))), [1 - 2j])
    watched = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(watched)
    assert adapter.to_numpy(watched * 2.0).tolist() == [2.0, 4.0]
    assert adapter.is_tensor(fw.constant(1.0)) and adapter.is_tensor(fw.Variable(1.0))
    assert not adapter.is_tensor(1.0) and not adapter.is_tensor(np.ones(2))
    assert adapter.to_numpy(1.5) == 1.5
    with pytest.raises(TypeError, match="torch tensor"):
        adapter.dtype_name(1.0)


# ---- the tutorial's scenarios (frameworks.md section 3) -----------------------------------------


def test_a_unwatched_constant_raises(adapter, fw):
    """An unwatched constant: torch has no graph, its RuntimeError is NOT_DIFFERENTIABLE."""
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    error = raised(lambda: tape.gradient(y, x))
    assert isinstance(error, RuntimeError)
    assert "does not require grad and does not have a grad_fn" in str(error)
    assert adapter.classify_error(error) is ErrorKind.NOT_DIFFERENTIABLE


def test_b_watched_constant(adapter, fw):
    """watch → requires_grad_: d(x*x)/dx at 3 is 6."""
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert value(adapter, tape.gradient(y, x)) == 6.0


def test_c_variable(adapter, fw):
    """A Variable is a Parameter that requires grad: 6.0 without watch."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    assert value(adapter, tape.gradient(y, x)) == 6.0


def test_c_non_trainable_variable_needs_watch(adapter, fw):
    """trainable=False is requires_grad=False; watch makes it differentiable."""
    x = fw.Variable(3.0, trainable=False)
    with fw.GradientTape() as tape:
        y = x * x
    error = raised(lambda: tape.gradient(y, x))
    assert adapter.classify_error(error) is ErrorKind.NOT_DIFFERENTIABLE
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert value(adapter, tape.gradient(y, x)) == 6.0


def test_d_op_before_tape_is_recorded(adapter, fw):
    """torch records from the variable when x2 = x1 + 2 is built, so d(x2²)/dx1 is 10, not None."""
    x1 = fw.Variable(3.0)
    x2 = x1 + 2
    with fw.GradientTape() as tape:
        y = x2 * x2
    assert value(adapter, tape.gradient(y, x1)) == 10.0


def test_e_non_persistent_second_gradient_is_consumed(adapter, fw):
    """x*x saved tensors: the second gradient raises, classified CONSUMED_TAPE."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    assert value(adapter, tape.gradient(y, x)) == 6.0
    error = raised(lambda: tape.gradient(y, x))
    assert isinstance(error, RuntimeError)
    assert adapter.classify_error(error) is ErrorKind.CONSUMED_TAPE


def test_e_graph_without_saved_tensors_is_reusable(adapter, fw):
    """x+1 saves nothing, so torch computes the second gradient too."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x + 1.0
    first, second = tape.gradient(y, x), tape.gradient(y, x)
    assert [value(adapter, first), value(adapter, second)] == [1.0, 1.0]


def test_f_persistent(adapter, fw):
    """persistent=True is retain_graph=True: [6, 6]."""
    x = fw.Variable(3.0)
    with fw.GradientTape(persistent=True) as tape:
        y = x * x
    first, second = tape.gradient(y, x), tape.gradient(y, x)
    assert [value(adapter, first), value(adapter, second)] == [6.0, 6.0]


def gan_step(fw, generator_persistent: bool):
    """Two tapes over one forward: dgen/dg and ddisc/dd."""
    g, d = fw.Variable(3.0), fw.Variable(2.0)
    gen_tape = fw.GradientTape(persistent=generator_persistent)
    with gen_tape, fw.GradientTape() as disc_tape:
        fake = g * g
        out = d * fake
        gen_loss = -out
        disc_loss = out * out
    gen_grad = gen_tape.gradient(gen_loss, g)
    disc_grad = disc_tape.gradient(disc_loss, d)
    return gen_grad, disc_grad


def test_g_gan_two_tapes_share_one_graph(adapter, fw):
    """The first gradient frees the shared graph: the second raises CONSUMED_TAPE."""
    error = raised(lambda: gan_step(fw, generator_persistent=False))
    assert adapter.classify_error(error) is ErrorKind.CONSUMED_TAPE


def test_g_gan_with_persistent_generator_tape(adapter, fw):
    """Keeping the graph for the first gradient gives TF's values [-12, 324]."""
    gen_grad, disc_grad = gan_step(fw, generator_persistent=True)
    assert [value(adapter, gen_grad), value(adapter, disc_grad)] == [-12.0, 324.0]


def test_h_nested_tapes_second_derivative(adapter, fw):
    """An inner gradient while the outer tape records uses create_graph: x*x → 6, 2."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as outer:
        with fw.GradientTape() as inner:
            y = x * x
        dx = inner.gradient(y, x)
    ddx = outer.gradient(dx, x)
    assert [value(adapter, dx), value(adapter, ddx)] == [6.0, 2.0]


@pytest.mark.parametrize("cube", [lambda x: x**3, lambda x: x * x * x], ids=["pow", "mul"])
def test_h_third_derivative(adapter, fw, cube):
    """Three nested tapes on x³ at 3: 27, 18, 6 (x*x*x needs torch to keep the graph)."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as t1:
        with fw.GradientTape() as t2:
            with fw.GradientTape() as t3:
                y = cube(x)
            dy = t3.gradient(y, x)
        d2y = t2.gradient(dy, x)
    d3y = t1.gradient(d2y, x)
    assert [float(value(adapter, v)) for v in (dy, d2y, d3y)] == [27.0, 18.0, 6.0]


def test_h_inner_gradient_after_outer_exit_is_not_recorded(adapter, fw):
    """No tape records when the inner gradient runs: no create_graph, the second order raises."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as outer, fw.GradientTape() as inner:
        y = x * x
    dx = inner.gradient(y, x)
    error = raised(lambda: outer.gradient(dx, x))
    assert adapter.classify_error(error) is ErrorKind.NOT_DIFFERENTIABLE


def test_i_unconnected_source(adapter, fw):
    """Default: torch's allow_unused error; 'zero' (string or enum) → 0.0."""
    x, z = fw.Variable(3.0), fw.Variable(1.0)
    with fw.GradientTape(persistent=True) as tape:
        y = x * x
    error = raised(lambda: tape.gradient(y, z))
    assert "appears to not have been used in the graph" in str(error)
    assert adapter.classify_error(error) is ErrorKind.NOT_DIFFERENTIABLE
    assert value(adapter, tape.gradient(y, z, unconnected_gradients="zero")) == 0.0
    zero = fw.UnconnectedGradients.ZERO
    grads = tape.gradient(y, [x, z], unconnected_gradients=zero)
    assert [value(adapter, g) for g in grads] == [6.0, 0.0]


def test_i_unconnected_bad_value(adapter, fw):
    """Only 'none'/'zero' or the enum: anything else is ValueError, INVALID_ARGUMENT."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    error = raised(lambda: tape.gradient(y, x, unconnected_gradients="ZERO"))
    assert isinstance(error, ValueError)
    assert adapter.classify_error(error) is ErrorKind.INVALID_ARGUMENT


def test_j_integer_sources_cannot_require_grad(adapter, fw):
    """watch(int) and Variable(int) raise torch's two wordings, DTYPE_NOT_DIFFERENTIABLE."""
    x = fw.constant(3)
    with fw.GradientTape() as tape:
        watch_error = raised(lambda: tape.watch(x))
    variable_error = raised(lambda: fw.Variable(3))
    assert "only Tensors of floating point dtype" in str(watch_error)
    assert "Only Tensors of floating point and complex dtype" in str(variable_error)
    for error in (watch_error, variable_error):
        assert adapter.classify_error(error) is ErrorKind.DTYPE_NOT_DIFFERENTIABLE


# ---- tape calls ---------------------------------------------------------------------------------


def test_structures_are_preserved(adapter, fw):
    """Sources in a nest come back in the same nest; watch takes a nest too."""
    a, b, c = fw.constant(1.0), fw.constant(2.0), fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch({"a": a, "rest": [b, (c,)]})
        y = a * b * c
    grads = tape.gradient(y, {"rest": [b, (c,)], "a": a})
    assert list(grads) == ["rest", "a"]
    assert value(adapter, grads["a"]) == 6.0
    assert value(adapter, grads["rest"][0]) == 3.0
    assert value(adapter, grads["rest"][1][0]) == 2.0


def test_output_gradients_weight_the_seed(adapter, fw):
    """output_gradients is grad_outputs: a vector-Jacobian product."""
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    grad = tape.gradient(y, x, output_gradients=fw.constant([10.0, 1.0]))
    np.testing.assert_array_equal(value(adapter, grad), [20.0, 4.0])


def test_non_scalar_target_needs_output_gradients(adapter, fw):
    """torch does not sum a non-scalar target implicitly: INVALID_ARGUMENT."""
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    error = raised(lambda: tape.gradient(y, x))
    assert "grad can be implicitly created only for scalar outputs" in str(error)
    assert adapter.classify_error(error) is ErrorKind.INVALID_ARGUMENT


def test_target_is_source(adapter, fw):
    """A watched source as its own target: torch's gradient of x w.r.t. x is 1."""
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
    assert value(adapter, tape.gradient(x, x)) == 1.0


def test_stop_recording_is_no_grad(adapter, fw):
    """Ops under stop_recording are not recorded; recording resumes after the block."""
    x = fw.Variable(3.0)
    with fw.GradientTape(persistent=True) as tape:
        with tape.stop_recording():
            hidden = x * x
        seen = x * x
    error = raised(lambda: tape.gradient(hidden, x))
    assert adapter.classify_error(error) is ErrorKind.NOT_DIFFERENTIABLE
    assert value(adapter, tape.gradient(seen, x)) == 6.0


def test_tape_only_features_raise_not_implemented(adapter, fw):
    """reset, watched_variables and watch_accessed_variables=False have no torch equivalent."""
    with fw.GradientTape() as tape:
        errors = [raised(tape.reset), raised(tape.watched_variables)]
    errors.append(raised(lambda: fw.GradientTape(watch_accessed_variables=False)))
    for error in errors:
        assert isinstance(error, NotImplementedError)
        assert "torch" in str(error)
        assert adapter.classify_error(error) is ErrorKind.UNKNOWN


def test_tape_stack_is_thread_local(adapter, fw):
    """A tape open on this thread does not make another thread's gradient create a graph."""
    x = fw.Variable(3.0)
    results = {}

    def gradient_on_other_thread():
        with fw.GradientTape() as inner:
            y = x * x
        results["grad"] = inner.gradient(y, x)

    with fw.GradientTape():
        worker = threading.Thread(target=gradient_on_other_thread)
        worker.start()
        worker.join()
    assert value(adapter, results["grad"]) == 6.0
    assert results["grad"].grad_fn is None


# ---- jacobian and batch_jacobian ----------------------------------------------------------------


def test_jacobian(adapter, fw):
    """jacobian of x*x at [1, 2] is [[2, 0], [0, 4]]."""
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_array_equal(value(adapter, tape.jacobian(y, x)), [[2.0, 0.0], [0.0, 4.0]])


def test_jacobian_structure_and_unconnected(adapter, fw):
    """Nested sources keep their structure; 'zero' gives zeros of target+source shape."""
    x, w = fw.constant([1.0, 2.0]), fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        y = x * x
    jac = tape.jacobian(y, {"x": x, "w": (w,)}, unconnected_gradients="zero")
    np.testing.assert_array_equal(value(adapter, jac["x"]), [[2.0, 0.0], [0.0, 4.0]])
    np.testing.assert_array_equal(value(adapter, jac["w"][0]), np.zeros((2, 3)))
    error = raised(lambda: tape.jacobian(y, w))
    assert adapter.classify_error(error) is ErrorKind.NOT_DIFFERENTIABLE


def test_jacobian_of_matrix_target(adapter, fw):
    """The jacobian's shape is target.shape + source.shape."""
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reshape(fw.tile(x, [2]), [2, 3]) * 2.0
    jac = value(adapter, tape.jacobian(y, x))
    assert jac.shape == (2, 3, 3)
    np.testing.assert_array_equal(jac[1], 2.0 * np.eye(3))


def test_batch_jacobian(adapter, fw):
    """Per-example jacobians [B, t, s] of [x², sum(x)] for each row x."""
    x = fw.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.concat([x * x, fw.reduce_sum(x, axis=1, keepdims=True)], axis=1)
    jac = value(adapter, tape.batch_jacobian(y, x))
    assert jac.shape == (3, 3, 2)
    np.testing.assert_array_equal(jac[1], [[6.0, 0.0], [0.0, 8.0], [1.0, 1.0]])


def test_batch_jacobian_batch_mismatch(adapter, fw):
    """Different leading dimensions raise ValueError, SHAPE_MISMATCH."""
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.concat([x, x], axis=0)
    error = raised(lambda: tape.batch_jacobian(y, x))
    assert isinstance(error, ValueError)
    assert adapter.classify_error(error) is ErrorKind.SHAPE_MISMATCH


def test_batch_jacobian_unconnected_zero(adapter, fw):
    """An unconnected source with 'zero' gives zeros [B, t, s]."""
    x, w = fw.constant([[1.0, 2.0]]), fw.constant([[3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch([x, w])
        y = w * 2.0
    jac = tape.batch_jacobian(y, x, unconnected_gradients="zero")
    np.testing.assert_array_equal(value(adapter, jac), np.zeros((1, 2, 2)))


# ---- custom gradients ---------------------------------------------------------------------------


def test_custom_gradient_overrides(adapter, fw):
    """The grad fn replaces torch's derivative: 100.0."""

    @fw.custom_gradient
    def f(x):
        return x * x, lambda dy: dy * 100.0

    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    assert value(adapter, y) == 9.0
    assert value(adapter, tape.gradient(y, x)) == 100.0


def test_custom_gradient_second_order(adapter, fw):
    """Nested custom gradients override the second derivative (TF's -5856.4 and -9423.48)."""

    @fw.custom_gradient
    def f(x):
        def first_order(dz):
            @fw.custom_gradient
            def inner(_):
                return -1.1, lambda ddz: -2.1 * ddz

            return dz * inner(x)

        return x + 10.0, first_order

    c = fw.constant(1.0)
    with fw.GradientTape() as outer:
        outer.watch(c)
        with fw.GradientTape() as tape:
            tape.watch(c)
            d = f(c) ** 4.0
        first = tape.gradient(d, c)
    second = outer.gradient(first, c)
    np.testing.assert_allclose(value(adapter, first), -5856.4, rtol=2e-3)
    np.testing.assert_allclose(value(adapter, second), -9423.48, rtol=2e-3)


def test_custom_gradient_unused_output_gets_zeros(adapter, fw):
    """An output not used by the target gets a zeros upstream, as in TF."""
    seen = []

    @fw.custom_gradient
    def two(x):
        return (x * 1.0, x * 2.0), lambda d1, d2: seen.append((d1, d2)) or d1 + d2

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a, _ = two(x)
    assert value(adapter, tape.gradient(a, x)) == 1.0
    assert [float(value(adapter, d)) for d in seen[0]] == [1.0, 0.0]


def test_custom_gradient_wrong_count(adapter, fw):
    """A grad fn returning no gradient for an input: torch's count error, INVALID_ARGUMENT."""

    @fw.custom_gradient
    def identity(x):
        return x, lambda _: []

    x = fw.Variable(1.0)
    with fw.GradientTape() as tape:
        y = identity(x)
    error = raised(lambda: tape.gradient(y, [x]))
    assert "incorrect number of gradients" in str(error)
    assert adapter.classify_error(error) is ErrorKind.INVALID_ARGUMENT


def test_custom_gradient_raising_is_user_error(adapter, fw):
    """An exception from the grad fn propagates unchanged and is USER_ERROR."""

    @fw.custom_gradient
    def f(x):
        def grad(_):
            raise RuntimeError("boom from grad")

        return x, grad

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    error = raised(lambda: tape.gradient(y, x))
    assert type(error) is RuntimeError and str(error) == "boom from grad"
    assert adapter.classify_error(error) is ErrorKind.USER_ERROR


# ---- variables and ops --------------------------------------------------------------------------


def test_variable_methods(adapter, fw):
    """assign/assign_add update in place; read_value is the parameter; numpy detaches."""
    v = fw.Variable([1.0, 2.0])
    assert v.assign([3.0, 4.0]) is v
    v.assign_add(fw.constant([1.0, 1.0]))
    assert v.read_value() is v
    np.testing.assert_array_equal(v.numpy(), [4.0, 5.0])
    assert v.trainable and v.shape == (2,) and v.dtype == fw.float32
    assert not fw.Variable(1.0, trainable=False).trainable


def test_assign_after_use_breaks_backward(adapter, fw):
    """Assigning a value the graph saved: torch's in-place error, UNKNOWN (no neutral kind)."""
    v = fw.Variable(2.0)
    with fw.GradientTape() as tape:
        y = v * v
    v.assign(5.0)
    error = raised(lambda: tape.gradient(y, v))
    assert "modified by an inplace operation" in str(error)
    assert adapter.classify_error(error) is ErrorKind.UNKNOWN


def test_constant_dtypes(adapter, fw):
    """torch's defaults: float → float32, int → int64, explicit dtype honoured."""
    assert fw.constant(1.0).dtype == fw.float32
    assert fw.constant(1).dtype == fw.int64
    assert fw.constant(1, dtype=fw.float64).dtype == fw.float64
    assert fw.constant(np.array([1.0])).dtype == fw.float64


def test_ops_forward_values(adapter, fw):
    """Each neutral op computes what its TensorFlow namesake computes (forward values)."""
    x = fw.constant([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    checks = {
        "reduce_sum": (fw.reduce_sum(x), 5.0),
        "reduce_sum axis": (fw.reduce_sum(x, axis=1), [2.0, 3.0]),
        "reduce_mean keepdims": (fw.reduce_mean(x, axis=0, keepdims=True), [[2.5, 1.5, -1.5]]),
        "reduce_max": (fw.reduce_max(x), 5.0),
        "reduce_max axis": (fw.reduce_max(x, axis=1), [3.0, 5.0]),
        "transpose": (fw.transpose(x), [[1.0, 4.0], [-2.0, 5.0], [3.0, -6.0]]),
        "gather 2-d indices": (
            fw.gather(x, [[1], [0]], axis=0),
            [[[4.0, 5.0, -6.0]], [[1.0, -2.0, 3.0]]],
        ),
        "gather axis 1": (fw.gather(x, [2, 0], axis=1), [[3.0, 1.0], [-6.0, 4.0]]),
        "matmul": (fw.matmul(x, fw.transpose(x)), [[14.0, -24.0], [-24.0, 77.0]]),
        "relu": (fw.relu(x), [[1.0, 0.0, 3.0], [4.0, 5.0, 0.0]]),
        "where": (fw.where(x > 0, x, fw.zeros_like(x)), [[1.0, 0.0, 3.0], [4.0, 5.0, 0.0]]),
        "maximum scalar": (fw.maximum(x, 0.0), [[1.0, 0.0, 3.0], [4.0, 5.0, 0.0]]),
        "minimum": (fw.minimum(x, fw.ones_like(x)), [[1.0, -2.0, 1.0], [1.0, 1.0, -6.0]]),
        "norm": (fw.norm(fw.constant([[3.0], [4.0]])), 5.0),
        "softmax": (fw.softmax(fw.constant([0.0, 0.0])), [0.5, 0.5]),
        "stack": (fw.stack([fw.ones([2]), fw.zeros([2])], axis=1), [[1.0, 0.0], [1.0, 0.0]]),
        "round half to even": (fw.round(fw.constant([0.5, 1.5, 2.5])), [0.0, 2.0, 2.0]),
        "sign floor abs": (fw.sign(x)[0] * fw.floor(fw.abs(x))[0], [1.0, -2.0, 3.0]),
        "arithmetic": (
            fw.divide(fw.subtract(fw.add(2.0, x), 2.0), fw.multiply(x, 1.0)),
            np.ones((2, 3)),
        ),
        "pow square sqrt": (
            fw.sqrt(fw.square(fw.pow(x, 2.0))),
            [[1.0, 4.0, 9.0], [16.0, 25.0, 36.0]],
        ),
        "exp log negative": (
            fw.negative(fw.log(fw.exp(x))),
            -np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]),
        ),
        "real imag": (fw.real(fw.constant([1 + 2j])) + fw.imag(fw.constant([1 + 2j])), [3.0]),
    }
    for name, (result, expected) in checks.items():
        np.testing.assert_allclose(value(adapter, result), expected, rtol=1e-6, err_msg=name)
    trig = fw.sin(x) ** 2 + fw.cos(x) ** 2 + fw.tanh(fw.zeros([1])) + fw.sigmoid(fw.zeros([1]))
    np.testing.assert_allclose(value(adapter, trig), np.full((2, 3), 1.5), rtol=1e-6)


def test_cast_to_int_cuts_the_graph(adapter, fw):
    """cast is x.to(dtype); an int result cannot carry a gradient."""
    x = fw.Variable(2.5)
    with fw.GradientTape() as tape:
        y = fw.cast(fw.cast(x, fw.int32), fw.float32) * x
    assert fw.cast(x, fw.int32).dtype == fw.int32
    assert value(adapter, tape.gradient(y, x)) == 2.0


def test_stop_gradient_and_identity(adapter, fw):
    """stop_gradient is detach (gradient cut); identity is clone (gradient 1)."""
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = fw.stop_gradient(x) * x + fw.identity(x)
    assert value(adapter, tape.gradient(y, x)) == 4.0


# ---- error classification with real torch errors ------------------------------------------------


def _matmul_dtype(fw):
    return fw.matmul(fw.ones([2, 2]), fw.ones([2, 2], dtype=fw.float64))


def _complex_output_gradient(fw):
    x = fw.Variable([1.0, 2.0])
    with fw.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, x, output_gradients=fw.constant([1j, 1j]))


def _int_variable_assign_add(fw):
    return fw.Variable(1, trainable=False).assign_add(1.5)


def _output_gradient_shape(fw):
    x = fw.Variable([1.0, 2.0])
    with fw.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, x, output_gradients=fw.constant([1.0, 2.0, 3.0]))


def _unwatched_source(fw):
    x, z = fw.Variable(3.0), fw.constant(1.0)
    with fw.GradientTape() as tape:
        y = x * z
    return tape.gradient(y, z)


def _floor_divide(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x // 2.0
    return tape.gradient(y, x)


def _no_sources(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, [])


def _none_source(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, [x, None])


def _none_target(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.gradient(None, x)


def _shape_error_in_scenario_code(fw):
    x = fw.Variable([1.0, 2.0])
    with fw.GradientTape():
        return x @ fw.ones([3])


def _fewer_output_gradients(fw):
    x = fw.Variable(3.0)
    with fw.GradientTape() as tape:
        a, b = x * 2.0, x * 3.0
    return tape.gradient([a, b], x, output_gradients=[fw.constant(1.0)])


def _complex_target(fw):
    z = fw.constant(1 + 2j)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = z * z
    return tape.gradient(y, z)


def _jacobian_of_list(fw):
    x = fw.Variable([1.0, 2.0])
    with fw.GradientTape() as tape:
        y = x * x
    return tape.jacobian([y, y], x)


def _watch_non_tensor(fw):
    with fw.GradientTape() as tape:
        tape.watch(3.0)


def _scenario_raises(fw):
    with fw.GradientTape():
        raise KeyError("raised by the scenario itself")


ERROR_CASES = {
    "not a leaf": (
        lambda fw: (fw.Variable(1.0) * 2.0).requires_grad_(False),
        "can only change requires_grad flags of leaf",
        ErrorKind.INVALID_WATCH,
    ),
    "watch a non-tensor": (
        _watch_non_tensor,
        "has no attribute 'requires_grad_'",
        ErrorKind.INVALID_WATCH,
    ),
    "differentiated tensor not requiring grad": (
        _unwatched_source,
        "One of the differentiated Tensors does not require grad",
        ErrorKind.NOT_DIFFERENTIABLE,
    ),
    "no derivative": (
        _floor_divide,
        "derivative for aten::floor_divide is not implemented",
        ErrorKind.NOT_DIFFERENTIABLE,
    ),
    "empty sources": (_no_sources, "cannot be empty", ErrorKind.INVALID_ARGUMENT),
    "None source": (_none_source, "all inputs have to be Tensors", ErrorKind.INVALID_ARGUMENT),
    "torch argument parser": (lambda fw: fw.sin(3.0), "must be Tensor", ErrorKind.INVALID_ARGUMENT),
    "jacobian of a list": (
        _jacobian_of_list,
        "has no attribute 'reshape'",
        ErrorKind.INVALID_ARGUMENT,
    ),
    "None target": (
        _none_target,
        "Expected output to be a torch.Tensor",
        ErrorKind.INVALID_ARGUMENT,
    ),
    "fewer output gradients": (
        _fewer_output_gradients,
        "got 2 tensors and 1 gradients",
        ErrorKind.INVALID_ARGUMENT,
    ),
    "complex target": (_complex_target, "only for real scalar outputs", ErrorKind.INVALID_ARGUMENT),
    "matmul dtypes": (_matmul_dtype, "same dtype", ErrorKind.DTYPE_MISMATCH),
    "complex output gradient": (
        _complex_output_gradient,
        "Mismatch in dtype",
        ErrorKind.DTYPE_MISMATCH,
    ),
    "in-place cast": (
        _int_variable_assign_add,
        "can't be cast to the desired output type",
        ErrorKind.DTYPE_MISMATCH,
    ),
    "mean of ints": (
        lambda fw: fw.reduce_mean(fw.constant([1, 2])),
        "dtype",
        ErrorKind.DTYPE_MISMATCH,
    ),
    "output gradient shape": (
        _output_gradient_shape,
        "Mismatch in shape",
        ErrorKind.SHAPE_MISMATCH,
    ),
    "broadcast": (
        lambda fw: fw.add(fw.ones([2]), fw.ones([3])),
        "must match the size",
        ErrorKind.SHAPE_MISMATCH,
    ),
    "matmul shapes": (
        lambda fw: fw.matmul(fw.ones([2, 3]), fw.ones([2, 3])),
        "shapes cannot be multiplied",
        ErrorKind.SHAPE_MISMATCH,
    ),
    "reshape": (
        lambda fw: fw.reshape(fw.ones([6]), [4]),
        "is invalid for input of size",
        ErrorKind.SHAPE_MISMATCH,
    ),
    "dot sizes": (
        lambda fw: fw.ones([2]) @ fw.ones([3]),
        "inconsistent tensor size",
        ErrorKind.SHAPE_MISMATCH,
    ),
    "torch error in scenario code": (
        _shape_error_in_scenario_code,
        "inconsistent tensor size",
        ErrorKind.SHAPE_MISMATCH,
    ),
    "scenario's own raise": (_scenario_raises, "raised by the scenario", ErrorKind.USER_ERROR),
    "missing kernel": (
        lambda fw: fw.ones([2]).to_sparse().view(-1),
        "Could not run",
        ErrorKind.UNKNOWN,
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_classify_error(adapter, fw, case):
    """Each classification rule, fed by a real error from real torch code."""
    program, fragment, kind = ERROR_CASES[case]
    error = raised(lambda: program(fw))
    assert fragment in str(error)
    assert adapter.classify_error(error) is kind


def test_a_warn_once_warning_shows_in_every_cell(adapter: TorchAdapter) -> None:
    """torch's TORCH_WARN_ONCE (complex cast to real) warns once per process; the adapter makes it
    show in each cell, so the second run of a cell gets the verdict of the first."""
    from conformance import registry
    from conformance.outcome import Verdict, run_cell

    scenario = registry.get("ops.cast_complex_to_float_keeps_real_part")
    divergence = load_divergences(adapter.divergences_path(), [scenario.id])[scenario.id]
    verdicts = [run_cell(scenario, adapter, "CPU:0", divergence).verdict for _ in range(2)]
    assert verdicts == [Verdict.DIVERGES, Verdict.DIVERGES]
