"""tryon-mock: an offline emulator of commercial virtual try-on APIs."""

from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.version import __version__

__all__ = ["Settings", "__version__", "create_app"]
