"""``tf.nest``: nested structures of lists, tuples and dicts (sorted by key) of leaves.

Iterative, so deep structures never hit the recursion limit on flattening.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["flatten", "map_structure", "pack_sequence_as"]


def _is_structure(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict))


def flatten(structure: Any) -> list[Any]:
    """Leaves of ``structure`` in ``tf.nest`` order (dict values by sorted key), iteratively."""
    if not isinstance(structure, (list, tuple, dict)):
        return [structure]
    leaves: list[Any] = []
    stack = [structure]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item[key] for key in reversed(sorted(item)))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            leaves.append(item)
    return leaves


def pack_sequence_as(structure: Any, flat: list[Any]) -> Any:
    """Rebuild ``structure``'s shape from ``flat`` leaves (the inverse of ``flatten``)."""
    if not isinstance(structure, (list, tuple, dict)) and len(flat) == 1:
        return flat[0]
    leaves = iter(flat)

    def rebuild(item: Any) -> Any:
        if isinstance(item, dict):
            packed = {key: rebuild(item[key]) for key in sorted(item)}
            return {key: packed[key] for key in item}
        if isinstance(item, tuple) and hasattr(item, "_fields"):  # namedtuple
            return type(item)(*(rebuild(x) for x in item))
        if isinstance(item, (list, tuple)):
            return type(item)(rebuild(x) for x in item)
        return next(leaves)

    count = len(flatten(structure))
    if count != len(flat):
        raise ValueError(
            f"cannot pack {len(flat)} leaves into a structure with {count} leaves: {structure!r}"
        )
    return rebuild(structure)


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """Apply ``fn`` to every leaf of ``structure``, keeping the structure."""
    return pack_sequence_as(structure, [fn(leaf) for leaf in flatten(structure)])
