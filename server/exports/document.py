"""What an export holds: a board view with its workshop and source, laid out as a record.

Pure. The view given is already filtered for the reader (no silent notes, no one's
private votes), so no exporter can leak what the reader could not see. Every format
reads the same parts from here (the facts, the instance's members, the cap, each
orientation with its decision, debate, grounds, documents and votes, the ideas for
phase 5, the points of vigilance), so the formats agree. Dates are read in the
workshop's time zone.
"""

import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from ..rooms.council import (
    DEFAULT_TIMEZONE,
    DOCUMENTS,
    METHODS,
    NOTE_TYPES,
    OUTCOMES,
    local_time,
)
from ..rooms.model import AMBITION_LABELS, AMBITIONS, PHASES

__all__ = [
    "IDEA_TYPE",
    "Document",
    "ambition_label",
    "decision_label",
    "document_labels",
    "finding_line",
    "tally_rows",
    "type_label",
]

#: How a row that is an action idea is typed in a CSV (the import reads it back).
IDEA_TYPE = "Idée d'action"


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

    @property
    def timezone(self) -> str:
        """The workshop's time zone (Europe/Paris unless the facilitator set another)."""
        return str((self.state.get("meeting") or {}).get("timezone") or DEFAULT_TIMEZONE)

    @property
    def cap(self) -> str:
        """« Le cap du territoire », '' when none was formulated."""
        return str(self.state.get("cap", ""))

    def when(self, ms: int) -> str:
        """A time in ms since the epoch, in the workshop's time zone (in UTC, and saying
        so, where this machine's zone database lacks it)."""
        local = local_time(ms, self.timezone)
        zone = self.timezone if isinstance(local.tzinfo, zoneinfo.ZoneInfo) else "UTC"
        return f"{local:%d/%m/%Y %H:%M} ({zone})"

    def facts(self) -> list[tuple[str, str]]:
        """The lines under the title: territory, place, date, phase, source, hash..."""
        meeting = self.state.get("meeting") or {}
        facts = [("Territoire", self.territory)] if self.territory else []
        if meeting.get("place"):
            facts.append(("Lieu", str(meeting["place"])))
        if meeting.get("date"):
            day = str(meeting["date"])
            facts.append(("Date de la séance", f"{day[8:10]}/{day[5:7]}/{day[0:4]}"))
        facts.append(("Phase", self.phase))
        if self.source.get("at"):
            name = "Gelé le" if self.record is not None else "Date"
            facts.append((name, self.when(int(self.source["at"]))))
        if self.source.get("by"):
            facts.append(("Par", str(self.source["by"])))
        if self.record is not None:
            facts.append(("Animation", str(self.record["facilitator"])))
            count = sum(len(c["names"]) for c in self.record.get("members", []))
            facts.append(("Membres présents", str(count)))
        if self.source.get("hash"):
            facts.append(("Empreinte SHA-256", str(self.source["hash"])))
        facts.append(("Séquence", str(self.state.get("seq", 0))))
        return facts

    def members(self) -> list[tuple[str, list[str]]]:
        """The instance's members present, by collège in the collèges' order."""
        out = []
        for college in self.state.get("colleges", []):
            names = [m["name"] for m in self.state.get("members", [])
                     if m["college"] == college["id"]]  # fmt: skip
            if names:
                out.append((str(college["label"]), names))
        return out

    def college_label(self, college_id: str | None) -> str:
        """A collège's label ('L'instance' for a whole-instance tally line)."""
        if college_id is None:
            return "L'instance"
        for college in self.state.get("colleges", []):
            if college["id"] == college_id:
                return str(college["label"])
        return college_id

    def orientations(self) -> list[dict[str, Any]]:
        """The orientations left to right, each with its statement, decision, objections,
        findings, ambitions, documents fed, vote count (when public) and action ideas."""
        parts = {o["id"]: o for o in self.state.get("orientations", [])}
        counts = (self.state.get("votes") or {}).get("counts") or {}
        out = []
        for column in self.state["columns"]:
            findings = self.findings(column["id"])
            served = {a for n in findings for a in n["ambitions"]}
            part = parts.get(column["id"], {})
            out.append(
                {
                    "id": column["id"],
                    "title": column["title"],
                    "statement": part.get("statement", ""),
                    "locked": part.get("locked", False),
                    "decision": part.get("decision"),
                    "objections": part.get("objections", []),
                    "documents": document_labels(part),
                    "findings": findings,
                    "ambitions": [a for a in AMBITIONS if a in served],
                    "votes": counts.get(column["id"]),
                    "ideas": self.ideas(column["id"]),
                }
            )
        return out

    def findings(self, column: str | None) -> list[dict[str, Any]]:
        """The findings of one orientation (or of the pool when None), in board order."""
        notes = [n for n in self.state["notes"] if n["column"] == column]
        notes.sort(key=lambda n: (n["pos"], n["id"]))
        return notes

    def ideas(self, column: str | None) -> list[dict[str, Any]]:
        """The action ideas under one orientation (or under none, when None)."""
        return [i for i in self.state.get("ideas", []) if i["column"] == column]

    def action_sheets(self) -> list[dict[str, Any]]:
        """Phase 5's first action plan: one draft sheet per parked idea, with its
        orientation and the ambitions that orientation serves, status « à venir »."""
        sheets = []
        for o in [*self.orientations(), None]:
            ideas = self.ideas(None) if o is None else o["ideas"]
            for idea in ideas:
                sheets.append({
                    "id": idea["id"], "title": idea["text"],
                    "orientation": "" if o is None else (o["statement"] or o["title"]),
                    "ambitions": [] if o is None else [ambition_label(a) for a in o["ambitions"]],
                    "status": "à venir", "author": idea["author"],
                })  # fmt: skip
        return sheets

    def vigilance(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The record's points of vigilance: the method's (with the answers given) and
        Atelier's own advice with the debate's open ends; none outside a record."""
        if self.record is None:
            return [], []
        checks = self.record.get("vigilance", [])
        method = [c for c in checks if c.get("source") == "method"]
        return method, [c for c in checks if c.get("source") != "method"]


def ambition_label(code: str) -> str:
    """An ambition's French label."""
    return AMBITION_LABELS.get(code, code)


def type_label(code: str) -> str:
    """A finding's type, in French ('' when none)."""
    return NOTE_TYPES.get(code, code)


def document_labels(orientation: dict[str, Any]) -> list[str]:
    """The framework documents an orientation feeds, named."""
    named = [DOCUMENTS.get(d, d) for d in orientation.get("documents", [])]
    return named + list(orientation.get("others", []))


def decision_label(decision: dict[str, Any] | None) -> str:
    """« Adoptée avec amendement (par vote) », or « Pas de décision »."""
    if not decision:
        return "Pas de décision"
    outcome = OUTCOMES.get(decision["outcome"], decision["outcome"])
    method = METHODS.get(decision["method"], decision["method"]).lower()
    return f"{outcome} ({method})"


def tally_rows(doc: Document, decision: dict[str, Any] | None) -> list[tuple[str, int, int, int]]:
    """A decision's votes, one row per collège: (label, for, against, abstain)."""
    if not decision:
        return []
    return [(doc.college_label(t["college"]), t["for"], t["against"], t["abstain"])
            for t in decision.get("tally", [])]  # fmt: skip


def finding_line(note: dict[str, Any]) -> str:
    """A finding on one line: « [Atout] text — source (indicator) — author »."""
    head = f"[{type_label(note['type'])}] " if note.get("type") else ""
    where = note.get("source", "")
    if note.get("indicator"):
        where = f"{where} ({note['indicator']})" if where else str(note["indicator"])
    tail = f" — {where}" if where else ""
    return f"{head}{note['text']}{tail} — {note['author']}"
