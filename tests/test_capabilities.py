"""Link secrets and workshop ids."""

import pytest
from atelier.capabilities import ROLES, hash_secret, new_secret, new_workshop_id, role_for

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer


def test_a_secret_grants_its_role_and_nothing_else() -> None:
    """Each link's secret maps to its role; any other string to none."""
    secrets_ = {role: new_secret() for role in ROLES}
    hashes = {role: hash_secret(s) for role, s in secrets_.items()}
    assert {role_for(s, hashes) for s in secrets_.values()} == set(ROLES)
    assert role_for(secrets_["observer"] + "x", hashes) is None
    assert all(len(s) >= 32 for s in secrets_.values())  # 192 bits, base64url


def test_workshop_ids_never_look_like_command_line_options() -> None:
    """Ids start with a letter or digit, so 'atelier export ID' never reads one as a flag."""
    ids = [new_workshop_id() for _ in range(2000)]
    assert all(i[0].isalnum() and len(i) == 12 for i in ids) and len(set(ids)) == 2000
