"""A generated tape program: data (statements) that renders to a catalogue-style ``def _(fw)``.

A program is a tuple of statements. Each statement renders itself to source lines and, where it
computes numbers, replays itself in float64 NumPy for the finite-difference oracle
(``conformance.fuzz.fd``). The generator (``conformance.fuzz.strategies``) builds programs one
statement at a time and tracks, as it goes, which tensors each tape records (TensorFlow's rule:
an op is recorded on a tape when one of its trainable inputs is watched by, or produced on, that
tape). That tracking is a second, independent statement of the tape model: the oracle uses it to
know which inputs of an op carry the perturbation of a source and which are frozen constants.

Example::

    >>> program = Program((Leaf("x0", "constant", "1.5", np.float32(1.5), "float32", ()),), ("x0",))
    >>> print(program.source())
    def _(fw):
        x0 = fw.constant(1.5)
        return x0
    <BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FLOAT_DTYPES",
    "GradientCall",
    "Leaf",
    "Op",
    "Program",
    "Statement",
    "TapeBlock",
    "flatten_nest",
    "render_nest",
]

FLOAT_DTYPES = ("float16", "float32", "float64")
INDENT = "    "


@dataclass(frozen=True)
class Leaf:
    """``name = fw.constant(...)`` or ``name = fw.Variable(...)``: a value the program starts from.

    ``literal`` is the source text of the value (``1.5``, ``[1.0, 2.0]``, ``np.float32(2.0)``,
    ``np.array([...], dtype=np.float64)``); ``value`` the same value as a NumPy array.
    """

    name: str
    kind: str  # "constant" or "variable"
    literal: str
    value: Any
    dtype: str
    shape: tuple[int, ...]
    dtype_arg: str | None = None  # an explicit dtype= argument, e.g. "fw.float64"
    trainable: bool = True

    def lines(self) -> list[str]:
        args = [self.literal]
        if self.dtype_arg:
            args.append(f"dtype={self.dtype_arg}")
        if self.kind == "variable":
            if not self.trainable:
                args.append("trainable=False")
            return [f"{self.name} = fw.Variable({', '.join(args)})"]
        return [f"{self.name} = fw.constant({', '.join(args)})"]


@dataclass(frozen=True)
class Op:
    """``name = <expression>``: one op (or a variable update / watch / any single statement).

    ``inputs`` are the names the expression reads; ``replay`` computes the result from their
    values (float64 NumPy), or is ``None`` when the op has no numeric meaning for the oracle
    (a variable update, a watch) or leaves the differentiable world (a cast to int).
    ``tracked`` says, for each tape name, which inputs that tape was tracking when the op ran.
    """

    name: str | None
    text: str
    inputs: tuple[str, ...] = ()
    replay: Callable[..., Any] | None = None
    tracked: dict[str, tuple[bool, ...]] = field(default_factory=dict, hash=False, compare=False)
    freezes: bool = False  # stop_gradient and friends: the value passes, the gradient does not
    opaque: bool = False  # custom_gradient: the oracle knows its value, not its gradient
    assigns: str | None = None  # a variable update: the variable whose value ``replay`` gives
    resets: str | None = None  # ``tape.reset()``: the tape that forgets what it recorded

    def lines(self) -> list[str]:
        if self.name:
            return [f"{self.name} = {self.text}"]
        return self.text.split("\n")


@dataclass(frozen=True)
class GradientCall:
    """``name = tapeK.gradient(...)`` (or ``jacobian`` / ``batch_jacobian``).

    ``targets`` and ``sources`` are nests of names (a name, a list, or a dict of names);
    ``seeds`` are the output_gradients' names (or ``None``).
    """

    name: str
    tape: str
    method: str  # "gradient", "jacobian", "batch_jacobian"
    targets: Any
    sources: Any
    kwargs: tuple[tuple[str, str], ...] = ()  # rendered keyword arguments
    seeds: tuple[str, ...] | None = None
    zero_unconnected: bool = False
    recorded_targets: tuple[bool, ...] = ()  # per flattened target: did the tape record it?
    #: what the tape tracks when the call runs: a recorded op's input gets a gradient when the
    #: tape tracks it then (TensorFlow's unneeded_gradients are decided at backprop time), so a
    #: tensor watched after the op still gets one
    tracked_at_call: frozenset[str] | None = None

    def lines(self) -> list[str]:
        args = [render_nest(self.targets), render_nest(self.sources)]
        args += [f"{key}={value}" for key, value in self.kwargs]
        return [f"{self.name} = {self.tape}.{self.method}({', '.join(args)})"]


@dataclass(frozen=True)
class TapeBlock:
    """``with fw.GradientTape(...) as t0[, fw.GradientTape(...) as t1]:`` and its body."""

    tapes: tuple[tuple[str, str], ...]  # (name, constructor arguments)
    body: tuple[Statement, ...]
    stop_recording: str | None = None  # set: ``with <tape>.stop_recording():`` instead

    def lines(self) -> list[str]:
        if self.stop_recording:
            head = f"with {self.stop_recording}.stop_recording():"
        else:
            head = (
                "with "
                + ", ".join(f"fw.GradientTape({args}) as {name}" for name, args in self.tapes)
                + ":"
            )
        body = [line for statement in self.body for line in statement.lines()] or ["pass"]
        return [head] + [INDENT + line for line in body]


Statement = Leaf | Op | GradientCall | TapeBlock


@dataclass(frozen=True)
class Program:
    """A generated program: its statements and the names it returns (in a list)."""

    statements: tuple[Statement, ...]
    returns: tuple[str, ...]
    features: tuple[str, ...] = ()
    uses_numpy: bool = False

    def source(self, name: str = "_") -> str:
        lines = [f"def {name}(fw):"]
        lines += [INDENT + line for s in self.statements for line in s.lines()]
        if len(self.returns) == 1:
            lines.append(f"{INDENT}return {self.returns[0]}")
        else:
            lines.append(f"{INDENT}return [{', '.join(self.returns)}]")
        return "\n".join(lines) + "\n"

    def size(self) -> int:
        """How big the program reads: its number of source lines (findings keep the smallest)."""
        return self.source().count("\n")

    def walk(self) -> list[Statement]:
        """Every statement in execution order, blocks flattened (block headers included)."""
        found: list[Statement] = []

        def visit(statements: tuple[Statement, ...]) -> None:
            for statement in statements:
                found.append(statement)
                if isinstance(statement, TapeBlock):
                    visit(statement.body)

        visit(self.statements)
        return found


def without(program: Program, doomed: Statement) -> Program:
    """``program`` with one statement (at any depth) left out; blocks keep at least ``pass``."""

    def keep(statements: tuple[Statement, ...]) -> tuple[Statement, ...]:
        kept = []
        for statement in statements:
            if statement is doomed:
                continue
            if isinstance(statement, TapeBlock):
                statement = TapeBlock(
                    statement.tapes, keep(statement.body), statement.stop_recording
                )
            kept.append(statement)
        return tuple(kept)

    name = getattr(doomed, "name", None)
    if program.returns == (name,):
        return program  # the only result stays: its statement is what the program is about
    returns = tuple(r for r in program.returns if r != name)
    return Program(keep(program.statements), returns, program.features, program.uses_numpy)


def render_nest(nest: Any) -> str:
    if isinstance(nest, str):
        return nest
    if isinstance(nest, dict):
        return "{" + ", ".join(f"{key!r}: {render_nest(item)}" for key, item in nest.items()) + "}"
    return "[" + ", ".join(render_nest(item) for item in nest) + "]"


def flatten_nest(nest: Any) -> list[str]:
    """The names of a nest in TensorFlow's flatten order (dict keys sorted)."""
    if isinstance(nest, str):
        return [nest]
    if isinstance(nest, dict):
        return [name for key in sorted(nest) for name in flatten_nest(nest[key])]
    return [name for item in nest for name in flatten_nest(item)]
