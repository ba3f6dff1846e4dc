"""The adapter contract kit: it passes on the registered adapters and names what broken ones break.

``test_contract`` runs once per adapter that ``--adapter`` selects (all registered by default).
The broken adapters are real ones (the reference implementation) with one promise broken each.
"""

from __future__ import annotations

import threading
import types
from pathlib import Path
from typing import Any

import pytest

from adapters.reference_adapter import ReferenceAdapter
from conformance.contract import (
    AdapterContractError,
    check_adapter,
    pytest_generate_tests,  # noqa: F401 - parametrizes test_contract by --adapter
    test_contract,
    verify_adapter,
)
from conformance.kit import (
    ErrorRule,
    TapeStack,
    classify_by_rules,
    flatten,
    pack_sequence_as,
    raised_by_user_code,
    wants_zero,
)
from conformance.outcome import Verdict, run_cell
from conformance.protocol import (
    ADAPTER_PROTOCOL_VERSION,
    EXTENDED_NAMES,
    FEATURES,
    AdapterValidationError,
    ErrorKind,
    Mapping_,
    features_for,
    required_names,
    validate_adapter,
)
from conformance.registry import all_scenarios

# ---- adapters with one promise broken ------------------------------------------------------------


class LacksNeutralName(ReferenceAdapter):
    """The reference namespace without ``tile``."""

    name = "lacks_tile"

    def namespace(self, device: str) -> Any:
        namespace = super().namespace(device)
        del namespace.tile
        return namespace


class ConsumedTapeUnknown(ReferenceAdapter):
    """Classifies every error, the consumed-tape RuntimeError included, as UNKNOWN."""

    name = "misclassifies"

    def classify_error(self, error: BaseException) -> ErrorKind:
        return ErrorKind.UNKNOWN


class FeatureWithoutReason(ReferenceAdapter):
    name = "silent_feature"

    def features(self) -> dict[str, str | None]:
        return {**super().features(), "reset": "  "}


class MissingFeature(ReferenceAdapter):
    name = "missing_feature"

    def features(self) -> dict[str, str | None]:
        return {k: v for k, v in super().features().items() if k != "jacobian"}


class NoMappings(ReferenceAdapter):
    name = "no_mappings"

    def mappings(self) -> list[Mapping_]:
        return []


class MappingWithoutWhy(ReferenceAdapter):
    name = "no_why"

    def mappings(self) -> list[Mapping_]:
        return [Mapping_("constant", "np.asarray")]


class NoDevices(ReferenceAdapter):
    name = "no_devices"

    def devices(self) -> list[str]:
        return []


class WrongDtypeName(ReferenceAdapter):
    name = "wrong_dtype"

    def dtype_name(self, value: Any) -> str:
        return "float"


class FloatIsATensor(ReferenceAdapter):
    name = "everything_is_a_tensor"

    def is_tensor(self, value: Any) -> bool:
        return True


class EmptyAvailability(ReferenceAdapter):
    name = "empty_reason"

    def available(self) -> str | None:
        return ""


class ClassifierRaises(ReferenceAdapter):
    name = "classifier_raises"

    def classify_error(self, error: BaseException) -> ErrorKind:
        raise KeyError(type(error).__name__)


class WrongDistribution(ReferenceAdapter):
    """Names a distribution whose metadata version is not the framework's version."""

    name = "wrong_distribution"
    distribution = "numpy"


BROKEN = [
    (WrongDistribution(), "distribution 'numpy' has version"),
    (LacksNeutralName(), "the namespace for CPU:0 lacks neutral names tile"),
    (ConsumedTapeUnknown(), "misclassifies the error raised by a non-persistent tape used twice"),
    (FeatureWithoutReason(), "gives no reason for unsupported reset"),
    (MissingFeature(), "features() does not answer jacobian"),
    (NoMappings(), "mappings() returned []"),
    (MappingWithoutWhy(), "mappings()[0] ('constant') has empty why"),
    (NoDevices(), "devices() returned []; it must list at least one device"),
    (WrongDtypeName(), "dtype_name(fw.constant([1.5, -2.0])) returned 'float', not 'float32'"),
    (FloatIsATensor(), "is_tensor(2.5) returned True, not False"),
    (EmptyAvailability(), "available() returned ''"),
    (ClassifierRaises(), "classify_error() raised KeyError"),
]


@pytest.mark.parametrize(
    ("adapter", "fragment"), BROKEN, ids=[adapter.name for adapter, _ in BROKEN]
)
def test_broken_adapter_is_named_with_what_is_wrong(adapter, fragment):
    """Each broken promise is one problem that names the adapter and what is wrong."""
    problems = check_adapter(adapter).problems
    assert any(fragment in p and f"adapter {adapter.name!r}" in p for p in problems), problems


def test_missing_neutral_name_fails_test_contract_readably():
    """test_contract fails (no traceback) with a message naming the adapter and the missing name."""
    with pytest.raises(pytest.fail.Exception) as failure:
        test_contract(LacksNeutralName())
    message = str(failure.value)
    assert message.startswith("adapter 'lacks_tile' breaks the tapeconf adapter contract (1 ")
    assert "lacks neutral names tile" in message
    assert not failure.value.pytrace


def test_consumed_tape_classified_unknown_fails_verify_adapter():
    """A consumed-tape error the framework raises must not classify as UNKNOWN."""
    with pytest.raises(AdapterContractError) as failure:
        verify_adapter(ConsumedTapeUnknown())
    message = str(failure.value)
    assert "adapter 'misclassifies'" in message
    assert "non-persistent GradientTape can only be used" in message  # the native error, quoted
    assert "as unknown; it should be a known kind (consumed_tape)" in message


def test_divergence_file_naming_unknown_scenario_is_a_problem(tmp_path):
    """A divergence entry for a scenario that does not exist is reported with its location."""
    path = tmp_path / "div.toml"
    path.write_text('["watching.no_such_scenario"]\nreason = "x"\nreturns = "null"\n')
    adapter = ReferenceAdapter()
    adapter.divergences_path = lambda: str(path)  # type: ignore[method-assign]
    problems = check_adapter(adapter).problems
    assert problems == [
        f"adapter 'reference': {path}:1: divergence for unknown scenario "
        "'watching.no_such_scenario' matches nothing"
    ]


def test_malformed_divergence_file_is_a_problem(tmp_path):
    path = tmp_path / "div.toml"
    path.write_text('["tutorial.unwatched_constant"]\nreturns = "null"\n')
    adapter = ReferenceAdapter()
    adapter.divergences_path = lambda: str(path)  # type: ignore[method-assign]
    (problem,) = check_adapter(adapter).problems
    assert "needs a non-empty reason" in problem and problem.startswith("adapter 'reference'")


def test_object_without_the_protocol_lists_missing_methods():
    problems = check_adapter(types.SimpleNamespace(name="bare")).problems
    assert len(problems) == 1
    assert (
        "adapter 'bare' does not implement the tapeconf Adapter protocol: missing available"
        in (problems[0])
    )


def test_unavailable_framework_runs_only_framework_free_checks():
    """An adapter whose framework is missing is not called beyond what needs no framework."""

    class NotInstalled(ReferenceAdapter):
        name = "not_installed"

        def available(self) -> str | None:
            return "notaframework is not installed (pip install notaframework)"

        def namespace(self, device: str) -> Any:
            raise AssertionError("namespace() must not be called when unavailable")

    report = check_adapter(NotInstalled())
    assert report.problems == []
    assert report.unavailable == "notaframework is not installed (pip install notaframework)"
    with pytest.raises(pytest.skip.Exception, match="not_installed: notaframework"):
        test_contract(NotInstalled())


# ---- the pytest side -----------------------------------------------------------------------------


def test_star_import_runs_the_contract_per_selected_adapter(pytester):
    """``from conformance.contract import *`` gives one test_contract per --adapter."""
    pytester.makepyfile("from conformance.contract import *  # noqa: F403")
    result = pytester.runpytest("--adapter", "reference", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_contract[[]reference[]] PASSED*"])


def test_parametrizing_twice_is_harmless(pytester):
    """The plugin and the module may both parametrize test_contract: it runs once per adapter."""
    pytester.makeconftest(
        "from conformance.contract import parametrize_adapters\n"
        "def pytest_generate_tests(metafunc):\n"
        "    parametrize_adapters(metafunc)\n"
    )
    pytester.makepyfile("from conformance.contract import *  # noqa: F403")
    result = pytester.runpytest("--adapter", "reference")
    result.assert_outcomes(passed=1)


# ---- the protocol's version and features(device) -------------------------------------------------


class WrittenForProtocol10(ReferenceAdapter):
    """An adapter as written for protocol 1.0: no protocol_version, features() takes no device."""

    name = "protocol_1_0"
    protocol_version = None

    def features(self) -> dict[str, str | None]:  # type: ignore[override]
        return dict(super().features())


class Float16NotOnCpu(ReferenceAdapter):
    """float16 works in general but not on CPU:0 (as a CPU build without half arithmetic)."""

    name = "float16_not_on_cpu"

    def features(self, device: str | None = None) -> dict[str, str | None]:
        answer = dict(super().features(device))
        if device == "CPU:0":
            answer["float16"] = "this build has no float16 kernels on CPU; use GPU:0"
        return answer


def _first_scenario_needing(feature: str) -> Any:
    return next(s for s in all_scenarios() if feature in s.features)


def test_an_adapter_written_for_protocol_1_0_still_works():
    """Compatibility within major version 1: a 1.0 adapter passes the contract and runs cells."""
    adapter = WrittenForProtocol10()
    assert check_adapter(adapter).problems == []
    assert features_for(adapter, "CPU:0")["float16"] is None
    scenario = _first_scenario_needing("variables")
    assert run_cell(scenario, adapter, "CPU:0", None).verdict is Verdict.CONFORMS


def test_features_can_depend_on_the_device():
    """features(device) makes a cell unsupported on one device only, with the adapter's reason."""
    adapter = Float16NotOnCpu()
    assert check_adapter(adapter).problems == []
    assert features_for(adapter, None)["float16"] is None
    cell = run_cell(_first_scenario_needing("float16"), adapter, "CPU:0", None)
    assert cell.verdict is Verdict.UNSUPPORTED
    assert "no float16 kernels on CPU" in cell.detail


@pytest.mark.parametrize(
    ("declared", "fragment"),
    [
        ("2.0", "implements tapeconf adapter protocol 2.0, but this tape-conformance speaks"),
        ("one", "protocol_version='one', but should be a string 'MAJOR.MINOR'"),
        (1.1, "protocol_version=1.1, but should be a string 'MAJOR.MINOR'"),
    ],
)
def test_an_adapter_of_another_major_version_is_refused(declared, fragment):
    """Loading checks protocol_version: another major version is a clear, typed error."""

    class Declares(ReferenceAdapter):
        name = "declares"
        protocol_version = declared

    with pytest.raises(AdapterValidationError, match="adapter 'declares'") as caught:
        validate_adapter(Declares(), check_namespace=False)
    assert fragment in str(caught.value)


class WrittenForProtocol11(ReferenceAdapter):
    """An adapter as written for protocol 1.1: no extended_ops answer, no 1.2 names."""

    name = "protocol_1_1"
    protocol_version = "1.1"

    def features(self, device: str | None = None) -> dict[str, str | None]:
        answer = dict(super().features(device))
        del answer["extended_ops"]
        return answer

    def namespace(self, device: str) -> Any:
        namespace = super().namespace(device)
        for name in EXTENDED_NAMES:
            delattr(namespace, name)
        return namespace


class ClaimsExtendedOpsWithoutNames(WrittenForProtocol11):
    """Declares 1.2 and answers extended_ops as supported, but lacks the 1.2 names."""

    name = "claims_extended_ops"
    protocol_version = "1.2"

    def features(self, device: str | None = None) -> dict[str, str | None]:
        return {**super().features(device), "extended_ops": None}


def test_an_adapter_written_for_protocol_1_1_still_works():
    """A 1.1 adapter passes the contract, runs its old cells, and has extended_ops unsupported."""
    adapter = WrittenForProtocol11()
    assert check_adapter(adapter).problems == []
    why = features_for(adapter, "CPU:0")["extended_ops"]
    assert why is not None and "older than 1.2" in why
    assert run_cell(_first_scenario_needing("variables"), adapter, "CPU:0", None).verdict is (
        Verdict.CONFORMS
    )
    cell = run_cell(_first_scenario_needing("extended_ops"), adapter, "CPU:0", None)
    assert cell.verdict is Verdict.UNSUPPORTED
    assert "older than 1.2" in cell.detail


def test_an_adapter_with_extended_ops_must_define_their_names():
    """Answering extended_ops as supported asks for every 1.2 name, and the message says so."""
    report = check_adapter(ClaimsExtendedOpsWithoutNames())
    assert len(report.problems) == 1, report.problems
    assert "lacks neutral names equal, not_equal" in report.problems[0]
    assert "its feature 'extended_ops' needs" in report.problems[0]


def test_required_names_follow_the_features():
    """The 1.2 names are required exactly when extended_ops is supported."""
    supported = {name: None for name in FEATURES}
    assert set(EXTENDED_NAMES) <= set(required_names(supported))
    unsupported = {**supported, "extended_ops": "no such ops here"}
    assert not set(EXTENDED_NAMES) & set(required_names(unsupported))


def test_in_tree_adapters_declare_the_current_protocol():
    """The adapters shipped here are written for this protocol version."""
    from adapters.jax_adapter import JaxAdapter
    from adapters.tensorflow_adapter import TensorFlowAdapter
    from adapters.torch_adapter import TorchAdapter

    for adapter in (ReferenceAdapter(), TensorFlowAdapter(), TorchAdapter(), JaxAdapter()):
        assert adapter.protocol_version == ADAPTER_PROTOCOL_VERSION, adapter.name


# ---- the adapter kit -----------------------------------------------------------------------------


def test_kit_nest_follows_tf_nest_rules():
    """Dicts flatten by sorted key and pack back in the caller's key order; sizes must agree."""
    structure = {"b": 1, "a": [2, (3, {"d": 4, "c": 5})]}
    assert flatten(structure) == [2, 3, 5, 4, 1]
    packed = pack_sequence_as(structure, ["a0", "a1", "c", "d", "b"])
    assert packed == {"b": "b", "a": ["a0", ("a1", {"d": "d", "c": "c"})]}
    assert list(packed) == ["b", "a"]
    with pytest.raises(ValueError, match="cannot pack 2 leaves into a structure with 5 leaves"):
        pack_sequence_as(structure, [1, 2])


class _Tape:
    def __init__(self, persistent: bool = False) -> None:
        self.persistent, self.paused = persistent, False


def test_tape_stack_decides_create_graph():
    """A gradient is recorded when another open tape records, or its own tape is persistent."""
    stack = TapeStack()
    outer, inner, persistent = _Tape(), _Tape(), _Tape(persistent=True)
    stack.push(inner)
    assert not stack.records_gradient_of(inner)  # alone and non-persistent: stops recording
    stack.push(outer)
    assert stack.records_gradient_of(inner)
    outer.paused = True  # inside outer.stop_recording()
    assert not stack.records_gradient_of(inner)
    stack.remove(outer)
    stack.remove(inner)
    stack.push(persistent)
    assert stack.records_gradient_of(persistent)
    assert not stack.is_open(inner)


def test_tape_stack_is_per_thread():
    """A tape opened on one thread is not open on another (TF's tapes are thread-local)."""
    stack, tape, seen = TapeStack(), _Tape(), []
    stack.push(tape)
    thread = threading.Thread(target=lambda: seen.append(stack.open_tapes()))
    thread.start()
    thread.join()
    assert seen == [[]] and stack.open_tapes() == [tape]


def test_wants_zero_accepts_tf_spellings_only():
    """'none'/'zero' or the enum; anything else is TF's ValueError naming the value."""
    assert wants_zero("zero") and not wants_zero("none")
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients: 'ZERO'"):
        wants_zero("ZERO")


def test_error_rules_match_type_names_and_message_fragments():
    """First matching rule wins; types match along the MRO; no rule matching is UNKNOWN."""
    rules = (
        ErrorRule(("LookupError",), r"no entry", ErrorKind.NOT_DIFFERENTIABLE),
        ErrorRule((), r"shape", ErrorKind.SHAPE_MISMATCH),
    )
    assert classify_by_rules(KeyError("no entry for op"), rules) is ErrorKind.NOT_DIFFERENTIABLE
    assert classify_by_rules(ValueError("bad shape [2]"), rules) is ErrorKind.SHAPE_MISMATCH
    assert classify_by_rules(ValueError("other"), rules) is ErrorKind.UNKNOWN


def _user_raises() -> None:
    raise RuntimeError("boom from grad")


def test_raised_by_user_code_tells_the_scenario_from_the_library():
    """A raise statement in user code counts; one inside a library directory does not."""
    try:
        _user_raises()
    except RuntimeError as error:
        assert raised_by_user_code(error, [])
        assert not raised_by_user_code(error, [Path(__file__).parent])
    try:
        wants_zero("sideways")
    except ValueError as error:  # raised by the kit on the adapter's behalf
        assert not raised_by_user_code(error, [])
