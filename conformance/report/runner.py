"""Running the matrix for a report: each adapter in its own worker process, results streamed back.

Every adapter runs in ``python -m conformance.report.worker`` subprocesses, at most ``jobs`` at a
time. The parent sends one cell at a time and waits at most the scenario's ``timeout_s``: a worker
that dies (segfault, ``os.abort``) or hangs costs only that cell, recorded as ``crashed`` or
``timed_out`` with the reason, and a fresh worker continues with the next scenario. A worker that
cannot even start makes its adapter's cells ``unavailable`` with the reason. A worker that breaks
the protocol (``conformance.report.wire``: a line that is not JSON, a message that does not fit)
costs the cell at hand too, as ``crashed`` with "protocol error: ...", and is replaced; one whose
hello is broken or speaks another protocol version makes its adapter's cells ``error``. When a slot
is free and one adapter still has much work left, a second worker for it shares its queue of cells.
Every record is handed to ``sink`` as soon as it exists (the report appends it to a partial file).

``--adapter NAME@PYTHON`` runs the worker with that interpreter, in that environment: it gets its
own ``sys.path``, not this process's, and needs this project installed there.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.outcome import Cell, Verdict
from conformance.registry import Scenario
from conformance.report.progress import Progress
from conformance.report.records import cell_record
from conformance.report.wire import (
    ProtocolError,
    adapter_block_defaults,
    check_cell,
    check_hello,
    check_runtime,
    decode_line,
    missing_project_reason,
    parse_adapter_spec,
)

__all__ = ["Hello", "RunResult", "Runner", "WorkerProcess", "describe_adapters", "read_hello"]

CellKey = tuple[str, str, "str | None"]  # (scenario id, adapter name, device)

#: After this many crashed or timed-out cells in a row, an adapter's remaining cells are not run.
MAX_CONSECUTIVE_FAILURES = 5

#: The environment variable naming the parent's pid, for the worker's watchdog
#: (``conformance.report.worker``: a worker whose parent is gone kills itself and its children).
PARENT_PID_VARIABLE = "TAPECONF_PARENT_PID"


def record_key(record: dict[str, Any]) -> tuple[str, str, str | None]:
    return record["id"], record["adapter"], record["device"]


class WorkerProcess:
    """One worker subprocess: JSON lines in and out, and the tail of its stderr for diagnoses."""

    def __init__(self, spec: str) -> None:
        parsed = parse_adapter_spec(spec)
        env = dict(os.environ)
        if (
            parsed.python is None
        ):  # this interpreter: what the parent can import, the worker can too
            paths = [p for p in sys.path if p]
            if env.get("PYTHONPATH"):
                paths.append(env["PYTHONPATH"])
            env["PYTHONPATH"] = os.pathsep.join(paths)
        env[PARENT_PID_VARIABLE] = str(os.getpid())  # the worker exits when this process is gone
        self.spec = spec
        self.python = parsed.python or sys.executable
        self.process = subprocess.Popen(
            [self.python, "-m", "conformance.report.worker", parsed.target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the parent only; it stops the workers itself
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=60)
        self._stdout_reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stdout_reader.start()
        self._stderr_reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.strip():
                self.stderr_tail.append(line.rstrip())

    def send(self, message: dict[str, Any]) -> bool:
        """Write one request; ``False`` when the worker is gone."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message; ``None`` once the worker exited; ``TimeoutError`` after ``timeout``;
        ``ProtocolError`` for a line that is not a JSON message object."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = (
                    self.lines.get(timeout=max(remaining, 0.0))
                    if remaining > 0
                    else self.lines.get_nowait()
                )
            except queue.Empty:
                raise TimeoutError(f"no message within {timeout:g} s") from None
            if line is None:
                return None
            if line.strip():
                return decode_line(line)

    def kill(self) -> None:
        """Kill the worker and anything it started (its own process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.wait()
        self._kill_leftovers()
        self._close_pipes()

    def finish(self) -> None:
        """Close stdin so that the worker exits by itself; kill it if it does not within 10 s.
        Processes a scenario started and left running die with it."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self._kill_leftovers()
        self._close_pipes()

    def _kill_leftovers(self) -> None:
        """Kill what is left of the worker's process group once the worker itself has exited
        (a child a scenario started; the group outlives its leader while such a child lives)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def _close_pipes(self) -> None:
        self._stdout_reader.join(timeout=2)
        self._stderr_reader.join(timeout=2)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass

    def death(self) -> str:
        """How the worker ended and the last thing it wrote on stderr, in one line."""
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        self._stderr_reader.join(timeout=2)
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        tail = self._stderr_excerpt()
        return f"{how}; stderr: {tail}" if tail else how

    def startup_failure(self) -> str:
        """Why the worker exited before its hello: this project missing there, or its death."""
        death = self.death()
        missing = missing_project_reason(self.python, "\n".join(self.stderr_tail), _project_root())
        return missing or f"the worker died while loading the adapter ({death})"

    def _stderr_excerpt(self, limit: int = 700) -> str:
        lines = list(self.stderr_tail)
        fatal = [i for i, line in enumerate(lines) if line.startswith("Fatal Python error")]
        chosen = lines[fatal[-1] :][:8] if fatal else lines[-6:]
        chosen = [line.strip() for line in chosen if not line.startswith("Extension modules")]
        text = " | ".join(line for line in chosen if line)
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _project_root() -> str | None:
    """This project's checkout (for the install hint), when tapeconf runs from one."""
    root = Path(__file__).resolve().parents[2]
    return str(root) if (root / "pyproject.toml").is_file() else None


@dataclass
class Hello:
    """What a worker's first message said: its adapters-block entry, divergences, and whether it
    can run cells (``usable``; an unusable worker is already stopped)."""

    block: dict[str, Any]
    divergences: dict[str, Any] = field(default_factory=dict)
    usable: bool = False
    runtime: dict[str, Any] | None = None  # the worker's interpreter and packages, if it said


def read_hello(worker: WorkerProcess, timeout: float) -> Hello:
    """Wait for ``worker``'s hello and check it (``conformance.report.wire.check_hello``).

    A worker that exits first or does not answer in ``timeout`` makes its adapter unavailable,
    with the reason; a broken hello or another protocol version makes it an ``error``.
    """
    placeholder = adapter_block_defaults(worker.spec)
    try:
        message = worker.receive(timeout)
        if message is None:
            return Hello({**placeholder, "reason": worker.startup_failure()})
        block, divergences = check_hello(message, worker.spec)
        runtime = check_runtime(message)
    except TimeoutError:
        worker.kill()
        return Hello({**placeholder, "reason": f"the worker did not start within {timeout:g} s"})
    except ProtocolError as error:
        worker.kill()
        return Hello({**placeholder, "error": f"protocol error: {error}"})
    if block["available"] and not block["error"]:
        return Hello(block, divergences, usable=True, runtime=runtime)
    worker.finish()
    return Hello(block, divergences, runtime=runtime)


@dataclass
class _Job:
    """One adapter's share of the run: its queue of cells and its workers."""

    spec: str
    adapter: dict[str, Any] | None = None  # the worker's hello: the adapters-block entry
    runtime: dict[str, Any] | None = None  # the worker's hello: its interpreter and packages
    divergences: dict[str, Any] = field(default_factory=dict)
    state: str = "new"  # new -> starting -> running -> done
    pending: deque[tuple[str, str]] = field(default_factory=deque)
    workers: int = 0
    started: float = 0.0
    startup_seconds: float = 0.0
    cell_seconds: float = 0.0
    cells_run: int = 0
    consecutive_failures: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def name(self) -> str:
        return self.adapter["name"] if self.adapter else parse_adapter_spec(self.spec).name

    def remaining_seconds(self) -> float:
        """Estimated time for the pending cells (0 until a few cells ran)."""
        if self.cells_run < 3:
            return 0.0
        return len(self.pending) * self.cell_seconds / self.cells_run


@dataclass
class RunResult:
    adapters: list[dict[str, Any]]  # the adapters block, in the order asked for
    records: list[dict[str, Any]]  # new records only (resumed ones are the caller's)
    seconds: float
    runtimes: dict[str, dict[str, Any]] = field(default_factory=dict)  # spec -> worker runtime


class Runner:
    """Runs ``scenarios`` on the adapters named by ``specs``; see the module docstring."""

    def __init__(
        self,
        specs: Sequence[str],
        scenarios: Sequence[Scenario],
        *,
        jobs: int = 2,
        timeout_cap: float | None = None,
        startup_timeout: float = 180.0,
        done: Iterable[tuple[str, str, str | None]] = (),
        resumed_adapters: dict[str, dict[str, Any]] | None = None,
        sink: Callable[[str, dict[str, Any]], None] = lambda kind, item: None,
        progress: Progress | None = None,
    ) -> None:
        self.jobs = [_Job(spec) for spec in specs]
        self.scenarios = {s.id: s for s in scenarios}
        self.slots = max(1, jobs)
        self.timeout_cap = timeout_cap
        self.startup_timeout = startup_timeout
        self.done_keys = set(done)
        self.resumed_adapters = resumed_adapters or {}  # spec -> the block the done cells had
        self.stale: set[str] = set()  # adapters whose done cells were from another version
        self.sink = sink
        self.sink_error: OSError | None = None
        self.progress = progress or Progress(quiet=True)
        self.progress.expect(len(self.jobs), len(self.scenarios))
        self.records: list[dict[str, Any]] = []
        self._condition = threading.Condition()
        self._live: set[WorkerProcess] = set()
        self._stopping = False

    # ---- the whole run ----------------------------------------------------------------------

    def run(self) -> RunResult:
        """Run every cell; on KeyboardInterrupt kill the workers and re-raise."""
        started = time.monotonic()
        threads = [threading.Thread(target=self._slot, daemon=True) for _ in range(self.slots)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        except BaseException:
            self.stop()
            raise
        if self.sink_error is not None:  # the partial file could not be written: stopped
            raise self.sink_error
        adapters = [job.adapter for job in self.jobs if job.adapter is not None]
        runtimes = {job.spec: job.runtime for job in self.jobs if job.runtime is not None}
        return RunResult(adapters, list(self.records), time.monotonic() - started, runtimes)

    def stop(self) -> None:
        """Stop recording and kill every live worker (for an interrupted run)."""
        with self._condition:
            self._stopping = True
            live = list(self._live)
        for worker in live:
            worker.kill()

    def _slot(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                self._drive(job)
            except Exception as error:  # a bug here must not drop cells silently
                self._abandon(job, f"the suite failed: {type(error).__name__}: {error}")
            finally:
                self._retire(job)

    def _abandon(self, job: _Job, why: str) -> None:
        """Record every cell ``job`` still owes as an ``error`` with ``why``."""
        with self._condition:
            if job.adapter is None:
                job.adapter = {**adapter_block_defaults(job.spec), "error": why}
                self._sink("adapter", job.adapter)
                job.pending.extend((s, None) for s in self.scenarios)
            left = list(job.pending)
            job.pending.clear()
        for scenario_id, device in left:
            self._emit(job, self._made_up(job, scenario_id, device, Verdict.ERROR, why))

    def _next_job(self) -> _Job | None:
        """A job to start, or one to share when it has enough work left; wait while jobs start."""
        with self._condition:
            while not self._stopping:
                for job in self.jobs:
                    if job.state == "new":
                        job.state, job.workers, job.started = "starting", 1, time.monotonic()
                        return job
                shareable = [
                    job
                    for job in self.jobs
                    if job.state == "running"
                    and job.workers == 1
                    and job.remaining_seconds() > 3 * max(job.startup_seconds, 1.0)
                ]
                if shareable:
                    job = max(shareable, key=_Job.remaining_seconds)
                    job.workers += 1
                    return job
                if not any(job.state in ("starting", "running") for job in self.jobs):
                    return None
                self._condition.wait(timeout=1.0)
            return None

    def _retire(self, job: _Job) -> None:
        with self._condition:
            job.workers -= 1
            if job.workers == 0 and job.state != "done":
                job.state = "done"
                if not self._stopping:
                    self.progress.adapter_done(job.name, job.counts, time.monotonic() - job.started)
            self._condition.notify_all()

    # ---- one adapter ------------------------------------------------------------------------

    def _drive(self, job: _Job) -> None:
        """Start workers for ``job`` until its queue is empty (restarting after a crash)."""
        while not self._stopping:
            worker = self._start(job)
            if worker is None:
                return
            finished = self._run_cells(job, worker)
            with self._condition:
                self._live.discard(worker)
            if finished or not job.pending:
                return

    def _start(self, job: _Job) -> WorkerProcess | None:
        """A worker that said hello, or ``None`` when there is nothing (more) it can do."""
        begun = time.monotonic()
        worker = WorkerProcess(job.spec)
        with self._condition:
            self._live.add(worker)
        hello = read_hello(worker, self.startup_timeout)
        with self._condition:
            stopping = self._stopping
        if stopping:
            worker.kill()
            return None
        with self._condition:
            if job.adapter is None:
                return self._first_hello(job, worker, hello, time.monotonic() - begun)
            if hello.usable:
                return worker
            self._live.discard(worker)
        worker.kill()
        with self._condition:
            if job.workers > 1:  # another worker is still serving this queue
                return None
            block = hello.block
            why = block.get("error") or block.get("reason") or "it said it cannot run"
            left = list(job.pending)
            job.pending.clear()
        self._mark_not_run(
            job, left, f"not run: a new worker for {job.name} could not start ({why})"
        )
        return None

    def _first_hello(
        self, job: _Job, worker: WorkerProcess, hello: Hello, seconds: float
    ) -> WorkerProcess | None:
        """Take the adapter's description from its first worker (lock held)."""
        block, usable = hello.block, hello.usable
        clash = next(
            (
                j
                for j in self.jobs
                if j is not job and j.adapter and j.adapter["name"] == block["name"]
            ),
            None,
        )
        if clash is not None:  # two import paths to one adapter: its cells would collide
            block = {
                **adapter_block_defaults(job.spec),
                "name": job.spec,
                "error": f"this adapter is called {block['name']!r}, as {clash.spec!r} in the "
                "same run is; run them in separate reports",
            }
            if usable:
                worker.kill()
            usable = False
        job.adapter = block
        job.runtime = hello.runtime
        self._forget_stale_cells(job.spec, block)
        for note in block.get("warnings", []):  # e.g. a divergence entry that matches nothing
            self.progress.warning(f"tapeconf: {block['name']}: warning: {note}")
        self._sink("adapter", block)
        job.divergences = hello.divergences
        job.startup_seconds = seconds
        if not usable:
            self._live.discard(worker)
            verdict = Verdict.ERROR if block.get("error") else Verdict.UNAVAILABLE
            why = block.get("error") or block.get("reason") or "unavailable"
            devices = block.get("devices") or [None]
            cells = [
                (s, d)
                for d in devices
                for s in self.scenarios
                if (s, job.name, d) not in self.done_keys
            ]
            self.progress.add_cells(job.name, len(cells), f"{verdict.value}: {why}")
            for scenario_id, device in cells:
                self._emit(job, self._made_up(job, scenario_id, device, verdict, why), locked=True)
            return None
        devices = block["devices"]
        job.pending = deque(
            (s, d)
            for d in devices
            for s in self.scenarios
            if (s, job.name, d) not in self.done_keys
        )
        job.state = "running"
        resumed = len(devices) * len(self.scenarios) - len(job.pending)
        note = f", {resumed} resumed" if resumed else ""
        where = f" under {worker.python}" if parse_adapter_spec(job.spec).python else ""
        self.progress.add_cells(
            job.name,
            len(job.pending),
            f"{block['version']} on {', '.join(devices)}{where}: {len(job.pending)} cells{note}",
        )
        self._condition.notify_all()
        return worker

    def _forget_stale_cells(self, spec: str, block: dict[str, Any]) -> None:
        """Run again the resumed cells of an adapter that is not what it was (another version,
        other devices, now available or broken): old cells must not carry the new label."""
        before = self.resumed_adapters.get(spec)
        if before is None:
            return
        keys = ("name", "version", "available", "error", "devices")
        changed = [k for k in keys if before.get(k) != block.get(k)]
        if not changed:
            return
        name = before.get("name")
        self.stale.add(str(name))
        self.done_keys = {key for key in self.done_keys if key[1] != name}
        what = ", ".join(f"{k} {before.get(k)!r} -> {block.get(k)!r}" for k in changed)
        self.progress.warning(
            f"tapeconf: {name}: the resumed cells came from another adapter state ({what}); "
            "running them again"
        )

    def _run_cells(self, job: _Job, worker: WorkerProcess) -> bool:
        """Feed cells to ``worker``; ``False`` when it died or hung (it is gone then)."""
        while True:
            with self._condition:
                if self._stopping or not job.pending:
                    break
                scenario_id, device = job.pending.popleft()
            scenario = self.scenarios[scenario_id]
            timeout = (
                scenario.timeout_s
                if self.timeout_cap is None
                else min(scenario.timeout_s, self.timeout_cap)
            )
            begun = time.monotonic()
            record: dict[str, Any] | None = None
            timed_out, broken = False, None
            if worker.send({"run": [scenario_id, device]}):
                try:
                    record = self._answer(job, worker, scenario, device, timeout)
                except TimeoutError:
                    timed_out = True
                    worker.kill()
                except ProtocolError as error:
                    broken = str(error)
                    worker.kill()
            if self._stopping:
                return False
            if record is not None:
                with self._condition:
                    job.cells_run += 1
                    job.cell_seconds += time.monotonic() - begun
                    job.consecutive_failures = 0
                self._emit(job, record)
                continue
            if broken is not None:
                verdict = Verdict.CRASHED
                detail = (
                    f"protocol error: {broken}; the {job.name} worker was killed and a new one "
                    "ran the next scenarios"
                )
            elif timed_out:
                verdict = Verdict.TIMED_OUT
                detail = (
                    f"no result within {timeout:g} s (the scenario's timeout); the worker was "
                    "killed and a new one ran the next scenarios"
                )
            else:
                verdict = Verdict.CRASHED
                detail = (
                    f"the {job.name} worker died running this scenario ({worker.death()}); "
                    "a new worker ran the next scenarios"
                )
                worker.kill()
            self._emit(job, self._made_up(job, scenario_id, device, verdict, detail))
            self._after_failure(job, detail)
            return False
        worker.finish()
        return True

    @staticmethod
    def _answer(
        job: _Job, worker: WorkerProcess, scenario: Scenario, device: str, timeout: float
    ) -> dict[str, Any] | None:
        """The worker's record for one cell; ``None`` when it exited first."""
        message = worker.receive(timeout)
        if message is None:
            return None
        return check_cell(
            message,
            scenario_id=scenario.id,
            device=device,
            adapter=job.name,
            scenario_fields={
                "area": scenario.area,
                "statement": scenario.statement,
                "spec": scenario.spec,
                "expectation": scenario.expect.describe(),
            },
        )

    def _after_failure(self, job: _Job, detail: str) -> None:
        with self._condition:
            job.consecutive_failures += 1
            if job.consecutive_failures < MAX_CONSECUTIVE_FAILURES:
                return
            left = list(job.pending)
            job.pending.clear()
        self._mark_not_run(
            job,
            left,
            f"not run: {MAX_CONSECUTIVE_FAILURES} scenarios in a row crashed or hung on "
            f"{job.name} (the last: {detail})",
        )

    def _mark_not_run(self, job: _Job, cells: list[tuple[str, str]], detail: str) -> None:
        """Record ``cells`` an adapter's workers gave up on as crashed, with why."""
        for scenario_id, device in cells:
            self._emit(job, self._made_up(job, scenario_id, device, Verdict.CRASHED, detail))

    # ---- records ----------------------------------------------------------------------------

    def _made_up(
        self, job: _Job, scenario_id: str, device: str | None, verdict: Verdict, detail: str
    ) -> dict[str, Any]:
        """A record the parent writes itself, for a cell no worker could judge."""
        cell = Cell(scenario_id, job.name, device or "", verdict, detail)
        return cell_record(self.scenarios[scenario_id], cell, job.divergences.get(scenario_id))

    def _emit(self, job: _Job, record: dict[str, Any], *, locked: bool = False) -> None:
        if locked:
            self._store(job, record)
            return
        with self._condition:
            self._store(job, record)

    def _sink(self, kind: str, item: dict[str, Any]) -> None:
        """Hand ``item`` on; a sink that cannot write (a full disk) stops the run, whose
        ``run()`` then raises that error: going on would finish cells that are not kept."""
        if self.sink_error is not None:
            return
        try:
            self.sink(kind, item)
        except OSError as error:
            self.sink_error = error
            self.stop()

    def _store(self, job: _Job, record: dict[str, Any]) -> None:
        if self._stopping:
            return
        self.records.append(record)
        self.done_keys.add(record_key(record))
        job.counts[record["verdict"]] += 1
        self._sink("cell", record)
        self.progress.cell(
            job.name, record["verdict"], failure=Verdict(record["verdict"]).is_failure
        )
        self._condition.notify_all()


def describe_adapters(
    specs: Sequence[str], *, jobs: int = 2, timeout: float = 180.0
) -> list[dict[str, Any]]:
    """Each adapter's description (the adapters-block entry), loaded in its own worker process."""
    blocks: dict[str, dict[str, Any]] = {}

    def describe(spec: str) -> None:
        worker = WorkerProcess(spec)
        hello = read_hello(worker, timeout)
        if hello.usable:
            worker.finish()
        blocks[spec] = hello.block

    pending = deque(specs)
    lock = threading.Lock()

    def slot() -> None:
        while True:
            with lock:
                if not pending:
                    return
                spec = pending.popleft()
            describe(spec)

    threads = [threading.Thread(target=slot, daemon=True) for _ in range(max(1, jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [blocks[spec] for spec in specs]
