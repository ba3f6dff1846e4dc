"""``tf.nest``-style structures for adapters: the reference implementation's ``nest`` module.

Adapters translating TensorFlow's structured ``gradient(target, sources)`` onto flat native calls
flatten and repack with TensorFlow's rules; one implementation serves the reference and them.
"""

from reference_impl.nest import flatten, map_structure, pack_sequence_as

__all__ = ["flatten", "map_structure", "pack_sequence_as"]
