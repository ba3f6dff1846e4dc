"""Finding adapters: every adapter, built-in or third-party, is an entry point in ``tapeconf.adapters``."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points

from conformance.protocol import Adapter, AdapterValidationError, validate_adapter

__all__ = ["ENTRY_POINT_GROUP", "UnknownAdapterError", "discover", "select"]

ENTRY_POINT_GROUP = "tapeconf.adapters"


class UnknownAdapterError(ValueError):
    """An adapter name that no entry point provides; the message lists the known ones."""


def discover() -> dict[str, Adapter]:
    """All registered adapters by name, in entry-point name order, each validated on load."""
    adapters: dict[str, Adapter] = {}
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            factory = point.load()
        except Exception as error:  # a broken third-party package must name itself
            raise AdapterValidationError(
                f"adapter entry point {point.name!r} ({point.value}) failed to load: "
                f"{type(error).__name__}: {error}"
            ) from error
        adapter = factory() if isinstance(factory, type) else factory
        validate_adapter(adapter, check_namespace=False)
        if adapter.name != point.name:
            raise AdapterValidationError(
                f"adapter entry point {point.name!r} ({point.value}) has name {adapter.name!r}; "
                "the entry-point name and Adapter.name must agree"
            )
        adapters[adapter.name] = adapter
    return adapters


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
