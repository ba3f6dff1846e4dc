"""Mutants of a Python source file: small, syntactically valid changes, one per site.

Each mutant replaces one node's source span with a changed version of that node (an operator,
a comparison, a constant, a negated condition, a removed statement, ``return None``). The rest of
the file is left byte for byte as it was, so a mutant's identity is its file, the function it is
in and the text it changes, never its line number (lines move as the file is edited).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Mutant", "apply", "mutants_of"]

_BINARY_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.MatMult: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitOr,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_COMPARE_SWAPS: dict[type, type] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Mutant:
    """One planted change: where it is and what it does."""

    file: str  # the path as given to ``mutants_of``, e.g. "reference_impl/_core.py"
    function: str  # the qualified name of the enclosing def/class, "<module>" at top level
    line: int  # 1-based line of the change in the mutated file's version (for reading only)
    operator: str  # which kind of change, e.g. "binary", "compare", "remove-statement"
    original: str  # the source text of the node before...
    mutated: str  # ...and after the change
    occurrence: int  # the n-th mutant with the same (function, original, mutated), from 0
    start: tuple[int, int]  # (line, column) where the replaced span starts
    end: tuple[int, int]  # (line, column) where it ends

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        """The identity that survives edits elsewhere in the file."""
        return (self.file, self.function, self.original, self.mutated, self.occurrence)

    def describe(self) -> str:
        return f"{self.file}:{self.line} in {self.function}: {self.original!r} -> {self.mutated!r}"


def apply(source: str, mutant: Mutant) -> str:
    """``source`` with ``mutant``'s span replaced by its mutated text."""
    return _Lines(source).replace(mutant.start, mutant.end, mutant.mutated)


class _Lines:
    """A source held as UTF-8 lines, for slicing by the AST's (line, byte column) positions in
    time independent of the file's length (``ast.get_source_segment`` splits the whole file on
    every call, which made listing a 1,700-line file's mutants take over a minute)."""

    def __init__(self, source: str) -> None:
        self.lines = [line.encode() for line in source.splitlines(keepends=True)]

    def segment(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        (l0, c0), (l1, c1) = start, end
        if l0 == l1:
            return self.lines[l0 - 1][c0:c1].decode()
        middle = b"".join(self.lines[l0 : l1 - 1])
        return (self.lines[l0 - 1][c0:] + middle + self.lines[l1 - 1][:c1]).decode()

    def replace(
        self, start: tuple[int, int], end: tuple[int, int], text: str, first: int = 1, last: int = 0
    ) -> str:
        """Lines ``first``..``last`` (1-based, ``last=0``: to the end) with the span replaced."""
        (l0, c0), (l1, c1) = start, end
        head = b"".join(self.lines[first - 1 : l0 - 1]) + self.lines[l0 - 1][:c0]
        stop = last or len(self.lines)
        tail = self.lines[l1 - 1][c1:] + b"".join(self.lines[l1:stop])
        return (head + text.encode() + tail).decode()


def mutants_of(source: str, file: str) -> list[Mutant]:
    """Every mutant of ``source`` that still compiles, in source order."""
    tree = ast.parse(source)
    lines = _Lines(source)
    skipped = _unmutated_nodes(tree)
    found: list[Mutant] = []
    seen: dict[tuple[str, str, str], int] = {}
    for statement in tree.body:
        # A change can only break the compilation of the top-level statement holding it (the
        # checks that go beyond syntax, like `break` outside a loop, are local to a function),
        # so that statement alone is compiled, not the whole file once per mutant.
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        last = statement.end_lineno or statement.lineno
        for function, node in _walk_with_scope(statement):
            if id(node) in skipped:
                continue
            for operator, span, replacement in _changes(node):
                start = (span.lineno, span.col_offset)
                end = (span.end_lineno, span.end_col_offset)
                original = lines.segment(start, end)
                if replacement == original:
                    continue
                identity = (function, original, replacement)
                occurrence = seen.get(identity, 0)
                seen[identity] = occurrence + 1
                mutant = Mutant(
                    file=file,
                    function=function,
                    line=span.lineno,
                    operator=operator,
                    original=original,
                    mutated=replacement,
                    occurrence=occurrence,
                    start=start,
                    end=end,
                )
                if _compiles(lines.replace(start, end, replacement, first, last)):
                    found.append(mutant)
    return found


def _compiles(source: str) -> bool:
    try:
        compile(source, "<mutant>", "exec")
    except SyntaxError:
        return False
    return True


# ---- what not to mutate -----------------------------------------------------------------------


def _unmutated_nodes(tree: ast.Module) -> set[int]:
    """Nodes whose change no program can observe: docstrings, annotations, asserts, ``__all__``."""
    skipped: set[int] = set()

    def skip_subtree(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            skip_subtree(body[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skip_subtree(node.returns)
            for arg in [*node.args.args, *node.args.posonlyargs, *node.args.kwonlyargs]:
                skip_subtree(arg.annotation)
            for arg in (node.args.vararg, node.args.kwarg):
                skip_subtree(arg.annotation if arg else None)
        elif isinstance(node, ast.AnnAssign):
            skip_subtree(node.annotation)
        elif isinstance(node, (ast.Assert, ast.Import, ast.ImportFrom)):
            skip_subtree(node)  # an assert guards an internal invariant, not a public behaviour
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            skip_subtree(node)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            skip_subtree(node)
    return skipped


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_with_scope(statement: ast.stmt) -> Iterator[tuple[str, ast.AST]]:
    """Every node of a top-level ``statement`` (itself first) with the qualified name of its
    enclosing function or class, in source order."""
    stack: list[tuple[ast.AST, str]] = [(statement, "<module>")]
    while stack:
        node, scope = stack.pop()
        yield scope, node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = node.name if scope == "<module>" else f"{scope}.{node.name}"
        stack.extend((child, scope) for child in reversed(list(ast.iter_child_nodes(node))))


# ---- the changes ------------------------------------------------------------------------------


def _changes(node: ast.AST) -> Iterator[tuple[str, ast.AST, str]]:
    """(operator name, the node whose span is replaced, replacement text) for each mutant at ``node``."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_SWAPS:
        swapped = ast.BinOp(node.left, _BINARY_SWAPS[type(node.op)](), node.right)
        yield "binary", node, _expr(swapped)
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BINARY_SWAPS:
        changed = ast.AugAssign(node.target, _BINARY_SWAPS[type(node.op)](), node.value)
        yield "augmented-assign", node, ast.unparse(changed)
        yield "remove-statement", node, "pass"
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE_SWAPS:
        swapped = _COMPARE_SWAPS[type(node.ops[0])]()
        yield "compare", node, _expr(ast.Compare(node.left, [swapped], node.comparators))
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "boolean", node, _expr(ast.BoolOp(other, node.values))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.Invert)):
        yield "unary-removed", node, _expr(node.operand)
    elif isinstance(node, ast.Constant):
        for replacement in _constant_changes(node.value):
            yield "constant", node, replacement
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        yield "negate-condition", node.test, _expr(ast.UnaryOp(ast.Not(), node.test))
    elif isinstance(node, ast.Return) and not _returns_none(node):
        yield "return-none", node, "return None"
    elif isinstance(node, (ast.Expr, ast.Raise, ast.Delete)) and not _is_docstring(node):
        yield "remove-statement", node, "pass"
    elif isinstance(node, (ast.Break, ast.Continue)):
        yield "loop-control", node, "continue" if isinstance(node, ast.Break) else "break"


def _constant_changes(constant: object) -> Iterator[str]:
    """A neighbouring constant; strings are left alone (messages are pinned by ``match``)."""
    if isinstance(constant, bool):
        yield repr(not constant)
    elif isinstance(constant, int):
        yield repr(constant + 1 if constant != 1 else 0)
    elif isinstance(constant, float):
        yield repr(constant + 1.0 if constant != 1.0 else 0.0)


def _expr(node: ast.expr) -> str:
    """Source for an expression, parenthesized so that it means the same in any context."""
    text = ast.unparse(ast.fix_missing_locations(node))
    return text if isinstance(node, (ast.Name, ast.Constant, ast.Attribute, ast.Call)) else f"({text})"


def _returns_none(node: ast.Return) -> bool:
    return node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None)
