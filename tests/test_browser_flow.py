"""The workshop flow's web client in a real Chromium, against a real server process: a
facilitator and two participants run a short phase 4 from the first finding to the
frozen official record, and every frame a participant's page received is checked for
what must stay private until the reveal."""

import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from odf.opendocument import load
from odf.text import P
from playwright.sync_api import Browser, Page, expect

from .support import ServerProcess, check_client_frame, check_server_frame, server_state
from .test_browser import (
    ARTIFACTS,
    LIVE,
    PHONE,
    Watched,
    add_column,
    add_note,
    column,
    column_menu,
    new_context,
    note,
    said,
    seed,
)

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 900}  # a facilitator's screen: the drawer docks beside the board


class Frames:
    """Every websocket frame one page received, decoded, in order."""

    def __init__(self, page: Page) -> None:
        self.received: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.sent: list[dict[str, Any]] = []
        page.on("websocket", self._socket)

    def _socket(self, ws: Any) -> None:
        ws.on("framereceived", self._frame)
        ws.on("framesent", lambda payload: self.sent.append(orjson.loads(payload)))

    def check_schema(self) -> None:
        """Every frame both ways matches docs/protocol.schema.json."""
        for frame in self.received:
            check_server_frame(frame)
        for frame in self.sent:
            check_client_frame(frame)

    def _frame(self, payload: str | bytes) -> None:
        text = payload.decode() if isinstance(payload, bytes) else payload
        self.raw.append(text)
        self.received.append(orjson.loads(text))

    def ops(self, kind: str) -> list[dict[str, Any]]:
        """The resolved events of one kind, from live frames and welcome catch-ups."""
        found = []
        for frame in self.received:
            events = [frame] if frame["type"] == "event" else frame.get("events", [])
            found += [e["op"] for e in events if e["op"]["kind"] == kind]
        return found

    def until(self, kind: str) -> list[str]:
        """The raw frames received before the first event of this kind."""
        for i, frame in enumerate(self.received):
            if frame["type"] == "event" and frame["op"]["kind"] == kind:
                return self.raw[:i]
        return list(self.raw)


def join(browser: Browser, link: str, name: str | None, **options: Any) -> tuple[Watched, Frames]:
    """A fresh browser context on a link, its frames recorded from the first one."""
    page = new_context(browser, **options).new_page()
    frames = Frames(page)  # before the page opens its socket
    watched = Watched(page)
    page.goto(link)
    if name is not None:  # an observer is never asked for a pseudonym
        page.fill("#join-name", name)
        page.press("#join-name", "Enter")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    return watched, frames


def open_fold(page: Page, panel: str) -> None:
    """Open the side drawer, then one of its folding panels (a <details>) if closed."""
    if page.locator("#drawer").is_hidden():
        page.click("#drawer-toggle")
    fold = page.locator(f"#{panel}")
    if fold.get_attribute("open") is None:
        fold.locator(":scope > summary").click()
    expect(fold).to_have_attribute("open", "")


def create_in_phase(server: ServerProcess, title: str, phase: int) -> dict[str, Any]:
    """A workshop created for a given phase (a new one starts in phase 4 by default)."""
    response = httpx.post(f"{server.base}/api/workshops", json={"title": title, "phase": phase})
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    data["secrets"] = {r: link.split("#k=")[1] for r, link in data["links"].items()}
    return data


def next_phase(page: Page) -> None:
    """« Passer à la phase N… », then yes in the confirmation it asks."""
    page.click("#phase-next")
    expect(page.locator("#confirm")).to_contain_text("On ne revient pas en arrière")
    page.click("#confirm-ok")


def move_to(page: Page, text: str, title: str) -> None:
    """Move a note with the keyboard: focus, M, choose the column, Enter."""
    note(page, text).focus()
    page.keyboard.press("m")
    page.locator(".mover select").select_option(label=title)
    page.keyboard.press("Enter")
    expect(column(page, title).locator(".note-text", has_text=text)).to_have_count(1)


def tag(page: Page, text: str, ambitions: list[str]) -> None:
    """Tick ambitions in a note's editor, then save with Enter in its text."""
    note(page, text).focus()
    page.keyboard.press("Enter")
    editor = note(page, text).locator(".editor")
    for name in ambitions:
        editor.get_by_label(name).check()
    editor.locator("textarea").press("Enter")
    expect(note(page, text).locator(".editor")).to_have_count(0)


def state_of(page: Page, title: str, statement: str) -> None:
    """Write an orientation's statement through its « Formuler l'énoncé » editor."""
    col = column(page, title)
    col.get_by_role("button", name=f"Formuler l'énoncé de « {title} »").first.click()
    col.locator(".statement-form textarea").fill(statement)
    col.locator(".statement-form button[type=submit]").click()
    expect(col.locator(".statement")).to_have_text(statement)


def shoot(page: Page, name: str, shots: list[Path], full: bool = False) -> None:
    """A screenshot into test-artifacts/ (checked to be more than blank later)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"flow-{name}.png"
    page.screenshot(path=str(path), full_page=full)
    shots.append(path)


def test_a_short_phase_4_runs_from_the_first_finding_to_the_frozen_record(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    """Facilitator and two participants: findings to orientations, votes, reveal, freeze, ODT."""
    workshop = create_in_phase(server, "Atelier Pays de Redon", 1)  # to walk to phase 4
    links = workshop["links"]
    shots: list[Path] = []
    fac_w, _ = join(browser, links["facilitator"], "Animation", accept_downloads=True,
                    viewport=WIDE)  # fmt: skip  # the drawer docks beside the board
    ana_w, ana_frames = join(browser, links["participant"], "Ana")
    bruno_w, bruno_frames = join(
        browser, links["participant"], "Bruno", viewport=PHONE, has_touch=True, is_mobile=True
    )
    fac, ana, bruno = fac_w.page, ana_w.page, bruno_w.page

    # everyone sees the five phases, the first one current
    for page in (fac, ana, bruno):
        expect(page.locator("#phases li")).to_have_count(5)
        expect(page.locator("#phases li[aria-current=step]")).to_contain_text(
            "Préparation de la démarche"
        )
    expect(ana.locator("#panel-facilitator")).to_be_hidden()
    expect(ana.locator("#panel-vigilance")).to_be_hidden()

    # the facilitator walks to phase 4 while Bruno types a finding: his draft survives
    open_fold(fac, "panel-facilitator")
    bruno.fill("#new-pool", "Brouillon de Bruno en cours")
    for opened in ("Vision", "Diagnostic ciblé", "Orientations stratégiques"):
        next_phase(fac)
        for page in (fac, ana, bruno):
            expect(page.locator("#phases li[aria-current=step]")).to_contain_text(
                opened, timeout=LIVE * 3
            )
    expect(bruno.locator("#new-pool")).to_have_value("Brouillon de Bruno en cours")
    bruno.fill("#new-pool", "")

    # findings, from the first one; orientations; clustering; ambitions
    add_note(fac, "Peu de circuits courts alimentaires")
    add_note(ana, "Friches industrielles à reconvertir")
    add_note(bruno, "Emplois saisonniers précaires")
    for title in ("Relocaliser l'alimentation", "Économie circulaire", "Qualité de l'emploi"):
        add_column(fac, title)
    move_to(ana, "Peu de circuits courts", "Relocaliser l'alimentation")
    move_to(ana, "Friches industrielles", "Économie circulaire")
    move_to(fac, "Emplois saisonniers", "Qualité de l'emploi")
    tag(fac, "Peu de circuits courts", ["Ancrage territorial", "Des formes d'échanges"])
    tag(fac, "Friches industrielles", ["Engagement du tissu économique"])
    tag(fac, "Emplois saisonniers", ["Un monde du travail"])

    # the facilitator's checks come from the server's vigilance frames
    open_fold(fac, "panel-vigilance")
    vigilance = fac.locator("#vig-advice")  # Atelier's advice, apart from the method's points
    expect(vigilance).to_contain_text("« Relocaliser l'alimentation » n'est pas encore formulée.")
    open_fold(fac, "panel-coverage")
    expect(fac.locator("#coverage tfoot td")).to_have_text(["oui", "oui", "oui", "oui"])

    # silent writing: each one's finding is theirs alone until the reveal
    fac.check("#silent-toggle")
    expect(ana.locator("#tool-silent")).to_be_visible(timeout=LIVE * 3)
    add_note(ana, "Secret d'Ana : une monnaie locale")
    add_note(bruno, "Secret de Bruno : un tiers-lieu")
    expect(note(ana, "Secret d'Ana")).to_have_class(re.compile("is-private"))
    expect(note(ana, "Secret d'Ana").locator(".private")).to_contain_text("privé")
    ana.reload()  # the server's view says so too: the mark survives a reload
    expect(ana.locator("#conn")).to_have_attribute("data-state", "online")
    expect(note(ana, "Secret d'Ana")).to_have_class(re.compile("is-private"))
    # the facilitator sees how many wait, never what they say
    expect(fac.locator("#silent-waiting")).to_have_text(
        "2 constat(s) silencieux en attente de dévoilement.", timeout=LIVE * 3
    )
    expect(fac.locator("#tool-silent")).to_have_text("Écriture silencieuse · 2 en attente")
    expect(note(fac, "Secret")).to_have_count(0)

    # statements, an idea parked for phase 5, a named snapshot
    # wording an orientation is the facilitator's (participants have no such control)
    expect(ana.get_by_role("button", name=re.compile("Formuler l'énoncé"))).to_have_count(0)
    state_of(fac, "Relocaliser l'alimentation", "Nourrir le territoire par ses producteurs")
    state_of(fac, "Économie circulaire", "Faire des déchets des uns les ressources des autres")
    state_of(fac, "Qualité de l'emploi", "Des emplois locaux durables et choisis")
    expect(vigilance).not_to_contain_text("n'est pas encore formulée")
    idea_box = column(bruno, "Relocaliser l'alimentation").locator("details.ideas")
    idea_box.locator("summary").click()
    idea_box.get_by_label("Idée d'action pour la phase 5").fill("Une légumerie collective")
    idea_box.get_by_role("button", name="Garer l'idée").click()
    expect(column(ana, "Relocaliser l'alimentation").locator("details.ideas summary")).to_have_text(
        "Idées d'actions (1)"
    )
    fac.fill("#snapshot-label", "Avant le vote")
    fac.click("#snapshot-form button[type=submit]")

    # a countdown everyone sees, read out once at its start
    fac.fill("#timer-minutes", "2")
    fac.click("#timer-form button[type=submit]")
    for page in (ana, bruno):
        expect(page.locator("#timer")).to_have_text(re.compile(r"Temps restant : (1:5\d|2:00)"))
        said(page, "Compte à rebours lancé : 2 minute(s).")

    # dot voting: a budget of 2, each sees their own ballot only
    fac.fill("#vote-budget", "2")
    fac.click("#vote-open")
    expect(ana.locator("#tool-voting")).to_have_text("Vote ouvert : il vous reste 2 vote(s) sur 2")
    vote = "Voter pour « Relocaliser l'alimentation »"
    ana.get_by_role("button", name=vote).click()
    expect(ana.locator("#tool-voting")).to_have_text("Vote ouvert : il vous reste 1 vote(s) sur 2")
    ana.get_by_role("button", name=vote).click()
    expect(ana.get_by_role("button", name=vote)).to_be_disabled()
    bruno.get_by_role("button", name="Voter pour « Économie circulaire »").focus()
    bruno.keyboard.press("Enter")  # the keyboard votes as well as a finger
    expect(column(ana, "Relocaliser l'alimentation").locator(".vote-mine")).to_have_text(
        "Mes votes : 2"
    )
    expect(column(bruno, "Relocaliser l'alimentation").locator(".vote-mine")).to_have_text(
        "Mes votes : 0"
    )
    expect(column(bruno, "Économie circulaire").locator(".vote-mine")).to_have_text("Mes votes : 1")
    expect(column(ana, "Relocaliser l'alimentation").locator(".tally")).to_have_text("")
    shoot(bruno, "phone-vote", shots, full=True)
    shoot(ana, "desktop-vote", shots)
    expect(note(bruno, "Secret d'Ana")).to_have_count(0)
    expect(note(ana, "Secret de Bruno")).to_have_count(0)
    expect(note(fac, "Secret d'Ana")).to_have_count(0)

    # the reveals, one step each: the silent findings, then the counts, for everyone
    fac.click("#reveal-notes")
    for page in (fac, ana, bruno):
        expect(note(page, "Secret de Bruno")).to_have_count(1, timeout=LIVE * 3)
    expect(column(ana, "Relocaliser l'alimentation").locator(".tally")).to_have_text("")
    expect(fac.locator("#silent-waiting")).to_have_text("Aucun constat silencieux en attente.")
    fac.click("#reveal-votes")
    for page in (fac, ana, bruno):
        expect(column(page, "Relocaliser l'alimentation").locator(".tally")).to_have_text(
            "2 vote(s)", timeout=LIVE * 3
        )
        expect(column(page, "Économie circulaire").locator(".tally")).to_have_text("1 vote(s)")
        expect(note(page, "Secret d'Ana")).to_have_count(1)
        expect(note(page, "Secret de Bruno")).to_have_count(1)
    expect(note(ana, "Secret d'Ana")).not_to_have_class(re.compile("is-private"))

    # the snapshot taken before the vote, opened read-only and compared with now
    open_fold(fac, "panel-snapshots")
    snapshot_item = fac.locator("#snapshot-list li", has_text="Avant le vote")
    expect(snapshot_item).to_have_count(1)
    snapshot_item.get_by_role("button").click()
    expect(fac.locator("#snapshot-view")).to_be_visible()
    expect(fac.locator("#snapshot-view")).to_contain_text("Nourrir le territoire")
    expect(fac.locator("#snapshot-view")).not_to_contain_text("Secret d'Ana")
    fac.locator("#snapshot-view").get_by_role("button", name="Fermer").click()
    before_vote = fac.locator("#diff-a option", has_text="Avant le vote").get_attribute("value")
    assert before_vote is not None and re.fullmatch(r"s\d+", before_vote)
    fac.locator("#diff-a").select_option(before_vote)
    fac.locator("#diff-b").select_option("now")
    fac.click("#diff-form button[type=submit]")
    expect(fac.locator("#diff-result")).to_contain_text("Constats ajoutés (2)")
    expect(fac.locator("#diff-result")).to_contain_text("Secret d'Ana : une monnaie locale")
    shoot(fac, "desktop-facilitator", shots, full=True)

    # the freeze asks first: Escape keeps the board open, the confirmation freezes it
    fac.click("#freeze")
    expect(fac.locator("#confirm")).to_be_visible()
    expect(fac.locator("#confirm").get_by_role("button", name="Annuler")).to_be_focused()
    fac.keyboard.press("Escape")
    expect(fac.locator("#confirm")).to_be_hidden()
    assert server_state(server, workshop)["frozen"] is None
    fac.click("#freeze")
    expect(fac.locator("#confirm")).to_be_visible()
    expect(fac.locator("#confirm")).to_contain_text("C'est définitif")
    fac.click("#confirm-ok")
    record = server_state(server, workshop)
    for page in (fac, ana, bruno):
        expect(page.locator("#record")).to_be_visible(timeout=LIVE * 5)
        expect(page.locator("#board")).to_have_class(re.compile("readonly"))
        expect(page.locator("#new-pool")).to_be_hidden()
        body = page.locator("#record-body")
        expect(body.locator(".record-orientation h4")).to_have_text(
            ["Relocaliser l'alimentation", "Économie circulaire", "Qualité de l'emploi"]
        )
        expect(body).to_contain_text("Nourrir le territoire par ses producteurs")
        expect(body).to_contain_text("Peu de circuits courts alimentaires")
        expect(body).to_contain_text("Animation")
    record = server_state(server, workshop)
    assert record["frozen"] is not None
    snap = fac.evaluate(
        """async () => (await fetch(location.pathname.replace('/w/', '/api/workshops/') +
        '/snapshots/record', {headers: {authorization: 'Bearer ' +
        new URLSearchParams(location.hash.slice(1)).get('k')}})).json()"""
    )
    expect(ana.locator("#record-body .record-hash code")).to_have_text(snap["record"]["hash"])
    expect(fac.locator("#freeze")).to_be_hidden()
    expect(fac.locator("#reopen")).to_be_visible()
    shoot(bruno, "phone-record", shots, full=True)
    shoot(ana, "desktop-record", shots, full=True)

    # the facilitator downloads the record as ODT: a blob fetched with the Bearer header
    fac.locator("#export-source").select_option("record")
    fac.locator("#export-format").select_option("odt")
    with fac.expect_download() as download_info:
        fac.click("#export-form button[type=submit]")
    download = download_info.value
    assert download.suggested_filename.endswith(".odt")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    document = load(str(path))
    paragraphs = " ".join(str(p) for p in document.getElementsByType(P))
    assert "Nourrir le territoire par ses producteurs" in paragraphs
    # a blob handed over by the page: the secret went in a header, never in a URL
    assert download.url.startswith("blob:")
    fac.locator("#export-source").select_option(before_vote)
    fac.locator("#export-format").select_option("csv")
    with fac.expect_download() as download_info:
        fac.click("#export-form button[type=submit]")
    download_info.value.save_as(tmp_path / "before.csv")
    rows = (tmp_path / "before.csv").read_text(encoding="utf-8-sig")
    assert "Peu de circuits courts alimentaires" in rows
    assert "Secret d'Ana" not in rows, "a snapshot before the reveal holds no silent note"
    log = server.log()
    assert "/export.odt" in log, "the access log shows the export requests"
    for secret in workshop["secrets"].values():
        assert secret not in log, "a link's secret reached the server's log"

    # the frames, not only the page: nothing private reached the other participant early
    for frames, own, other in (
        (ana_frames, "Secret d'Ana", "Secret de Bruno"),
        (bruno_frames, "Secret de Bruno", "Secret d'Ana"),
    ):
        before = frames.until("notes.reveal")
        assert any(own in raw for raw in before), "the author gets her own silent note"
        assert not any(other in raw for raw in before), f"{other} leaked before the reveal"
        assert all('"counts":{' not in raw for raw in before), "counts before the reveal"
    voters = {o["column"] for o in bruno_frames.ops("vote.add")}
    columns = {c["title"]: c["id"] for c in record["columns"]}
    assert voters == {columns["Économie circulaire"]}, "Bruno heard only of his own votes"
    assert all(
        set(o["mine"]) <= {columns["Économie circulaire"]} for o in bruno_frames.ops("vote.add")
    )
    for o in ana_frames.ops("vote.add"):
        assert set(o["mine"]) == {columns["Relocaliser l'alimentation"]}

    ana_frames.check_schema()
    bruno_frames.check_schema()
    assert PHONE["width"] >= bruno.evaluate("document.documentElement.scrollWidth")
    for watched in (fac_w, ana_w, bruno_w):
        watched.assert_clean()
    for path in shots:
        assert path.stat().st_size > 10_000, f"{path} looks empty"


def test_facilitator_tools_import_lock_erase_rotate_reopen_and_delete(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    """CSV import, lock, erased pseudonym, replaced link, countdown's end, reopen, delete."""
    workshop = server.create_workshop("Atelier Vallée de la Vilaine")
    links = workshop["links"]
    fac_w, _ = join(browser, links["facilitator"], "Animation", viewport=WIDE)
    zoe_w, _ = join(browser, links["participant"], "Zoé")
    obs_w, _ = join(browser, links["observer"], None, viewport=PHONE, is_mobile=True)
    fac, zoe, obs = fac_w.page, zoe_w.page, obs_w.page
    expect(obs.locator("body")).to_have_class("presenting")  # the wall's link
    obs.click("#present-exit")

    # findings imported from a CSV file land in the pool, for everyone
    csv = tmp_path / "constats.csv"
    csv.write_text("constat;ambitions\nBourgs qui se vident;ancrage\nPeu de covoiturage;\n")
    open_fold(fac, "panel-facilitator")
    fac.set_input_files("#import-file", str(csv))
    preview = fac.locator("#import-dialog")  # what the file holds, before anything lands
    expect(preview).to_contain_text("Ce fichier ajoutera 2 constat(s)")
    expect(column(zoe, None).locator(".note-text")).to_have_count(0)
    preview.get_by_role("button", name="Importer 2 constat(s) et 0 idée(s)").click()
    expect(fac.locator("#import-file")).to_be_focused()  # back where the import started
    for page in (fac, zoe, obs):
        expect(column(page, None).locator(".note-text")).to_have_text(
            ["Bourgs qui se vident", "Peu de covoiturage"], timeout=LIVE * 3
        )
    expect(fac.locator("#live")).to_have_text(
        "Import terminé : 2 constat(s) et 0 idée(s) d'actions ajoutés."
    )

    # a locked orientation takes no new finding; the observer never sees a control
    add_column(fac, "Revitaliser les centres-bourgs")
    add_note(zoe, "Commerces fermés")
    target = column(fac, "Revitaliser les centres-bourgs")
    column_menu(fac, "Revitaliser les centres-bourgs").get_by_role(
        "button", name="Verrouiller"
    ).click()
    expect(column(zoe, "Revitaliser les centres-bourgs")).to_have_class(re.compile("locked"))
    expect(column(zoe, "Revitaliser les centres-bourgs").locator(".composer")).to_be_hidden()
    expect(column(zoe, "Revitaliser les centres-bourgs")).to_contain_text("verrouillée")
    note(zoe, "Commerces fermés").focus()
    zoe.keyboard.press("m")
    zoe.locator(".mover select").select_option(label="Revitaliser les centres-bourgs")
    zoe.keyboard.press("Enter")
    expect(zoe.locator("#toasts")).to_contain_text("verrouillée par l'animation")
    expect(column(zoe, None).locator(".note-text", has_text="Commerces fermés")).to_have_count(1)
    lock = column_menu(fac, "Revitaliser les centres-bourgs").get_by_role(
        "button", name="Verrouiller"
    )
    expect(lock).to_have_attribute("aria-pressed", "true")  # a toggle: its state is said
    lock.click()
    expect(
        column_menu(fac, "Revitaliser les centres-bourgs").get_by_role("button", name="Verrouiller")
    ).to_have_attribute("aria-pressed", "false")
    assert target.count() == 1
    expect(column(zoe, "Revitaliser les centres-bourgs").locator(".composer")).to_be_visible()
    expect(obs.locator("#panel-facilitator")).to_be_hidden()
    expect(obs.locator("#new-pool")).to_be_hidden()
    expect(obs.get_by_role("button", name=re.compile("Formuler|Voter|Garer"))).to_have_count(0)
    obs.click("#drawer-toggle")
    expect(obs.locator("#panel-snapshots")).to_be_visible()
    obs.click("#drawer-close")

    # an action idea parked, then taken back
    ideas = column(zoe, "Revitaliser les centres-bourgs").locator("details.ideas")
    ideas.locator("summary").click()
    ideas.get_by_label("Idée d'action pour la phase 5").fill("Une boutique à l'essai")
    ideas.get_by_label("Idée d'action pour la phase 5").press("Enter")
    fac_ideas = column(fac, "Revitaliser les centres-bourgs").locator("details.ideas")
    expect(fac_ideas.locator("summary")).to_have_text("Idées d'actions (1)")
    ideas.get_by_role("button", name="Supprimer l'idée « Une boutique à l'essai »").click()
    expect(fac_ideas.locator("summary")).to_have_text("Idées d'actions (0)")

    # a countdown that ends is said to be over, once
    seed(server, workshop, [{"kind": "timer.start", "seconds": 2}])
    expect(zoe.locator("#timer")).to_have_text("Temps écoulé", timeout=5000)
    said(zoe, "Temps écoulé.")

    # a pseudonym erased after a confirmation: Zoé's finding is signed anonymously
    fac.locator("#erase-name").focus()
    fac.locator("#erase-name").select_option("Zoé")
    fac.click("#erase-form button[type=submit]")
    expect(fac.locator("#confirm")).to_contain_text("Zoé")
    fac.click("#confirm-ok")
    for page in (fac, obs):
        expect(note(page, "Commerces fermés").locator(".note-author")).to_have_text(
            "par Participant·e anonyme"
        )

    # the participant link replaced: a new link with its QR code; the old one opens nothing
    fac.locator("#rotate-role").select_option("participant")
    fac.click("#rotate-form button[type=submit]")
    card = fac.locator("#new-links .link-card")
    expect(card).to_have_count(1)
    expect(card.locator("img.qr")).to_have_attribute("src", re.compile("^data:image/svg"))
    new_link = card.locator(".link-url").inner_text()
    assert new_link != links["participant"] and "#k=" in new_link
    expect(zoe.locator("#problem-text")).to_be_visible(timeout=LIVE * 5)

    # freeze, then reopen as a new version: its links open an unfrozen copy
    fac.click("#freeze")
    fac.click("#confirm-ok")
    expect(fac.locator("#record")).to_be_visible(timeout=LIVE * 5)
    expect(obs.locator("#record")).to_be_visible(timeout=LIVE * 5)
    fac.click("#reopen")
    expect(fac.locator("#new-links .link-card")).to_have_count(3)
    copy_link = fac.locator("#new-links .role-participant .link-url").inner_text()
    assert workshop["id"] not in copy_link
    copy_w, _ = join(browser, copy_link, "Zoé")
    expect(note(copy_w.page, "Bourgs qui se vident")).to_have_count(1)
    expect(copy_w.page.locator("#record")).to_be_hidden()
    expect(copy_w.page.locator("#new-pool")).to_be_visible()

    # English is one switch away, the flow included
    obs.click("#lang")
    expect(obs.locator("#phases li").first).to_contain_text("Preparing the process")
    expect(obs.locator("#record-title")).to_have_text(
        "Official record of the strategic orientations"
    )

    # at 360 px, the facilitator's panel and the observer's record fit the width
    fac.set_viewport_size(PHONE)
    expect(fac.locator("#reopen")).to_be_visible()
    for page, name in ((fac, "phone-facilitator"), (obs, "phone-observer")):
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"flow-{name}.png"), full_page=True)

    # deleting the workshop asks first, then the board is gone for everyone
    fac.click("#delete-ws")
    expect(fac.locator("#confirm")).to_contain_text("effacés pour tout le monde")
    fac.click("#confirm-ok")
    expect(fac.locator("#home")).to_be_visible()
    response = httpx.get(
        f"{server.base}/api/workshops/{workshop['id']}",
        headers={"authorization": f"Bearer {workshop['secrets']['observer']}"},
    )
    assert response.status_code == 404
    for watched in (fac_w, copy_w, obs_w):
        watched.assert_clean()
