"""Exports of a board, a snapshot or the official record, one module per format.

Every exporter takes a :class:`~atelier.exports.document.Document` (what is exported,
already filtered for whoever asked) and returns the file's bytes; :data:`FORMATS`
maps a format's name to its exporter and media type (``actions.csv`` and
``actions.odt`` are the hand-off to phase 5, served as ``export.actions.csv``...).
"""

from collections.abc import Callable

from . import csv_export, html, json_export, markdown, odt
from .document import Document

__all__ = ["FORMATS", "Document"]

#: format -> (exporter, media type)
FORMATS: dict[str, tuple[Callable[[Document], bytes], str]] = {
    "json": (json_export.export, "application/json"),
    "md": (markdown.export, "text/markdown; charset=utf-8"),
    "csv": (csv_export.export, "text/csv; charset=utf-8"),
    "odt": (odt.export, "application/vnd.oasis.opendocument.text"),
    "html": (html.export, "text/html; charset=utf-8"),
    # phase 5's first action plan: one draft action sheet per parked idea
    "actions.csv": (csv_export.export_actions, "text/csv; charset=utf-8"),
    "actions.odt": (odt.export_actions, "application/vnd.oasis.opendocument.text"),
}
