"""Capability links: one unguessable secret per role, stored only as a hash."""

import hashlib
import hmac
import secrets

from .rooms.messages import Role

__all__ = ["ROLES", "hash_secret", "new_secret", "new_workshop_id", "role_for"]

#: The roles, from most to least powerful, as the plain strings stored and sent.
ROLES: tuple[str, ...] = tuple(role.value for role in Role)


def new_secret() -> str:
    """A fresh link secret: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def new_workshop_id() -> str:
    """A fresh workshop id: 72 random bits, URL-safe, never starting with '-' or '_'
    (an id like '-abc' would read as an option on the command line)."""
    while not (workshop_id := secrets.token_urlsafe(9))[0].isalnum():
        pass
    return workshop_id


def hash_secret(secret: str) -> str:
    """What is stored for a secret (the secret itself never is)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def role_for(secret: str, token_hashes: dict[str, str]) -> Role | None:
    """The role a secret grants, compared in constant time, or None."""
    digest = hash_secret(secret)
    found = None
    for role in ROLES:  # compare with every role so timing does not tell which matched
        if hmac.compare_digest(digest, token_hashes.get(role, "")):
            found = Role(role)
    return found
