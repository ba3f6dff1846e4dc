"""tapeconf-autograd: HIPS autograd as a tape-conformance adapter, from its own distribution.

Installing this package registers the adapter in the ``tapeconf.adapters`` entry-point group, so
``tapeconf adapters``, ``tapeconf report`` and ``pytest --adapter autograd`` find it without any
change to the tape-conformance repository.
"""

from __future__ import annotations

from tapeconf_autograd.adapter import AutogradAdapter

__all__ = ["AutogradAdapter"]
