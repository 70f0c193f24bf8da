"""``python -m server`` runs the ``atelier`` command."""

from .cli import main

main()
