"""Progress of a report run on stderr: a bar on a terminal, a few plain lines in CI or a log.

A bar is drawn only when stderr is a terminal and ``CI`` is not set; otherwise each adapter gets
one line when it starts and one when it finishes, so CI logs stay short and greppable.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections import Counter
from typing import TextIO

__all__ = ["Progress", "wants_live_bar"]


def wants_live_bar(stream: TextIO) -> bool:
    """A redrawn bar only on an interactive terminal outside CI."""
    in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return not in_ci and hasattr(stream, "isatty") and stream.isatty()


class Progress:
    """Thread-safe counters of finished cells, drawn as a bar or logged as lines."""

    def __init__(
        self, stream: TextIO | None = None, *, live: bool | None = None, quiet: bool = False
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.live = wants_live_bar(self.stream) if live is None else live
        self.quiet = quiet
        self.total = 0
        self.done = 0
        self.failures = 0
        self.per_adapter: dict[str, list[int]] = {}  # name -> [done, total]
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._drawn = False
        self._reserved = 0  # adapters not started yet, counted in ``total`` as _per_adapter cells
        self._per_adapter = 0

    def expect(self, adapters: int, cells_each: int) -> None:
        """Count ``adapters`` × ``cells_each`` cells until each adapter says how many it has,
        so the bar does not jump backwards as adapters start."""
        with self._lock:
            self._reserved, self._per_adapter = adapters, cells_each
            self.total += adapters * cells_each

    def add_cells(self, adapter: str, count: int, description: str) -> None:
        """An adapter is about to run ``count`` cells."""
        with self._lock:
            if self._reserved:
                self._reserved -= 1
                self.total -= self._per_adapter
            self.total += count
            entry = self.per_adapter.setdefault(adapter, [0, 0])
            entry[1] += count
            self._line(f"tapeconf: {adapter}: {description}")

    def cell(self, adapter: str, verdict: str, *, failure: bool) -> None:
        with self._lock:
            self.done += 1
            self.failures += failure
            entry = self.per_adapter.setdefault(adapter, [0, 0])
            entry[0] += 1
            if self.live and time.monotonic() - self._last_draw > 0.1:
                self._draw()

    def adapter_done(self, adapter: str, counts: Counter[str], seconds: float) -> None:
        parts = ", ".join(f"{n} {verdict}" for verdict, n in counts.most_common()) or "no cells"
        with self._lock:
            self._line(f"tapeconf: {adapter}: {parts} ({seconds:.1f} s)")

    def message(self, text: str) -> None:
        with self._lock:
            self._line(text)

    def warning(self, text: str) -> None:
        """A line that something is off (shown with ``quiet`` too: only errors pass then)."""
        with self._lock:
            quiet, self.quiet = self.quiet, False
            try:
                self._line(text)
            finally:
                self.quiet = quiet

    def close(self) -> None:
        with self._lock:
            if self.live and self._drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._drawn = False

    # ---- drawing (called with the lock held) ------------------------------------------------

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        if self.live and self._drawn:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        if self.live:
            self._draw()
        self.stream.flush()

    def _draw(self) -> None:
        if self.quiet:
            return
        width = shutil.get_terminal_size((100, 20)).columns
        fraction = self.done / self.total if self.total else 0.0
        bar = "#" * int(fraction * 24)
        running = " ".join(
            f"{name} {done}/{total}"
            for name, (done, total) in self.per_adapter.items()
            if done < total
        )
        failed = f" · {self.failures} failing" if self.failures else ""
        text = f"[{bar:<24}] {self.done}/{self.total} cells{failed} · {running}"
        self.stream.write("\r\x1b[K" + text[: max(width - 1, 20)])
        self.stream.flush()
        self._last_draw = time.monotonic()
        self._drawn = True
