"""Exchange with other tools."""

from holdem_lab.interop.openspiel import to_openspiel

__all__ = ["to_openspiel"]
