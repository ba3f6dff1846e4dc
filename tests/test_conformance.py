"""The conformance matrix: every scenario on every installed adapter and device."""

from conformance.testing import test_conformance  # noqa: F401 - collected here
