"""Job handlers. Importing this package registers them with `jobqueue.default_registry`."""

from . import examples, webhook

__all__ = ["examples", "webhook"]
