"""tryon-mock: an offline emulator of commercial virtual try-on APIs."""

__version__ = "0.1.0"  # before the imports: modules read it while the package loads

from mock_server.app import create_app
from mock_server.settings import Settings

__all__ = ["Settings", "create_app"]
