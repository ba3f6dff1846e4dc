"""``tapeconf fuzz``: draw programs, run them on every adapter's worker, keep what differs.

One round is one Hypothesis run: programs are drawn from ``strategies.programs()`` and each is
run on TensorFlow and on every other adapter, in the same worker processes as ``tapeconf
report`` (a crash or hang costs one program and is itself a finding). A program fails the round
when it shows a difference whose *signature* (oracle, adapter, what differs) has not been seen
yet; Hypothesis then shrinks it to a minimal program with a new signature, which becomes a
finding. The next round starts with that signature known, until the example budget or the time
budget is spent. Outcome-class differences of the other frameworks are not findings: they are
tallied into each adapter's divergence profile, with the smallest program that shows each.
"""

from __future__ import annotations

import ast
import builtins
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import FlakyFailure

from conformance.expect import TensorLeaf, tolerance
from conformance.fuzz import FuzzSetupError, compare, fd
from conformance.fuzz.program import Program, without
from conformance.fuzz.strategies import programs
from conformance.outcome import Observation
from conformance.report.runner import WorkerProcess, read_hello

__all__ = ["Finding", "FuzzResult", "Fuzzer", "ProfileEntry"]

REFERENCE = "tensorflow"
#: Programs run while shrinking one finding, at most: shrinking runs TensorFlow each time, and
#: the statement-deletion pass (``Fuzzer._minimize``) finishes what Hypothesis leaves.
SHRINK_BUDGET = 150


@dataclass
class Finding:
    """One distinct difference, shrunk: the program and what each side observed."""

    oracle: str  # "reference", "finite-differences", "values", "crash", "hang"
    adapter: str
    signature: str
    source: str
    detail: str
    tensorflow: dict[str, Any] | None  # TensorFlow's observation record
    observed: dict[str, Any] | None  # the adapter's observation record
    scenario: str  # a ready-to-paste @scenario with TensorFlow's outcome as the expectation
    features: tuple[str, ...] = ()
    oracle_verdicts: dict[str, str] = field(default_factory=dict)  # who agrees with the FD oracle

    def as_json(self) -> dict[str, Any]:
        return {
            "oracle": self.oracle,
            "adapter": self.adapter,
            "signature": self.signature,
            "detail": self.detail,
            "source": self.source,
            "features": list(self.features),
            "tensorflow": self.tensorflow,
            "observed": self.observed,
            "oracle_verdicts": self.oracle_verdicts,
            "scenario": self.scenario,
        }


@dataclass
class ProfileEntry:
    """How often an adapter's outcome class differed from TensorFlow's in one way."""

    count: int
    source: str
    size: int
    tensorflow: str
    observed: str


@dataclass
class FuzzResult:
    programs: int = 0
    per_adapter: dict[str, int] = field(default_factory=dict)  # programs each adapter ran
    unsupported: dict[str, int] = field(default_factory=dict)  # skipped: a feature it lacks
    worker_seconds: dict[str, float] = field(default_factory=dict)  # time inside the programs
    oracle_checked: int = 0  # gradients the finite-difference oracle checked
    oracle_abstained: int = 0
    findings: list[Finding] = field(default_factory=list)
    profiles: dict[str, dict[tuple[str, str], ProfileEntry]] = field(default_factory=dict)
    seconds: float = 0.0
    startup_seconds: float = 0.0  # starting the workers (importing the frameworks)
    rounds: int = 0
    stopped_by: str = "examples"
    adapters: dict[str, dict[str, Any]] = field(default_factory=dict)  # hello blocks


class _NewDifference(Exception):
    """Raised inside a round: this program shows a signature not seen before."""

    def __init__(self, finding: Finding, program: Program) -> None:
        super().__init__(finding.signature)
        self.finding = finding
        self.program = program


class _OutOfTime(BaseException):
    """Ends a round at once (a BaseException: Hypothesis does not shrink it)."""


# ---- workers ---------------------------------------------------------------------------------


class _Worker:
    """One adapter's worker process, restarted after a crash or a hang."""

    def __init__(self, spec: str, timeout: float) -> None:
        self.spec = spec
        self.timeout = timeout
        self.process: WorkerProcess | None = None
        self.block: dict[str, Any] = {}
        self.start()

    def start(self) -> None:
        self.process = WorkerProcess(self.spec)
        hello = read_hello(self.process, max(self.timeout, 120.0))
        self.block = hello.block
        if not hello.usable:
            self.process = None

    @property
    def name(self) -> str:
        return self.block.get("name") or self.spec

    @property
    def usable(self) -> bool:
        return self.process is not None

    def lacks(self, features: Sequence[str]) -> list[str]:
        have = self.block.get("features", {})
        return [f for f in features if have.get(f) is not None]

    def send(self, source: str) -> bool:
        assert self.process is not None
        return self.process.send({"program": source, "device": "CPU:0"})

    def receive(self) -> dict[str, Any]:
        """The observation record, or ``{"crash": why}`` / ``{"hang": why}`` (then restarted)."""
        assert self.process is not None
        try:
            message = self.process.receive(self.timeout)
        except TimeoutError:
            self.process.kill()
            self.start()
            return {"hang": f"no answer within {self.timeout:g} s"}
        if message is None:
            why = self.process.death()
            self.start()
            return {"crash": why}
        return message.get("record", {})

    def close(self) -> None:
        if self.process is not None:
            self.process.finish()


# ---- one program ------------------------------------------------------------------------------


@dataclass
class _Run:
    """What one program did on every adapter."""

    program: Program
    source: str
    records: dict[str, dict[str, Any]]
    observations: dict[str, Observation]
    expected: dict[str, tuple[np.ndarray | None, ...]]  # the FD oracle's gradients


def _signature_path(text: str) -> str:
    """The kind of a mismatch, without indices: ``[0][1].dtype=...`` -> ``.dtype``."""
    what = text.split("=", 1)[0]
    return re.sub(r"\[[^\]]*\]", "", what) or "result"


class Fuzzer:
    def __init__(
        self,
        adapters: Sequence[str],
        *,
        seed: int = 0,
        max_examples: int = 1000,
        time_budget: float | None = None,
        timeout: float = 30.0,
        database: Path | None = None,
        progress: Callable[[FuzzResult], None] | None = None,
        shrink: bool = True,
    ) -> None:
        self.specs = [REFERENCE] + [a for a in dict.fromkeys(adapters) if a != REFERENCE]
        self.seed = seed
        self.max_examples = max_examples
        self.time_budget = time_budget
        self.timeout = timeout
        self.database = database
        self.progress = progress
        self.shrink = shrink  # False: findings are kept unshrunk (benchmarks measure drawing)
        self.result = FuzzResult()
        self.known: set[str] = set()
        self.workers: dict[str, _Worker] = {}

    # ---- the loop
    def run(self) -> FuzzResult:
        start = time.monotonic()
        self.deadline = None if self.time_budget is None else start + self.time_budget
        try:
            self._start_workers()
            self.result.startup_seconds = time.monotonic() - start
            while self.result.programs < self.max_examples:
                if self._out_of_time():
                    self.result.stopped_by = "time"
                    break
                finding = self._round(self.seed + self.result.rounds)
                self.result.rounds += 1
                if finding is None:
                    break  # the round drew its whole budget without a new difference
                self.known.add(finding.signature)
                self.result.findings.append(finding)
        finally:
            for worker in self.workers.values():
                worker.close()
            self.result.seconds = time.monotonic() - start
        return self.result

    def _start_workers(self) -> None:
        for spec in self.specs:
            worker = _Worker(spec, self.timeout)
            self.result.adapters[worker.name] = worker.block
            if not worker.usable:
                if spec == REFERENCE:
                    raise FuzzSetupError(
                        "tapeconf fuzz compares every adapter with real TensorFlow, which cannot "
                        f"run here: {worker.block.get('reason') or worker.block.get('error')} "
                        "(install it with `pip install 'tape-conformance[tensorflow]'`)"
                    )
                continue
            self.workers[worker.name] = worker

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def _round(self, round_seed: int) -> Finding | None:
        """One Hypothesis run; the shrunk finding with a new signature, or ``None``."""
        budget = self.max_examples - self.result.programs
        shrinking = False
        shrink_calls = 0
        latest: _NewDifference | None = None  # the last (so smallest) program that failed

        @hypothesis_seed(round_seed)
        @settings(
            max_examples=budget,
            deadline=None,
            database=DirectoryBasedExampleDatabase(str(self.database)) if self.database else None,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            phases=(Phase.reuse, Phase.generate, Phase.shrink)
            if self.result.rounds == 0
            else (Phase.generate, Phase.shrink),
            print_blob=False,
        )
        @given(programs())
        def one_program(program: Program) -> None:
            nonlocal shrinking, shrink_calls, latest
            if self._out_of_time() and not shrinking:
                raise _OutOfTime
            if shrinking:
                shrink_calls += 1
                if shrink_calls > SHRINK_BUDGET:
                    return  # every further candidate "passes": Hypothesis keeps its best so far
            run = self._run(program, tally=not shrinking)
            for finding in self._findings(run):
                if finding.signature in self.known:
                    continue
                if not self.shrink:  # kept as drawn; the round goes on
                    self.known.add(finding.signature)
                    self.result.findings.append(finding)
                    continue
                shrinking = True
                latest = _NewDifference(finding, program)
                raise latest

        try:
            one_program()
        except _NewDifference as found:
            return self._minimize(found.finding, found.program)
        except FlakyFailure as flaky:
            if shrink_calls > SHRINK_BUDGET and latest is not None:
                # the budget ran out: Hypothesis' final replay was cut short, not the difference
                return self._minimize(latest.finding, latest.program)
            first = next(e for e in flaky.exceptions if isinstance(e, _NewDifference))
            first.finding.detail = f"(did not reproduce on a second run) {first.finding.detail}"
            return first.finding
        except _OutOfTime:
            self.result.stopped_by = "time"
        return None

    def _minimize(self, finding: Finding, program: Program) -> Finding:
        """Leave out statements one at a time while the same difference remains.

        Hypothesis shrinks the draws; this pass removes what the draws cannot (a leaf that
        nothing reads, a watch of an unrelated tensor). The oracle's tape model is not redrawn,
        so finite-difference findings are kept as Hypothesis left them.
        """
        if finding.oracle == "finite-differences":
            return finding
        changed = True
        while changed:
            changed = False
            for statement in program.walk():
                smaller = without(program, statement)
                if smaller.source() == program.source():
                    continue
                if not _self_contained(smaller.source()):
                    continue  # it would read a name it no longer defines
                found = self._findings(self._run(smaller, tally=False), oracle=False)
                same = [f for f in found if f.signature == finding.signature]
                if same:
                    program, finding, changed = smaller, same[0], True
                    break
        return finding

    # ---- running and comparing one program
    def _run(self, program: Program, *, tally: bool) -> _Run:
        source = program.source()
        needed = program.features
        running = []
        for name, worker in self.workers.items():
            if worker.lacks(needed):
                if tally:
                    self.result.unsupported[name] = self.result.unsupported.get(name, 0) + 1
                continue
            if worker.send(source):
                running.append(worker)
        try:  # while the workers run the program; every answer is read whatever happens here,
            # or the next program would read this one's answers
            expected, oracle_error = fd.expected_gradients(program), None
        except Exception as error:  # a bug of the oracle is a finding, never a lost answer
            expected, oracle_error = {}, f"{type(error).__name__}: {error}"
        finally:
            records = {worker.name: worker.receive() for worker in running}
        if oracle_error is not None:
            records["oracle"] = {
                "suite_error": f"the finite-difference oracle failed: {oracle_error}"
            }
        observations = {
            name: compare.observation_from_record(record)
            for name, record in records.items()
            if "outcome" in record
        }
        if tally:
            self.result.programs += 1
            for name, record in records.items():
                if name not in self.workers:
                    continue  # the oracle's own failure, not an adapter's run
                self.result.per_adapter[name] = self.result.per_adapter.get(name, 0) + 1
                spent = self.result.worker_seconds.get(name, 0.0) + float(
                    record.get("seconds", 0.0)
                )
                self.result.worker_seconds[name] = spent
            self._tally_profiles(program, source, observations)
            if self.progress is not None:
                self.progress(self.result)
        return _Run(program, source, records, observations, expected)

    def _findings(self, run: _Run, *, oracle: bool = True) -> list[Finding]:
        found = []
        for name, record in run.records.items():
            for failure in ("crash", "hang", "suite_error"):
                if failure in record:
                    found.append(
                        self._finding(run, failure, name, f"{failure}|{name}", record[failure])
                    )
        tf = run.observations.get(REFERENCE)
        if tf is None:
            return found
        fd_checks = self._oracle(run) if oracle else {}
        for name, observation in run.observations.items():
            if name == REFERENCE:
                continue
            if name == "reference":
                difference = compare.reference_difference(tf, observation)
                if difference is not None:
                    signature = "|".join(
                        (
                            "reference",
                            compare.outcome_class(tf),
                            compare.outcome_class(observation),
                            _signature_path(difference),
                        )
                    )
                    found.append(self._finding(run, "reference", name, signature, difference))
                    continue
            else:
                comparison = compare.classify(tf, observation)
                if comparison.verdict == "finding":
                    finding = self._finding(run, "values", name, "", comparison.detail)
                    finding.signature = f"values|{name}|{finding.oracle_verdicts.get(name)}"
                    found.append(finding)
            for call, problem in fd_checks.get(name, []):
                found.append(
                    self._finding(run, "finite-differences", name, f"fd|{name}|{call}", problem)
                )
        for call, problem in fd_checks.get(REFERENCE, []):
            found.append(
                self._finding(
                    run, "finite-differences", REFERENCE, f"fd|{REFERENCE}|{call}", problem
                )
            )
        return found

    def _oracle(self, run: _Run) -> dict[str, list[tuple[str, str]]]:
        """Per adapter, the gradient calls whose values the FD oracle rejects (method, why).

        Another framework is held to the oracle only where TensorFlow returned a gradient too:
        where TensorFlow's tape recorded nothing (None), a framework that differentiates anyway
        differs in what it watches (its divergence profile says so), not in its numbers.
        """
        tf = run.observations.get(REFERENCE)
        problems: dict[str, list[tuple[str, str]]] = {}
        for adapter, observation in run.observations.items():
            if observation.error is not None:
                continue
            for call_name, arrays in run.expected.items():
                got = _returned(run.program, observation, call_name)
                beside = (
                    got
                    if adapter in (REFERENCE, "reference")
                    else _returned(run.program, tf, call_name)
                )
                for k, (leaf, want) in enumerate(zip(got, arrays, strict=False)):
                    checkable = (
                        want is not None
                        and isinstance(leaf, TensorLeaf)
                        and fd.is_derivative_dtype(leaf.dtype)
                    )
                    if adapter == REFERENCE:
                        self.result.oracle_checked += checkable
                        self.result.oracle_abstained += not checkable
                    if not checkable or not (k < len(beside) and isinstance(beside[k], TensorLeaf)):
                        continue
                    problem = _fd_mismatch(leaf, want)
                    if problem:
                        method = _method(run.program, call_name)
                        problems.setdefault(adapter, []).append((method, f"{call_name}: {problem}"))
        return problems

    def _finding(
        self, run: _Run, oracle: str, adapter: str, signature: str, detail: str
    ) -> Finding:
        tf = run.observations.get(REFERENCE)
        scenario = _scenario_source(run, tf) if tf is not None else ""
        return Finding(
            oracle=oracle,
            adapter=adapter,
            signature=signature,
            source=run.source,
            detail=detail,
            tensorflow=run.records.get(REFERENCE),
            observed=run.records.get(adapter),
            scenario=scenario,
            features=run.program.features,
            oracle_verdicts=self._attribution(run) if oracle == "values" else {},
        )

    def _attribution(self, run: _Run) -> dict[str, str]:
        """For a value disagreement: which derivative each side computed where they differ. The
        tape's (what TensorFlow's recording rule gives), the plain one (the function's own
        derivative, every input live: a framework that watches differently), or neither (a
        numeric bug, of the framework or of its adapter's translation)."""
        plain = fd.expected_gradients(run.program, plain=True)
        tf = run.observations.get(REFERENCE)
        verdicts = {}
        for adapter, observation in run.observations.items():
            if observation.error is None and tf is not None and tf.error is None:
                verdicts[adapter] = _which_derivative(run, observation, tf, plain)
        return verdicts

    def _tally_profiles(
        self, program: Program, source: str, observations: dict[str, Observation]
    ) -> None:
        tf = observations.get(REFERENCE)
        if tf is None:
            return
        size = program.size()
        for name, observation in observations.items():
            if name in (REFERENCE, "reference"):
                continue
            comparison = compare.classify(tf, observation)
            if comparison.verdict != "profile" or comparison.key is None:
                continue
            profile = self.result.profiles.setdefault(name, {})
            entry = profile.get(comparison.key)
            if entry is None:
                profile[comparison.key] = ProfileEntry(
                    1, source, size, tf.describe(), observation.describe()
                )
                continue
            entry.count += 1
            if size < entry.size:
                entry.source, entry.size = source, size
                entry.tensorflow, entry.observed = tf.describe(), observation.describe()


def _self_contained(source: str) -> bool:
    """Whether ``source`` parses and reads only names it defines (or ``fw``, ``np``, builtins)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    defined = {"fw", "np", *dir(builtins)}
    read = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.arg)):
            defined.add(node.name if isinstance(node, ast.FunctionDef) else node.arg)
    return read <= defined


def _returned(program: Program, observation: Observation | None, call_name: str) -> list[Any]:
    """The leaves of one gradient call's result in an observation (sources' flatten order)."""
    if observation is None or observation.error is not None:
        return []
    results = observation.value if len(program.returns) > 1 else [observation.value]
    index = program.returns.index(call_name)
    if not isinstance(results, (list, tuple)) or index >= len(results):
        return []
    return fd.result_leaves(results[index])


def _method(program: Program, call_name: str) -> str:
    return next(s.method for s in program.walk() if getattr(s, "name", None) == call_name)


def _which_derivative(
    run: _Run, observation: Observation, tf: Observation, plain: dict[str, Any]
) -> str:
    """``tape derivative``, ``plain derivative``, ``neither derivative`` or ``oracle abstains``,
    judged on the gradients where this side and TensorFlow differ (the worst: neither, then
    plain, then tape)."""
    seen = set()
    for call_name, tape_arrays in run.expected.items():
        plain_arrays = plain.get(call_name, ())
        theirs = _returned(run.program, tf, call_name)
        for k, leaf in enumerate(_returned(run.program, observation, call_name)):
            other_side = theirs[k] if k < len(theirs) else None
            if not isinstance(leaf, TensorLeaf) or not isinstance(other_side, TensorLeaf):
                continue
            if (
                other_side.array.shape == leaf.array.shape
                and _fd_mismatch(leaf, other_side.array) is None
            ):
                continue  # the two sides agree here
            tape = tape_arrays[k] if k < len(tape_arrays) else None
            other = plain_arrays[k] if k < len(plain_arrays) else None
            if tape is None and other is None:
                continue
            if tape is not None and _fd_mismatch(leaf, tape) is None:
                seen.add("tape")
            elif other is not None and _fd_mismatch(leaf, other) is None:
                seen.add("plain")
            else:
                seen.add("neither")
    worst = next((kind for kind in ("neither", "plain", "tape") if kind in seen), None)
    return f"{worst} derivative" if worst else "oracle abstains"


def _fd_mismatch(leaf: TensorLeaf, want: np.ndarray) -> str | None:
    got = np.asarray(leaf.array)
    if got.shape != want.shape:
        return f"shape {list(got.shape)}, but finite differences give {list(want.shape)}"
    if got.dtype.kind != "f":  # the oracle is real-valued: complex results are not its to judge
        return None
    tol = tolerance(leaf.dtype) or tolerance("float32")
    with np.errstate(all="ignore"):
        ok = np.all(np.abs(got.astype(np.float64) - want) <= tol * (1 + np.abs(want)))
    if ok:
        return None
    return (
        f"{got.tolist()} ({leaf.dtype}), but finite differences give {np.round(want, 6).tolist()}"
    )


def _scenario_source(run: _Run, tf: Observation) -> str:
    features = f"\n    features={list(run.program.features)!r}," if run.program.features else ""
    body = run.source.rstrip()
    return (
        "@scenario(\n"
        '    "generated.CHANGE_ME",\n'
        '    spec="CHANGE_ME",\n'
        '    statement="CHANGE_ME: the behaviour this program pins",\n'
        f"    expect={compare.expectation_source(tf)},{features}\n"
        '    oracle_exempt="found by tapeconf fuzz; TensorFlow 2.21 observed this outcome",\n'
        ")\n"
        f"{body}\n"
    )
