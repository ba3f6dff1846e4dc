"""Driving a mutation run: copies of the committed tree, one worker process per mutant.

The copy is ``git archive HEAD`` (committed files only, so half-edited files in a shared working
tree never enter it), optionally overlaid with named working-tree paths. The unmutated matrix
must conform first; a coverage pass marks mutants on lines the matrix never runs; then each
mutant is written into a copy, the matrix runs in a fresh process with a timeout, and the file is
restored. Killed: a cell was not conforming, or the process failed or timed out.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from conformance.mutation._equivalents import Equivalent, load_equivalents
from conformance.mutation._matrix import ROOT_VARIABLE
from conformance.mutation._mutants import Mutant, apply, mutants_of

__all__ = ["MUTATED_FILES", "MutationError", "Outcome", "RunSummary", "run"]

#: The files mutated and reported separately: the tape files and the op table.
MUTATED_FILES = (
    "reference_impl/_gradient_tape.py",
    "reference_impl/_core.py",
    "reference_impl/_variables.py",
    "reference_impl/_custom_gradient.py",
    "reference_impl/_ops.py",
)
_WORKER = [sys.executable, "-m", "conformance.mutation._matrix"]


class MutationError(RuntimeError):
    """The run cannot start (no git, a broken copy, an unmutated matrix that fails)."""


@dataclass
class Outcome:
    """What happened to one mutant."""

    mutant: Mutant
    status: str  # "killed", "survived", "timed_out" (killed), "not_executed" (survived), "equivalent"
    detail: str = ""  # the cell that killed it, or the equivalence reason
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.status in ("killed", "timed_out")


@dataclass
class FileFigures:
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    timed_out: int = 0
    not_executed: int = 0

    @property
    def kill_rate(self) -> float:
        """Killed over the non-equivalent mutants (1.0 when there are none)."""
        counted = self.mutants - self.equivalent
        return self.killed / counted if counted else 1.0


@dataclass
class RunSummary:
    commit: str
    date: str
    sample: int | None
    seconds: float
    baseline_seconds: float
    files: dict[str, FileFigures] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    stale_equivalents: list[Equivalent] = field(default_factory=list)


# ---- the copies ------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, check=True, capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError) as error:
        raise MutationError(f"git {' '.join(args)} failed in {repo}: {error}") from None
    return done.stdout.strip()


def _export_head(repo: Path, into: Path, overlay: Sequence[str]) -> None:
    """The committed tree at ``into``, then each ``overlay`` path copied from the working tree."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=repo, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    for relative in overlay:
        source, target = repo / relative, into / relative
        if not source.exists():
            raise MutationError(f"--overlay {relative}: no such path in {repo}")
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _worker_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env[ROOT_VARIABLE] = str(root)
    env["PYTHONHASHSEED"] = "0"
    env["OPENBLAS_NUM_THREADS"] = "1"  # one core per worker; also keeps fork() simple
    env["OMP_NUM_THREADS"] = "1"
    return env


def _run_worker(root: Path, timeout: float, *extra: str) -> tuple[str, str, float]:
    """(status, detail, seconds) of the matrix in ``root``: conforms, killed or timed_out."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [*_WORKER, *extra], cwd=root, env=_worker_env(root), capture_output=True,
            text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timed_out", f"no answer within {timeout:g} s", time.perf_counter() - start
    seconds = time.perf_counter() - start
    if done.returncode == 0:
        return "conforms", "", seconds
    lines = (done.stdout.strip() or done.stderr.strip() or f"exit status {done.returncode}")
    return "killed", lines.splitlines()[-1][:300], seconds


class _Server:
    """A ``_matrix --serve`` process in one copy: a forked matrix run per mutant, imports paid once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process = subprocess.Popen(
            [*_WORKER, "--serve"], cwd=root, env=_worker_env(root), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )
        ready = self._answer()
        if ready.get("status") != "ready":
            raise MutationError(f"the mutation server in {root} did not start: {ready}")

    def _answer(self) -> dict[str, str]:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            return {"status": "killed", "detail": "the mutation server exited"}
        return json.loads(line)

    def run(self, timeout: float) -> tuple[str, str, float]:
        start = time.perf_counter()
        assert self.process.stdin is not None
        self.process.stdin.write(f"{timeout}\n")
        self.process.stdin.flush()
        answer = self._answer()
        return answer["status"], answer.get("detail", "")[:300], time.perf_counter() - start

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _forget_bytecode(path: Path) -> None:
    """Drop the cached bytecode of ``path``: a same-size write within a second would reuse it."""
    for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        cached.unlink(missing_ok=True)


@contextmanager
def _planted(root: Path, mutant: Mutant, original: str) -> Iterator[None]:
    target = root / mutant.file
    target.write_text(apply(original, mutant))
    _forget_bytecode(target)
    try:
        yield
    finally:
        target.write_text(original)
        _forget_bytecode(target)


# ---- the run ---------------------------------------------------------------------------------


def _choose(mutants: list[Mutant], sample: int | None, seed: int) -> list[Mutant]:
    """All mutants, or ``sample`` of them spread over the files in proportion to their counts."""
    if sample is None or sample >= len(mutants):
        return mutants
    rng = random.Random(seed)
    by_file: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_file.setdefault(mutant.file, []).append(mutant)
    chosen: list[Mutant] = []
    for items in by_file.values():
        share = max(1, round(sample * len(items) / len(mutants)))
        chosen.extend(rng.sample(items, min(share, len(items))))
    return chosen


def _executed_lines(root: Path, timeout: float) -> dict[str, set[int]]:
    out = root / ".mutation-coverage.json"
    status, detail, _ = _run_worker(root, timeout, "--coverage", str(out))
    if status != "conforms":
        raise MutationError(f"the coverage pass of the unmutated matrix failed: {detail}")
    return {name: set(lines) for name, lines in json.loads(out.read_text()).items()}


def _is_executed(mutant: Mutant, executed: dict[str, set[int]]) -> bool:
    lines = executed.get(Path(mutant.file).name, set())
    return any(line in lines for line in range(mutant.start[0], mutant.end[0] + 1))


def run(
    repo: Path,
    *,
    files: Sequence[str] = MUTATED_FILES,
    sample: int | None = None,
    seed: int = 0,
    jobs: int = 1,
    timeout: float | None = None,
    overlay: Sequence[str] = (),
    progress: bool = True,
) -> RunSummary:
    """Mutate ``files`` of the committed tree at ``repo`` and run the matrix against each mutant."""
    started = time.perf_counter()
    commit = _git(repo, "rev-parse", "--short=12", "HEAD")
    equivalents = load_equivalents()
    with tempfile.TemporaryDirectory(prefix="tapeconf-mutation-") as scratch:
        base = Path(scratch) / "copy0"
        base.mkdir()
        _export_head(repo, base, overlay)
        status, detail, baseline = _run_worker(base, timeout or 120.0)
        if status != "conforms":
            raise MutationError(f"the unmutated matrix does not conform in the copy: {detail}")
        limit = timeout or max(10.0, 10 * baseline)
        executed = _executed_lines(base, limit * 3)
        sources = {name: (base / name).read_text() for name in files}
        mutants = [m for name in files for m in mutants_of(sources[name], name)]
        chosen = _choose(mutants, sample, seed)
        copies = [base] + [_clone(base, Path(scratch) / f"copy{i}") for i in range(1, jobs)]
        servers = [_Server(root) for root in copies]
        try:
            outcomes = _run_all(chosen, servers, sources, executed, equivalents, limit, progress)
        finally:
            for server in servers:
                server.close()
    keys = {m.key for m in mutants}
    summary = RunSummary(
        commit=commit,
        date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        sample=sample,
        seconds=time.perf_counter() - started,
        baseline_seconds=baseline,
        outcomes=outcomes,
        stale_equivalents=[e for key, e in equivalents.items() if key not in keys
                           and key[0] in files],
    )
    for name in files:
        summary.files[name] = _figures([o for o in outcomes if o.mutant.file == name])
    return summary


def _clone(base: Path, target: Path) -> Path:
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _run_all(
    chosen: list[Mutant],
    servers: list[_Server],
    sources: dict[str, str],
    executed: dict[str, set[int]],
    equivalents: dict[tuple[str, str, str, str, int], Equivalent],
    limit: float,
    progress: bool,
) -> list[Outcome]:
    free = list(servers)
    lock = threading.Lock()
    done = [0]

    def one(mutant: Mutant) -> Outcome:
        if not _is_executed(mutant, executed):
            outcome = Outcome(mutant, "not_executed", "the matrix never runs this line")
        else:
            with lock:
                server = free.pop()
            try:
                with _planted(server.root, mutant, sources[mutant.file]):
                    status, detail, seconds = server.run(limit)
            finally:
                with lock:
                    free.append(server)
            outcome = Outcome(mutant, "survived" if status == "conforms" else status, detail, seconds)
        equivalent = equivalents.get(mutant.key)
        if equivalent is not None and not outcome.killed:
            outcome = Outcome(mutant, "equivalent", equivalent.reason, outcome.seconds)
        elif equivalent is not None:
            outcome.detail = f"listed as equivalent but killed ({outcome.detail}): remove the entry"
        if progress:
            with lock:
                done[0] += 1
                mark = "." if outcome.killed else ("e" if outcome.status == "equivalent" else "S")
                print(mark, end="\n" if done[0] % 100 == 0 else "", file=sys.stderr, flush=True)
        return outcome

    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        outcomes = list(pool.map(one, chosen))
    if progress:
        print(file=sys.stderr)
    return outcomes


def _figures(outcomes: list[Outcome]) -> FileFigures:
    figures = FileFigures(mutants=len(outcomes))
    for outcome in outcomes:
        if outcome.killed:
            figures.killed += 1
            figures.timed_out += outcome.status == "timed_out"
        elif outcome.status == "equivalent":
            figures.equivalent += 1
        else:
            figures.survived += 1
            figures.not_executed += outcome.status == "not_executed"
    return figures


def as_record(summary: RunSummary) -> dict:
    """The committed data file's content: figures per file and every survivor."""
    total = FileFigures()
    for figures in summary.files.values():
        for name in asdict(total):
            setattr(total, name, getattr(total, name) + getattr(figures, name))
    return {
        "schema": 1,
        "date": summary.date,
        "commit": summary.commit,
        "sample": summary.sample,
        "seconds": round(summary.seconds, 1),
        "files": {
            Path(name).name: {**asdict(f), "kill_rate": round(f.kill_rate, 4)}
            for name, f in summary.files.items()
        },
        "total": {**asdict(total), "kill_rate": round(total.kill_rate, 4)},
        "survivors": [
            {
                "file": Path(o.mutant.file).name,
                "line": o.mutant.line,
                "function": o.mutant.function,
                "original": o.mutant.original,
                "mutated": o.mutant.mutated,
                "occurrence": o.mutant.occurrence,
                "status": o.status,
            }
            for o in summary.outcomes
            if o.status in ("survived", "not_executed")
        ],
    }
