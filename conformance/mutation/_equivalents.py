"""The reviewed list of equivalent mutants: changes no public behaviour can tell apart.

Kept as data (``equivalent.toml`` beside this module), one entry per mutant, keyed like a mutant
(file, function, original text, mutated text, occurrence), never by line, with a one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

try:  # Python 3.11+; on 3.10 the same parser is the `tomli` dependency
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["EQUIVALENT_FILE", "Equivalent", "EquivalentFileError", "load_equivalents"]

EQUIVALENT_FILE = Path(__file__).with_name("equivalent.toml")
_FIELDS = {"file", "function", "original", "mutated", "occurrence", "reason"}


class EquivalentFileError(ValueError):
    """The equivalent-mutant file is malformed; the message names the entry and what is wrong."""


@dataclass(frozen=True)
class Equivalent:
    file: str
    function: str
    original: str
    mutated: str
    occurrence: int
    reason: str

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.file, self.function, self.original, self.mutated, self.occurrence)


def load_equivalents(path: Path = EQUIVALENT_FILE) -> dict[tuple[str, str, str, str, int], Equivalent]:
    """Every entry of ``path`` by key; a missing file means no equivalent mutants."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    entries = data.get("equivalent", [])
    found: dict[tuple[str, str, str, str, int], Equivalent] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: entry {index + 1}"
        missing = _FIELDS - {"occurrence"} - set(entry)
        unknown = set(entry) - _FIELDS
        if missing or unknown:
            raise EquivalentFileError(
                f"{where}: missing {sorted(missing)}, unknown {sorted(unknown)}; "
                f"valid keys: {sorted(_FIELDS)}"
            )
        if not str(entry["reason"]).strip():
            raise EquivalentFileError(f"{where}: the reason must say why no program can tell")
        item = Equivalent(
            file=entry["file"],
            function=entry["function"],
            original=entry["original"],
            mutated=entry["mutated"],
            occurrence=int(entry.get("occurrence", 0)),
            reason=entry["reason"],
        )
        if item.key in found:
            raise EquivalentFileError(f"{where}: duplicate of an earlier entry {item.key}")
        found[item.key] = item
    return found
