"""``REPORT.md``: the comparison report as GitHub-flavoured Markdown, rendered from results.json.

Layout: what ran (adapters, environment), a summary matrix of areas × adapters, then one compact
section per scenario (statement, spec entry, expectation, collapsible neutral source, and a small
table of each adapter's outcome with the native error text and the divergence reason), then each
adapter's table of mapping decisions. Every string that came from a framework is escaped for
Markdown tables and for the HTML that GitHub lets through.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from conformance.registry import SPEC_DOCUMENT, SPEC_ENTRY

__all__ = ["VERDICT_MARKS", "adapter_label", "cell_text", "printable", "render_markdown"]

#: How each verdict is shown, in the order the summary lists them.
VERDICT_MARKS = {
    "conforms": "✅",
    "diverges": "🔶",
    "unexpected": "❌",
    "unsupported": "⚪",
    "unavailable": "🚫",
    "crashed": "💥",
    "timed_out": "⏱️",
    "error": "🛑",
}

#: Longest native message kept in a table cell (the full text is in results.json and report.html).
MAX_CELL_TEXT = 400


#: Control characters (C0 but newline and tab, DEL, C1) as visible escapes: a framework message
#: may hold ESC sequences or NUL, which would recolour a terminal or end a C string.
_CONTROLS = {
    code: f"\\x{code:02x}"
    for code in [*range(0x20), *range(0x7F, 0xA0)]
    if chr(code) not in "\n\t"
}


def printable(text: str) -> str:
    r"""``text`` with every control character but newline and tab written as ``\xNN``.

    >>> printable("ok\x1b[31m red\x00")
    'ok\\x1b[31m red\\x00'
    """
    return text.translate(_CONTROLS)


def cell_text(text: Any, limit: int = MAX_CELL_TEXT) -> str:
    """``text`` made safe for a Markdown table cell: one line, escaped, ``limit`` chars at most."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    for raw, safe in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("|", "\\|"),
        ("`", "\\`"),
        ("*", "\\*"),
        ("_", "\\_"),
        ("[", "\\["),
        ("]", "\\]"),
    ):
        flat = flat.replace(raw, safe)
    return flat


#: docs/spec.md as seen from reports/, where the repository's report lives.
SPEC_FROM_REPORTS = f"../{SPEC_DOCUMENT}"


def spec_links(spec: str) -> str:
    """``spec`` with each entry id linked to its entry in docs/spec.md (``W01`` -> ``#W01``)."""
    return SPEC_ENTRY.sub(lambda m: f"[{m[0]}]({SPEC_FROM_REPORTS}#{m[0]})", spec)


def adapter_label(adapter: dict[str, Any]) -> str:
    """An adapter's name, with the interpreter it ran under when that was not tapeconf's own
    (``--adapter NAME@PYTHON``)."""
    _, at, python = str(adapter.get("spec") or "").partition("@")
    return f"{adapter['name']} (under {python})" if at else adapter["name"]


def _code(text: str) -> str:
    """Inline code that survives any backticks in ``text``."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _column(adapter: dict[str, Any], device: str | None, many_devices: bool) -> str:
    return f"{adapter['name']}/{device}" if many_devices and device else adapter["name"]


def _counts_text(counts: Counter[str]) -> str:
    parts = [f"{VERDICT_MARKS[v]} {counts[v]}" for v in VERDICT_MARKS if counts.get(v)]
    return " ".join(parts) or "–"


def render_markdown(document: dict[str, Any]) -> str:
    """The whole report."""
    sections = [
        _header(document),
        _summary(document),
        _scenarios(document),
        _mappings(document),
    ]
    return printable("\n\n".join(section.rstrip() for section in sections if section) + "\n")


def _header(document: dict[str, Any]) -> str:
    env = document["environment"]
    gpu = env.get("gpu")
    lines = [
        "# Tape conformance report",
        "",
        f"Generated {document['generated_at']} by tapeconf {document['generator']['version']} "
        f"in {document['duration_s']:.1f} s · {len(document['scenarios'])} scenarios · "
        "the spec is TensorFlow's `tf.GradientTape` "
        f"(entries W01, L01, … of [{SPEC_DOCUMENT}]({SPEC_FROM_REPORTS})).",
        "",
        f"Python {env['python']} on {cell_text(env['os'])} · "
        f"CPU: {cell_text(env['cpu'].get('model') or 'unknown')} "
        f"({env['cpu'].get('count')} cores) · GPU: "
        + (cell_text(f"{gpu['model']} (driver {gpu['driver']})") if gpu else "none")
        + f" · NumPy {env.get('numpy')}",
        "",
        *_suite_power_lines(),
        "| adapter | version | devices | status | unsupported features | declared divergences |",
        "|---|---|---|---|---|---|",
    ]
    for adapter in document["adapters"]:
        if adapter.get("error"):
            status = f"🛑 broken: {cell_text(adapter['error'])}"
        elif not adapter.get("available"):
            status = f"🚫 unavailable: {cell_text(adapter.get('reason') or '')}"
        else:
            status = "ran"
        missing = sorted(f for f, why in (adapter.get("features") or {}).items() if why)
        lines.append(
            f"| {cell_text(adapter_label(adapter))} | {cell_text(adapter.get('version') or '–')} | "
            f"{cell_text(', '.join(adapter.get('devices') or []) or '–')} | {status} | "
            f"{cell_text(', '.join(missing) or 'none')} | "
            f"{adapter.get('declared_divergences', 0)} |"
        )
    return "\n".join(lines)


def _suite_power_lines() -> list[str]:
    """How much a "conforms" is worth: the last full mutation run (docs/mutation.md)."""
    from conformance.mutation import suite_power

    power = suite_power()
    return [f"Suite power: {power} (see docs/mutation.md).", ""] if power else []


def _summary(document: dict[str, Any]) -> str:
    adapters = [a["name"] for a in document["adapters"]]
    areas = list(dict.fromkeys(s["area"] for s in document["scenarios"]))
    by_cell: dict[tuple[str, str], Counter[str]] = {}
    for record in document["results"]:
        by_cell.setdefault((record["area"], record["adapter"]), Counter())[record["verdict"]] += 1
    legend = " · ".join(
        f"{mark} {verdict.replace('_', ' ')}" for verdict, mark in VERDICT_MARKS.items()
    )
    lines = [
        "## Summary",
        "",
        f"Cells per area and adapter: {legend}.",
        "",
        "| area | " + " | ".join(cell_text(a) for a in adapters) + " |",
        "|---|" + "---|" * len(adapters),
    ]
    totals = {a: Counter() for a in adapters}
    for area in areas:
        row = []
        for adapter in adapters:
            counts = by_cell.get((area, adapter), Counter())
            totals[adapter].update(counts)
            row.append(_counts_text(counts))
        lines.append(f"| [{area}](#{area}) | " + " | ".join(row) + " |")
    lines.append(
        "| **all** | " + " | ".join(f"**{_counts_text(totals[a])}**" for a in adapters) + " |"
    )
    return "\n".join(lines)


def _scenarios(document: dict[str, Any]) -> str:
    adapters = {a["name"]: a for a in document["adapters"]}
    many = {name: len(a.get("devices") or []) > 1 for name, a in adapters.items()}
    per_scenario: dict[str, list[dict[str, Any]]] = {}
    for record in document["results"]:
        per_scenario.setdefault(record["id"], []).append(record)
    out = ["## Scenarios"]
    area = None
    for scenario in document["scenarios"]:
        if scenario["area"] != area:
            area = scenario["area"]
            out.append(f"### {area}")
        out.append(
            _scenario_section(scenario, per_scenario.get(scenario["id"], []), adapters, many)
        )
    return "\n\n".join(out)


def _scenario_section(
    scenario: dict[str, Any],
    records: list[dict[str, Any]],
    adapters: dict[str, Any],
    many: dict[str, bool],
) -> str:
    source = scenario["source"].rstrip("\n")
    fence = "````" if "```" in source else "```"
    lines = [
        f"#### `{scenario['id']}`",
        "",
        f"**{spec_links(cell_text(scenario['spec']))}** — "
        f"{cell_text(scenario['statement'], 1000)}. "
        f"Expected: {_code(scenario['expectation'])}.",
        "",
        "<details><summary>source</summary>",
        "",
        f"{fence}python",
        source,
        fence,
        "",
        "</details>",
        "",
        "| adapter | verdict | outcome | why |",
        "|---|---|---|---|",
    ]
    for record in records:
        adapter = adapters.get(record["adapter"], {"name": record["adapter"]})
        verdict = record["verdict"]
        observation = record.get("observation")
        outcome = observation["summary"] if observation else "–"
        if observation and observation.get("warnings"):
            outcome += f" (warned: {'; '.join(observation['warnings'])})"
        lines.append(
            f"| {cell_text(_column(adapter, record['device'], many.get(record['adapter'], False)))}"
            f" | {VERDICT_MARKS.get(verdict, '')} {verdict.replace('_', ' ')}"
            f" | {cell_text(outcome)} | "
            f"{cell_text(_why(record))} |"
        )
    return "\n".join(lines)


def _why(record: dict[str, Any]) -> str:
    divergence = record.get("divergence")
    verdict = record["verdict"]
    if verdict == "diverges" and divergence:
        return divergence["reason"]
    if verdict == "conforms":
        return ""
    detail = record.get("detail") or ""
    if divergence and verdict == "unexpected":
        return f"{detail} — declared: {divergence['reason']}"
    return detail


def _mappings(document: dict[str, Any]) -> str:
    out = [
        "## Mapping decisions",
        "",
        "How each adapter maps the neutral (TensorFlow-shaped) API to its framework; the report "
        "is only as honest as these.",
    ]
    for adapter in document["adapters"]:
        rows = adapter.get("mappings") or []
        out += ["", f"### {cell_text(adapter['name'])}", ""]
        if not rows:
            out.append(
                "No mapping table (the adapter could not be loaded)."
                if not adapter.get("available")
                else "No mapping table."
            )
            continue
        out += ["| neutral | native | why |", "|---|---|---|"]
        out += [
            f"| {cell_text(m['neutral'])} | {cell_text(m['native'])} | {cell_text(m['why'])} |"
            for m in rows
        ]
    return "\n".join(out)
