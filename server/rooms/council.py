"""The instance de co-décision on the board: its collèges and members, the objections
raised in a consent round, the decision on each orientation, and the words the record
uses for them.

Pure data. Phase 4 is « réalisée par l'instance de co-décision » (the seed): the body
whose members, debate and decisions the official record keeps. Codes are ASCII and
stable (they travel in ops); the French labels are what people read.
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_COLLEGES",
    "DEFAULT_TIMEZONE",
    "DOCUMENTS",
    "METHODS",
    "NOTE_TYPES",
    "OUTCOMES",
    "College",
    "Decision",
    "Meeting",
    "Member",
    "Objection",
    "TallyLine",
    "default_colleges",
    "local_time",
]

#: The collèges a new board offers (the facilitator may edit the list): id -> label.
DEFAULT_COLLEGES: tuple[tuple[str, str], ...] = (
    ("elus", "Élus"),
    ("economie", "Acteurs économiques"),
    ("societe_civile", "Associations et société civile"),
    ("habitants", "Habitants"),
    ("partenaires", "Partenaires et techniciens"),
)

#: What the instance decides on an orientation.
OUTCOMES: dict[str, str] = {
    "adoptee": "Adoptée",
    "amendee": "Adoptée avec amendement",
    "ecartee": "Écartée",
    "ajournee": "Ajournée",
}

#: How it decides.
METHODS: dict[str, str] = {"consent": "Par consentement", "vote": "Par vote"}

#: The territory's framework documents an orientation may feed (the seed names SCoT,
#: PLUi, projet de territoire, PCAET; the issue adds PLH). Others are named by hand.
DOCUMENTS: dict[str, str] = {
    "scot": "SCoT",
    "plui": "PLUi",
    "plh": "PLH",
    "pcaet": "PCAET",
    "projet_territoire": "Projet de territoire",
}

#: The types of a diagnostic's findings (AFOM, the French SWOT).
NOTE_TYPES: dict[str, str] = {
    "atout": "Atout",
    "faiblesse": "Faiblesse",
    "opportunite": "Opportunité",
    "menace": "Menace",
}

#: Where a workshop is held unless the facilitator says otherwise.
DEFAULT_TIMEZONE = "Europe/Paris"


@dataclass(slots=True)
class College:
    """A collège of the instance (élus, habitants...)."""

    id: str
    label: str


@dataclass(slots=True)
class Member:
    """A member present at the session, in one collège."""

    id: str
    name: str
    college: str


@dataclass(slots=True)
class Objection:
    """An objection raised on an orientation in a consent round, and its answer."""

    id: str
    column: str
    text: str
    by: str = ""  # who raised it, as the facilitator wrote it ('' unsaid)
    answer: str = ""  # '' while unanswered


@dataclass(frozen=True, slots=True)
class TallyLine:
    """The votes of one collège (or of the whole instance, ``college`` None)."""

    college: str | None
    yes: int
    no: int
    abstain: int

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{college, for, against, abstain}``."""
        return {"college": self.college, "for": self.yes, "against": self.no,
                "abstain": self.abstain}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TallyLine":
        """Read back :meth:`to_dict`'s form."""
        college = data.get("college")
        return cls(None if college is None else str(college), int(data["for"]),
                   int(data["against"]), int(data["abstain"]))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decision:
    """The instance's decision on an orientation: what, how, and the votes when voted."""

    outcome: str  # a key of OUTCOMES
    method: str  # a key of METHODS
    amendment: str = ""
    tally: tuple[TallyLine, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{outcome, method, amendment, tally: [...]}``."""
        return {"outcome": self.outcome, "method": self.method, "amendment": self.amendment,
                "tally": [line.to_dict() for line in self.tally]}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Decision":
        """Read back :meth:`to_dict`'s form."""
        return cls(str(data["outcome"]), str(data["method"]), str(data.get("amendment", "")),
                   tuple(TallyLine.from_dict(t) for t in data.get("tally", [])))  # fmt: skip


@dataclass(slots=True)
class Meeting:
    """Where and when the session is held; dates are read in ``timezone``."""

    place: str = ""
    date: str = ""  # YYYY-MM-DD, the session's day ('' : the freeze's day)
    timezone: str = DEFAULT_TIMEZONE

    def to_dict(self) -> dict[str, str]:
        """The wire form."""
        return {"place": self.place, "date": self.date, "timezone": self.timezone}


def default_colleges() -> list[College]:
    """A fresh copy of the default collèges."""
    return [College(i, label) for i, label in DEFAULT_COLLEGES]


def local_time(ms: int, timezone: str) -> datetime.datetime:
    """A time in ms since the epoch, in ``timezone`` (UTC when this machine's zone
    database does not know it: install the ``tzdata`` package where it is missing)."""
    try:
        zone: datetime.tzinfo = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = datetime.UTC
    return datetime.datetime.fromtimestamp(ms / 1000, zone)
