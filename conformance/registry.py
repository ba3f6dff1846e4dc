"""The scenario registry: one function per behaviour, keyed by a stable id ``area.name``.

@scenario("watching.unwatched_constant", spec="W01",
          statement="ops on an unwatched constant are not recorded",
          expect=returns(None))
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, x)
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.expect import Expectation, Returns
from conformance.protocol import FEATURES

__all__ = [
    "SPEC_DOCUMENT",
    "SPEC_ENTRY",
    "DuplicateScenarioError",
    "Oracle",
    "Scenario",
    "ScenarioDefinitionError",
    "UserError",
    "all_scenarios",
    "get",
    "scenario",
    "spec_ids",
]

_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
#: A spec entry id (W01, SRC05, OP14) or, as the first word of a reference, a section letter (J).
SPEC_ENTRY = re.compile(r"\b[A-Z]{1,5}[0-9]{2,}\b")
#: Where the entries are written: docs/spec.md, one anchor per id (``docs/spec.md#W01``).
SPEC_DOCUMENT = "docs/spec.md"
_SPEC_SECTION = re.compile(r"^([A-Z])\b(?![0-9])")


def spec_ids(spec: str) -> list[str]:
    """The docs/spec.md anchors a scenario's ``spec=`` text cites, in order.

    ``spec`` is a comma-separated list of references, each an entry id or a section letter,
    optionally followed by a note: ``spec_ids("J01, N01 (implied)") == ["J01", "N01"]`` and
    ``spec_ids("J (implied)") == ["J"]``. Words without an id ("seed tutorial") are notes.
    """
    found: list[str] = []
    for reference in spec.split(","):
        reference = reference.strip()
        section = _SPEC_SECTION.match(reference)
        if section:
            found.append(section.group(1))
        found.extend(SPEC_ENTRY.findall(reference))
    return list(dict.fromkeys(found))


class DuplicateScenarioError(ValueError):
    """Two scenarios claim the same id; the message names both definitions."""


class ScenarioDefinitionError(ValueError):
    """A scenario is declared wrongly (bad id, unknown feature, missing oracle decision)."""


class UserError(RuntimeError):
    """Raised on purpose by a scenario's own code (e.g. inside a gradient function).

    The runner classifies it as ``ErrorKind.USER_ERROR`` whatever the framework, so scenarios can
    check that user exceptions propagate unchanged.
    """


@dataclass(frozen=True)
class Oracle:
    """A numeric check of a scenario's expected values by central finite differences.

    ``forward(fw, *args)`` is the function the scenario differentiates, written against the
    neutral API and returning one output or a tuple of outputs; the oracle evaluates it on the
    reference implementation in float64 at ``at``. ``pick(d)`` lists, in order, the derivatives
    that the scenario's expected numeric leaves must equal (``None`` leaves of the expectation
    are skipped; a ``None`` pick stands for an expected number that is no derivative, such as a
    forward value, and is checked against TensorFlow only), where
    ``d.first[k][j]`` is the gradient of ``sum(output k)`` with respect to argument ``j`` and
    ``d.second[k][j]`` the gradient of ``sum(d.first[k][j])`` (what nested tapes compute).
    The default pick is ``[d.first[0][0]]``.
    """

    forward: Callable[..., Any]
    at: Sequence[Any]
    pick: Callable[[Any], Sequence[Any]] | None = None


@dataclass(frozen=True)
class Scenario:
    id: str
    statement: str
    spec: str  # the spec entry or entries this scenario pins, e.g. "W01" or "L01, L03"
    expect: Expectation
    fn: Callable[[Any], Any]
    features: tuple[str, ...] = ()
    oracle: Oracle | None = None
    oracle_exempt: str | None = None  # why a value-returning scenario has no oracle
    timeout_s: float = 30.0

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def source(self) -> str:
        """The scenario's neutral source code from its ``def`` line on, for reports."""
        lines = inspect.getsource(self.fn).splitlines()
        start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("def ")), 0)
        return textwrap.dedent("\n".join(lines[start:])).rstrip() + "\n"

    @property
    def location(self) -> str:
        code = self.fn.__code__
        return f"{code.co_filename}:{code.co_firstlineno}"


_REGISTRY: dict[str, Scenario] = {}


def scenario(
    id: str,  # noqa: A002 - "id" is the word the whole suite uses
    *,
    statement: str,
    spec: str,
    expect: Expectation,
    features: Iterable[str] = (),
    oracle: Oracle | None = None,
    oracle_exempt: str | None = None,
    timeout_s: float = 30.0,
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register the decorated function as scenario ``id``; duplicate ids fail at import."""

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        entry = Scenario(
            id=id,
            statement=statement,
            spec=spec,
            expect=expect,
            fn=fn,
            features=tuple(features),
            oracle=oracle,
            oracle_exempt=oracle_exempt,
            timeout_s=timeout_s,
        )
        _check(entry)
        previous = _REGISTRY.get(id)
        if previous is not None:
            raise DuplicateScenarioError(
                f"duplicate scenario id {id!r}: defined at {previous.location} and at {entry.location}"
            )
        _REGISTRY[id] = entry
        return fn

    return register


def _check(entry: Scenario) -> None:
    where = f"scenario {entry.id!r} at {entry.location}"
    if not _ID.match(entry.id):
        raise ScenarioDefinitionError(f"{where}: the id must look like 'area.name' (lowercase, _)")
    unknown = [f for f in entry.features if f not in FEATURES]
    if unknown:
        raise ScenarioDefinitionError(
            f"{where}: unknown features {unknown}; valid: {', '.join(sorted(FEATURES))}"
        )
    if entry.oracle is not None and entry.oracle_exempt is not None:
        raise ScenarioDefinitionError(f"{where}: give either an oracle or oracle_exempt, not both")
    if not entry.statement.strip() or not entry.spec.strip():
        raise ScenarioDefinitionError(f"{where}: statement and spec are required")
    if isinstance(entry.expect, Returns) and _has_numbers(entry.expect.tree):
        if entry.oracle is None and not entry.oracle_exempt:
            raise ScenarioDefinitionError(
                f"{where}: it returns values, so it needs an oracle=Oracle(...) or an "
                "oracle_exempt='why the values need no finite-difference check'"
            )


def _has_numbers(tree: Any) -> bool:
    from conformance.expect import Value

    if isinstance(tree, bool):
        return False
    if isinstance(tree, (float, Value)):
        return True
    if isinstance(tree, dict):
        return any(_has_numbers(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return any(_has_numbers(v) for v in tree)
    return False


def _load_catalogue() -> None:
    import conformance.catalogue  # noqa: F401 - importing registers every scenario


def all_scenarios() -> list[Scenario]:
    """Every registered scenario, in catalogue order."""
    _load_catalogue()
    return list(_REGISTRY.values())


def get(scenario_id: str) -> Scenario:
    _load_catalogue()
    try:
        return _REGISTRY[scenario_id]
    except KeyError:
        raise KeyError(f"no scenario {scenario_id!r}; see `tapeconf list`") from None
