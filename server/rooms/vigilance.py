"""The seed's points of vigilance for phase 4, as checks on a board.

Pure: a board in, a list of findings about it out, in a stable order so that equal
boards give equal checks. Notes still hidden by silent writing are left out: the
checks are shown to the facilitator, who must not learn of them before the reveal.
"""

from typing import Any

from .model import AMBITION_LABELS, AMBITIONS, Board, Note

__all__ = ["MAX_ORIENTATIONS", "MIN_ORIENTATIONS", "check"]

#: The seed's examples hold four or five orientations; fewer than 3 or more than 6 is a sign.
MIN_ORIENTATIONS = 3
MAX_ORIENTATIONS = 6


def check(board: Board) -> list[dict[str, Any]]:
    """Every point of vigilance the board raises now; an empty list when none."""
    columns = board.live_columns()
    public: dict[str | None, list[Note]] = {}
    for note in board.notes.values():
        if not note.deleted and note.private_to is None:
            public.setdefault(note.column, []).append(note)
    checks: list[dict[str, Any]] = []
    if len(columns) < MIN_ORIENTATIONS:
        checks.append(
            _item(
                "too_few_orientations",
                f"Seulement {len(columns)} orientation(s) : en viser au moins {MIN_ORIENTATIONS}.",
                count=len(columns),
            )
        )
    if len(columns) > MAX_ORIENTATIONS:
        checks.append(
            _item(
                "too_many_orientations",
                f"{len(columns)} orientations : au-delà de {MAX_ORIENTATIONS}, le cap se dilue.",
                count=len(columns),
            )
        )
    for column in columns:
        if not public.get(column.id):
            checks.append(
                _item(
                    "orientation_without_finding",
                    f"« {column.title} » ne s'appuie sur aucun constat.",
                    column=column.id,
                )
            )
        if not column.statement.strip():
            checks.append(
                _item(
                    "orientation_without_statement",
                    f"« {column.title} » n'est pas encore formulée.",
                    column=column.id,
                )
            )
    served = {a for c in columns for n in public.get(c.id, []) for a in n.ambitions}
    for ambition in AMBITIONS:
        if ambition not in served:
            checks.append(
                _item(
                    "ambition_unserved",
                    f"Aucune orientation ne sert l'ambition « {AMBITION_LABELS[ambition]} ».",
                    ambition=ambition,
                )
            )
    unsorted = len(public.get(None, []))
    if unsorted:
        checks.append(
            _item(
                "findings_unsorted",
                f"{unsorted} constat(s) pas encore rattaché(s) à une orientation.",
                count=unsorted,
            )
        )
    return checks


def _item(code: str, message: str, **about: Any) -> dict[str, Any]:
    return {"code": code, **about, "message": message}
