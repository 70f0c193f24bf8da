"""The room as people see it, in a real Chromium, on a workshop of six orientations and
sixty findings: the facilitator's laptop (1366x768), the wall (1920x1080, presentation
mode) and a participant's phone (360x740, touch). Each screen is checked for sideways
scrolling, for what must be in view, for the controls its role may use and no other, and
by axe-core; each is written to test-artifacts/room-*.png."""

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from .a11y import assert_accessible
from .support import ServerProcess, server_state
from .test_browser import ARTIFACTS, PHONE, Watched, new_context, seed

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
#: A QR code the server drew (the join screen's image holds an empty one until then).
QR_DRAWN = re.compile(r"^data:image/svg\+xml;charset=utf-8,")
WALL = {"width": 1920, "height": 1080}
ORIENTATIONS = [
    ("Accueillir et soutenir les entreprises", "Une stratégie et des actions de développement "
     "économique portées pour accueillir, soutenir et diversifier les entreprises"),
    ("Liens entre acteurs économiques", "La création de liens entre les acteurs économiques "
     "du territoire pour soutenir le développement économique"),
    ("Patrimoine naturel, paysager et bâti", "Un développement économique valorisant et "
     "respectant le patrimoine naturel, paysager et bâti"),
    ("Services et commerces accessibles", "Assurer des services et des commerces suffisants, "
     "accessibles aux habitants et à ceux qui viennent travailler sur la commune"),
    ("Nouvelles formes d'échanges", ""),
    ("Mobilités du quotidien", "Des mobilités décarbonées pour aller travailler et consommer"),
]  # fmt: skip
FINDINGS = [
    "Pas de foncier disponible pour les artisans",
    "Aucune rencontre régulière entre commerçants et artisans",
    "Le label Petite Cité de Caractère peu mis en avant",
    "Pas de commerce alimentaire ouvert le lundi",
    "Une aire de covoiturage sous-utilisée",
    "Des friches agricoles en bord de rivière",
    "Peu de bus le soir après 19 h",
    "Des jeunes qui partent faire leurs études et ne reviennent pas",
    "Un tiers-lieu associatif très fréquenté le samedi",
    "Des logements vacants dans le centre-bourg",
    "La zone d'activité vieillit et se vide",
    "Des circuits courts qui peinent à trouver des points de vente",
]
LONG = ("Les entreprises du bâtiment peinent à recruter : les jeunes formés au lycée "
        "professionnel partent vers la métropole, les salariés plus âgés partent en "
        "retraite sans repreneur, et les artisans rencontrés lors du diagnostic disent "
        "refuser des chantiers faute de bras. Plusieurs évoquent aussi le logement des "
        "apprentis et le manque de transports pour rejoindre les chantiers tôt le matin, "
        "ce qui freine l'embauche de jeunes sans permis. ") * 2  # fmt: skip
#: The controls that shape orientations: the facilitator's alone unless opened to all.
SHAPING = (".col-menu", "#new-column", "[data-action=rename-column]",
           "[data-action=column-left]", "[data-action=column-right]",
           "[data-action=delete-column]", ".statement-add")  # fmt: skip
AMBITIONS = ["ancrage", "transition", "travail", "consommation"]
COLOURS = ["yellow", "pink", "blue", "green", "orange", "purple"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (its op rate limit lets the seed go at once)."""
    env = {"ATELIER_OPS_PER_SECOND": "100000", "ATELIER_OPS_BURST": "100000"}
    proc = ServerProcess(tmp_path_factory.mktemp("room") / "data", env=env).start()
    yield proc
    proc.stop()


def six_and_sixty(
    server: ServerProcess, title: str = "Commune de La Vraie Croix"
) -> dict[str, Any]:
    """A workshop with six orientations (five worded) and sixty findings: 24 sorted into
    the orientations, 36 left in the pool, one of them very long."""
    workshop = server.create_workshop(title)
    ops: list[dict[str, Any]] = []
    for i, (name, statement) in enumerate(ORIENTATIONS):
        ops.append({"kind": "column.add", "id": f"c{i}", "title": name})
        if statement:
            ops.append({"kind": "column.state", "id": f"c{i}", "statement": statement})
    for i in range(60):
        text = LONG if i == 30 else f"{FINDINGS[i % len(FINDINGS)]} ({i + 1})"
        ops.append({"kind": "note.add", "id": f"n{i}", "text": text,
                    "colour": COLOURS[i % 6], "ambitions": [AMBITIONS[i % 4]],
                    "column": f"c{i % 6}" if i < 24 else None})  # fmt: skip
    seed(server, workshop, ops)
    return workshop


@pytest.fixture(scope="module")
def room(server: ServerProcess) -> dict[str, Any]:
    """The module's workshop of six orientations and sixty findings."""
    return six_and_sixty(server)


def open_as(browser: Browser, link: str, name: str | None, **options: Any) -> Watched:
    """A fresh context on a link; a pseudonym is typed if the page asks for one."""
    context = new_context(browser, **options)
    if name is not None:  # the page remembers a pseudonym: the join form is skipped
        context.add_init_script(f"localStorage.setItem('atelier.pref.name', '\"{name}\"')")
    watched = Watched(context.new_page())
    watched.page.goto(link)
    expect(watched.page.locator("#conn")).to_have_attribute("data-state", "online")
    expect(watched.page.locator(".lanes .note")).to_have_count(60)
    return watched


def no_sideways_scroll(page: Page) -> None:
    """The page never scrolls sideways (nothing is wider than the window)."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def headers_in_view(page: Page) -> None:
    """Every orientation's header lies wholly inside the first viewport."""
    boxes = page.evaluate(
        """() => [...document.querySelectorAll(".columns > .col .col-title")].map((h) => {
            const r = h.getBoundingClientRect();
            return {
                text: h.textContent, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
            };
        })"""
    )
    assert len(boxes) == len(ORIENTATIONS)
    size = page.viewport_size
    assert size is not None
    for box in boxes:
        inside = box["top"] >= 0 and box["left"] >= 0
        inside = inside and box["bottom"] <= size["height"] and box["right"] <= size["width"]
        assert inside, f"« {box['text']} » is out of view: {box} in {size}"


def shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"room-{name}.png"
    page.screenshot(path=path)
    return path


def visible_count(page: Page, selector: str) -> int:
    """How many elements match and are rendered (not display:none, not hidden)."""
    count: int = page.evaluate(
        "(s) => [...document.querySelectorAll(s)].filter((e) => e.checkVisibility()).length",
        selector,
    )
    return count


def test_the_facilitator_laptop_shows_the_board_first_and_every_orientation(
    browser: Browser, server: ServerProcess, room: dict[str, Any]
) -> None:
    """At 1366x768 the facilitator sees the top of the board and all six orientation
    headers in the first screen, nothing scrolls sideways, the tools sit in one toolbar,
    a long finding is clamped with « Lire la suite », and axe-core finds nothing."""
    watched = open_as(browser, room["links"]["facilitator"], "Claire", viewport=LAPTOP)
    page = watched.page
    expect(page.locator("#drawer-toggle")).to_have_text("☰Animation")
    board_top = page.locator("#board").bounding_box()
    assert board_top is not None and board_top["y"] < 160, board_top  # the header is slim
    headers_in_view(page)
    no_sideways_scroll(page)
    long = page.locator(".note.long")
    expect(long).to_have_count(1)
    clamped = long.locator(".note-text").evaluate("(p) => p.scrollHeight > p.clientHeight + 4")
    assert clamped, "a 1,000-character finding should be clamped"
    shoot(page, "facilitator-1366")
    assert_accessible(page, "the facilitator's board at 1366x768")
    # the drawer opens beside the board, never above it
    page.locator("#drawer-toggle").click()
    expect(page.locator("#drawer")).to_be_visible()
    expect(page.locator("#phase-next")).to_be_visible()
    headers_after = page.locator("#board").bounding_box()
    assert headers_after is not None and headers_after["y"] == board_top["y"]
    no_sideways_scroll(page)
    shoot(page, "facilitator-1366-drawer")
    assert_accessible(page, "the facilitator's drawer at 1366x768")
    long.get_by_role("button", name="Lire la suite").click()
    expect(long.get_by_role("button", name="Réduire")).to_have_attribute("aria-expanded", "true")
    assert long.locator(".note-text").evaluate("(p) => p.scrollHeight <= p.clientHeight + 1")
    watched.assert_clean()
    page.context.close()


def test_the_wall_in_presentation_mode_shows_every_orientation_and_no_control(
    browser: Browser, server: ServerProcess, room: dict[str, Any]
) -> None:
    """The observer link at 1920x1080 opens without a pseudonym, in presentation mode:
    six orientation headers in view, large type, no button but the way out, no « Mes
    votes », and axe-core finds nothing."""
    watched = open_as(browser, room["links"]["observer"], None, viewport=WALL)
    page = watched.page
    expect(page.locator("#join")).to_be_hidden()  # never asked for a pseudonym
    expect(page.locator("body")).to_have_class("presenting")
    headers_in_view(page)
    no_sideways_scroll(page)
    buttons = page.evaluate(
        """[...document.querySelectorAll("button, summary, input, textarea, select")]
            .filter((e) => e.checkVisibility()).map((e) => e.id || e.textContent.trim())"""
    )
    assert buttons == ["present-exit"], buttons
    expect(page.get_by_text("Mes votes")).to_have_count(0)
    size = page.locator(".columns .note-text").first.evaluate(
        "(p) => parseFloat(getComputedStyle(p).fontSize)"
    )
    assert size >= 22, f"presentation type is {size} px"
    shoot(page, "wall-1920-presentation")
    assert_accessible(page, "the wall in presentation mode at 1920x1080")
    watched.assert_clean()
    page.context.close()


def test_the_facilitator_presents_the_board_at_1920_and_leaves_with_escape(
    browser: Browser, server: ServerProcess, room: dict[str, Any]
) -> None:
    """« Présenter » on the facilitator's 1920x1080 screen hides every control and shows
    the six orientations side by side; Escape brings the tools back."""
    watched = open_as(browser, room["links"]["facilitator"], "Claire", viewport=WALL)
    page = watched.page
    shoot(page, "facilitator-1920")
    headers_in_view(page)
    page.locator("#present").click()
    expect(page.locator("body")).to_have_class("presenting")
    expect(page.locator("#toolbar .toolbar-end")).to_be_hidden()
    headers_in_view(page)
    no_sideways_scroll(page)
    shoot(page, "facilitator-1920-presentation")
    page.keyboard.press("Escape")
    expect(page.locator("body")).not_to_have_class("presenting")
    expect(page.locator("#drawer-toggle")).to_be_visible()
    watched.assert_clean()
    page.context.close()


def test_a_participant_phone_shows_no_control_to_shape_the_orientations(
    browser: Browser, server: ServerProcess, room: dict[str, Any]
) -> None:
    """On a 360x740 touch phone a participant sees the board with no sideways scroll, can
    add findings and has no control to add, rename, move, word or delete an orientation."""
    watched = open_as(browser, room["links"]["participant"], "Inès", viewport=PHONE,
                      has_touch=True, is_mobile=True)  # fmt: skip
    page = watched.page
    no_sideways_scroll(page)
    expect(page.locator("#new-pool")).to_be_visible()
    for selector in (*SHAPING, "#drawer .facilitator-only"):
        assert visible_count(page, selector) == 0, f"a participant sees {selector}"
    expect(page.locator("#drawer-toggle")).to_have_text("☰Synthèse")
    shoot(page, "participant-360")
    assert_accessible(page, "a participant's phone at 360x740")
    page.locator("#drawer-toggle").click()
    expect(page.locator("#panel-coverage")).to_be_visible()
    expect(page.locator("#panel-facilitator")).to_be_hidden()
    no_sideways_scroll(page)
    shoot(page, "participant-360-drawer")
    assert_accessible(page, "a participant's drawer at 360x740")
    watched.assert_clean()
    page.context.close()


def test_a_participant_laptop_shows_no_control_to_shape_the_orientations(
    browser: Browser, server: ServerProcess, room: dict[str, Any]
) -> None:
    """At 1366x768 a participant sees all six orientations, votes and writes, but finds
    no menu, no rename, move or delete of an orientation, and no facilitator tool."""
    watched = open_as(browser, room["links"]["participant"], "Hugo", viewport=LAPTOP)
    page = watched.page
    headers_in_view(page)
    no_sideways_scroll(page)
    for selector in (*SHAPING, "#join-open"):
        assert visible_count(page, selector) == 0, f"a participant sees {selector}"
    shoot(page, "participant-1366")
    assert_accessible(page, "a participant's board at 1366x768")
    watched.assert_clean()
    page.context.close()


def test_the_join_screen_projects_the_participant_link_and_never_the_facilitators(
    browser: Browser, server: ServerProcess
) -> None:
    """The home page shows the facilitator's link without a QR code and hidden until asked
    for; « Projeter l'écran « Rejoindre l'atelier » » fills a 1920x1080 screen with the
    participant link and its QR code, and nothing of the facilitator's."""
    context = new_context(browser, viewport=WALL)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(server.base)
    page.fill("#ws-title-input", "Atelier Presqu'île de Crozon")
    page.fill("#ws-territory-input", "Communauté de communes")
    page.get_by_role("button", name="Créer l'atelier").click()
    cards = page.locator(".link-card")
    expect(cards).to_have_count(3)
    facilitator = page.locator(".link-card.role-facilitator")
    expect(facilitator.locator("img")).to_have_count(0)
    expect(facilitator.locator(".link-url")).to_be_hidden()
    expect(page.locator(".link-card.role-participant img.qr")).to_have_attribute(
        "src", re.compile(r"^data:image/svg\+xml")
    )
    links = page.evaluate("JSON.parse(localStorage.getItem('atelier.pref.workshops'))[0].links")
    assert_accessible(page, "the home page with the links")
    shoot(page, "home-links-1920")
    page.get_by_role("button", name="Projeter l'écran « Rejoindre l'atelier »").click()
    screen = page.locator("#join-screen")
    expect(screen).to_be_visible()
    expect(screen.get_by_role("heading", name="Rejoindre l'atelier")).to_be_visible()
    # a short link to type from the back of the room, and its QR code
    short = screen.locator("#join-screen-link.short")
    expect(short).to_have_text(re.compile(r"^127\.0\.0\.1:\d+/j/[A-Z2-9]{6}$"))
    expect(screen.locator("#join-screen-qr")).to_have_attribute("src", QR_DRAWN)
    expect(screen.locator("#join-screen-qr")).to_have_js_property("complete", True)
    landing = httpx.get(f"http://{short.inner_text()}", follow_redirects=False)
    assert landing.status_code == 303
    assert landing.headers["location"] == links["participant"]
    # the test server listens on 127.0.0.1: the screen warns that phones cannot open that
    expect(screen.locator("#join-screen-warn")).to_contain_text("les téléphones ne pourront pas")
    qr = screen.locator("#join-screen-qr").bounding_box()
    assert qr is not None and qr["width"] >= 500, qr  # readable from the back of the room
    # nothing on screen holds the facilitator's secret: not the join screen, not the page
    secret = links["facilitator"].split("#k=")[1]
    assert secret not in page.evaluate("document.body.innerText")
    no_sideways_scroll(page)
    shoot(page, "join-screen-1920")
    assert_accessible(page, "the join screen at 1920x1080")
    page.keyboard.press("Escape")
    expect(screen).to_be_hidden()
    watched.assert_clean()
    context.close()


def test_the_facilitator_runs_the_room_from_the_keyboard_alone(
    browser: Browser, server: ServerProcess
) -> None:
    """Keyboard only: open the drawer, turn silent writing on, open a vote, reveal the votes,
    move to the next phase through its confirmation, add an orientation, show the join screen and
    leave it, enter and leave presentation mode."""
    workshop = server.create_workshop("Clavier seul")
    watched = open_as_empty(browser, workshop["links"]["facilitator"], "Claire")
    page = watched.page

    def tab_to(selector: str, limit: int = 80) -> None:
        """Press Tab until the focus is on selector (it must be reachable by keyboard)."""
        target = page.locator(selector)
        for _ in range(limit):
            if target.evaluate("(e) => e === document.activeElement"):
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"{selector} is not reachable with Tab")

    tab_to("#new-column")
    page.keyboard.type("Mobilités du quotidien")
    page.keyboard.press("Enter")
    expect(page.locator(".columns .col-title")).to_have_text(["Mobilités du quotidien"])
    tab_to("#drawer-toggle")
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_be_focused()
    tab_to("#silent-toggle")
    page.keyboard.press("Space")
    expect(page.locator("#tool-silent")).to_be_visible()
    tab_to("#vote-open")
    page.keyboard.press("Enter")
    expect(page.locator("#tool-voting")).to_contain_text("Vote par gommettes ouvert")
    tab_to("#reveal-votes")
    page.keyboard.press("Enter")
    expect(page.locator("#tool-voting")).to_have_text("Votes dévoilés")
    phase = page.locator("#phases [aria-current=step]")
    before = phase.get_attribute("data-phase")
    assert before is not None
    page.keyboard.press("Shift+Tab")
    tab_to("#phase-next")
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Annuler")).to_be_focused()  # the safe answer
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(phase).to_have_attribute("data-phase", str(int(before) + 1))
    page.keyboard.press("Escape")  # closes the drawer, the focus goes back to its button
    expect(page.locator("#drawer")).to_be_hidden()
    expect(page.locator("#drawer-toggle")).to_be_focused()
    tab_to("#join-open")
    page.keyboard.press("Enter")
    expect(page.locator("#join-screen")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#join-screen")).to_be_hidden()
    tab_to("#present")
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_class("presenting")
    expect(page.locator("#present-exit")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("body")).not_to_have_class("presenting")
    watched.assert_clean()
    page.context.close()


class AckGate:
    """A page's websocket relayed to the server, the server's acks held back until
    release(): the window between an op's event and its ack, made as wide as a test needs."""

    def __init__(self) -> None:
        self.held: list[bytes | str] = []
        self.route: WebSocketRoute | None = None
        self.holding = True

    def relay(self, route: WebSocketRoute) -> None:
        """Route one page socket through the gate."""
        self.route = route
        server = route.connect_to_server()

        def from_server(message: bytes | str) -> None:
            if self.holding and orjson.loads(message).get("type") == "ack":
                self.held.append(message)
            else:
                route.send(message)

        server.on_message(from_server)
        route.on_message(server.send)

    def wait_for(self, page: Page, count: int) -> None:
        """Wait (10 s at most) until ``count`` acks are held; the page's frames are relayed
        while Playwright waits, so the wait is a poll of a condition."""
        deadline = time.monotonic() + 10
        while len(self.held) < count:
            assert time.monotonic() < deadline, f"{len(self.held)} acks held, not {count}"
            page.wait_for_timeout(20)

    def release(self) -> None:
        """Hand the held acks to the page, in order, and hold no more."""
        assert self.route is not None
        self.holding = False
        for message in self.held:
            self.route.send(message)
        self.held.clear()


def open_as_empty(
    browser: Browser,
    link: str,
    name: str,
    *,
    clock: bool = False,
    gate: AckGate | None = None,
    **options: Any,
) -> Watched:
    """A fresh context on an empty workshop's link, joined under a pseudonym (with a clock
    the test can move forward, and the server's acks held back by a gate, if asked)."""
    context = new_context(browser, **{"viewport": LAPTOP, **options})
    context.add_init_script(f"localStorage.setItem('atelier.pref.name', '\"{name}\"')")
    if gate is not None:
        context.route_web_socket(re.compile(r"/ws/"), gate.relay)
    watched = Watched(context.new_page())
    if clock:
        watched.page.clock.install()  # time flows as usual until fast_forward()
    watched.page.goto(link)
    expect(watched.page.locator("#conn")).to_have_attribute("data-state", "online")
    return watched


def test_messages_stay_calm_on_a_phone_and_a_finished_countdown_clears_itself(
    browser: Browser, server: ServerProcess
) -> None:
    """On a phone, phase news goes to the toolbar (no toast over the board) and a
    countdown that ended leaves the screen by itself."""
    workshop = server.create_workshop("Messages calmes")
    watched = open_as_empty(browser, workshop["links"]["participant"], "Inès", clock=True,
                            viewport=PHONE, has_touch=True, is_mobile=True)  # fmt: skip
    page = watched.page
    seed(server, workshop, [{"kind": "phase.next"}, {"kind": "timer.start", "seconds": 1}])
    expect(page.locator("#news")).to_contain_text("Phase ouverte")
    expect(page.locator(".toast")).to_have_count(0)
    expect(page.locator("#timer")).to_have_text("Temps écoulé")
    page.clock.fast_forward(12_000)  # the page's clock only: « Temps écoulé » stays 10 s
    expect(page.locator("#timer")).to_be_hidden()
    assert server_state(server, workshop)["timer"] is not None  # nobody stopped it
    watched.assert_clean()
    page.context.close()


def test_a_join_screen_on_another_machine_takes_only_the_participant_link(
    browser: Browser, server: ServerProcess, room: dict[str, Any]
) -> None:
    """A facilitator whose browser did not create the workshop is asked once for the
    participant link; the facilitator's or the observer's link is refused, never shown.
    When no short link can be had, the whole participant link shows instead."""
    watched = open_as(browser, room["links"]["facilitator"], "Claire", viewport=WALL)
    page = watched.page
    page.route("**/join-code", lambda route: route.fulfill(status=503, body="{}"))
    page.locator("#join-open").click()
    screen = page.locator("#join-screen")
    field = screen.get_by_label("Lien participant")
    expect(field).to_be_focused()
    expect(screen.locator("#join-screen-known")).to_be_hidden()
    for wrong in (room["links"]["facilitator"], room["links"]["observer"], "http://x/w/a#k=b"):
        field.fill(wrong)
        field.press("Enter")
        expect(field).to_have_js_property(
            "validationMessage", "Ce lien n'est pas le lien participant de cet atelier."
        )
        expect(screen.locator("#join-screen-known")).to_be_hidden()
    field.fill(room["links"]["participant"])
    field.press("Enter")
    # the server gave no short link (503 here): the whole link and its QR code
    expect(screen.locator("#join-screen-qr")).to_have_attribute("src", QR_DRAWN)
    expect(screen.locator("#join-screen-qr")).to_have_js_property("complete", True)
    expect(screen.locator("#join-screen-link")).to_have_text(room["links"]["participant"])
    secret = room["links"]["facilitator"].split("#k=")[1]
    assert secret not in screen.inner_text()
    page.keyboard.press("Escape")
    page.unroute("**/join-code")
    page.locator("#join-open").click()  # kept: no question the second time
    expect(screen.locator("#join-screen-link.short")).to_have_text(re.compile(r"/j/[A-Z2-9]{6}$"))
    assert [e for e in watched.errors if "503" not in e] == []  # the refused short link
    watched.errors.clear()
    watched.assert_clean()
    page.context.close()


def test_a_new_workshop_opens_in_phase_4_with_the_earlier_phases_held_elsewhere(
    browser: Browser, server: ServerProcess
) -> None:
    """Created from the home page with its defaults, a workshop opens in phase 4; phases
    1 to 3 read as held elsewhere and no snapshot stands for them."""
    context = new_context(browser, viewport=LAPTOP)
    context.add_init_script("localStorage.setItem('atelier.pref.name', '\"Claire\"')")
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(server.base)
    expect(page.get_by_label("L'atelier commence à la phase")).to_have_value("4")
    page.fill("#ws-title-input", "Atelier de Crozon")
    page.get_by_role("button", name="Créer l'atelier").click()
    page.get_by_role("link", name="Ouvrir le tableau").click()
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    current = page.locator("#phases [aria-current=step]")
    expect(current).to_have_attribute("data-phase", "4")
    expect(current).to_contain_text("Orientations stratégiques")
    expect(page.locator("#phases .elsewhere")).to_have_count(3)
    expect(page.locator("#phases li").first).to_contain_text("tenue en dehors d'Atelier")
    page.click("#drawer-toggle")
    expect(page.locator("#phase-next")).to_have_text("Passer à la phase 5…")
    page.locator("#panel-snapshots summary").click()
    expect(page.locator("#snapshot-none")).to_be_visible()
    shoot(page, "new-workshop-1366")
    assert_accessible(page, "a new workshop's board at 1366x768")
    watched.assert_clean()
    context.close()


def test_closing_and_reopening_a_vote_keeps_the_ballots_and_a_new_round_asks_first(
    browser: Browser, server: ServerProcess
) -> None:
    """A participant's two votes survive « Clore le vote » and « Ouvrir le vote »; only
    « Nouveau tour de vote… », after its confirmation, clears them."""
    workshop = server.create_workshop("Votes gardés")
    seed(server, workshop, [{"kind": "column.add", "id": "c1", "title": "Mobilités"}])
    fac = open_as_empty(browser, workshop["links"]["facilitator"], "Claire").page
    gate = AckGate()
    ana = open_as_empty(browser, workshop["links"]["participant"], "Ana", gate=gate).page
    fac.click("#drawer-toggle")
    fac.fill("#vote-budget", "2")
    fac.click("#vote-open")
    vote = ana.get_by_role("button", name="Voter pour « Mobilités »")
    mine = ana.locator(".vote-mine")
    # the server sends the voter's event before the ack: with the ack held back, the vote
    # must count once and « + Voter » stay usable (it turned disabled, and a quick second
    # click was lost)
    vote.click()
    gate.wait_for(ana, 1)
    expect(ana.locator("#tool-voting")).to_have_text("Vote ouvert : il vous reste 1 vote(s) sur 2")
    expect(mine).to_have_text("Mes votes : 1")
    expect(vote).to_be_enabled()
    vote.click()
    expect(ana.locator("#tool-voting")).to_have_text("Vote ouvert : il vous reste 0 vote(s) sur 2")
    gate.release()
    expect(mine).to_have_text("Mes votes : 2")
    expect(ana.locator("#sync")).to_have_text("tout est enregistré")
    fac.click("#vote-close")
    expect(ana.locator(".votes")).to_be_hidden()
    expect(fac.locator("#vote-now")).to_contain_text("reprend les bulletins")
    fac.click("#vote-open")
    expect(mine).to_have_text("Mes votes : 2")  # the same round goes on
    expect(ana.locator("#tool-voting")).to_have_text("Vote ouvert : il vous reste 0 vote(s) sur 2")
    expect(vote).to_be_disabled()
    fac.click("#vote-round")
    dialog = fac.locator("#confirm")
    expect(dialog).to_contain_text("Les votes du tour en cours seront effacés")
    fac.keyboard.press("Escape")  # no: nothing changes
    expect(mine).to_have_text("Mes votes : 2")
    fac.click("#vote-round")
    fac.click("#confirm-ok")
    expect(mine).to_have_text("Mes votes : 0")
    expect(ana.locator("#tool-voting")).to_have_text("Vote ouvert : il vous reste 2 vote(s) sur 2")
    shoot(fac, "vote-round-1366")
    fac.context.close()
    ana.context.close()


def test_the_facilitator_opens_shaping_to_participants_and_closes_it_again(
    browser: Browser, server: ServerProcess
) -> None:
    """With the switch on, a participant's screen gets the orientations' menus and the new
    orientation field; off again, they are gone."""
    workshop = server.create_workshop("Façonnage ouvert")
    seed(server, workshop, [{"kind": "column.add", "id": "c1", "title": "Mobilités"}])
    fac = open_as_empty(browser, workshop["links"]["facilitator"], "Claire").page
    ana = open_as_empty(browser, workshop["links"]["participant"], "Ana").page
    assert visible_count(ana, ".col-menu") == 0
    fac.click("#drawer-toggle")
    fac.check("#shaping-toggle")
    expect(ana.locator("#new-column")).to_be_visible()
    expect(ana.locator(".col-menu")).to_be_visible()
    expect(ana.locator(".col-menu").get_by_role("button", name="Verrouiller")).to_have_count(0)
    ana.fill("#new-column", "Proposée par Ana")
    ana.press("#new-column", "Enter")
    expect(fac.locator(".columns .col-title")).to_have_text(["Mobilités", "Proposée par Ana"])
    fac.uncheck("#shaping-toggle")
    expect(ana.locator("#new-column")).to_be_hidden()
    for selector in SHAPING:
        assert visible_count(ana, selector) == 0, f"a participant still sees {selector}"
    fac.context.close()
    ana.context.close()
