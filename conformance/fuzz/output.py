"""What ``tapeconf fuzz`` writes: ``fuzz.json`` (schema'd) and ``FUZZ.md``, atomically.

``fuzz.json`` follows ``conformance/schema/fuzz.schema.json``: the run (seed, programs, time,
adapters), every finding (oracle, adapter, shrunk source, both observations, a ready-to-paste
scenario) and every adapter's divergence profile (pair of outcome classes: count and the
smallest program). ``FUZZ.md`` says the same for people.
"""

from __future__ import annotations

import datetime
import html
import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.fuzz import FuzzFileError
from conformance.report.results import write_atomically

if TYPE_CHECKING:  # the session needs Hypothesis; reading a fuzz.json does not
    from conformance.fuzz.session import FuzzResult

__all__ = [
    "FUZZ_SCHEMA_VERSION",
    "FuzzFileError",
    "fuzz_document",
    "fuzz_html",
    "fuzz_markdown",
    "load_fuzz_document",
    "write_fuzz_files",
]

FUZZ_SCHEMA_VERSION = 1


def _commit() -> str | None:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None


def fuzz_document(
    result: FuzzResult, *, seed: int, max_examples: int, time_budget: float | None
) -> dict[str, Any]:
    return {
        "schema_version": FUZZ_SCHEMA_VERSION,
        "kind": "tapeconf-fuzz",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _commit(),
        "settings": {"seed": seed, "max_examples": max_examples, "time_budget_s": time_budget},
        "programs": result.programs,
        "rounds": result.rounds,
        "stopped_by": result.stopped_by,
        "duration_s": round(result.seconds, 3),
        "programs_per_second": round(result.programs / result.seconds, 2)
        if result.seconds
        else None,
        "adapters": {
            name: {
                "version": block.get("version"),
                "available": bool(block.get("available")),
                "reason": block.get("reason") or block.get("error"),
                "programs": result.per_adapter.get(name, 0),
                "unsupported": result.unsupported.get(name, 0),
            }
            for name, block in result.adapters.items()
        },
        "oracle": {"checked": result.oracle_checked, "abstained": result.oracle_abstained},
        "findings": [finding.as_json() for finding in result.findings],
        "profiles": {
            adapter: [
                {
                    "tensorflow": key[0],
                    "adapter": key[1],
                    "count": entry.count,
                    "smallest": entry.source,
                    "tensorflow_observed": entry.tensorflow,
                    "adapter_observed": entry.observed,
                }
                for key, entry in sorted(profile.items(), key=lambda item: -item[1].count)
            ]
            for adapter, profile in result.profiles.items()
        },
    }


def _fence(text: str) -> list[str]:
    return ["```python", text.rstrip(), "```"]


def fuzz_markdown(document: dict[str, Any]) -> str:
    lines = [
        "# Generated tape programs (`tapeconf fuzz`)",
        "",
        f"{document['programs']} programs in {document['duration_s']:.0f} s "
        f"({document['programs_per_second']} per second), seed {document['settings']['seed']}, "
        f"commit {document['commit'] or 'unknown'}; every program ran on TensorFlow and on each "
        "adapter below, in the workers `tapeconf report` uses.",
        "",
        "| adapter | version | programs | unsupported (a feature it lacks) |",
        "|---|---|---|---|",
    ]
    for name, block in document["adapters"].items():
        version = block["version"] or f"not available: {block['reason']}"
        lines.append(f"| {name} | {version} | {block['programs']} | {block['unsupported']} |")
    oracle = document["oracle"]
    lines += [
        "",
        f"Finite-difference oracle: {oracle['checked']} gradients checked, "
        f"{oracle['abstained']} where it abstains (complex, float16, kinks, custom gradients, "
        "second order).",
        "",
        f"## Findings ({len(document['findings'])})",
        "",
    ]
    if not document["findings"]:
        lines += [
            "No difference: the reference matched TensorFlow on every program, and no "
            "framework disagreed on a value or with the oracle.",
            "",
        ]
    for index, finding in enumerate(document["findings"], 1):
        tf = (finding["tensorflow"] or {}).get("summary", "(no observation)")
        observed = (finding["observed"] or {}).get("summary", "(no observation)")
        lines += [
            f"### {index}. {finding['oracle']} on {finding['adapter']}: `{finding['signature']}`",
            "",
            f"- difference: {finding['detail']}",
            f"- TensorFlow: {tf}",
            f"- {finding['adapter']}: {observed}",
        ]
        for adapter, verdict in finding.get("oracle_verdicts", {}).items():
            lines.append(f"- finite differences vs {adapter}: {verdict}")
        lines += [
            "",
            *_fence(finding["source"]),
            "",
            "As a scenario (TensorFlow's outcome is the expectation):",
            "",
            *_fence(finding["scenario"]),
            "",
        ]
    lines += [
        "## Divergence profiles",
        "",
        "Where a framework's outcome class (a value, `None`, which error kind) differs from "
        "TensorFlow's: how often, and the smallest program that shows it.",
        "",
    ]
    if not document["profiles"]:
        lines += ["(no other framework ran)", ""]
    for adapter, entries in document["profiles"].items():
        lines += [
            f"### {adapter}",
            "",
            "| TensorFlow | this framework | programs |",
            "|---|---|---|",
        ]
        lines += [f"| {e['tensorflow']} | {e['adapter']} | {e['count']} |" for e in entries]
        lines.append("")
        for e in entries:
            lines += [
                f"**{e['tensorflow']} → {e['adapter']}** ({e['count']}): TensorFlow "
                f"{e['tensorflow_observed']}; {adapter} {e['adapter_observed']}",
                "",
                *_fence(e["smallest"]),
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def write_fuzz_files(document: dict[str, Any], out: Path) -> list[Path]:
    """``out/fuzz.json`` and ``out/FUZZ.md``, both or neither."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        out / "fuzz.json": json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False)
        + "\n",
        out / "FUZZ.md": fuzz_markdown(document),
    }
    write_atomically(files)
    return list(files)


def load_fuzz_document(path: Path) -> dict[str, Any]:
    """A ``fuzz.json`` written by ``tapeconf fuzz``, checked enough to render it."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FuzzFileError(f"--fuzz {path}: cannot read it as JSON ({error})") from None
    if not isinstance(document, dict) or document.get("kind") != "tapeconf-fuzz":
        raise FuzzFileError(
            f'--fuzz {path}: not a tapeconf fuzz result (no "kind": "tapeconf-fuzz")'
        )
    version = document.get("schema_version")
    if type(version) is not int or version != FUZZ_SCHEMA_VERSION:
        raise FuzzFileError(
            f"--fuzz {path}: schema_version {version!r}, but this tapeconf reads "
            f"{FUZZ_SCHEMA_VERSION} (rerun tapeconf fuzz)"
        )
    missing = [
        key for key in ("programs", "findings", "profiles", "adapters") if key not in document
    ]
    if missing:
        raise FuzzFileError(f"--fuzz {path}: missing {', '.join(missing)}")
    return document


def fuzz_html(document: dict[str, Any]) -> str:
    """The HTML report's section on a fuzz run: counts, findings, divergence profiles."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(name)}</td><td>{e(str(block.get('version') or '–'))}</td>"
        f"<td>{block.get('programs', 0)}</td><td>{block.get('unsupported', 0)}</td></tr>"
        for name, block in document["adapters"].items()
    )
    findings = (
        "".join(
            f"<details><summary>{e(f['oracle'])} on {e(f['adapter'])}: <code>{e(f['signature'])}</code>"
            f"</summary><p>{e(f['detail'])}</p><pre>{e(f['source'])}</pre>"
            f"<p>TensorFlow: {e((f.get('tensorflow') or {}).get('summary', '–'))}<br>"
            f"{e(f['adapter'])}: {e((f.get('observed') or {}).get('summary', '–'))}</p></details>"
            for f in document["findings"]
        )
        or "<p>No difference found.</p>"
    )
    profiles = "".join(
        f"<h3>{e(adapter)}</h3><table><thead><tr><th>TensorFlow</th><th>{e(adapter)}</th>"
        "<th>programs</th><th>smallest</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td>{e(p['tensorflow'])}</td><td>{e(p['adapter'])}</td><td>{p['count']}</td>"
            f"<td><details><summary>program</summary><pre>{e(p['smallest'])}</pre></details></td></tr>"
            for p in entries
        )
        + "</tbody></table>"
        for adapter, entries in document["profiles"].items()
    )
    return (
        '<section id="fuzz">\n<h2>Generated programs (tapeconf fuzz)</h2>\n'
        f'<p class="meta">{document["programs"]} programs, seed '
        f"{e(str(document.get('settings', {}).get('seed')))}, commit {e(str(document.get('commit')))}; "
        f"{len(document['findings'])} findings.</p>\n"
        "<table><thead><tr><th>adapter</th><th>version</th><th>programs</th><th>unsupported</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>\n<h3>Findings</h3>\n{findings}\n"
        f"<h3>Divergence profiles</h3>\n{profiles or '<p>(no other framework ran)</p>'}\n</section>"
    )
