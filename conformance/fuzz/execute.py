"""Running one generated program on one adapter: the worker's side of ``tapeconf fuzz``.

A program travels as its source text (the catalogue's ``def _(fw): ...`` form), so what runs is
exactly what a finding prints. The worker compiles it, wraps it as an ad-hoc scenario and calls
the same ``conformance.outcome.observe`` as every catalogue cell, so a generated program and a
scenario are observed (values, errors, warnings) by one piece of code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.expect import ANY, returns
from conformance.outcome import observe
from conformance.protocol import Adapter
from conformance.registry import Scenario
from conformance.report.records import observation_record

__all__ = ["compile_program", "program_record"]


class ProgramSourceError(ValueError):
    """A program request whose source does not define ``_(fw)``."""


def compile_program(source: str) -> Any:
    """The function ``_`` that ``source`` defines, with ``np`` in scope as in the catalogue."""
    namespace: dict[str, Any] = {"np": np}
    exec(compile(source, "<generated program>", "exec"), namespace)  # noqa: S102 - our own source
    fn = namespace.get("_")
    if not callable(fn):
        raise ProgramSourceError("a generated program must define a function named `_(fw)`")
    return fn


def program_record(adapter: Adapter, source: str, device: str) -> dict[str, Any]:
    """What ``source`` returned or raised on ``adapter``, as an observation record."""
    scenario = Scenario(
        id="fuzz.program",
        statement="a generated program",
        spec="",
        expect=returns(ANY),
        fn=compile_program(source),
    )
    return observation_record(observe(scenario, adapter, device))
