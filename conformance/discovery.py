"""Finding adapters: every adapter, built-in or third-party, is an entry point in ``tapeconf.adapters``.

An ``--adapter`` value has the same forms everywhere (``pytest --adapter``, ``tapeconf report``,
``tapeconf adapters``):

- ``NAME``: a registered entry point, e.g. ``torch``;
- ``module:Attr``: an adapter class or instance that is not registered, e.g.
  ``my_pkg.adapter:MyAdapter`` (``Attr`` may be dotted);
- ``NAME@PYTHON`` (or ``module:Attr@PYTHON``): that adapter run by another interpreter, in its own
  environment. Only ``tapeconf`` can run it (each adapter there is a worker process); pytest runs
  cells in its own process and says so.

Only the adapters a run selects are loaded: with no selection every registered adapter is tried,
and one that fails to load is reported by name (``Selection.broken``), never fatal to the others.

    >>> from conformance.discovery import select
    >>> [a.name for a in select(["reference"]).adapters]
    ['reference']
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from conformance.protocol import Adapter, AdapterValidationError, validate_adapter

__all__ = [
    "ENTRY_POINT_GROUP",
    "AdapterImportError",
    "AdapterSpecError",
    "Selection",
    "UnknownAdapterError",
    "describe_installed",
    "discover",
    "distribution_version",
    "is_import_path",
    "load",
    "registered_names",
    "select",
    "split_interpreter",
]

ENTRY_POINT_GROUP = "tapeconf.adapters"


class UnknownAdapterError(ValueError):
    """An adapter name that no entry point provides; the message lists the known ones."""


class AdapterImportError(ImportError):
    """A ``module:Attr`` adapter whose module or attribute cannot be imported (not installed)."""


class AdapterSpecError(ValueError):
    """An ``--adapter`` value of a form this command cannot run; the message says what can."""


@dataclass
class Selection:
    """The adapters a run uses, and the registered ones that failed to load (name -> why)."""

    adapters: list[Adapter]
    broken: dict[str, str] = field(default_factory=dict)


def is_import_path(spec: str) -> bool:
    """Whether ``spec`` is ``module:attr`` (an adapter not registered as an entry point)."""
    return ":" in spec


def split_interpreter(spec: str) -> tuple[str, str | None]:
    """``"NAME@PYTHON"`` -> ``("NAME", "PYTHON")``; ``"NAME"`` -> ``("NAME", None)``."""
    target, at, python = spec.partition("@")
    return target, (python if at else None)


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name)


def registered_names() -> list[str]:
    """The names of the registered adapters, without loading (importing) any of them."""
    return list(dict.fromkeys(point.name for point in _entry_points()))


def _unknown(names: Sequence[str]) -> UnknownAdapterError:
    known = registered_names()
    return UnknownAdapterError(
        f"unknown adapter {', '.join(map(repr, names))}; known adapters: "
        f"{', '.join(known) or 'none'} (an adapter that is not registered can be given as "
        "module:Attr; `tapeconf adapters` says which are installed)"
    )


def _import_target(spec: str) -> Any:
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise AdapterSpecError(
            f"--adapter {spec!r}: an import path must look like 'package.module:Class'"
        )
    try:
        target: Any = importlib.import_module(module_name)
        for attr in attr_path.split("."):
            target = getattr(target, attr)
    except Exception as error:  # a missing or broken module must name itself
        raise AdapterImportError(
            f"adapter {spec!r} cannot be imported: {type(error).__name__}: {error}"
        ) from error
    return target


def _entry_point_target(spec: str) -> Any:
    points = [point for point in _entry_points() if point.name == spec]
    if not points:
        raise _unknown([spec])
    try:
        return points[0].load()
    except Exception as error:  # a broken package must name itself, not abort the others
        raise AdapterValidationError(
            f"adapter entry point {spec!r} ({points[0].value}) failed to load: "
            f"{type(error).__name__}: {error}"
        ) from error


def load(spec: str) -> Adapter:
    """The adapter an entry-point name or a ``module:attr`` import path names, validated.

    Raises ``UnknownAdapterError`` for an unregistered name, ``AdapterSpecError`` for a form that
    cannot run in this process (``NAME@PYTHON``), ``AdapterImportError`` for an import path that
    cannot be imported, and ``AdapterValidationError`` for an entry point that fails to load or
    something that is not an adapter (each naming it).
    """
    target_spec, python = split_interpreter(spec)
    if python is not None:
        raise AdapterSpecError(
            f"--adapter {spec!r} names an adapter in another environment, which runs only as a "
            "tapeconf worker: use `tapeconf report --adapter "
            f"{spec}` (pytest runs its cells in this process; `--adapter {target_spec}` runs "
            "them with this interpreter)"
        )
    if is_import_path(spec):
        target = _import_target(spec)
    else:
        target = _entry_point_target(spec)
    try:
        adapter = target() if isinstance(target, type) else target
    except Exception as error:
        raise AdapterValidationError(
            f"adapter {spec!r}: constructing it raised {type(error).__name__}: {error}"
        ) from error
    validate_adapter(adapter, check_namespace=False)
    if not is_import_path(spec) and adapter.name != spec:
        raise AdapterValidationError(
            f"adapter entry point {spec!r} has name {adapter.name!r}; "
            "the entry-point name and Adapter.name must agree"
        )
    return adapter


def discover() -> Selection:
    """Every registered adapter that loads, by name; those that fail are in ``broken``."""
    selection = Selection([])
    for name in registered_names():
        try:
            selection.adapters.append(load(name))
        except (AdapterImportError, AdapterValidationError) as error:
            selection.broken[name] = str(error)
    return selection


def select(specs: Sequence[str] | None) -> Selection:
    """The adapters ``specs`` name (each loaded, and only those), or every registered one.

    An explicitly named adapter that is unknown or fails to load raises (the run cannot do what
    was asked); without ``specs``, a broken adapter is only listed in ``Selection.broken``.
    """
    if not specs:
        return discover()
    specs = list(dict.fromkeys(specs))
    known = set(registered_names())
    unknown = [s for s in specs if not is_import_path(s) and split_interpreter(s)[0] not in known]
    if unknown:
        raise _unknown(unknown)
    adapters = [load(spec) for spec in specs]
    names = [adapter.name for adapter in adapters]
    clashing = sorted({name for name in names if names.count(name) > 1})
    if clashing:
        raise AdapterSpecError(
            f"--adapter values {specs} name the adapter {clashing[0]!r} more than once; "
            "give each adapter once"
        )
    return Selection(adapters)


# ---- describing adapters without importing their frameworks ------------------------------------


def distribution_version(names: Any) -> str | None:
    """The installed version of the first of ``names`` (a distribution name or several), if any."""
    from importlib import metadata

    for name in [names] if isinstance(names, str) else list(names or ()):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _divergence_count(adapter: Adapter) -> int:
    from conformance.divergences import load_divergences
    from conformance.registry import all_scenarios

    path = adapter.divergences_path()
    return len(load_divergences(path, [s.id for s in all_scenarios()])) if path else 0


def describe_installed(spec: str) -> dict[str, Any]:
    """What ``tapeconf adapters`` shows for ``spec``, without importing the framework if it can.

    An adapter with a ``distribution`` attribute is "installed" when that distribution's package
    metadata is present, and its version is read from there (milliseconds; importing TensorFlow
    takes seconds). Otherwise ``available()`` and ``version()`` are called. Devices are left
    empty: they need the framework itself (``tapeconf adapters --devices``). The result has the
    shape of the report's adapters block.
    """
    from conformance.protocol import features_for
    from conformance.report.wire import adapter_block_defaults

    # until the adapter loads, its name is the spec's target as given (module:attr too)
    block = {**adapter_block_defaults(spec), "name": split_interpreter(spec)[0]}
    try:
        adapter = load(spec)
        block["name"] = adapter.name
        version = distribution_version(getattr(adapter, "distribution", None))
        why = None if version is not None else adapter.available()
        if why is not None:
            block["reason"] = str(why)
            return block
        path = adapter.divergences_path()
        block.update(
            available=True,
            version=version if version is not None else str(adapter.version()),
            features={name: why for name, why in features_for(adapter, None).items()},
            divergences_file=str(path) if path else None,
            declared_divergences=_divergence_count(adapter),
        )
    except AdapterImportError as error:  # not installed here: unavailable, with the reason
        block["reason"] = str(error)
    except Exception as error:  # a broken adapter is shown as broken, the others still listed
        block["error"] = f"{type(error).__name__}: {error}"
    return block
