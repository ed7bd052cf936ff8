"""One module per vendor: only what its contract JSON cannot say.

A module of this package that defines a ``Vendor`` subclass serves that vendor; nothing else
registers it (see README.md here, "Adding a vendor"). Helper modules (a signing scheme, a gateway)
define none.
"""

from __future__ import annotations

import importlib
import pkgutil

from mock_server.vendor import Vendor


def _discover() -> dict[str, type[Vendor]]:
    """Every vendor class of this package, by its contract's name."""
    found: dict[str, type[Vendor]] = {}
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, type) and issubclass(value, Vendor) and value.__module__ == loaded.__name__:
                found[value.contract.name] = value
    return found


# Found when the package is imported (with their contracts loaded and compiled), as an explicit
# list of imports would: a server's start-up then pays no import.
VENDORS: dict[str, type[Vendor]] = _discover()
