"""The scenario catalogue: one module per area of the spec; importing it registers every scenario.

A module that is missing (being written) is skipped only if it does not exist at all; any other
import error propagates, so a broken catalogue never looks smaller than it is.
"""

from __future__ import annotations

import importlib
import importlib.util

AREAS = (
    "tutorial",
    "watching",
    "variables",
    "lifecycle",
    "recording",
    "targets",
    "sources",
    "output_gradients",
    "unconnected",
    "dtypes",
    "tensors",
    "ops",
    "ops_extended",
    "custom_gradient",
    "nesting",
    "jacobian",
    "batch_jacobian",
)

for _area in AREAS:
    _name = f"{__name__}.{_area}"
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name)
