"""The adapter contract kit: it passes on the registered adapters and names what broken ones break.

``test_contract`` runs once per adapter that ``--adapter`` selects (all registered by default).
The broken adapters are real ones (the reference implementation) with one promise broken each.
"""

from __future__ import annotations

import types
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
from conformance.protocol import ErrorKind, Mapping_

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


BROKEN = [
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
