"""Imports checked like live ops: a diagnostic's CSV into a room, a board's JSON export into
a new workshop.

Both build the ops the file stands for, check each with the op parser a browser's ops
go through (:func:`atelier.op_parse.parse_op`), and replay them with the reducer and
the room's limits. So a file can hold nothing a browser could not have typed: the same
lengths, the same counts (5,000 notes, 30 columns...), the same codes. The ops run
under the import role (``rooms.ops.IMPORT_ROLE``), which no link grants; their notes
and ideas are marked ``imported``, signed « Diagnostic » or by the file's author column.

A CSV import is planned on a copy of the room's board, so its report (each refused
row with its line and reason) is exactly what committing would do, barring ops that
land in between. The plan's :meth:`CsvPlan.records` is the list of op records to
commit, in order, in one batch.
"""

from dataclasses import dataclass, field
from typing import Any

from .exports.csv_import import CsvImportError, Row, Sheet, read_sheet
from .exports.json_export import BoardImportError, ExportPlan, read_export
from .op_fields import ProtocolError
from .op_parse import parse_op
from .records import OpRecord
from .rooms.errors import RoomError
from .rooms.model import PHASES, Board
from .rooms.ops import DEFAULT_LIMITS, IMPORT_ROLE, MAX_NAME, MAX_NOTE_TEXT, Op, RoomLimits
from .rooms.reducer import Context, apply

__all__ = [
    "IMPORT_AUTHOR",
    "MAX_TITLE",
    "BoardImportError",
    "CsvImportError",
    "CsvPlan",
    "board_from_export",
    "plan_csv",
]

#: Who signs imported findings when the file names no author.
IMPORT_AUTHOR = "Diagnostic"
#: The longest workshop title or territory (as at creation).
MAX_TITLE = 200
#: The most participant devices an exported board may say took part.
MAX_DEVICES = 100_000
#: Ballot keys no client id can take (client ids are letters, digits, '-' and '_').
_IMPORTED_BALLOT = "*import*"


@dataclass(frozen=True, slots=True)
class Planned:
    """One op an import commits: the file's line it comes from, and who signs it."""

    line: int
    author: str
    op: Op


@dataclass(slots=True)
class CsvPlan:
    """What a CSV import would add, and its report for the facilitator."""

    sheet: Sheet
    planned: list[Planned] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)  # {line, code, reason}

    def report(self) -> dict[str, Any]:
        """The preview shown before the facilitator confirms (and the answer after)."""
        return {
            "findings": sum(1 for p in self.planned if p.op["kind"] == "note.add"),
            "ideas": sum(1 for p in self.planned if p.op["kind"] == "idea.add"),
            "columns": {"used": self.sheet.used, "unused": self.sheet.unused},
            "refused": sorted(self.refused, key=lambda r: int(r["line"])),
        }

    def records(self, client: str, at: int) -> list[OpRecord]:
        """The op records to commit, in order (``client`` makes retries idempotent)."""
        return [OpRecord(client, cop, p.op, p.author, IMPORT_ROLE, at)
                for cop, p in enumerate(self.planned, 1)]  # fmt: skip


def plan_csv(
    raw: bytes,
    board: Board,
    *,
    client: str,
    limits: RoomLimits = DEFAULT_LIMITS,
    max_text: int = MAX_NOTE_TEXT,
) -> CsvPlan:
    """Plan a CSV import into ``board`` (left untouched: a copy is replayed).

    Raises :class:`CsvImportError` when the file cannot be read at all.
    """
    plan = CsvPlan(read_sheet(raw))
    plan.refused = [{"line": r.line, "code": r.code, "reason": r.reason, "value": r.value}
                    for r in plan.sheet.refused]  # fmt: skip
    trial = Board.from_dict(board.to_dict(tombstones=True))
    for n, row in enumerate(plan.sheet.rows, 1):
        data = _row_op(row, f"{client}-{n}")
        try:
            author = _author(row.author or IMPORT_AUTHOR)
            op = parse_op(data, max_text=max_text, imported=True)
            apply(trial, op, Context(author, IMPORT_ROLE, client, 0, trial.seq + 1, limits))
        except (ProtocolError, RoomError) as error:
            plan.refused.append({"line": row.line, "code": error.code, "reason": error.message})
            continue
        trial.seq += 1
        plan.planned.append(Planned(row.line, author, op))
    return plan


def board_from_export(
    data: Any, *, limits: RoomLimits = DEFAULT_LIMITS, max_text: int = MAX_NOTE_TEXT
) -> tuple[Board, dict[str, str]]:
    """The board a JSON export shows (not frozen, seq 0), rebuilt op by op, and the
    workshop's title and territory.

    Every view of it equals the exported one, except that it is no longer frozen (a
    frozen board lives on only in its own workshop: an import is a new version) and that
    revealed vote counts stand without their ballots. Raises :class:`BoardImportError`
    naming the first part that could not have been made live, and why.
    """
    plan = read_export(data)
    for name, value in (("title", plan.title), ("territory", plan.territory)):
        if len(value) > MAX_TITLE:
            raise BoardImportError(f"The workshop's {name} is longer than {MAX_TITLE} characters.")
    if not (isinstance(plan.phase, int) and isinstance(plan.first_phase, int)
            and 1 <= plan.first_phase <= plan.phase <= len(PHASES)):  # fmt: skip
        raise BoardImportError("The phase must be 1 to 5, and not before the first one.")
    _within(plan, limits)
    board = Board.new(plan.phase)
    board.first_phase = plan.first_phase
    for seq, (what, author, raw) in enumerate(plan.ops, 1):
        try:
            op = parse_op(raw, max_text=max_text, imported=True)
            apply(board, op, Context(_author(author or IMPORT_AUTHOR), IMPORT_ROLE, "import", 0,
                                     seq, limits))  # fmt: skip
        except (ProtocolError, RoomError) as error:
            raise BoardImportError(f"{what[:60]}: {error.message}") from None
    _restore(board, plan.counts, plan.revealed, plan.contributors, plan.timer)
    board.seq = 0
    return board, {"title": plan.title, "territory": plan.territory}


def _within(plan: ExportPlan, limits: RoomLimits) -> None:
    """Refuse at once a board over the room's limits (the replay would refuse it at the
    first item past them, after replaying all those before)."""
    for kind, limit, code in (("note.add", limits.notes, "too_many_notes"),
                              ("column.add", limits.columns, "too_many_columns"),
                              ("idea.add", limits.ideas, "too_many_ideas")):  # fmt: skip
        count = sum(1 for _, _, op in plan.ops if op.get("kind") == kind)
        if count > limit:
            what = kind.split(".")[0]
            raise BoardImportError(f"{count} {what}s: a board here holds at most {limit} ({code}).")


def _restore(board: Board, counts: Any, revealed: bool, contributors: Any, timer: Any) -> None:
    """What no op sets: revealed counts (as one ballot no client holds), how many devices
    took part, the countdown."""
    live = {c.id for c in board.live_columns()}
    if not isinstance(counts, dict) or any(
        c not in live or not isinstance(n, int) or isinstance(n, bool) or not 0 < n <= 10**6
        for c, n in counts.items()
    ):
        raise BoardImportError("The vote counts name no orientation of the board.")
    if counts:
        board.votes = {_IMPORTED_BALLOT: dict(counts)}
    board.tools.revealed = revealed
    if not isinstance(contributors, int) or isinstance(contributors, bool):
        raise BoardImportError("'contributors' must be a number.")
    if not 0 <= contributors <= MAX_DEVICES:
        raise BoardImportError("'contributors' is out of range.")
    board.contributors = {f"*{i}" for i in range(contributors)}
    if timer is not None and (not isinstance(timer, int) or isinstance(timer, bool)):
        raise BoardImportError("'timer' must be a time or null.")
    board.timer = timer


def _author(name: str) -> str:
    """A signature as a join's pseudonym may be: 1 to 40 characters, no NUL."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or "\x00" in name:
        raise ProtocolError("bad_author", f"An author must be 1 to {MAX_NAME} characters.")
    return name


def _row_op(row: Row, ident: str) -> dict[str, Any]:
    if row.idea:  # no orientation yet: parked under none until the facilitator moves it
        return {"kind": "idea.add", "id": ident, "column": None, "text": row.text,
                "imported": True}  # fmt: skip
    op = {"kind": "note.add", "id": ident, "text": row.text, "ambitions": row.ambitions,
          "type": row.type, "theme": row.theme, "source": row.source,
          "indicator": row.indicator, "imported": True}  # fmt: skip
    if row.colour:
        op["colour"] = row.colour
    return op
