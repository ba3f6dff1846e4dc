"""``tapeconf diff``: which cells changed between two results files (say, before and after a
framework upgrade), as Markdown.

A cell (scenario × adapter × device) changed when its verdict changed, or when its outcome did
with the same verdict: returned instead of raised, another error kind, native type or message, or
other values (compared with a relative tolerance of 1e-6, so float noise is not a change).
Cells only in one file are listed as added or removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from conformance.report.markdown_report import VERDICT_MARKS, cell_text

__all__ = ["CellChange", "ResultsDiff", "diff_results", "render_diff"]

Key = tuple[str, str, "str | None"]

#: Values closer than this (relative) are the same value.
VALUE_TOLERANCE = 1e-6


@dataclass
class CellChange:
    key: Key
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    what: str  # "verdict", "outcome", "added", "removed"


@dataclass
class ResultsDiff:
    changes: list[CellChange] = field(default_factory=list)
    compared: int = 0
    versions: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _same_value(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool) or old is None or new is None:
        return old == new and type(old) is type(new)
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        if math.isinf(old) or math.isinf(new):
            return old == new
        return abs(old - new) <= VALUE_TOLERANCE * max(1.0, abs(old), abs(new))
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return False
        return all(_same_value(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same_value(old[k], new[k]) for k in old)
    return old == new


def _outcome(record: dict[str, Any]) -> Any:
    """What a cell's outcome is, without its timing and wording-free parts."""
    observation = record.get("observation")
    if observation is None:
        return None
    if observation.get("error"):
        error = observation["error"]
        return ("raised", error.get("kind"), error.get("native_type"), error.get("message"))
    return ("returned", observation.get("value"))


def _cells(document: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {(r["id"], r["adapter"], r["device"]): r for r in document["results"]}


def diff_results(old: dict[str, Any], new: dict[str, Any]) -> ResultsDiff:
    """The changed cells, in the new file's order (removed ones last)."""
    old_cells, new_cells = _cells(old), _cells(new)
    result = ResultsDiff(compared=len(old_cells.keys() & new_cells.keys()))
    old_versions = {a["name"]: a.get("version") for a in old["adapters"]}
    new_versions = {a["name"]: a.get("version") for a in new["adapters"]}
    for name in dict.fromkeys([*new_versions, *old_versions]):
        if old_versions.get(name) != new_versions.get(name):
            result.versions.append((name, old_versions.get(name), new_versions.get(name)))
    for key, record in new_cells.items():
        before = old_cells.get(key)
        if before is None:
            result.changes.append(CellChange(key, None, record, "added"))
        elif before["verdict"] != record["verdict"]:
            result.changes.append(CellChange(key, before, record, "verdict"))
        elif not _same_outcome(_outcome(before), _outcome(record)):
            result.changes.append(CellChange(key, before, record, "outcome"))
    for key, record in old_cells.items():
        if key not in new_cells:
            result.changes.append(CellChange(key, record, None, "removed"))
    return result


def _same_outcome(old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> bool:
    if old is None or new is None:
        return old is new
    return _same_value(list(old), list(new))


def _describe(record: dict[str, Any] | None) -> str:
    if record is None:
        return "–"
    verdict = record["verdict"]
    observation = record.get("observation")
    text = f"{VERDICT_MARKS.get(verdict, '')} {verdict.replace('_', ' ')}"
    if observation:
        text += f": {observation['summary']}"
    elif record.get("detail"):
        text += f": {record['detail']}"
    return text


def render_diff(result: ResultsDiff, old_label: str, new_label: str) -> str:
    """The diff as Markdown."""
    lines = ["# tapeconf diff", "", f"Old: `{old_label}` · new: `{new_label}`", ""]
    if result.versions:
        lines += ["| adapter | old version | new version |", "|---|---|---|"]
        lines += [
            f"| {cell_text(n)} | {cell_text(o or '–')} | {cell_text(v or '–')} |"
            for n, o, v in result.versions
        ]
        lines.append("")
    if not result.changes:
        lines.append(f"No cell changed ({result.compared} cells compared).")
        return "\n".join(lines) + "\n"
    lines += [
        f"{len(result.changes)} cells changed ({result.compared} cells in both files).",
        "",
        "| scenario | adapter | change | old | new |",
        "|---|---|---|---|---|",
    ]
    for change in result.changes:
        scenario, adapter, device = change.key
        where = f"{adapter}/{device}" if device else adapter
        lines.append(
            f"| `{scenario}` | {cell_text(where)} | {change.what} | "
            f"{cell_text(_describe(change.old), 300)} | {cell_text(_describe(change.new), 300)} |"
        )
    return "\n".join(lines) + "\n"
