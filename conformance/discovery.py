"""Finding adapters: every adapter, built-in or third-party, is an entry point in ``tapeconf.adapters``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from conformance.protocol import Adapter, AdapterValidationError, validate_adapter

__all__ = [
    "ENTRY_POINT_GROUP",
    "UnknownAdapterError",
    "discover",
    "is_import_path",
    "load",
    "select",
]

ENTRY_POINT_GROUP = "tapeconf.adapters"


class UnknownAdapterError(ValueError):
    """An adapter name that no entry point provides; the message lists the known ones."""


def is_import_path(spec: str) -> bool:
    """Whether ``spec`` is ``module:attr`` (an adapter not registered as an entry point)."""
    return ":" in spec


def load(spec: str) -> Adapter:
    """The adapter an entry-point name or a ``module:attr`` import path names, validated.

    Raises ``UnknownAdapterError`` for an unregistered name and ``AdapterValidationError`` for
    something that is not an adapter or fails to import (naming the entry point).
    """
    if is_import_path(spec):
        module_name, _, attr_path = spec.partition(":")
        target: Any = importlib.import_module(module_name)
        for attr in attr_path.split("."):
            target = getattr(target, attr)
    else:
        points = [p for p in entry_points(group=ENTRY_POINT_GROUP) if p.name == spec]
        if not points:
            known = sorted({p.name for p in entry_points(group=ENTRY_POINT_GROUP)})
            raise UnknownAdapterError(
                f"unknown adapter {spec!r}; known adapters: {', '.join(known)}"
            )
        try:
            target = points[0].load()
        except Exception as error:  # a broken third-party package must name itself
            raise AdapterValidationError(
                f"adapter entry point {spec!r} ({points[0].value}) failed to load: "
                f"{type(error).__name__}: {error}"
            ) from error
    adapter = target() if isinstance(target, type) else target
    validate_adapter(adapter, check_namespace=False)
    if not is_import_path(spec) and adapter.name != spec:
        raise AdapterValidationError(
            f"adapter entry point {spec!r} has name {adapter.name!r}; "
            "the entry-point name and Adapter.name must agree"
        )
    return adapter


def discover() -> dict[str, Adapter]:
    """All registered adapters by name, in entry-point name order, each validated on load."""
    names = sorted({point.name for point in entry_points(group=ENTRY_POINT_GROUP)})
    return {name: load(name) for name in names}


def select(names: Sequence[str] | None) -> list[Adapter]:
    """The adapters called ``names`` (all when empty), or ``UnknownAdapterError``."""
    adapters = discover()
    if not names:
        return list(adapters.values())
    unknown = [name for name in names if name not in adapters]
    if unknown:
        listing = ", ".join(
            f"{name} ({'installed' if a.available() is None else 'not installed'})"
            for name, a in adapters.items()
        )
        raise UnknownAdapterError(
            f"unknown adapter {', '.join(map(repr, unknown))}; known adapters: {listing}"
        )
    return [adapters[name] for name in dict.fromkeys(names)]
