"""``tapeconf diff``: which cells changed between two results files (say, before and after a
framework upgrade), as Markdown, with semantic changes kept apart from changes of wording.

A cell (scenario × adapter × device) changed *semantically* when its verdict changed, or its
outcome did with the same verdict: returned instead of raised, another error kind, other values
or dtypes, ``None`` where a tensor was (values compared with a relative tolerance of 1e-6, so
float noise is not a change). It changed only in *wording* when it raised the same error kind
both times but the native exception's type or message differs. Cells only in one file are
semantic changes too (``added``, ``removed``). Timings, warnings and details are not compared.

    >>> result = diff_results(old_document, new_document)   # doctest: +SKIP
    >>> result.semantic, result.wording                       # doctest: +SKIP
    ([], [CellChange(..., what='message')])
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from conformance.report.markdown_report import VERDICT_MARKS, cell_text

__all__ = ["SEMANTIC", "WORDING", "CellChange", "ResultsDiff", "diff_results", "render_diff"]

Key = tuple[str, str, "str | None"]

#: Values closer than this (relative) are the same value.
VALUE_TOLERANCE = 1e-6

#: Kinds of change that alter what a program observes, and those that only reword an error.
SEMANTIC = ("verdict", "outcome", "added", "removed")
WORDING = ("native type", "message")

#: Characters of shared text kept around the part of two messages that differs.
CONTEXT = 30


@dataclass
class CellChange:
    key: Key
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    what: str  # one of SEMANTIC or WORDING

    @property
    def semantic(self) -> bool:
        return self.what in SEMANTIC


@dataclass
class ResultsDiff:
    changes: list[CellChange] = field(default_factory=list)
    compared: int = 0
    versions: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any cell changed, in meaning or in wording."""
        return bool(self.changes)

    @property
    def semantic(self) -> list[CellChange]:
        return [c for c in self.changes if c.semantic]

    @property
    def wording(self) -> list[CellChange]:
        return [c for c in self.changes if not c.semantic]


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


def _meaning(record: dict[str, Any]) -> Any:
    """What a cell's outcome means, without timings and without the native wording."""
    observation = record.get("observation")
    if observation is None:
        return None
    if observation.get("error"):
        return ["raised", observation["error"].get("kind")]
    return ["returned", observation.get("value")]


def _error(record: dict[str, Any]) -> dict[str, Any]:
    return (record.get("observation") or {}).get("error") or {}


def _classify(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """How a cell present in both files changed (``None``: it did not)."""
    if old["verdict"] != new["verdict"]:
        return "verdict"
    if not _same_value(_meaning(old), _meaning(new)):
        return "outcome"
    old_error, new_error = _error(old), _error(new)
    if old_error.get("native_type") != new_error.get("native_type"):
        return "native type"
    if old_error.get("message") != new_error.get("message"):
        return "message"
    return None


def _cells(document: dict[str, Any], adapters: Collection[str]) -> dict[Key, dict[str, Any]]:
    return {
        (r["id"], r["adapter"], r["device"]): r
        for r in document["results"]
        if not adapters or r["adapter"] in adapters
    }


def diff_results(
    old: dict[str, Any], new: dict[str, Any], *, adapters: Collection[str] = ()
) -> ResultsDiff:
    """The changed cells, in the new file's order (removed ones last); only ``adapters``' cells
    when given."""
    old_cells, new_cells = _cells(old, adapters), _cells(new, adapters)
    result = ResultsDiff(compared=len(old_cells.keys() & new_cells.keys()))
    old_versions = {a["name"]: a.get("version") for a in old["adapters"]}
    new_versions = {a["name"]: a.get("version") for a in new["adapters"]}
    for name in dict.fromkeys([*new_versions, *old_versions]):
        if adapters and name not in adapters:
            continue
        if old_versions.get(name) != new_versions.get(name):
            result.versions.append((name, old_versions.get(name), new_versions.get(name)))
    for key, record in new_cells.items():
        before = old_cells.get(key)
        what = "added" if before is None else _classify(before, record)
        if what is not None:
            result.changes.append(CellChange(key, before, record, what))
    for key, record in old_cells.items():
        if key not in new_cells:
            result.changes.append(CellChange(key, record, None, "removed"))
    return result


# ---- Markdown -----------------------------------------------------------------------------------


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


def _literal(text: str) -> str:
    """``text`` as a JSON string literal (so that edge whitespace and newlines show), for a table."""
    quoted = json.dumps(text, ensure_ascii=False)
    escapes = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "\\`"))
    escapes += (("*", "\\*"), ("_", "\\_"), ("[", "\\["), ("]", "\\]"))
    for raw, safe in escapes:
        quoted = quoted.replace(raw, safe)
    return f"<code>{quoted}</code>"


def differing_parts(old: str, new: str, context: int = CONTEXT) -> tuple[str, str]:
    """The parts of ``old`` and ``new`` that differ, with ``context`` shared characters around
    them and "…" where shared text was cut.

    >>> differing_parts("Expected int32 name: ", "Expected int32", context=5)
    ('…int32 name: ', '…int32')
    """
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    start = max(prefix - context, 0)

    def part(text: str) -> str:
        end = len(text) - max(suffix - context, 0)
        return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")

    return part(old), part(new)


def _wording_row(change: CellChange) -> str:
    scenario, adapter, device = change.key
    where = f"{adapter}/{device}" if device else adapter
    old_error, new_error = _error(change.old or {}), _error(change.new or {})
    if change.what == "native type":
        old_text = f"{old_error.get('native_type')}: {old_error.get('message')}"
        new_text = f"{new_error.get('native_type')}: {new_error.get('message')}"
    else:
        old_text, new_text = old_error.get("message", ""), new_error.get("message", "")
    old_part, new_part = differing_parts(old_text, new_text)
    return (
        f"| `{scenario}` | {cell_text(where)} | {change.what} | {old_error.get('kind')} | "
        f"{_literal(old_part[:400])} | {_literal(new_part[:400])} |"
    )


def _headline(result: ResultsDiff) -> list[str]:
    semantic, wording = result.semantic, result.wording
    lines = [
        f"{len(result.changes)} cells changed ({result.compared} cells in both files): "
        f"{len(semantic)} semantic, {len(wording)} native wording only.",
        "",
    ]
    reworded = (
        f" {len(wording)} cells raise the same error kind with a different native message or "
        "type (listed below)."
        if wording
        else ""
    )
    if not semantic:
        lines.append(
            "**No semantic change**: every verdict, outcome (returned or raised), returned value, "
            f"dtype and shape, `None`, and error kind is the same.{reworded}"
        )
    else:
        lines.append(
            f"**{len(semantic)} semantic changes** (verdict, outcome, value, `None`-ness or error "
            f"kind, or cells in only one file).{reworded}"
        )
    return [*lines, ""]


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
    lines += _headline(result)
    if result.semantic:
        lines += [
            "## Semantic changes",
            "",
            "| scenario | adapter | change | old | new |",
            "|---|---|---|---|---|",
        ]
        for change in result.semantic:
            scenario, adapter, device = change.key
            where = f"{adapter}/{device}" if device else adapter
            lines.append(
                f"| `{scenario}` | {cell_text(where)} | {change.what} | "
                f"{cell_text(_describe(change.old), 300)} | "
                f"{cell_text(_describe(change.new), 300)} |"
            )
        lines.append("")
    if result.wording:
        lines += [
            "## Native wording only",
            "",
            "Same verdict and error kind; the framework's exception type or message differs. "
            f"Shown: the differing part, with up to {CONTEXT} shared characters around it "
            "(the whole messages are in the results files).",
            "",
            "| scenario | adapter | change | error kind | old | new |",
            "|---|---|---|---|---|---|",
        ]
        lines += [_wording_row(change) for change in result.wording]
    return "\n".join(lines).rstrip() + "\n"
