"""Short join links: the facilitator's screen turns the participant link into /j/CODE for
the projected join screen; the code leads there while it lasts, and nowhere once the
link is replaced or the workshop deleted. Both stores keep codes alike."""

import time
from pathlib import Path

import httpx
from atelier.backends.base import JoinLink, Store
from atelier.join_codes import ALPHABET, new_code, normalized

from .support import ServerProcess


def test_codes_are_short_unambiguous_and_typed_loosely() -> None:
    """Six characters without look-alikes; typed in any case, with spaces or dashes."""
    code = new_code()
    assert len(code) == 6 and set(code) <= set(ALPHABET) and not set("01OIL") & set(code)
    assert normalized(f" {code[:3].lower()}-{code[3:]} ") == code
    assert normalized("ABC") is None and normalized("ABCDE0") is None


async def test_stores_keep_a_code_until_it_expires(backend: Store) -> None:
    """A code is found while it lasts, by itself and by its workshop; a taken code is
    refused; an expired one is gone."""
    store = backend
    now = int(time.time() * 1000)
    link = JoinLink("w1", "secret", now + 60_000)
    assert await store.put_join_code("ABCDEF", link)
    assert not await store.put_join_code("ABCDEF", JoinLink("w2", "other", now + 60_000))
    assert await store.get_join_code("ABCDEF") == link
    assert await store.find_join_code("w1") == ("ABCDEF", link)
    assert await store.put_join_code("GHJKMN", JoinLink("w3", "s", now + 1))
    time.sleep(0.01)  # the store's own clock must see it expired
    assert await store.get_join_code("GHJKMN") is None
    assert await store.find_join_code("w3") is None
    assert await store.get_join_code("ZZZZZZ") is None


def test_a_join_code_leads_to_the_participant_link_until_it_is_replaced(tmp_path: Path) -> None:
    """POST …/join-code (facilitator, with the participant link's key) gives /j/CODE, the
    same again while it lasts; /j/CODE answers 303 to the participant link; a wrong key,
    another role's link, a replaced link or a deleted workshop lead nowhere."""
    server = ServerProcess(tmp_path / "data").start()
    try:
        workshop = server.create_workshop()
        keys = workshop["secrets"]
        url = f"{server.base}/api/workshops/{workshop['id']}/join-code"

        def make(role: str, participant: str) -> httpx.Response:
            return httpx.post(url, json={"participant": participant},
                              headers={"authorization": f"Bearer {keys[role]}"})  # fmt: skip

        made = make("facilitator", keys["participant"])
        assert made.status_code == 201, made.text
        code = made.json()["code"]
        assert made.json()["url"] == f"{server.base}/j/{code}"
        assert make("facilitator", keys["participant"]).json()["code"] == code
        assert make("participant", keys["participant"]).status_code == 403
        assert make("facilitator", keys["observer"]).status_code == 400  # not the right key
        assert make("facilitator", "nope").status_code == 400
        hop = httpx.get(f"{server.base}/j/{code.lower()}", follow_redirects=False)
        assert hop.status_code == 303
        assert hop.headers["location"] == workshop["links"]["participant"]
        assert hop.headers["cache-control"] == "no-store"
        assert httpx.get(f"{server.base}/j/ZZZZZZ").status_code == 404
        rotated = httpx.post(
            f"{server.base}/api/workshops/{workshop['id']}/links/participant/rotate",
            headers={"authorization": f"Bearer {keys['facilitator']}"},
        )  # fmt: skip
        assert rotated.status_code == 200
        gone = httpx.get(f"{server.base}/j/{code}", follow_redirects=False)
        assert gone.status_code == 404 and "expiré" in gone.text  # the old link is revoked
        fresh_key = rotated.json()["link"].split("#k=")[1]
        fresh = make("facilitator", fresh_key).json()["code"]
        assert fresh != code
        facilitator = {"authorization": f"Bearer {keys['facilitator']}"}
        deleted = httpx.delete(f"{server.base}/api/workshops/{workshop['id']}",
                               headers=facilitator)  # fmt: skip
        assert deleted.status_code == 204
        assert httpx.get(f"{server.base}/j/{fresh}", follow_redirects=False).status_code == 404
    finally:
        server.stop()
