"""axe-core on every screen (issue 16), in a real Chromium, at 1366x768, at 200 % zoom of
that window (683x384 CSS pixels, drawn at twice the density, as the browser's zoom does)
and on a 360x740 touch phone: the home page and its links, the pseudonym form, the
facilitator's board and every fold of the drawer, the freeze dialog, the import
preview, the join screen, a snapshot opened, a participant's board and drawer, the wall,
the official record, the accessibility statement, the privacy notice and the page of an
unknown join code. Nothing may scroll sideways. Screenshots of each screen at 200 % go to
test-artifacts/zoom200-*.png; the 360 px and 1366 px ones are written by the other
browser modules."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .a11y import assert_accessible
from .support import ServerProcess
from .test_browser import ARTIFACTS, Watched, new_context, seed

pytestmark = pytest.mark.browser

#: name, viewport, extra context options
SIZES = [
    ("1366", {"width": 1366, "height": 768}, {}),
    ("zoom200", {"width": 683, "height": 384}, {"device_scale_factor": 2}),
    ("360", {"width": 360, "height": 740}, {"has_touch": True, "is_mobile": True}),
]
CSV = (
    "Constat;Type;Thème;Colonne inconnue\n"
    "Pas de foncier;faiblesse;Foncier;x\n"
    "Une licorne;licorne;;\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (its op rate limit lets the seed go at once)."""
    env = {"ATELIER_OPS_PER_SECOND": "100000", "ATELIER_OPS_BURST": "100000"}
    proc = ServerProcess(tmp_path_factory.mktemp("a11y") / "data", env=env).start()
    yield proc
    proc.stop()


def everything(server: ServerProcess, title: str) -> dict[str, Any]:
    """A workshop where every part of the page has something to show: findings with the
    diagnostic's fields, orientations, an idea under none, the instance, the debate, a
    decision counted by collège, a snapshot, a vote under way."""
    workshop = server.create_workshop(title)
    types = ["atout", "faiblesse", "opportunite", "menace"]
    ops: list[dict[str, Any]] = []
    for i in range(4):
        statement = f"Développer l'emploi {i}"
        ops += [{"kind": "column.add", "id": f"c{i}", "title": f"Orientation {i + 1}"},
                {"kind": "column.state", "id": f"c{i}", "statement": statement}]  # fmt: skip
    for i in range(12):
        ops.append({"kind": "note.add", "id": f"n{i}", "text": f"Constat {i} du diagnostic",
                    "type": types[i % 4], "theme": "Emploi", "indicator": f"{i} %",
                    "source": "INSEE", "ambitions": ["ancrage"],
                    "column": f"c{i % 4}" if i < 8 else None})  # fmt: skip
    ops += [
        {"kind": "idea.add", "id": "i1", "column": None, "text": "Une recyclerie"},
        {"kind": "idea.add", "id": "i2", "column": "c0", "text": "Un guichet unique"},
        {"kind": "cap.set", "text": "Une économie qui accueille et relie."},
        {"kind": "meeting.set", "place": "Mairie", "date": "2025-03-14"},
        {"kind": "member.set", "id": "m1", "name": "Marie Dupont", "college": "elus"},
        {"kind": "objection.add", "id": "x1", "column": "c0", "text": "Trop tôt",
         "by": "Marie Dupont"},
        {"kind": "objection.add", "id": "x2", "column": "c1", "text": "Qui porte ?"},
        {"kind": "objection.answer", "id": "x2", "answer": "La CCI."},
        {"kind": "decision.set", "column": "c1", "decision": {
            "outcome": "amendee", "method": "vote", "amendment": "Avec les artisans",
            "tally": [{"college": "elus", "for": 1, "against": 0, "abstain": 0}]}},
        {"kind": "column.documents", "id": "c1", "documents": ["scot"], "others": []},
        {"kind": "snapshot.take", "label": "Avant le vote"},
        {"kind": "tools.set", "voting": True, "budget": 3},
    ]  # fmt: skip
    seed(server, workshop, ops)
    return workshop


@pytest.fixture(scope="module")
def workshops(server: ServerProcess) -> dict[str, dict[str, Any]]:
    """A workshop under way, and a frozen one (its official record)."""
    live = everything(server, "Atelier en cours")
    frozen = everything(server, "Atelier figé")
    seed(server, frozen, [{"kind": "freeze"}])
    return {"live": live, "frozen": frozen}


class Screens:
    """Pages at one size, each checked with axe-core and for sideways scrolling."""

    def __init__(self, browser: Browser, size: str, viewport: dict[str, int], **options: Any):
        self.browser = browser
        self.size = size
        self.viewport = viewport
        self.options = options
        self.pages: list[Watched] = []
        self.checked: list[str] = []

    def open(self, link: str, name: str | None = None) -> Page:
        """A fresh context at this size on a link (a pseudonym kept if given)."""
        context = new_context(self.browser, viewport=self.viewport, **self.options)
        if name is not None:
            context.add_init_script(f"localStorage.setItem('atelier.pref.name', '\"{name}\"')")
        watched = Watched(context.new_page())
        self.pages.append(watched)
        watched.page.goto(link)
        return watched.page

    def check(self, page: Page, what: str) -> None:
        """axe-core finds nothing, nothing scrolls sideways; a screenshot at 200 %."""
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        wide = page.evaluate(
            """(w) => [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > w + 1 && e.checkVisibility())
                .slice(0, 5).map((e) => e.outerHTML.slice(0, 100))""",
            widths[1],
        )
        assert widths[0] <= widths[1], (
            f"{what} at {self.size}: {widths[0]} px in {widths[1]}: {wide}"
        )
        assert_accessible(page, f"{what} at {self.size}")
        self.checked.append(what)
        if self.size == "zoom200":
            ARTIFACTS.mkdir(exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
            page.screenshot(path=ARTIFACTS / f"zoom200-{slug}.png")

    def close(self) -> None:
        for watched in self.pages:
            watched.assert_clean()
            watched.page.context.close()


def online(page: Page) -> None:
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")


def open_drawer(page: Page) -> None:
    if page.locator("#drawer").is_hidden():
        page.click("#drawer-toggle")
    expect(page.locator("#drawer")).to_be_visible()


@pytest.mark.parametrize(("size", "viewport", "options"), SIZES, ids=[s[0] for s in SIZES])
def test_every_screen_passes_axe_core(
    browser: Browser,
    server: ServerProcess,
    workshops: dict[str, dict[str, Any]],
    tmp_path: Path,
    size: str,
    viewport: dict[str, int],
    options: dict[str, Any],
) -> None:
    """Every screen at this size: no axe-core violation (WCAG 2.2 A and AA and axe's best
    practices), no sideways scroll."""
    screens = Screens(browser, size, viewport, **options)
    live, frozen = workshops["live"], workshops["frozen"]

    home = screens.open(server.base)
    expect(home.locator("#home")).to_be_visible()
    screens.check(home, "Home")
    home.fill("#ws-title-input", "Nouvel atelier")
    home.get_by_role("button", name="Créer l'atelier").click()
    expect(home.locator(".link-card")).to_have_count(3)
    screens.check(home, "Home with the links")
    home.get_by_role("button", name="Projeter l'écran « Rejoindre l'atelier »").click()
    expect(home.locator("#join-screen-link.short")).to_be_visible()
    screens.check(home, "Join screen")

    join = screens.open(live["links"]["participant"])
    expect(join.locator("#join-name")).to_be_focused()
    screens.check(join, "Pseudonym form")

    fac = screens.open(live["links"]["facilitator"], "Claire")
    online(fac)
    expect(fac.locator(".lanes .note")).to_have_count(12)
    screens.check(fac, "Facilitator board")
    open_drawer(fac)
    for fold in ("panel-instance", "panel-debates", "panel-vigilance", "panel-coverage",
                 "panel-snapshots", "colleges-edit"):  # fmt: skip
        fac.locator(f"#{fold}").evaluate("(d) => { d.open = true; }")
    fac.locator("#debates .debate").nth(1).evaluate("(d) => { d.open = true; }")
    expect(fac.locator("#vig-points > li")).to_have_count(3)
    expect(fac.locator("#snapshot-list li")).to_have_count(1)
    screens.check(fac, "Facilitator drawer")
    fac.get_by_role("button", name=re.compile("^Ouvrir l'instantané")).click()
    expect(fac.locator("#snapshot-view")).to_be_visible()
    screens.check(fac, "Snapshot opened")
    fac.keyboard.press("Escape")
    fac.locator("#panel-facilitator").evaluate("(d) => { d.open = true; }")
    csv = tmp_path / "diagnostic.csv"
    csv.write_text(CSV, encoding="utf-8")
    fac.set_input_files("#import-file", str(csv))
    expect(fac.locator("#import-dialog .import-refused")).to_be_visible()
    screens.check(fac, "Import preview")
    fac.keyboard.press("Escape")
    fac.click("#freeze")
    expect(fac.locator("#confirm")).to_contain_text("Points de vigilance sans réponse (3)")
    screens.check(fac, "Freeze dialog")
    fac.keyboard.press("Escape")

    ana = screens.open(live["links"]["participant"], "Ana")
    online(ana)
    expect(ana.locator(".votes").first).to_be_visible()
    screens.check(ana, "Participant board")
    open_drawer(ana)
    for fold in ("panel-instance", "panel-debates", "panel-coverage"):
        ana.locator(f"#{fold}").evaluate("(d) => { d.open = true; }")
    ana.locator("#debates .debate").nth(1).evaluate("(d) => { d.open = true; }")
    screens.check(ana, "Participant drawer")

    wall = screens.open(live["links"]["observer"])
    online(wall)
    expect(wall.locator("body")).to_have_class("presenting")
    screens.check(wall, "Wall")

    record = screens.open(frozen["links"]["participant"], "Ana")
    expect(record.locator("#record-body .record-hash")).to_be_visible()
    screens.check(record, "Official record")

    statics = [("/accessibilite.html", "Accessibility statement"),
               ("/privacy.html", "Privacy notice"), ("/j/ZZZZZZ", "Unknown join code")]  # fmt: skip
    for path, what in statics:
        static = screens.open(server.base + path)
        expect(static.locator("h1").first).to_be_visible()
        screens.check(static, what)
    screens.pages[-1].errors.clear()  # the unknown code's page comes with its 404, as it must
    assert len(screens.checked) == 16
    screens.close()


def test_at_400_percent_zoom_the_board_the_drawer_the_dialogs_and_the_record_reflow(
    browser: Browser, server: ServerProcess, workshops: dict[str, dict[str, Any]]
) -> None:
    """At 400 % zoom of a 1366x768 window (341x192 CSS pixels) nothing scrolls sideways
    and nothing is fixed over the page but the drawer and the dialogs, which scroll."""
    screens = Screens(browser, "zoom400", {"width": 341, "height": 192}, device_scale_factor=4)
    fac = screens.open(workshops["live"]["links"]["facilitator"], "Claire")
    online(fac)
    fixed = fac.evaluate(
        """[...document.querySelectorAll("body *")].filter((e) => e.checkVisibility()
            && ["fixed", "sticky"].includes(getComputedStyle(e).position)).map((e) => e.id)"""
    )
    assert fixed == [], f"fixed or sticky over the page at 400 %: {fixed}"
    for what in ("Facilitator board", "Facilitator drawer", "Freeze dialog"):
        if what == "Facilitator drawer":
            open_drawer(fac)
        if what == "Freeze dialog":
            fac.locator("#panel-facilitator").evaluate("(d) => { d.open = true; }")
            fac.click("#freeze")
            expect(fac.locator("#confirm")).to_be_visible()
            scrolls = fac.locator("#confirm").evaluate("(d) => d.scrollHeight > d.clientHeight")
            assert scrolls, "a dialog taller than the window must scroll"
        no_sideways(fac, what)
        fac.screenshot(path=ARTIFACTS / f"zoom400-{what.lower().replace(' ', '-')}.png")
    fac.keyboard.press("Escape")
    record = screens.open(workshops["frozen"]["links"]["participant"], "Ana")
    expect(record.locator("#record-body .record-hash")).to_be_attached()
    no_sideways(record, "Official record")
    record.screenshot(path=ARTIFACTS / "zoom400-official-record.png")
    screens.close()


def no_sideways(page: Page, what: str) -> None:
    """The page never scrolls sideways."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{what} at 400 %: {widths[0]} px in {widths[1]}"
