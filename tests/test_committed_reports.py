"""The reports committed in reports/ match the catalogue, so they cannot silently go stale.

`make report` (and `make compare-tf212` for reports/tf-2.12) regenerate them; when a scenario is
added, renamed or removed, these tests fail until the reports are regenerated.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from conformance.registry import all_scenarios

REPORTS = Path(__file__).resolve().parents[1] / "reports"
SCHEMA = Path(__file__).resolve().parents[1] / "conformance" / "schema" / "results.schema.json"


def _load(relative: str) -> dict:
    path = REPORTS / relative
    assert path.is_file(), f"{path} is missing: regenerate it with `make report`"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("relative", ["results.json", "tf-2.12/results.json"])
def test_committed_report_covers_exactly_the_catalogue(relative):
    """Every adapter/device in a committed report has one cell per catalogue scenario, no more."""
    document = _load(relative)
    catalogue = {s.id for s in all_scenarios()}
    cells = defaultdict(set)
    for record in document["results"]:
        cells[(record["adapter"], record["device"])].add(record["id"])
    assert cells, f"reports/{relative} has no cells"
    for (adapter, device), ids in cells.items():
        missing, extra = sorted(catalogue - ids), sorted(ids - catalogue)
        assert not missing and not extra, (
            f"reports/{relative} is stale for {adapter}/{device}: missing {missing[:5]}, "
            f"unknown {extra[:5]}; regenerate it (make report / make compare-tf212)"
        )


def test_main_report_has_the_four_frameworks_and_validates():
    """The main report ran reference, TensorFlow, PyTorch and JAX, and follows the JSON Schema."""
    jsonschema = pytest.importorskip("jsonschema")
    document = _load("results.json")
    ran = {a["name"] for a in document["adapters"] if a.get("available")}
    assert {"reference", "tensorflow", "torch", "jax"} <= ran
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert (REPORTS / "REPORT.md").is_file() and (REPORTS / "report.html").is_file()
