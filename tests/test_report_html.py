"""report.html end to end: headless Chromium renders the matrix and applies the filters.

The page reads its filters from the query string (``?area=&adapter=&verdict=&q=&open=``), so
Chromium's ``--dump-dom`` shows the DOM after the filters ran. Needs ``/usr/bin/chromium``
(Debian package ``chromium``); skipped with that reason when it is absent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.registry import all_scenarios

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium is not installed at /usr/bin/chromium "
    "(apt-get install chromium); the HTML report's end-to-end test needs it",
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class _Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: _Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[_Node] = []
        self.text: list[str] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def hidden(self) -> bool:
        return "hidden" in self.attrs

    def walk(self) -> list[_Node]:
        nodes = [self]
        for child in self.children:
            nodes += child.walk()
        return nodes

    def all_text(self) -> str:
        return " ".join(self.text + [child.all_text() for child in self.children])


class _Dom(HTMLParser):
    """Just enough of a DOM to ask what Chromium left visible."""

    VOID = {"meta", "input", "br", "img", "link", "hr"}

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.root = self.current = _Node("#document", {}, None)
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node = self.current
        while node.parent is not None and node.tag != tag:
            node = node.parent
        if node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.text.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[_Node]:
        return [n for n in self.root.walk() if n.tag == tag and (cls is None or cls in n.classes)]

    def by_id(self, node_id: str) -> _Node:
        return next(n for n in self.root.walk() if n.attrs.get("id") == node_id)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A real report on the reference and PyTorch (conforming, diverging and unsupported cells)."""
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("html-report")
    assert (
        main(
            ["report", "--adapter", "reference", "--adapter", "torch", "--out", str(out), "--quiet"]
        )
        == 0
    )
    return out / "report.html", json.loads((out / "results.json").read_text())


def _chromium(page: Path, query: str, tmp_path: Path, *extra: str) -> str:
    url = page.as_uri() + (f"?{query}" if query else "")
    done = subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra, url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _dom(report: tuple[Path, dict[str, Any]], query: str, tmp_path: Path) -> _Dom:
    dom = _Dom(_chromium(report[0], query, tmp_path, "--dump-dom"))
    assert dom.find("body")[0].attrs.get("data-ready") == "1", "the page's script did not finish"
    return dom


def _visible_ids(dom: _Dom) -> set[str]:
    return {row.attrs["data-id"] for row in dom.find("tr", "scenario") if not row.hidden}


def _ids(document: dict[str, Any], **where: str) -> set[str]:
    return {r["id"] for r in document["results"] if all(r[k] == v for k, v in where.items())}


def test_matrix_renders_every_area_and_adapter(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """No filters: a matrix row per area and totals, a coloured cell per adapter, all rows shown."""
    dom = _dom(report, "", tmp_path)
    document = report[1]
    areas = list(dict.fromkeys(s["area"] for s in document["scenarios"]))
    matrix_rows = [
        tr for tr in dom.by_id("matrix").walk() if tr.tag == "tr" and "data-area" in tr.attrs
    ]
    assert [tr.attrs["data-area"] for tr in matrix_rows] == [*areas, ""]
    for tr in matrix_rows:
        cells = [n for n in tr.walk() if n.tag == "td" and "mcell" in n.classes]
        assert [c.attrs["data-adapter"] for c in cells] == ["reference", "torch"]
        assert all(any("seg" in n.classes for n in c.walk()) for c in cells)
    torch_total = next(c for c in matrix_rows[-1].walk() if c.attrs.get("data-adapter") == "torch")
    counts = {n.attrs["title"]: int(n.all_text()) for n in torch_total.walk() if "n" in n.classes}
    assert counts == {v: n for v, n in document["summary"]["torch"].items() if n}
    assert len(_visible_ids(dom)) == len(all_scenarios())
    assert dom.find("body")[0].attrs["data-shown"] == str(len(all_scenarios()))


def test_adapter_and_verdict_filters(report: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """?adapter=torch&verdict=diverges shows just torch's diverging scenarios and torch's column."""
    dom = _dom(report, "adapter=torch&verdict=diverges", tmp_path)
    expected = _ids(report[1], adapter="torch", verdict="diverges")
    assert expected and _visible_ids(dom) == expected
    header = dom.by_id("scenario-table").walk()
    columns = {
        n.attrs["data-adapter"]: n.hidden for n in header if n.tag == "th" and "col" in n.classes
    }
    assert columns == {"reference": True, "torch": False}
    assert f"showing {len(expected)} of" in dom.by_id("shown-count").all_text()


def test_area_and_text_filters(report: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """?area= keeps one area; ?q= matches the id, spec or statement; both combine."""
    document = report[1]
    dom = _dom(report, "area=watching&q=variable", tmp_path)
    expected = {
        s["id"]
        for s in document["scenarios"]
        if s["area"] == "watching"
        and "variable" in f"{s['id']} {s['spec']} {s['statement']}".lower()
    }
    assert expected and _visible_ids(dom) == expected
    unsupported = _dom(report, "verdict=unsupported", tmp_path)
    assert _visible_ids(unsupported) == _ids(document, verdict="unsupported")


def test_unknown_filter_values_are_ignored(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    dom = _dom(report, "adapter=nope&verdict=bogus", tmp_path)
    assert len(_visible_ids(dom)) == len(all_scenarios())


def test_open_shows_a_scenarios_details(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """?open=ID expands that scenario: its source and each adapter's native outcome and reason."""
    document = report[1]
    record = next(
        r
        for r in document["results"]
        if r["adapter"] == "torch"
        and r["verdict"] == "diverges"
        and r["observation"]
        and r["observation"]["error"]
    )
    dom = _dom(report, f"open={record['id']}", tmp_path)
    details = next(n for n in dom.find("tr", "details") if n.attrs["data-for"] == record["id"])
    assert not details.hidden
    text = details.all_text()
    assert record["observation"]["error"]["message"].split("\n")[0] in text
    assert record["divergence"]["reason"] in text
    assert "def _(fw):" in text
    closed = [n for n in dom.find("tr", "details") if n.attrs["data-for"] != record["id"]]
    assert all(n.hidden for n in closed)


def test_screenshot(report: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """The page renders to a non-trivial image (the matrix and the table are drawn)."""
    shot = tmp_path / "report.png"
    _chromium(report[0], "", tmp_path, f"--screenshot={shot}", "--window-size=1400,1000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
