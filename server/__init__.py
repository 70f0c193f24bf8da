"""Atelier: a live board for the Néolab² phase 4 co-decision workshop."""

__all__ = ["__version__"]

__version__ = "0.1.0"
