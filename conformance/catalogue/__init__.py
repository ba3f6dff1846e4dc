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
    "custom_gradient",
    "nesting",
    "jacobian",
    "batch_jacobian",
)

#: The modules of the catalogue: one per area, plus ``ops_extended`` (area ``ops``: the ops of
#: protocol 1.2's ``extended_ops`` and the op table's rarer paths, kept apart for their size).
MODULES = (*AREAS[: AREAS.index("ops") + 1], "ops_extended", *AREAS[AREAS.index("ops") + 1 :])

for _module in MODULES:
    _name = f"{__name__}.{_module}"
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name)
