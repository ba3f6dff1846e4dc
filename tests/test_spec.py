"""docs/spec.md and the catalogue agree: every entry is pinned or left out, every citation exists.

Run as a script (``python tests/test_spec.py --write``) to regenerate each entry's
``**Scenarios:**`` line from the catalogue's ``spec=`` fields after adding scenarios or entries.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

SPEC_PATH = Path(__file__).resolve().parent.parent / "docs" / "spec.md"

_ENTRY = re.compile(
    r'^<a id="(?P<id>[A-Z]{1,5}[0-9]{2,})"></a>\n### (?P<heading>[^\n]*)\n(?P<body>.*?)(?=^<a id=|\Z)',
    re.M | re.S,
)
_SECTION = re.compile(r'^<a id="(?P<id>[A-Z])"></a>\n## (?P=id)\. ', re.M)
_SCENARIOS_LINE = re.compile(r"^\*\*Scenarios:\*\*.*$", re.M)


@dataclass(frozen=True)
class Entry:
    id: str
    heading: str
    body: str

    @property
    def left_out(self) -> bool:
        return "**Left out:**" in self.body

    @property
    def listed_scenarios(self) -> list[str] | None:
        line = _SCENARIOS_LINE.search(self.body)
        return re.findall(r"`([^`]+)`", line.group(0)) if line else None


_FENCE = re.compile(r"^```.*?^```\n", re.M | re.S)


def without_code_blocks(text: str) -> str:
    """``text`` without its fenced blocks (the format example is not an entry)."""
    return _FENCE.sub("", text)


def parse_entries(text: str) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for match in _ENTRY.finditer(without_code_blocks(text)):
        entry = Entry(match["id"], match["heading"], match["body"])
        if entry.id in entries:
            raise ValueError(f"docs/spec.md: entry {entry.id} is written twice")
        entries[entry.id] = entry
    return entries


def parse_sections(text: str) -> set[str]:
    return {match["id"] for match in _SECTION.finditer(without_code_blocks(text))}


def pinning_scenarios() -> dict[str, list[str]]:
    """Spec anchor -> the ids of the scenarios citing it, in catalogue order."""
    from conformance.registry import all_scenarios, spec_ids

    cited: dict[str, list[str]] = {}
    for scenario in all_scenarios():
        for anchor in spec_ids(scenario.spec):
            cited.setdefault(anchor, []).append(scenario.id)
    return cited


def scenarios_line(ids: list[str]) -> str:
    return "**Scenarios:** " + ", ".join(f"`{i}`" for i in ids)


def rewrite_scenario_lines(text: str, cited: dict[str, list[str]]) -> str:
    """``text`` with every pinned entry's ``**Scenarios:**`` line regenerated from ``cited``."""

    def fix(match: re.Match[str]) -> str:
        entry = Entry(match["id"], match["heading"], match["body"])
        whole = match.group(0)
        if entry.left_out or entry.id not in cited:
            return whole
        line = scenarios_line(cited[entry.id])
        if _SCENARIOS_LINE.search(whole):
            return _SCENARIOS_LINE.sub(line, whole, count=1)
        return whole.rstrip("\n") + f"\n\n{line}\n\n"

    # fenced blocks (the format example) are kept as they are
    pieces = re.split(f"({_FENCE.pattern})", text, flags=_FENCE.flags)
    return "".join(p if p.startswith("```") else _ENTRY.sub(fix, p) for p in pieces)


# ---- the tests --------------------------------------------------------------------------------

TEXT = SPEC_PATH.read_text(encoding="utf-8")
ENTRIES = parse_entries(TEXT)


def test_the_spec_has_entries_and_sections():
    """The file parses: the entry format of docs/spec.md is what this test reads."""
    assert len(ENTRIES) >= 100, f"entries={len(ENTRIES)}, but should be the whole spec (>= 100)"
    assert parse_sections(TEXT) >= set("ABCDEFGHIJKLMNO")


def test_every_entry_states_the_tensorflow_behaviour():
    """Each entry has a title and a **TF 2.21:** paragraph."""
    bad = [e.id for e in ENTRIES.values() if "**TF 2.21:**" not in e.body]
    untitled = [e.id for e in ENTRIES.values() if not e.heading.startswith(f"{e.id} · ")]
    assert not bad, f"entries without a **TF 2.21:** paragraph: {bad}"
    assert not untitled, f"headings not of the form '### ID · title': {untitled}"


def test_every_entry_is_pinned_or_left_out_with_a_reason():
    """An entry no scenario cites must say **Left out:** and why; a left-out one has no scenario."""
    cited = pinning_scenarios()
    unpinned = [e.id for e in ENTRIES.values() if not e.left_out and e.id not in cited]
    assert not unpinned, (
        f"entries={unpinned} have no scenario, but should be pinned by one or say "
        "'**Left out:** why'"
    )
    contradicted = {e.id: cited[e.id] for e in ENTRIES.values() if e.left_out and e.id in cited}
    assert not contradicted, f"entries marked left out are cited by scenarios: {contradicted}"


def test_every_cited_spec_id_exists():
    """Each scenario's spec= names existing entries or sections of docs/spec.md."""
    known = set(ENTRIES) | parse_sections(TEXT)
    cited = pinning_scenarios()
    unknown = {anchor: ids for anchor, ids in cited.items() if anchor not in known}
    assert not unknown, (
        f"spec ids={sorted(unknown)} cited by {unknown}, but docs/spec.md has no such entry "
        "(add one, in the format its introduction shows)"
    )


def test_every_scenario_cites_the_spec():
    """No scenario's spec= is only a note: it names at least one entry or section."""
    from conformance.registry import all_scenarios, spec_ids

    bare = [s.id for s in all_scenarios() if not spec_ids(s.spec)]
    assert not bare, f"scenarios={bare} cite no spec id, but should cite an entry like 'W01'"


def test_scenario_lists_match_the_catalogue():
    """Each **Scenarios:** line is what the catalogue cites (regenerate with --write)."""
    stale = {
        e.id: e.listed_scenarios
        for e in ENTRIES.values()
        if not e.left_out and e.listed_scenarios != pinning_scenarios().get(e.id)
    }
    assert not stale, (
        f"**Scenarios:** lines of {sorted(stale)} differ from the catalogue's spec= citations; "
        "run `make spec-lists` (or `.venv/bin/python tests/test_spec.py --write`)"
    )


def test_rewrite_regenerates_a_stale_line():
    """--write replaces a stale list and adds a missing one, leaving left-out entries alone."""
    text = (
        '<a id="X01"></a>\n### X01 · a\n\n**TF 2.21:** a.\n\n**Scenarios:** `old.one`\n\n'
        '<a id="X02"></a>\n### X02 · b\n\n**TF 2.21:** b.\n\n'
        '<a id="X03"></a>\n### X03 · c\n\n**TF 2.21:** c.\n\n**Left out:** why.\n'
    )
    cited = {"X01": ["new.one", "new.two"], "X02": ["b.one"]}
    entries = parse_entries(rewrite_scenario_lines(text, cited))
    assert entries["X01"].listed_scenarios == ["new.one", "new.two"]
    assert entries["X02"].listed_scenarios == ["b.one"]
    assert entries["X03"].listed_scenarios is None and entries["X03"].left_out


def test_report_spec_ids_link_to_their_entries():
    """The Markdown and HTML reports link each cited id to its anchor in docs/spec.md."""
    from conformance.report.html_report import _spec_links
    from conformance.report.markdown_report import SPEC_FROM_REPORTS, spec_links

    assert spec_links("J01, N01 (implied)") == (
        f"[J01]({SPEC_FROM_REPORTS}#J01), [N01]({SPEC_FROM_REPORTS}#N01) (implied)"
    )
    assert _spec_links("W01 <b>") == f'<a href="{SPEC_FROM_REPORTS}#W01">W01</a> &lt;b&gt;'
    assert (SPEC_PATH.parent.parent / "reports" / SPEC_FROM_REPORTS).resolve() == SPEC_PATH
    assert '<a id="J01"></a>' in TEXT and '<a id="N01"></a>' in TEXT


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {sys.argv[0]} --write   (regenerates docs/spec.md's Scenarios lines)")
    sys.path.insert(0, str(SPEC_PATH.parent.parent))
    new_text = rewrite_scenario_lines(TEXT, pinning_scenarios())
    SPEC_PATH.write_text(new_text, encoding="utf-8")
    print(f"{SPEC_PATH}: {'rewritten' if new_text != TEXT else 'already up to date'}")
