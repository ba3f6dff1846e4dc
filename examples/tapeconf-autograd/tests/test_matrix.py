"""The contract kit and the conformance matrix, as any third-party adapter package runs them.

    pytest examples/tapeconf-autograd/tests --adapter autograd

(The tape-conformance repository's own suite already runs both for every installed adapter, so
its root ``pytest`` does not collect this file.)
"""

from conformance.contract import *  # noqa: F403 - test_contract, parametrized by --adapter
from conformance.testing import test_conformance  # noqa: F401 - the matrix
