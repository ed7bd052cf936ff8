"""tryon-mock: an offline emulator of commercial virtual try-on APIs."""

from mock_server.app import create_app
from mock_server.settings import Settings

__all__ = ["Settings", "create_app"]
__version__ = "0.1.0"
