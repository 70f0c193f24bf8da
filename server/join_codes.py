"""Short join links for the projected join screen: ``/j/K7M2QX`` instead of a long link.

A participant link carries a 192-bit secret: right for security, long to type from a
projector. A join code stands for one workshop's participant link for a few hours. It
is drawn from an alphabet without look-alikes (no 0/O, 1/I/L), six characters: about
887 million codes, and their lookups are rate-limited per address, so guessing one is
hopeless. A code whose link was replaced, or whose workshop was deleted, leads nowhere.
"""

import re
import secrets

__all__ = ["ALPHABET", "CODE_LENGTH", "LIFETIME_MS", "new_code", "normalized"]

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
#: How long a code lasts: a long workshop day.
LIFETIME_MS = 12 * 3600 * 1000

_CODE = re.compile(rf"[{ALPHABET}]{{{CODE_LENGTH}}}")


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalized(typed: str) -> str | None:
    """A code as typed (any case, spaces or dashes), or None if it cannot be one."""
    code = re.sub(r"[\s-]", "", typed).upper()
    return code if _CODE.fullmatch(code) else None
