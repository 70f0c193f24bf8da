"""Everyone can take part from the keyboard (issue 16), in a real Chromium: a participant
and a facilitator run their main tasks with Tab, Shift+Tab, Enter, Space, Escape and the
arrows alone (typing text into fields aside). After each action the test asserts where
the focus is (never the page's body, always on screen, under nothing) and what the live
region said. Screenshots of focus states go to test-artifacts/keyboard-*.png."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .support import ServerProcess, server_state
from .test_browser import ARTIFACTS, Watched, column, new_context, note, said, seed

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
#: The keys a keyboard-only user has (issue 16); text typed into a field comes on top.
KEYS = {"Tab", "Shift+Tab", "Enter", "Space", "Escape",
        "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"}  # fmt: skip
#: Where the focus is: a description of the focused element, or why it is not fine.
WHERE = """() => {
    const a = document.activeElement;
    if (!a || a === document.body || a === document.documentElement) return "BODY";
    const r = a.getBoundingClientRect();
    if (!r.width && !r.height) return "INVISIBLE " + a.outerHTML.slice(0, 120);
    const inside = r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
    if (!inside) return `OFFSCREEN ${JSON.stringify(r)} ` + a.outerHTML.slice(0, 120);
    const x = Math.min(innerWidth - 1, Math.max(0, r.left + Math.min(r.width, 20) / 2));
    const y = Math.min(innerHeight - 1, Math.max(0, r.top + Math.min(r.height, 20) / 2));
    const hit = document.elementFromPoint(x, y);
    const covered = hit && !a.contains(hit) && !hit.contains(a);
    if (covered) return "COVERED by " + hit.outerHTML.slice(0, 120);
    return "OK";
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (its op rate limit lets the seed go at once)."""
    env = {"ATELIER_OPS_PER_SECOND": "100000", "ATELIER_OPS_BURST": "100000"}
    proc = ServerProcess(tmp_path_factory.mktemp("keys") / "data", env=env).start()
    yield proc
    proc.stop()


class Keyboard:
    """A page driven by the keys of KEYS only, checking the focus after each press."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def press(self, key: str, times: int = 1) -> None:
        """Press an allowed key (Shift+Tab included)."""
        assert key in KEYS, f"{key} is not a key of a keyboard-only user"
        for _ in range(times):
            self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        """Type text into the focused field."""
        self.page.keyboard.type(text)

    def focus_is_fine(self) -> None:
        """The focus is on an element on screen, under nothing: never the page's body."""
        where = ""
        for _ in range(50):  # a draw may still be on its way: poll a little
            where = self.page.evaluate(WHERE)
            if where == "OK":
                return
            self.page.wait_for_timeout(40)
        raise AssertionError(f"focus: {where}")

    def on(self, target: Locator) -> None:
        """The focus is on target, and fine."""
        expect(target).to_be_focused()
        self.focus_is_fine()

    def tab_to(self, target: Locator, limit: int = 60, back: bool = False) -> int:
        """Press Tab (or Shift+Tab) until the focus is on target; how many presses it took.
        The focus must be fine at every step on the way."""
        for pressed in range(limit + 1):
            if target.evaluate("(e) => e === document.activeElement"):
                self.focus_is_fine()
                return pressed
            self.press("Shift+Tab" if back else "Tab")
            self.focus_is_fine()
        raise AssertionError(f"{target} is not reachable with {'Shift+' if back else ''}Tab")

    def said(self, text: str) -> None:
        """The live region said text (messages said together are joined)."""
        said(self.page, text)


def open_page(browser: Browser, link: str, name: str, **options: Any) -> Watched:
    """A fresh context on a link, joined under a pseudonym, the page's top focused."""
    context = new_context(browser, **{"viewport": LAPTOP, **options})
    context.add_init_script(f"localStorage.setItem('atelier.pref.name', '\"{name}\"')")
    watched = Watched(context.new_page())
    watched.page.goto(link)
    expect(watched.page.locator("#conn")).to_have_attribute("data-state", "online")
    return watched


def shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"keyboard-{name}.png"
    page.screenshot(path=path)
    return path


def test_a_participant_adds_edits_moves_votes_and_parks_an_idea_with_the_keyboard(
    browser: Browser, server: ServerProcess
) -> None:
    """A participant, keys only: the skip link to the findings, a finding added, edited,
    moved with its ⇆ button, deleted with its ✕ button; « Aller à l'orientation… »; a
    vote; an idea parked. Each time the focus stays on screen and the live region says
    what happened; when the facilitator closes the vote under the focus, the focus lands
    on the orientation and the live region says so."""
    workshop = server.create_workshop("Au clavier")
    seed(server, workshop, [
        {"kind": "column.add", "id": "c1", "title": "Circuits courts"},
        {"kind": "column.add", "id": "c2", "title": "Emploi local"},
        {"kind": "note.add", "id": "n1", "text": "Peu de producteurs au marché"},
        {"kind": "tools.set", "voting": True, "budget": 3},
    ])  # fmt: skip
    watched = open_page(browser, workshop["links"]["participant"], "Inès")
    page = watched.page
    keys = Keyboard(page)

    # the skip links come first; one goes to the findings to sort
    keys.press("Tab")
    keys.on(page.get_by_role("link", name="Aller au tableau"))
    shoot(page, "skip-link")
    keys.press("Tab")
    keys.on(page.get_by_role("link", name="Aller aux constats à classer"))
    keys.press("Enter")
    keys.on(page.locator("#section-pool"))
    keys.tab_to(page.locator("#new-pool"), limit=3)
    keys.type("Des friches à reconvertir")
    keys.press("Enter")
    keys.said("Constat ajouté à « Constats à classer ».")
    keys.on(page.locator("#new-pool"))
    added = note(page, "Des friches à reconvertir")
    expect(added).to_have_count(1)

    # the list is one Tab stop: its current note; the arrows walk the notes
    keys.press("Tab", 2)
    keys.on(note(page, "Peu de producteurs"))
    keys.press("ArrowDown")
    keys.on(added)
    shoot(page, "note-focus")
    keys.press("Enter")
    editor = added.get_by_label("Texte du constat")
    keys.on(editor)
    keys.type(" en bord de rivière")
    keys.press("Enter")
    keys.said("Constat modifié.")
    keys.on(added)
    expect(added.locator(".note-text")).to_have_text("Des friches à reconvertir en bord de rivière")

    # its buttons are Tab stops while it is the current note: ⇆ moves it
    keys.press("Tab", 2)
    keys.on(added.get_by_role("button", name="Déplacer"))
    shoot(page, "note-buttons")
    keys.press("Enter")
    keys.on(added.get_by_label("Déplacer vers"))
    keys.said("Choisissez la destination, puis confirmez.")
    keys.press("ArrowDown")  # from « Circuits courts » to « Emploi local »
    keys.press("Enter")
    moved = column(page, "Emploi local").locator(".note", has_text="Des friches")
    expect(moved).to_have_count(1)
    keys.on(moved)
    keys.said("déplacé vers « Emploi local », position 1.")

    # « Aller à l'orientation… », then a vote
    goto = page.locator(".goto > summary")
    keys.tab_to(goto, back=True)
    keys.press("Enter")
    keys.press("ArrowDown")
    keys.on(page.get_by_role("button", name="1. Circuits courts"))
    keys.press("Enter")
    section = column(page, "Circuits courts")
    keys.on(section)
    vote = page.get_by_role("button", name="Voter pour « Circuits courts »")
    keys.tab_to(vote, limit=8)
    keys.press("Space")
    keys.said("Vote ajouté à « Circuits courts ».")
    keys.on(vote)
    expect(section.locator(".vote-mine")).to_have_text("Mes votes : 1")

    # an action idea parked under it
    ideas = section.locator(".ideas > summary")
    keys.tab_to(ideas, limit=12)
    keys.press("Enter")
    field = section.get_by_label("Idée d'action pour la phase 5")
    keys.press("Tab")
    keys.on(field)
    keys.type("Un marché de producteurs le samedi")
    keys.press("Enter")
    keys.said("Idée d'action garée sous « Circuits courts » pour la phase 5.")
    keys.on(field)
    expect(ideas).to_have_text("Idées d'actions (1)")

    # deleted with its ✕ button: the focus goes to a neighbour
    keys.tab_to(moved, limit=40)
    keys.press("Tab", 3)
    keys.on(moved.get_by_role("button", name="Supprimer"))
    keys.press("Enter")
    keys.said("Constat supprimé.")
    expect(moved).to_have_count(0)
    keys.focus_is_fine()

    # the facilitator closes the vote under the participant's focus: told, never lost
    keys.tab_to(vote, back=True, limit=40)
    seed(server, workshop, [{"kind": "tools.set", "voting": False}])
    keys.on(section)
    keys.said("Le vote est clos.")
    keys.said("vous voici sur « Circuits courts »")
    state = server_state(server, workshop)
    assert state["ideas"][0]["text"] == "Un marché de producteurs le samedi"
    assert [n["text"] for n in state["notes"]] == ["Peu de producteurs au marché"]
    watched.assert_clean()
    page.context.close()


def test_someone_elses_changes_are_said_in_summaries_and_never_move_the_focus_silently(
    browser: Browser, server: ServerProcess
) -> None:
    """Three findings moved by others at once are said as one summary; when someone else
    moves the finding this reader is on, the focus follows it and the live region says
    where it went."""
    workshop = server.create_workshop("Les autres bougent")
    seed(server, workshop, [
        {"kind": "column.add", "id": "c1", "title": "Circuits courts"},
        *({"kind": "note.add", "id": f"n{i}", "text": f"Constat {i}"} for i in range(5)),
    ])  # fmt: skip
    watched = open_page(browser, workshop["links"]["participant"], "Inès")
    page = watched.page
    keys = Keyboard(page)
    seed(server, workshop, [
        {"kind": "note.move", "id": f"n{i}", "column": "c1"} for i in (2, 3, 4)
    ])  # fmt: skip
    keys.said("3 constats déplacés par d'autres.")
    note(page, "Constat 0").focus()  # where the reader sits (keys.tab_to reaches it too)
    seed(server, workshop, [{"kind": "note.move", "id": "n0", "column": "c1"}])
    keys.said(
        "Le constat « Constat 0 » où vous étiez a été déplacé par d'autres vers « Circuits courts »"
    )
    keys.on(note(page, "Constat 0"))
    watched.assert_clean()
    page.context.close()


def test_a_facilitator_runs_the_workshop_with_the_keyboard(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    """A facilitator, keys only: creates the workshop on the home page, opens its board,
    adds an orientation, renames it, locks it, opens and closes a vote, reveals it, moves
    to the next phase, freezes the board and exports the record. Each time the focus
    lands on what the action produced or its nearest stable neighbour, on screen, and the
    live region says what happened."""
    context = new_context(browser, viewport=LAPTOP)
    context.add_init_script("localStorage.setItem('atelier.pref.name', '\"Claire\"')")
    watched = Watched(context.new_page())
    page = watched.page
    keys = Keyboard(page)
    page.goto(server.base)
    keys.tab_to(page.get_by_label("Titre de l'atelier"))
    keys.type("Atelier au clavier")
    keys.press("Tab")
    keys.type("Commune de Redon")
    keys.tab_to(page.get_by_role("button", name="Créer l'atelier"))
    keys.press("Enter")
    keys.on(page.locator("#links h2"))
    keys.tab_to(page.get_by_role("link", name="Ouvrir le tableau"))
    keys.press("Enter")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")

    # an orientation: added, renamed (the focus on its menu, named after it), locked
    keys.press("Tab", 3)
    keys.on(page.get_by_role("link", name="Aller aux orientations"))
    keys.press("Enter")
    keys.on(page.locator("#orient-title"))
    keys.tab_to(page.locator("#new-column"), limit=4)
    keys.type("Mobilités")
    keys.press("Enter")
    keys.said("Orientation « Mobilités » ajoutée.")
    keys.on(page.locator("#new-column"))
    summary = page.locator(".col-menu > summary")
    expect(summary).to_have_count(1)
    keys.tab_to(summary)
    keys.press("Enter")
    keys.press("ArrowDown")
    keys.tab_to(page.get_by_role("button", name="Renommer"))
    keys.press("Enter")
    keys.on(page.get_by_label("Intitulé de l'orientation"))
    keys.type("Mobilités du quotidien")  # the field starts with the title selected
    keys.press("Enter")
    keys.said("Orientation renommée : « Mobilités du quotidien ».")
    keys.on(summary)  # the title takes no focus: its menu, named after it, does
    expect(summary).to_have_attribute(
        "aria-label", "Actions de l'orientation « Mobilités du quotidien »"
    )
    keys.press("Enter")
    lock = page.locator(".col-menu button[data-i18n='orientation.lock']")
    keys.tab_to(lock)
    keys.press("Enter")
    keys.said("Orientation « Mobilités du quotidien » verrouillée.")
    keys.on(summary)
    expect(lock).to_have_attribute("aria-pressed", "true")
    expect(column(page, "Mobilités du quotidien").locator(".badge.lock")).to_have_text(
        "🔒 verrouillée"
    )

    # the drawer, from its skip link; the vote opened, closed, revealed
    keys.tab_to(page.get_by_role("link", name="Aller aux outils d'animation"), back=True)
    keys.press("Enter")
    keys.on(page.locator("#drawer-title"))
    keys.tab_to(page.locator("#vote-open"))
    keys.press("Enter")
    keys.said("Vote ouvert avec 3 vote(s) par personne.")
    keys.on(page.locator("#vote-close"))
    shoot(page, "vote-close")
    keys.press("Enter")
    keys.said("Le vote est clos.")
    keys.on(page.locator("#vote-open"))
    keys.tab_to(page.locator("#reveal-votes"))
    keys.press("Enter")
    keys.said("Les votes sont dévoilés.")
    keys.on(page.locator("#vote-open"))

    # the next phase, through its confirmation
    keys.tab_to(page.locator("#phase-next"), back=True)
    keys.press("Enter")
    dialog = page.locator("#confirm")
    keys.on(dialog.get_by_role("button", name="Annuler"))
    keys.press("Tab")
    keys.on(page.locator("#confirm-ok"))
    keys.press("Enter")
    keys.said("Phase ouverte : Plan d'actions, modalités d'engagement et de suivi.")
    # the last phase: its button turns disabled, the focus goes to its group, and says so
    keys.on(page.locator("fieldset", has=page.locator("#phase-next")))
    keys.said("vous voici sur « Phases et instantanés »")

    # the freeze: its dialog says what stays open; the focus lands on the record
    keys.tab_to(page.locator("#freeze"))
    keys.press("Enter")
    keys.on(dialog.get_by_role("button", name="Annuler"))
    expect(dialog).to_contain_text("Points de vigilance sans réponse (3)")
    shoot(page, "freeze-dialog")
    keys.press("Tab", 2)
    keys.on(page.locator("#confirm-ok"))
    keys.press("Enter")
    keys.said("Le tableau est figé : voici le relevé officiel des orientations.")
    keys.on(page.locator("#record-title"))
    shoot(page, "record-title")

    # the export of the record, from the drawer
    keys.press("Escape")  # nothing to close: the drawer is open, Escape closes it
    keys.tab_to(page.locator("#drawer-toggle"), back=True, limit=80)
    keys.press("Enter")
    snapshots = page.locator("#panel-snapshots > summary")
    keys.tab_to(snapshots, limit=80)
    keys.press("Enter")
    source = page.locator("#export-source")
    keys.tab_to(source)
    expect(source.locator("option", has_text="Relevé officiel")).to_have_count(1)
    while source.input_value() != "record":
        keys.press("ArrowDown")
    keys.tab_to(page.locator("#export-form button[type=submit]"))
    with page.expect_download() as download:
        keys.press("Enter")
    assert download.value.suggested_filename.endswith(".odt")
    keys.said(f"Fichier « {download.value.suggested_filename} » téléchargé.")
    keys.focus_is_fine()
    assert server_state_frozen(page)
    watched.assert_clean()
    context.close()


def server_state_frozen(page: Page) -> bool:
    """Whether the server holds the board frozen (asked from the page, with its link)."""
    frozen: bool = page.evaluate(
        """async () => (await (await fetch(location.pathname.replace('/w/', '/api/workshops/'),
        {headers: {authorization: 'Bearer ' + new URLSearchParams(location.hash.slice(1))
        .get('k')}})).json()).state.frozen !== null"""
    )
    return frozen


def test_the_facilitators_tools_are_a_few_presses_away(
    browser: Browser, server: ServerProcess
) -> None:
    """With sixty findings on the board, the skip links and the lists' single Tab stops
    put « Nouvelle orientation stratégique » a few presses from the top (it took 63)."""
    workshop = server.create_workshop("Soixante constats")
    seed(server, workshop, [
        {"kind": "column.add", "id": "c1", "title": "Circuits courts"},
        *({"kind": "note.add", "id": f"n{i}", "text": f"Constat {i}",
           "column": "c1" if i % 2 else None} for i in range(60)),
    ])  # fmt: skip
    watched = open_page(browser, workshop["links"]["facilitator"], "Claire")
    page = watched.page
    keys = Keyboard(page)
    presses = keys.tab_to(page.locator("#new-column"), limit=40)
    assert presses <= 30, f"{presses} Tab presses to reach the new orientation field"
    keys.press("Shift+Tab")
    keys.focus_is_fine()
    expect(page.locator(".lanes .note[tabindex='0']")).to_have_count(2)  # one per list
    watched.assert_clean()
    page.context.close()


def test_the_language_button_and_french_content_are_marked_in_their_language(
    browser: Browser, server: ServerProcess
) -> None:
    """The language button says its language (« English » in French, « Français » in
    English); in English the workshop's French content stays marked French."""
    workshop = server.create_workshop("Langues")
    seed(server, workshop, [
        {"kind": "column.add", "id": "c1", "title": "Circuits courts"},
        {"kind": "column.state", "id": "c1", "statement": "Relocaliser l'alimentation"},
        {"kind": "note.add", "id": "n1", "text": "Peu de producteurs", "column": "c1"},
        {"kind": "idea.add", "id": "i1", "column": None, "text": "Un marché"},
    ])  # fmt: skip
    watched = open_page(browser, workshop["links"]["participant"], "Inès")
    page = watched.page
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#lang")).to_have_attribute("lang", "en")
    page.locator("#lang").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#lang")).to_have_text("Français")
    expect(page.locator("#lang")).to_have_attribute("lang", "fr")
    for selector in (".note-text", ".col:not(.pool) .col-title", ".statement"):
        expect(page.locator(selector).first).to_have_attribute("lang", "fr")
    expect(page.locator(".col.pool .col-title")).not_to_have_attribute("lang", re.compile("."))
    place = page.get_by_role("button", name="Place the idea “Un marché” under an orientation")
    expect(place).to_have_text("⇆")  # a glyph button keeps its glyph, its name translated
    expect(note(page, "Peu de producteurs").locator(".note-foot .vh").first).to_have_text(
        ", colour: Yellow"
    )
    watched.assert_clean()
    page.context.close()
