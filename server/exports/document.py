"""What an export holds: a board view with its workshop and source, laid out by orientation.

Pure. The view given is already filtered for the reader (no silent notes, no one's
private votes), so no exporter can leak what the reader could not see.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..rooms.model import AMBITION_LABELS, AMBITIONS, PHASES

__all__ = ["Document", "ambition_label", "when"]


@dataclass(frozen=True, slots=True)
class Document:
    """One thing to export: a board view, where it comes from, and the workshop's name."""

    workshop_id: str
    title: str
    territory: str
    state: dict[str, Any]  # a viewer's Board.to_dict()
    source: dict[str, Any] = field(default_factory=lambda: {"kind": "board"})
    record: dict[str, Any] | None = None  # the official record, when exporting it
    base_url: str = ""  # where the server is, for links (the print stylesheet)

    @property
    def heading(self) -> str:
        """The document's title line."""
        what = {"board": "Tableau", "snapshot": "Instantané", "record": "Relevé officiel"}
        kind = what.get(self.source.get("kind", "board"), "Tableau")
        label = self.source.get("label")
        return f"{self.title} — {kind}" + (
            f" « {label} »" if label and kind != "Relevé officiel" else ""
        )

    @property
    def phase(self) -> str:
        """The board's phase, numbered and labelled."""
        number = int(self.state.get("phase", 1))
        return f"Phase {number} : {PHASES[number - 1]}"

    def orientations(self) -> list[dict[str, Any]]:
        """The orientations left to right, each with its statement, findings, ambitions,
        vote count (when public) and action ideas."""
        statements = {o["id"]: o for o in self.state.get("orientations", [])}
        counts = (self.state.get("votes") or {}).get("counts") or {}
        out = []
        for column in self.state["columns"]:
            findings = self.findings(column["id"])
            served = {a for n in findings for a in n["ambitions"]}
            out.append(
                {
                    "id": column["id"],
                    "title": column["title"],
                    "statement": statements.get(column["id"], {}).get("statement", ""),
                    "locked": statements.get(column["id"], {}).get("locked", False),
                    "findings": findings,
                    "ambitions": [a for a in AMBITIONS if a in served],
                    "votes": counts.get(column["id"]),
                    "ideas": [
                        i for i in self.state.get("ideas", []) if i["column"] == column["id"]
                    ],
                }
            )
        return out

    def findings(self, column: str | None) -> list[dict[str, Any]]:
        """The findings of one orientation (or of the pool when None), in board order."""
        notes = [n for n in self.state["notes"] if n["column"] == column]
        notes.sort(key=lambda n: (n["pos"], n["id"]))
        return notes

    def facts(self) -> list[tuple[str, str]]:
        """The lines under the title: territory, phase, source, date, hash, attendance."""
        facts = [("Territoire", self.territory)] if self.territory else []
        facts.append(("Phase", self.phase))
        if self.source.get("at"):
            facts.append(("Date", when(int(self.source["at"]))))
        if self.source.get("by"):
            facts.append(("Par", str(self.source["by"])))
        if self.record is not None:
            facts.append(("Animation", str(self.record["facilitator"])))
            facts.append(("Participant·es (appareils ayant contribué)",
                          str(self.record["participants"])))  # fmt: skip
        if self.source.get("hash"):
            facts.append(("Empreinte SHA-256", str(self.source["hash"])))
        facts.append(("Séquence", str(self.state.get("seq", 0))))
        return facts


def ambition_label(code: str) -> str:
    """An ambition's French label."""
    return AMBITION_LABELS.get(code, code)


def when(ms: int) -> str:
    """A time in ms since the epoch, as a readable UTC date."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d/%m/%Y %H:%M UTC")
