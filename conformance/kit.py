"""The adapter kit: what every adapter rebuilds around its framework, written once.

An adapter imports ``conformance.protocol`` (the contract) and this module (the helpers); the
in-tree adapters use exactly these. Both are public and versioned together
(``conformance.protocol.ADAPTER_PROTOCOL_VERSION``): names listed in ``__all__`` keep their
meaning within a major version.

- **Nests**: ``flatten`` / ``pack_sequence_as`` / ``map_structure`` with TensorFlow's ``tf.nest``
  rules (lists and tuples in order, dicts by *sorted key*, namedtuples rebuilt), so a structured
  ``gradient(target, sources)`` can become one flat native call and be packed back like
  ``sources``.
- **Open tapes per thread**: ``TapeStack`` keeps each thread's open tapes, innermost last. Frameworks
  with one global graph (PyTorch) need it to decide ``create_graph``: a gradient must itself be
  recorded exactly when some tape is open and recording around it.
- **Unconnected gradients**: ``UnconnectedGradients`` and ``wants_zero`` accept TF's spellings and
  reject anything else with TF's ``ValueError`` text.
- **Error classification**: ``ErrorRule`` tables with ``classify_by_rules``, and
  ``raised_by_user_code`` to tell a scenario's own ``raise`` from the framework's.

    >>> from conformance.kit import flatten, pack_sequence_as
    >>> flatten({"b": 2, "a": [1, (3,)]})
    [1, 3, 2]
    >>> pack_sequence_as({"b": 0, "a": [0, (0,)]}, ["x", "y", "z"])
    {'b': 'z', 'a': ['x', ('y',)]}
"""

from __future__ import annotations

import dis
import enum
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from conformance.protocol import ErrorKind
from reference_impl.nest import flatten, map_structure, pack_sequence_as

_THIS_FILE = Path(__file__).resolve()

__all__ = [
    "ErrorRule",
    "OpenTape",
    "TapeStack",
    "UnconnectedGradients",
    "classify_by_rules",
    "flatten",
    "map_structure",
    "pack_sequence_as",
    "raised_by_user_code",
    "wants_zero",
]


# ---- unconnected gradients ---------------------------------------------------------------------


class UnconnectedGradients(str, enum.Enum):
    """TensorFlow's choices for a source the target does not reach (strings accepted too)."""

    NONE = "none"
    ZERO = "zero"


def wants_zero(unconnected_gradients: Any) -> bool:
    """Whether ``unconnected_gradients`` asks for zeros; TF's ``ValueError`` for anything else.

    >>> wants_zero("zero"), wants_zero(UnconnectedGradients.NONE)
    (True, False)
    """
    value = getattr(unconnected_gradients, "value", unconnected_gradients)
    if value == UnconnectedGradients.ZERO.value:
        return True
    if value == UnconnectedGradients.NONE.value:
        return False
    raise ValueError(
        f"Unknown value for unconnected_gradients: {unconnected_gradients!r} "
        "(use 'none', 'zero' or fw.UnconnectedGradients.NONE/ZERO)"
    )


# ---- the open tapes of each thread -------------------------------------------------------------


class OpenTape(Protocol):
    """What ``TapeStack`` reads from a tape: whether it is persistent and whether it is paused."""

    persistent: bool
    paused: bool  # inside its own stop_recording()


class TapeStack:
    """Each thread's open tapes, innermost last: TF's thread-local tape set, for adapters.

    A framework without tapes (one global graph, as in PyTorch) still has to answer what
    TensorFlow's tape set decides: whether the gradient being taken will be differentiated again.

        >>> stack = TapeStack()
        >>> class Tape:
        ...     persistent, paused = False, False
        >>> outer, inner = Tape(), Tape()
        >>> stack.push(outer); stack.push(inner)
        >>> stack.records_gradient_of(inner)   # outer records: take it with create_graph=True
        True
        >>> stack.remove(outer); stack.records_gradient_of(inner)
        False
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def open_tapes(self) -> list[OpenTape]:
        """This thread's open tapes, innermost last (a new thread starts with none)."""
        if not hasattr(self._local, "tapes"):
            self._local.tapes = []
        return self._local.tapes

    def push(self, tape: OpenTape) -> None:
        """``tape`` was entered on this thread (call from ``__enter__``)."""
        self.open_tapes().append(tape)

    def remove(self, tape: OpenTape) -> None:
        """``tape`` was exited (call from ``__exit__``); tapes may exit out of order."""
        tapes = self.open_tapes()
        for index in range(len(tapes) - 1, -1, -1):
            if tapes[index] is tape:
                del tapes[index]
                return

    def is_open(self, tape: OpenTape) -> bool:
        return any(open_tape is tape for open_tape in self.open_tapes())

    def records_gradient_of(self, tape: OpenTape) -> bool:
        """Whether a gradient that ``tape`` computes now is itself recorded (``create_graph``).

        True when another open tape of this thread is recording (not paused), or ``tape`` itself
        is open, recording and persistent (TF records a persistent tape's in-context gradient; a
        non-persistent tape stops recording when it answers).
        """
        return any(
            not open_tape.paused and (open_tape is not tape or tape.persistent)
            for open_tape in self.open_tapes()
        )


# ---- error classification ----------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorRule:
    """One row of an adapter's error table: exception type names, a message regex, the kind.

    ``types`` are class names matched against the exception's MRO (names, so that a rule needs no
    import of the framework); empty matches any type. ``pattern`` is searched in ``str(error)``
    (``re.search``: a fragment, not the whole message).
    """

    types: tuple[str, ...]
    pattern: str
    kind: ErrorKind
    flags: int = 0

    def matches(self, error: BaseException) -> bool:
        names = {cls.__name__ for cls in type(error).__mro__}
        if self.types and not names.intersection(self.types):
            return False
        return re.search(self.pattern, str(error), self.flags) is not None


def classify_by_rules(error: BaseException, rules: Iterable[ErrorRule]) -> ErrorKind:
    """The kind of the first rule ``error`` matches, else ``ErrorKind.UNKNOWN``.

    >>> rules = [ErrorRule(("RuntimeError",), r"second time", ErrorKind.CONSUMED_TAPE)]
    >>> classify_by_rules(RuntimeError("backward through the graph a second time"), rules).value
    'consumed_tape'
    """
    return next((rule.kind for rule in rules if rule.matches(error)), ErrorKind.UNKNOWN)


def raised_by_user_code(error: BaseException, library_dirs: Sequence[Path]) -> bool:
    """Whether ``error`` comes from a ``raise`` statement outside ``library_dirs``.

    Scenarios raise their own exceptions (a grad fn that fails on purpose); those must be
    classified ``USER_ERROR`` whatever their type. Pass the framework's package directory and the
    adapter's own, so that errors the framework (or the adapter) raises are classified by rules;
    errors raised by this kit's own helpers never count as the user's.
    """
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = Path(tb.tb_frame.f_code.co_filename).resolve()
    if filename == _THIS_FILE:  # the kit's own checks (wants_zero) raise for the adapter
        return False
    if any(directory.resolve() in filename.parents for directory in library_dirs):
        return False
    instruction = next(
        (i for i in dis.get_instructions(tb.tb_frame.f_code) if i.offset == tb.tb_lasti), None
    )
    return instruction is not None and instruction.opname == "RAISE_VARARGS"
