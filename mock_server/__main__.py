"""``python -m mock_server``: the ``tryon-mock`` command (how the contract-test suite starts a mock
of its own without importing this package)."""

import sys

from mock_server.cli import main

if __name__ == "__main__":
    sys.exit(main())
