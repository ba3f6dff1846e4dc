"""Run real TensorFlow programs on TensorFlow and on ``reference_impl``, and compare what they do.

Each program in ``corpus/`` is a plain script that does ``import tensorflow as tf``. For one
framework, all programs run in ONE child process (TensorFlow's import dominates the cost):

- ``--framework tensorflow``: the real package;
- ``--framework reference``: ``reference_impl`` is placed in ``sys.modules["tensorflow"]`` before
  any program runs, so the unchanged ``import tensorflow as tf`` gets the reference.

Isolation between programs in one process: each runs by ``runpy.run_path`` in a fresh module
namespace (its own globals; modules it imports are shared, as in any process); its stdout is
captured with ``redirect_stdout``; its stderr at the file-descriptor level (so Python logging,
``warnings`` and TensorFlow's C++ log lines are all caught); the random seed is reset and the
``warnings`` filters restored before each program; an exception, ``SystemExit`` or failing assert
ends that program only. Not isolated: a framework's own once-per-process state (TensorFlow's
``log_first_n`` counters, tf.function caches), which is why a warning logged "once" is best placed
in its own program. What is recorded
per program: stdout, exit status (0, or 1 for an uncaught exception, or the SystemExit code), the
exception's type name and message, and the stderr lines left after removing TensorFlow's start-up
and runtime noise (``NOISE`` below, each entry explained).

Comparison (``compare``): printed text must be identical except for numbers. Integers must be
equal; floats may differ by the suite's per-dtype tolerance (``conformance.expect.TOLERANCES``,
relative and absolute), because kernels can round the last digit differently. A float takes the
tolerance of the dtype named in the same printed value (``dtype=float64`` in the same line or
bracketed block), float32's when none is named. Runs of spaces compare equal to one space, and
spaces just inside brackets are ignored, because NumPy pads array columns to the width of the
longest number; line breaks are significant (TensorFlow's layout of a printed tensor is checked).

Usage: ``python tests/real_programs/runner.py --report [--reference-root OLD_CHECKOUT]`` prints the
counts and every difference; the test runs ``--framework X --out results.json programs...`` children.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import runpy
import subprocess
import sys
import tempfile
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
REPO_ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("tensorflow", "reference")
CHILD_TIMEOUT_S = 300  # each child's whole run; the corpus takes a few seconds

#: stderr lines that are TensorFlow's noise, not a program's behaviour (regexes, matched per line).
NOISE = (
    # absl's notice before its logging is initialised, printed at import.
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    # oneDNN and CPU-feature notices, printed at import and at the first op.
    r"^[IW]\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on",
    r"^[IW]\d{4} [\d:. ]+\d+ cpu_feature_guard\.cc:\d+\]",
    r"^To enable the following instructions: .* in other operations, rebuild TensorFlow",
    # Printed by the C++ runtime each time an eager op fails; the raised exception (compared
    # separately) carries the same status text.
    r"^[IW]\d{4} [\d:. ]+\d+ local_rendezvous\.cc:\d+\] Local rendezvous is aborting with status",
    # TensorFlow's jacobian/batch_jacobian run its internal pfor inside tf.function; the retracing
    # warning is about that machinery (and names a memory address), not about the program.
    r"^WARNING:tensorflow:\d+ out of the last \d+ calls to <function pfor\.<locals>\.f at 0x[0-9a-f]+> "
    r"triggered tf\.function retracing",
)
_NOISE = [re.compile(pattern) for pattern in NOISE]


@dataclass
class Outcome:
    """What one program did: its output, how it ended, and what it logged."""

    stdout: str
    exit_status: int
    exception: str | None = None  # the type name of an uncaught exception
    message: str | None = None
    stderr: list[str] = field(default_factory=list)
    traceback: str = ""  # for the person reading a difference; not compared (file paths differ)


# ---- the child: run programs in this process --------------------------------------------------


def _import_framework(framework: str, reference_root: Path) -> object:
    if framework == "tensorflow":
        import tensorflow

        return tensorflow
    sys.path.insert(0, str(reference_root))
    import reference_impl

    sys.modules["tensorflow"] = (
        reference_impl  # the programs' `import tensorflow` gets the reference
    )
    return reference_impl


@contextlib.contextmanager
def _captured_stderr() -> Iterator[io.StringIO]:
    """Everything written to file descriptor 2 inside the block, decoded, in ``buffer``."""
    buffer = io.StringIO()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield buffer
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            buffer.write(sink.read().decode("utf-8", "replace"))


def _meaningful(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not any(p.search(line) for p in _NOISE)
    ]


def run_program(path: Path, tf: object) -> Outcome:
    """Run one program in a fresh namespace and record what it did."""
    reseed = getattr(tf.random, "set_seed", None)  # type: ignore[attr-defined]  # (older checkouts lack it)
    if reseed is not None:
        reseed(None)  # no seed carried over from another program
    stdout = io.StringIO()
    status, exception, message, trace = 0, None, None, ""
    # catch_warnings: each program starts with the default filters and an empty "already shown"
    # record, so a warning that another program triggered first is still shown.
    with (
        _captured_stderr() as stderr,
        contextlib.redirect_stdout(stdout),
        warnings.catch_warnings(),
    ):
        try:
            runpy.run_path(str(path), run_name="__main__")
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException as error:  # noqa: BLE001 - a program's failure is its observation
            status, exception, message = 1, type(error).__name__, str(error)
            trace = traceback.format_exc()
    return Outcome(
        stdout.getvalue(), status, exception, message, _meaningful(stderr.getvalue()), trace
    )


def _child(framework: str, out: Path, programs: Sequence[str], reference_root: Path) -> None:
    tf = _import_framework(framework, reference_root)
    # a path that exists is a program file; anything else names a program in the corpus
    paths = [Path(name).resolve() if Path(name).exists() else CORPUS / name for name in programs]
    os.chdir(
        tempfile.mkdtemp(prefix="real-programs-")
    )  # files the programs write stay out of the tree
    results = {path.name: asdict(run_program(path, tf)) for path in paths}
    out.write_text(json.dumps(results, indent=1))


# ---- the parent: start the children, compare ---------------------------------------------------


def child_command(
    framework: str, out: Path, programs: Sequence[Path], reference_root: Path = REPO_ROOT
) -> list[str]:
    """The command that runs ``programs`` on ``framework`` and writes their outcomes to ``out``."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--framework",
        framework,
        "--out",
        str(out),
    ]
    return [*command, "--reference-root", str(reference_root), *(str(p) for p in programs)]


def run_both(
    programs: Sequence[Path], folder: Path, reference_root: Path = REPO_ROOT
) -> dict[str, dict[str, Outcome]]:
    """Both frameworks' outcomes, {framework: {program: Outcome}}; the two children run together."""
    children = {
        framework: subprocess.Popen(
            child_command(framework, folder / f"{framework}.json", programs, reference_root),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        for framework in FRAMEWORKS
    }
    results = {}
    try:
        for framework, child in children.items():
            try:
                output, _ = child.communicate(timeout=CHILD_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise RuntimeError(
                    f"the {framework} runner took over {CHILD_TIMEOUT_S} s (a program hangs?)"
                ) from None
            if child.returncode != 0:
                raise RuntimeError(
                    f"the {framework} runner failed:\n{output.decode(errors='replace')}"
                )
            loaded = json.loads((folder / f"{framework}.json").read_text())
            results[framework] = {name: Outcome(**fields) for name, fields in loaded.items()}
    finally:
        for child in children.values():  # a failed or hung child never outlives the comparison
            if child.poll() is None:
                child.kill()
                child.wait()
    return results


def out_of_scope() -> dict[str, str]:
    """Program file name -> why it is out of scope (``out_of_scope.toml``)."""
    import tomllib

    entries = tomllib.loads((CORPUS.parent / "out_of_scope.toml").read_text())
    return {f"{name}.py": entry["reason"] for name, entry in entries.items()}


def report(reference_root: Path) -> str:
    """Counts (agree / differ / out of scope) and each difference, as text."""
    excluded = out_of_scope()
    programs = sorted(p for p in CORPUS.glob("*.py") if p.name not in excluded)
    with tempfile.TemporaryDirectory() as folder:
        results = run_both(programs, Path(folder), reference_root)
    lines, differ = [], 0
    for path in programs:
        differences = compare(results["reference"][path.name], results["tensorflow"][path.name])
        if differences:
            differ += 1
            lines.append(f"DIFFERS {path.name}")
            lines.extend(f"    {d}" for d in differences)
    total = len(programs) + len(excluded)
    summary = f"{total} programs: {len(programs) - differ} agree, {differ} differ, {len(excluded)} out of scope"
    return "\n".join([summary, *lines])


_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w])|\b(?:nan|inf)\b"
)
_DTYPE = re.compile(r"\b(float16|bfloat16|float32|float64|complex64|complex128)\b")


def _blocks(text: str) -> list[tuple[str, str]]:
    """``text`` split into printed values (a line, or lines joined while brackets are open), each
    with the float dtype it names (float32 when none)."""
    blocks, current, depth = [], [], 0
    for line in text.splitlines(keepends=True):
        current.append(line)
        depth += line.count("[") + line.count("(") - line.count("]") - line.count(")")
        if depth <= 0:
            block = "".join(current)
            named = _DTYPE.findall(block)
            blocks.append((block, named[-1] if named else "float32"))
            current, depth = [], 0
    if current:
        block = "".join(current)
        named = _DTYPE.findall(block)
        blocks.append((block, named[-1] if named else "float32"))
    return blocks


def _skeleton(text: str) -> tuple[str, list[str]]:
    numbers = _NUMBER.findall(text)
    spaced = re.sub(r"[ \t]+", " ", _NUMBER.sub("#", text))  # newlines stay significant
    return re.sub(r"\[ | \]", lambda m: m.group().strip(), spaced).strip(), numbers


def _numbers_agree(ours: str, theirs: str, tol: float) -> bool:
    is_int = lambda s: re.fullmatch(r"[-+]?\d+", s) is not None  # noqa: E731
    if is_int(ours) or is_int(theirs):
        return ours.lstrip("+") == theirs.lstrip("+")
    a, b = float(ours), float(theirs)
    if a != a or b != b:  # NaN
        return a != a and b != b
    return a == b or abs(a - b) <= tol * (1.0 + abs(b))


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def texts_agree(ours: str, theirs: str) -> tuple[bool, str]:
    """Whether two printed texts agree (numbers within tolerance); the first difference if not."""
    from conformance.expect import tolerance

    our_blocks, their_blocks = _blocks(ours), _blocks(theirs)
    if len(our_blocks) != len(their_blocks):
        return False, f"{_short(ours)!r}, but should be {_short(theirs)!r}"
    for (mine, _), (want, dtype) in zip(our_blocks, their_blocks, strict=True):
        my_text, my_numbers = _skeleton(mine)
        want_text, want_numbers = _skeleton(want)
        close = my_text == want_text and all(
            _numbers_agree(a, b, tolerance(dtype))
            for a, b in zip(my_numbers, want_numbers, strict=True)
        )
        if not close:
            return False, f"{mine.strip()!r}, but should be {want.strip()!r}"
    return True, ""


def compare(ours: Outcome, theirs: Outcome) -> list[str]:
    """The differences between the reference's outcome and TensorFlow's ([] when they agree)."""
    differences = []
    if (ours.exception, ours.exit_status) != (theirs.exception, theirs.exit_status):
        differences.append(
            f"ended with exit status {ours.exit_status} ({ours.exception}: {ours.message}), but should "
            f"be {theirs.exit_status} ({theirs.exception}: {theirs.message})"
        )
    for what, mine, want in (
        ("stdout", ours.stdout, theirs.stdout),
        ("exception message", ours.message or "", theirs.message or ""),
        ("stderr", "\n".join(ours.stderr), "\n".join(theirs.stderr)),
    ):
        agree, detail = texts_agree(mine, want)
        if not agree:
            differences.append(f"{what}: {detail}")
    return differences


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=FRAMEWORKS, help="run programs on this framework")
    parser.add_argument("--out", type=Path, help="where the child writes its outcomes (JSON)")
    parser.add_argument(
        "--reference-root",
        type=Path,
        default=REPO_ROOT,
        help="the checkout whose reference_impl runs (default: this one), e.g. an older commit",
    )
    parser.add_argument(
        "--report", action="store_true", help="run the corpus on both and print counts"
    )
    parser.add_argument("programs", nargs="*")
    args = parser.parse_args(argv)
    if args.report:
        print(report(args.reference_root.resolve()))
    elif args.framework and args.out and args.programs:
        _child(args.framework, args.out, args.programs, args.reference_root.resolve())
    else:
        parser.error("give --report, or --framework, --out and programs")


if __name__ == "__main__":
    main()
