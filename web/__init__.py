"""The web client's files, shipped inside the ``atelier`` package as ``atelier.web``."""
