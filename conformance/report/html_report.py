"""``report.html``: the comparison report as one self-contained page (no network, no assets).

The page is rendered here, with every string escaped by ``html.escape``: a colour matrix of areas ×
adapters, filters by area, adapter, verdict and text, and a table with one row per scenario and one
verdict badge per adapter and device. A click on a row opens its details (statement, expectation,
neutral source, each adapter's outcome with the native error text and the divergence reason),
built by the inline script from the results document embedded as JSON in a
``<script type="application/json">`` (every ``<``, ``>`` and ``&`` escaped as ``\\u003c``...,
so ``</script>`` in a framework message cannot end it), with ``textContent`` only.

The filters read and write the page's query string, so a filtered view is a link:
``report.html?area=watching&adapter=torch&verdict=diverges&q=variable&open=watching.x``.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from typing import Any

from conformance.registry import SPEC_DOCUMENT, SPEC_ENTRY
from conformance.report.markdown_report import SPEC_FROM_REPORTS, adapter_label, printable

__all__ = ["VERDICT_COLOURS", "embed_json", "render_html"]

VERDICT_COLOURS = {
    "conforms": "#2da44e",
    "diverges": "#d4a72c",
    "unexpected": "#cf222e",
    "unsupported": "#afb8c1",
    "unavailable": "#6e7781",
    "crashed": "#8250df",
    "timed_out": "#e16f24",
    "error": "#82071e",
}


def embed_json(data: Any) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _spec_links(spec: str) -> str:
    """The escaped ``spec`` with each entry id linked to its docs/spec.md entry."""
    return SPEC_ENTRY.sub(lambda m: f'<a href="{SPEC_FROM_REPORTS}#{m[0]}">{m[0]}</a>', _e(spec))


def _columns(document: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(adapter, device, label) for each verdict column of the scenario table."""
    columns = []
    for adapter in document["adapters"]:
        devices = adapter.get("devices") or []
        if len(devices) > 1:
            columns += [(adapter["name"], d, f"{adapter['name']} {d}") for d in devices]
        else:
            columns.append((adapter["name"], devices[0] if devices else None, adapter["name"]))
    return columns


def render_html(document: dict[str, Any], fuzz: dict[str, Any] | None = None) -> str:
    """The whole page; with ``fuzz`` (a ``tapeconf fuzz`` result), its section too."""
    sections = [
        _header(document),
        _matrix(document),
        _scenario_table(document),
        _mappings(document),
    ]
    if fuzz is not None:
        from conformance.fuzz.output import fuzz_html

        sections.append(fuzz_html(fuzz))
    body = "\n".join(sections)
    return printable(  # the embedded JSON has none: json.dumps escapes control characters
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Tape conformance report</title>\n"
        f"<style>\n{_css()}\n</style>\n</head>\n<body>\n{body}\n"
        f'<script type="application/json" id="report-data">{embed_json(document)}</script>\n'
        f"<script>\n{_SCRIPT}\n</script>\n</body>\n</html>\n"
    )


def _css() -> str:
    colours = "\n".join(
        f".v-{verdict} {{ --v: {colour}; }}" for verdict, colour in VERDICT_COLOURS.items()
    )
    return _STYLE + "\n" + colours


def _header(document: dict[str, Any]) -> str:
    env = document["environment"]
    gpu = env.get("gpu")
    gpu_text = f"{gpu['model']} (driver {gpu['driver']})" if gpu else "none"
    rows = []
    for adapter in document["adapters"]:
        if adapter.get("error"):
            status = f"broken: {adapter['error']}"
        elif not adapter.get("available"):
            status = f"unavailable: {adapter.get('reason') or ''}"
        else:
            status = "ran"
        missing = sorted(f for f, why in (adapter.get("features") or {}).items() if why)
        rows.append(
            f"<tr><td>{_e(adapter_label(adapter))}</td><td>{_e(adapter.get('version') or '–')}</td>"
            f"<td>{_e(', '.join(adapter.get('devices') or []) or '–')}</td><td>{_e(status)}</td>"
            f"<td>{_e(', '.join(missing) or 'none')}</td>"
            f"<td>{adapter.get('declared_divergences', 0)}</td></tr>"
        )
    return (
        "<header>\n<h1>Tape conformance report</h1>\n"
        f'<p class="meta">Generated {_e(document["generated_at"])} by tapeconf '
        f"{_e(document['generator']['version'])} in {document['duration_s']:.1f} s · "
        f"{len(document['scenarios'])} scenarios · "
        "the spec is TensorFlow's <code>tf.GradientTape</code> "
        f'(<a href="{SPEC_FROM_REPORTS}">{SPEC_DOCUMENT}</a>).<br>'
        f"Python {_e(env['python'])} on {_e(env['os'])} · "
        f"CPU: {_e(env['cpu'].get('model') or 'unknown')} ({_e(env['cpu'].get('count'))} cores) · "
        f"GPU: {_e(gpu_text)} · NumPy {_e(env.get('numpy'))}</p>\n"
        f"{_suite_power()}"
        '<table class="adapters"><thead><tr><th>adapter</th><th>version</th><th>devices</th>'
        "<th>status</th><th>unsupported features</th><th>declared divergences</th></tr></thead>\n"
        f"<tbody>{''.join(rows)}</tbody></table>\n</header>"
    )


def _suite_power() -> str:
    """How much a "conforms" is worth: the last full mutation run (docs/mutation.md)."""
    from conformance.mutation import suite_power

    power = suite_power()
    return (
        f'<p class="meta">Suite power: {_e(power)} (see docs/mutation.md).</p>\n' if power else ""
    )


def _legend() -> str:
    items = "".join(
        f'<span class="key v-{v}"><i></i>{_e(v.replace("_", " "))}</span>' for v in VERDICT_COLOURS
    )
    return f'<div class="legend">{items}</div>'


def _bar(counts: Counter[str]) -> str:
    total = sum(counts.values())
    if not total:
        return '<div class="bar empty"></div><div class="counts">–</div>'
    segments = "".join(
        f'<span class="seg v-{v}" style="width:{100 * counts[v] / total:.3f}%"></span>'
        for v in VERDICT_COLOURS
        if counts.get(v)
    )
    text = " ".join(
        f'<span class="n v-{v}" title="{_e(v)}">{counts[v]}</span>'
        for v in VERDICT_COLOURS
        if counts.get(v)
    )
    return f'<div class="bar">{segments}</div><div class="counts">{text}</div>'


def _matrix(document: dict[str, Any]) -> str:
    adapters = [a["name"] for a in document["adapters"]]
    areas = list(dict.fromkeys(s["area"] for s in document["scenarios"]))
    counts: dict[tuple[str, str], Counter[str]] = {}
    for record in document["results"]:
        counts.setdefault((record["area"], record["adapter"]), Counter())[record["verdict"]] += 1
    head = "".join(f'<th data-adapter="{_e(a)}">{_e(a)}</th>' for a in adapters)
    rows = []
    totals = {a: Counter() for a in adapters}
    for area in areas:
        cells = []
        for adapter in adapters:
            found = counts.get((area, adapter), Counter())
            totals[adapter].update(found)
            cells.append(
                f'<td class="mcell" tabindex="0" data-area="{_e(area)}" '
                f'data-adapter="{_e(adapter)}" '
                f'title="{_e(area)} on {_e(adapter)}">{_bar(found)}</td>'
            )
        rows.append(
            f'<tr data-area="{_e(area)}"><th class="area">{_e(area)}</th>{"".join(cells)}</tr>'
        )
    total_cells = "".join(
        f'<td class="mcell" tabindex="0" data-area="" data-adapter="{_e(a)}">{_bar(totals[a])}</td>'
        for a in adapters
    )
    rows.append(f'<tr class="total" data-area=""><th class="area">all areas</th>{total_cells}</tr>')
    return (
        '<section id="summary">\n<h2>Summary</h2>\n'
        + _legend()
        + '\n<p class="hint">Cells per area and adapter. '
        "Click a cell to filter the scenarios below.</p>\n"
        f'<table id="matrix"><thead><tr><th>area</th>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table>\n</section>"
    )


def _options(
    name: str, label: str, values: list[str], describe: dict[str, str] | None = None
) -> str:
    options = "".join(
        f'<option value="{_e(v)}">{_e((describe or {}).get(v, v))}</option>' for v in values
    )
    return (
        f'<label>{_e(label)} <select id="f-{name}" name="{name}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def _scenario_table(document: dict[str, Any]) -> str:
    columns = _columns(document)
    areas = list(dict.fromkeys(s["area"] for s in document["scenarios"]))
    adapters = [a["name"] for a in document["adapters"]]
    present = {r["verdict"] for r in document["results"]}
    verdicts = [v for v in VERDICT_COLOURS if v in present]
    filters = (
        '<form id="filters" onsubmit="return false">'
        + _options("area", "Area", areas)
        + _options("adapter", "Adapter", adapters)
        + _options("verdict", "Verdict", verdicts, {v: v.replace("_", " ") for v in verdicts})
        + '<label>Search <input id="f-q" name="q" type="search" '
        'placeholder="id or statement"></label>'
        '<button type="button" id="f-reset">Reset</button>'
        f'<span id="shown-count">{len(document["scenarios"])} scenarios</span></form>'
    )
    cells: dict[tuple[str, str, str | None], dict[str, Any]] = {
        (r["id"], r["adapter"], r["device"]): r for r in document["results"]
    }
    head = "".join(
        f'<th class="col" data-adapter="{_e(a)}">{_e(label)}</th>' for a, _, label in columns
    )
    rows = []
    for scenario in document["scenarios"]:
        badges = []
        for adapter, device, _ in columns:
            record = cells.get((scenario["id"], adapter, device))
            verdict = record["verdict"] if record else "none"
            badges.append(
                f'<td class="badge v-{_e(verdict)}" data-adapter="{_e(adapter)}" '
                f'data-verdict="{_e(verdict)}">{_e(verdict.replace("_", " "))}</td>'
            )
        text = f"{scenario['id']} {scenario['spec']} {scenario['statement']}".lower()
        rows.append(
            f'<tr class="scenario" data-id="{_e(scenario["id"])}" '
            f'data-area="{_e(scenario["area"])}" data-text="{_e(text)}" tabindex="0">'
            f'<td class="sid"><code>{_e(scenario["id"])}</code></td>'
            f'<td class="spec">{_spec_links(scenario["spec"])}</td>'
            f"<td>{_e(scenario['statement'])}</td>"
            f'{"".join(badges)}</tr>\n<tr class="details" data-for="{_e(scenario["id"])}" hidden>'
            f'<td colspan="{3 + len(columns)}"></td></tr>'
        )
    return (
        '<section id="scenarios">\n<h2>Scenarios</h2>\n'
        + filters
        + '\n<p class="hint">Click a scenario for its source and every adapter\'s outcome.</p>\n'
        '<table id="scenario-table"><thead><tr><th>scenario</th><th>spec</th><th>statement</th>'
        f"{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n</section>"
    )


def _mappings(document: dict[str, Any]) -> str:
    parts = [
        '<section id="mappings">\n<h2>Mapping decisions</h2>',
        "<p>How each adapter maps the neutral (TensorFlow-shaped) API to its framework.</p>",
    ]
    for adapter in document["adapters"]:
        rows = (
            "".join(
                f"<tr><td><code>{_e(m['neutral'])}</code></td><td><code>{_e(m['native'])}</code></td>"
                f"<td>{_e(m['why'])}</td></tr>"
                for m in adapter.get("mappings") or []
            )
            or '<tr><td colspan="3">No mapping table.</td></tr>'
        )
        parts.append(
            f'<details class="mapping" data-adapter="{_e(adapter["name"])}">'
            f"<summary>{_e(adapter['name'])} ({len(adapter.get('mappings') or [])} decisions)"
            "</summary><table><thead><tr><th>neutral</th>"
            f"<th>native</th><th>why</th></tr></thead><tbody>{rows}</tbody></table></details>"
        )
    parts.append("</section>")
    return "\n".join(parts)


_STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0 auto; padding: 16px 24px 48px; max-width: 1600px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg2); padding: 8px 10px; border-radius: 6px; overflow-x: auto;
      margin: 6px 0; }
.meta, .hint { color: var(--muted); margin: 4px 0 10px; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--bg2); position: sticky; top: 0; z-index: 1; }
table.adapters td, table.adapters th { font-size: 13px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 6px 0; }
.legend .key i { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
                 background: var(--v); margin-right: 5px; vertical-align: -1px; }
#matrix td.mcell { min-width: 230px; cursor: pointer; white-space: nowrap; }
#matrix td.mcell .bar { display: inline-flex; width: 110px; vertical-align: middle; }
#matrix td.mcell .counts { display: inline-block; margin: 0 0 0 8px; vertical-align: middle; }
#matrix th, #matrix td { padding: 3px 8px; }
#matrix td.mcell:hover, #matrix td.mcell.selected { outline: 2px solid #0969da;
                                                     outline-offset: -2px; }
#matrix tr.total th, #matrix tr.total td { border-top: 2px solid var(--fg); }
.bar { display: flex; height: 14px; border-radius: 3px; overflow: hidden; background: var(--bg2); }
.bar .seg { background: var(--v); display: block; height: 100%; }
.counts { font-size: 12px; margin-top: 2px; }
.counts .n { color: var(--v); font-weight: 600; margin-right: 6px; filter: brightness(0.8); }
#filters { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; margin: 8px 0;
           padding: 8px 10px; background: var(--bg2); border-radius: 6px;
           position: sticky; top: 0; z-index: 2; }
#shown-count { color: var(--muted); margin-left: auto; }
#scenario-table { width: 100%; }
#scenario-table tr.scenario { cursor: pointer; }
#scenario-table tr.scenario:hover td:not(.badge) { background: #f0f6fc; }
#scenario-table tr.scenario.open td:not(.badge) { background: #ddf4ff; }
td.sid { white-space: nowrap; } td.spec { white-space: nowrap; color: var(--muted); }
td.badge { white-space: nowrap; font-size: 12px; font-weight: 600; color: #fff;
           background: var(--v);
           text-align: center; }
td.badge.v-unsupported, td.badge.v-diverges { color: #1f2328; }
td.badge.v-none { background: #fff; color: var(--muted); }
tr.details > td { background: #fbfcfd; padding: 10px 14px; }
.details table { margin-top: 6px; width: 100%; }
.details .verdict { font-weight: 600; color: var(--v); filter: brightness(0.8);
                    white-space: nowrap; }
.details .msg { white-space: pre-wrap; word-break: break-word; }
details.mapping { margin: 6px 0; } details.mapping table { margin: 6px 0 12px; }
[hidden] { display: none !important; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var scenarios = {}, results = {};
  data.scenarios.forEach(function (s) { scenarios[s.id] = s; results[s.id] = []; });
  data.results.forEach(function (r) { (results[r.id] = results[r.id] || []).push(r); });
  var fields = ["area", "adapter", "verdict", "q"];
  var control = {};
  fields.forEach(function (f) { control[f] = document.getElementById("f-" + f); });
  var rows = Array.prototype.slice.call(document.querySelectorAll("#scenario-table tr.scenario"));

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function state() {
    var s = {};
    fields.forEach(function (f) { s[f] = control[f].value.trim(); });
    return s;
  }

  function rowMatches(row, s) {
    if (s.area && row.dataset.area !== s.area) return false;
    if (s.q && row.dataset.text.indexOf(s.q.toLowerCase()) < 0) return false;
    if (!s.verdict) return true;
    var badges = row.querySelectorAll("td.badge");
    for (var i = 0; i < badges.length; i++) {
      var b = badges[i];
      var adapterMatches = !s.adapter || b.dataset.adapter === s.adapter;
      if (adapterMatches && b.dataset.verdict === s.verdict) return true;
    }
    return false;
  }

  function apply() {
    var s = state(), shown = 0;
    rows.forEach(function (row) {
      var visible = rowMatches(row, s);
      row.hidden = !visible;
      var details = row.nextElementSibling;
      details.hidden = !visible || !row.classList.contains("open");
      if (visible) shown++;
    });
    document.querySelectorAll("#scenario-table th.col, #scenario-table td.badge").forEach(function (node) {
      node.hidden = !!s.adapter && node.dataset.adapter !== s.adapter;
    });
    document.querySelectorAll("#matrix td.mcell").forEach(function (cell) {
      var sameArea = !s.area ? cell.dataset.area === "" : cell.dataset.area === s.area;
      cell.classList.toggle("selected", (!!s.area || !!s.adapter) && sameArea &&
                            (!s.adapter || cell.dataset.adapter === s.adapter));
    });
    document.getElementById("shown-count").textContent =
      "showing " + shown + " of " + rows.length + " scenarios";
    var params = new URLSearchParams();
    fields.forEach(function (f) { if (s[f]) params.set(f, s[f]); });
    var open = rows.filter(function (r) { return r.classList.contains("open"); })
                   .map(function (r) { return r.dataset.id; });
    if (open.length === 1) params.set("open", open[0]);
    var query = params.toString();
    var target = (query ? "?" + query : location.pathname) + location.hash;
    try { history.replaceState(null, "", target); } catch (e) { /* some file:// setups refuse */ }
    document.body.setAttribute("data-shown", String(shown));
  }

  function outcomeCell(r) {
    var td = el("td");
    var o = r.observation;
    if (!o) { td.textContent = "–"; return td; }
    if (o.error) {
      td.appendChild(el("div", "raised " + o.error.kind + " (" + o.error.native_type + ")"));
      td.appendChild(el("div", o.error.message, "msg"));
    } else {
      td.appendChild(el("div", o.summary, "msg"));
    }
    if (o.warnings && o.warnings.length) {
      td.appendChild(el("div", "warnings: " + o.warnings.join("; "), "msg"));
    }
    td.appendChild(el("div", (o.seconds * 1000).toFixed(1) + " ms", "hint"));
    return td;
  }

  function whyCell(r) {
    var td = el("td");
    if (r.detail) td.appendChild(el("div", r.detail, "msg"));
    if (r.divergence) {
      td.appendChild(el("div", "declared divergence: " + r.divergence.reason, "msg"));
      var declared = r.divergence.expectation + " (" + r.divergence.location + ")";
      td.appendChild(el("div", "declared outcome: " + declared, "hint"));
    }
    return td;
  }

  function fillDetails(row) {
    var cell = row.nextElementSibling.firstElementChild;
    if (cell.childNodes.length) return;
    var s = scenarios[row.dataset.id];
    cell.appendChild(el("p", s.spec + " — " + s.statement));
    var expect = el("p");
    expect.appendChild(el("strong", "Expected: "));
    expect.appendChild(el("code", s.expectation));
    cell.appendChild(expect);
    if (s.features.length) {
      cell.appendChild(el("p", "Needs features: " + s.features.join(", "), "hint"));
    }
    cell.appendChild(el("pre", s.source));
    var table = el("table"), head = el("tr");
    ["adapter", "verdict", "outcome", "why"].forEach(function (h) {
      head.appendChild(el("th", h));
    });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var body = el("tbody");
    (results[s.id] || []).forEach(function (r) {
      var tr = el("tr");
      tr.dataset.adapter = r.adapter;
      tr.appendChild(el("td", r.adapter + (r.device ? " / " + r.device : "")));
      var v = el("td", r.verdict.replace("_", " "), "verdict v-" + r.verdict);
      tr.appendChild(v);
      tr.appendChild(outcomeCell(r));
      tr.appendChild(whyCell(r));
      body.appendChild(tr);
    });
    table.appendChild(body);
    cell.appendChild(table);
  }

  function toggle(row, open) {
    var now = open === undefined ? !row.classList.contains("open") : open;
    row.classList.toggle("open", now);
    if (now) fillDetails(row);
    apply();
  }

  rows.forEach(function (row) {
    row.addEventListener("click", function () { toggle(row); });
    row.addEventListener("keydown", function (e) { if (e.key === "Enter") toggle(row); });
  });
  fields.forEach(function (f) { control[f].addEventListener("input", apply); });
  document.getElementById("f-reset").addEventListener("click", function () {
    fields.forEach(function (f) { control[f].value = ""; });
    apply();
  });
  document.querySelectorAll("#matrix td.mcell").forEach(function (cell) {
    function pick() {
      control.area.value = cell.dataset.area;
      control.adapter.value = cell.dataset.adapter;
      control.verdict.value = "";
      apply();
      document.getElementById("scenarios").scrollIntoView();
    }
    cell.addEventListener("click", pick);
    cell.addEventListener("keydown", function (e) { if (e.key === "Enter") pick(); });
  });

  var params = new URLSearchParams(location.search);
  fields.forEach(function (f) {
    var wanted = params.get(f);
    if (wanted === null) return;
    var known = Array.prototype.some.call(control[f].options || [], function (o) {
      return o.value === wanted;
    });
    if (control[f].tagName === "SELECT" && !known) return;
    control[f].value = wanted;
  });
  var openId = params.get("open");
  var opened = null;
  rows.forEach(function (row) {
    if (row.dataset.id === openId) { toggle(row, true); opened = row; }
  });
  apply();
  if (opened && !opened.hidden) opened.scrollIntoView({block: "nearest"});
  document.body.setAttribute("data-ready", "1");
})();
"""
