"""Issue 11 on screen, in a real Chromium: the diagnostic imported through its preview,
its findings shown and filtered as it made them, an action idea placed under an
orientation; the instance de co-décision (members typed in or taken from the room, the
cap, the session); a consent round (an objection added and answered, the decision
taken), a vote counted by collège, the documents fed; the method's points of vigilance
answered, the freeze dialog listing what stays open; the record and the phase-5 action
sheets; the wall pointed at one orientation. Screenshots go to test-artifacts/council-*."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from odf.opendocument import load
from odf.text import H, P
from playwright.sync_api import Browser, Page, expect

from .support import ServerProcess, server_state
from .test_browser import ARTIFACTS, PHONE, Watched, column, column_menu, new_context, seed
from .test_browser_flow import open_fold

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
WALL = {"width": 1920, "height": 1080}
ORIENTATIONS = [
    ("Accueillir les entreprises", "Une stratégie et des actions de développement économique "
     "portées pour accueillir, soutenir et diversifier les entreprises"),
    ("Liens entre acteurs", "La création de liens entre les acteurs économiques du territoire"),
    ("Patrimoine", "Un développement économique valorisant le patrimoine naturel et bâti"),
]  # fmt: skip
DIAGNOSTIC = (
    "Constat;Type;Thème;Source;Indicateur;Auteur;Commentaire interne\n"
    "Pas de foncier pour les artisans;faiblesse;Foncier;CCI 2024;0 ha en ZA;;à revoir\n"
    "Un label Petite Cité de Caractère;atout;Tourisme;Office de tourisme;;Cabinet Ouest;\n"
    "Des friches agricoles en bord de rivière;opportunité;Foncier;SAFER;14 ha;;\n"
    "Une recyclerie au garage municipal;idée d'action;;;;;\n"
    "Une licorne dans le bourg;licorne;;;;;\n"
    ";menace;;;;;\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (its op rate limit lets the seed go at once)."""
    env = {"ATELIER_OPS_PER_SECOND": "100000", "ATELIER_OPS_BURST": "100000"}
    proc = ServerProcess(tmp_path_factory.mktemp("council") / "data", env=env).start()
    yield proc
    proc.stop()


def workshop_of(server: ServerProcess, title: str) -> dict[str, Any]:
    """A workshop with three worded orientations, each grounded on one finding."""
    workshop = server.create_workshop(title)
    ops: list[dict[str, Any]] = []
    for i, (name, statement) in enumerate(ORIENTATIONS):
        ops += [{"kind": "column.add", "id": f"c{i}", "title": name},
                {"kind": "column.state", "id": f"c{i}", "statement": statement},
                {"kind": "note.add", "id": f"n{i}", "text": f"Constat {i + 1} de l'entreprise",
                 "column": f"c{i}", "ambitions": ["ancrage"]}]  # fmt: skip
    seed(server, workshop, ops)
    return workshop


def open_page(browser: Browser, link: str, name: str | None, **options: Any) -> Watched:
    """A fresh context on a link, joined under a pseudonym (none for an observer)."""
    context = new_context(browser, **{"viewport": LAPTOP, **options})
    if name is not None:
        context.add_init_script(f"localStorage.setItem('atelier.pref.name', '\"{name}\"')")
    watched = Watched(context.new_page())
    watched.page.goto(link)
    expect(watched.page.locator("#conn")).to_have_attribute("data-state", "online")
    return watched


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"council-{name}.png")


def debate(page: Page, title: str) -> Any:
    """The drawer's fold of one orientation's debate, opened from its « ⋯ » menu."""
    column_menu(page, title).get_by_role("button", name="Débattre et décider…").click()
    fold = page.locator("#debates .debate", has=page.locator(".debate-title", has_text=title))
    expect(fold).to_have_attribute("open", "")
    expect(fold.locator("summary")).to_be_focused()
    return fold


def test_the_diagnostic_is_imported_after_its_preview_and_its_findings_filtered(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    """The CSV's preview names the column it ignores and each refused row with its line;
    confirmed, the findings show their type, indicator and theme, signed by the file's
    author or « Diagnostic » (never offered as a pseudonym to erase); the « idée d'action »
    row waits under no orientation until placed under one; filters by type, theme and
    ambition narrow the pool and the orientations on this screen only."""
    workshop = workshop_of(server, "Import du diagnostic")
    fac_w = open_page(browser, workshop["links"]["facilitator"], "Claire")
    ana_w = open_page(browser, workshop["links"]["participant"], "Ana")
    fac, ana = fac_w.page, ana_w.page
    csv = tmp_path / "diagnostic.csv"
    csv.write_text(DIAGNOSTIC, encoding="utf-8")
    open_fold(fac, "panel-facilitator")
    fac.set_input_files("#import-file", str(csv))
    preview = fac.locator("#import-dialog")
    expect(preview).to_contain_text("Ce fichier ajoutera 3 constat(s)")
    expect(preview).to_contain_text("et 1 idée(s) d'actions sans orientation")
    expect(preview.locator(".import-columns").last).to_have_text("Commentaire interne")
    rows = preview.locator(".import-refused tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("6")
    expect(rows.nth(0)).to_contain_text("licorne")
    expect(rows.nth(1)).to_contain_text("7")
    assert server_state(server, workshop)["ideas"] == []  # nothing lands before the yes
    preview.get_by_role("button", name="Importer 3 constat(s) et 1 idée(s)").click()
    expect(fac.locator("#live")).to_have_text(
        "Import terminé : 3 constat(s) et 1 idée(s) d'actions ajoutés."
    )
    pool = column(ana, None)
    expect(pool.locator(".note")).to_have_count(3)
    foncier = pool.locator(".note", has_text="Pas de foncier")
    expect(foncier.locator(".ftype")).to_have_text("\N{MINUS SIGN}Faiblesse")
    expect(foncier.locator(".ftype-mark")).to_have_attribute("aria-hidden", "true")
    expect(foncier.locator(".note-indicator")).to_have_text("0 ha en ZA")
    expect(foncier.locator(".note-theme")).to_have_text("Foncier · ")
    expect(foncier.locator(".note-author")).to_have_text("par Diagnostic")
    label = pool.locator(".note", has_text="Petite Cité")
    expect(label.locator(".note-author")).to_have_text("par Cabinet Ouest")
    fac.locator("#erase-name").focus()  # the pick of pseudonyms to erase: no import in it
    names = fac.locator("#erase-name option").all_inner_texts()
    assert "Diagnostic" not in names and "Cabinet Ouest" not in names, names

    # the action idea waits under no orientation, then goes under one
    unplaced = ana.locator("#unplaced")
    expect(unplaced).to_contain_text("Idées d'actions sans orientation (1)")
    unplaced.get_by_role(
        "button", name="Placer l'idée « Une recyclerie au garage municipal »"
    ).click()
    placer = unplaced.locator(".idea-placer")
    expect(placer.get_by_label("Placer l'idée sous")).to_be_focused()
    placer.get_by_label("Placer l'idée sous").select_option(label="3. Patrimoine")
    placer.get_by_role("button", name="Placer").click()
    expect(unplaced).to_be_hidden()
    # the focus follows the idea, to the summary of the closed fold it went into
    expect(column(ana, "Patrimoine").locator(".ideas > summary")).to_be_focused()
    ideas = column(fac, "Patrimoine").locator(".ideas")
    expect(ideas.locator("summary")).to_have_text("Idées d'actions (1)")
    assert server_state(server, workshop)["ideas"][0]["column"] == "c2"

    # filters: by type, then theme, then ambition; the counts say what shows
    fac.locator("#filters summary").click()
    fac.locator("#filter-types").get_by_label("Faiblesse").check()
    expect(column(fac, None).locator(".col-count span").first).to_have_text("1/3")
    expect(fac.locator("#filter-banner")).to_contain_text("Filtre (Faiblesse) : 1 constat(s)")
    fac.locator("#filter-types").get_by_label("Opportunité").check()
    expect(column(fac, None).locator(".note:visible")).to_have_count(2)
    fac.locator("#filter-theme").select_option("Foncier")
    expect(column(fac, None).locator(".note:visible")).to_have_count(2)
    fac.locator("#filter-types").get_by_label("Faiblesse").uncheck()
    expect(column(fac, None).locator(".note:visible .note-text")).to_have_text(
        ["Des friches agricoles en bord de rivière"]
    )
    expect(column(fac, "Accueillir les entreprises").locator(".note:visible")).to_have_count(0)
    fac.locator("#filter-clear").click()
    fac.locator("#filter-ambitions").get_by_label("Ancrage territorial").check()
    expect(column(fac, None).locator(".note:visible")).to_have_count(0)
    expect(column(fac, "Accueillir les entreprises").locator(".note:visible")).to_have_count(1)
    expect(column(ana, None).locator(".note:visible")).to_have_count(3)  # this screen only
    fac.keyboard.press("Escape")
    fac.locator("#filter-banner").get_by_role("button", name="Effacer les filtres").click()
    expect(fac.locator("#filters summary")).to_be_focused()
    expect(column(fac, None).locator(".note:visible")).to_have_count(3)
    for watched in (fac_w, ana_w):
        watched.assert_clean()
        watched.page.context.close()


def test_a_consent_round_and_a_vote_by_college_then_the_freeze_lists_what_is_open(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    """The facilitator records the members (typed in, and one taken from the room), the
    cap and the session; runs a consent round on an orientation (an objection added,
    answered, the decision taken), a vote counted by collège on another, names the
    documents fed; answers one point of vigilance. The freeze dialog lists the two open
    points and the unanswered objection; the record holds it all, dated in the
    workshop's time zone, with the server's hash; the phase-5 action sheets download."""
    workshop = workshop_of(server, "Séance de l'instance")
    fac_w = open_page(browser, workshop["links"]["facilitator"], "Claire")
    ana_w = open_page(browser, workshop["links"]["participant"], "Ana", viewport=PHONE,
                      has_touch=True, is_mobile=True)  # fmt: skip
    fac, ana = fac_w.page, ana_w.page
    open_fold(fac, "panel-instance")

    # the members: one typed in, one taken from the people in the room
    fac.get_by_label("Nom du membre").fill("Marie Dupont")
    fac.get_by_label("Collège", exact=True).select_option(label="Élus")
    fac.get_by_role("button", name="Ajouter le membre").click()
    expect(fac.locator("#members-list")).to_contain_text("Élus (1)Marie Dupont")
    fac.get_by_label("Collège", exact=True).select_option(label="Habitants")
    fac.get_by_role("button", name="Ajouter Ana au collège « Habitants »").click()
    expect(fac.locator("#members-list")).to_contain_text("Habitants (1)Ana")
    expect(fac.locator("#room-people")).to_be_hidden()  # nobody else in the room
    # the collèges' list is the facilitator's to edit; one still sat in cannot go
    fac.locator("#colleges-edit > summary").click()
    colleges = fac.locator("#colleges-list")
    expect(colleges.get_by_role("button", name="Retirer le collège « Habitants »")).to_be_disabled()
    colleges.get_by_label("Collège 2").fill("Entreprises et artisans")
    fac.get_by_label("Nouveau collège").fill("Jeunes")
    fac.get_by_role("button", name="Ajouter le collège").click()
    fac.get_by_role("button", name="Enregistrer les collèges").click()
    expect(fac.get_by_label("Collège", exact=True).locator("option")).to_have_text(
        ["Élus", "Entreprises et artisans", "Associations et société civile", "Habitants",
         "Partenaires et techniciens", "Jeunes"]
    )  # fmt: skip
    fac.get_by_label("Le cap, en une ou deux phrases").fill("Une économie qui accueille et relie.")
    fac.get_by_role("button", name="Enregistrer le cap").click()
    expect(ana.locator(".cap-board")).to_contain_text("Une économie qui accueille et relie.")
    fac.get_by_label("Lieu").fill("Salle du conseil")
    fac.get_by_label("Date de la séance").fill("2025-03-14")
    fac.get_by_role("button", name="Enregistrer la séance").click()
    expect(fac.locator("#meeting-text")).to_contain_text("vendredi 14 mars 2025 · Salle du conseil")
    fac.locator("#panel-instance > summary").click()
    ideas = column(ana, "Accueillir les entreprises").locator(".ideas")
    ideas.locator("summary").click()
    ideas.get_by_label("Idée d'action pour la phase 5").fill("Un guichet unique pour les porteurs")
    ideas.get_by_role("button", name="Garer l'idée").click()
    expect(column(fac, "Accueillir les entreprises").locator(".ideas summary")).to_have_text(
        "Idées d'actions (1)"
    )

    # a consent round: an objection, its answer, the decision by consent
    first = debate(fac, "Accueillir les entreprises")
    first.get_by_label("Nouvelle objection").fill("Les commerçants ne viendront pas le soir")
    first.get_by_label("Soulevée par (facultatif)").fill("Marie Dupont")
    first.get_by_role("button", name="Ajouter l'objection").click()
    objection = first.locator(".objection")
    expect(objection).to_contain_text("soulevée par Marie Dupont")
    expect(objection).to_contain_text("Sans réponse")
    expect(first.locator("summary")).to_contain_text("1 objection(s) sans réponse")
    open_fold(fac, "panel-vigilance")
    expect(fac.locator("#vig-objections")).to_contain_text(
        "Objection sans réponse sur « Accueillir les entreprises » : « Les commerçants"
    )
    objection.get_by_label("Réponse à l'objection").fill("La réunion aura lieu à 8 h.")
    objection.get_by_role("button", name="Enregistrer la réponse").click()
    expect(objection).to_contain_text("Réponse : La réunion aura lieu à 8 h.")
    expect(objection.get_by_role("button", name="Modifier la réponse ou supprimer")).to_be_focused()
    expect(fac.locator("#vig-debate")).to_be_hidden()
    first.get_by_label("Adoptée", exact=True).check()
    first.get_by_role("button", name="Enregistrer la décision").click()
    expect(first.locator(".decision-said")).to_contain_text("✓ Adoptée (par consentement)")
    expect(first.get_by_role("button", name="Modifier la décision")).to_be_focused()
    expect(column(ana, "Accueillir les entreprises").locator(".badge.decision")).to_have_text(
        "✓ Adoptée"
    )
    # the documents it feeds
    first.get_by_label("SCoT").check()
    first.get_by_label("PLUi").check()
    first.get_by_label("Autres documents").fill("Charte du PNR")
    first.get_by_role("button", name="Enregistrer les documents").click()
    expect(column(ana, "Accueillir les entreprises").locator(".documents-fed")).to_have_text(
        "Alimente : SCoT · PLUi · Charte du PNR"
    )
    first.locator("summary").click()

    # a vote counted by collège, with an amendment
    second = debate(fac, "Liens entre acteurs")
    second.get_by_label("Adoptée avec amendement").check()
    second.get_by_label("par vote").check()
    second.get_by_label("Amendement adopté").fill("Y associer les artisans")
    second.get_by_label("Décompte par collège").check()
    second.get_by_label("Pour — Élus").fill("1")
    second.get_by_label("Contre — Habitants").fill("1")
    second.get_by_role("button", name="Enregistrer la décision").click()
    said = second.locator(".decision-said")
    expect(said).to_contain_text("Adoptée avec amendement (par vote)")
    expect(said.locator("tbody tr")).to_have_count(6)  # one line per collège
    expect(said.locator("tbody tr", has_text="Élus")).to_have_text(re.compile(r"Élus\s*1\s*0\s*0"))
    decision = server_state(server, workshop)["orientations"][1]["decision"]
    assert decision["tally"][0] == {"college": "elus", "for": 1, "against": 0, "abstain": 0}
    assert decision["amendment"] == "Y associer les artisans"
    second.locator("summary").click()
    third = debate(fac, "Patrimoine")
    third.get_by_label("Nouvelle objection").fill("Le bâti agricole est oublié")
    third.get_by_role("button", name="Ajouter l'objection").click()
    expect(third.locator(".objection")).to_contain_text("Sans réponse")

    # the method's points of vigilance: its words, Atelier's signals, one answer
    open_fold(fac, "panel-vigilance")
    points = fac.locator("#vig-points > li")
    expect(points).to_have_count(3)
    expect(points.nth(0).locator("blockquote")).to_contain_text("passer trop vite à la définition")
    expect(points.nth(0).locator("blockquote")).to_have_attribute("lang", "fr")
    expect(points.nth(2)).to_contain_text(
        "« Liens entre acteurs » n'alimente aucun document cadre."
    )
    expect(fac.locator("#vig-advice")).to_contain_text("« Patrimoine » n'a pas encore de décision")
    points.nth(0).get_by_label("Votre réponse").fill("Les idées attendront la phase 5.")
    points.nth(0).get_by_role("button", name="Enregistrer la réponse").click()
    expect(points.nth(0).locator(".vstate")).to_have_text("Répondu")
    fac.locator("#panel-vigilance").evaluate("(d) => d.scrollIntoView()")
    shoot(fac, "drawer-vigilance-1366")
    open_fold(fac, "panel-debates")
    debate(fac, "Accueillir les entreprises")
    shoot(fac, "drawer-debate-1366")
    fac.set_viewport_size(WALL)
    shoot(fac, "drawer-debate-1920")
    fac.set_viewport_size(LAPTOP)

    # the freeze dialog lists what stays open; « Répondre d'abord » goes there
    open_fold(fac, "panel-facilitator")
    fac.click("#freeze")
    dialog = fac.locator("#confirm")
    expect(dialog).to_contain_text("Points de vigilance sans réponse (2)")
    expect(dialog.locator(".freeze-open").first.locator("li")).to_have_text([
        "Point 2 : Ne pas restreindre les orientations à l'ESS ni aux projets citoyens",
        "Point 3 : Alimenter les documents cadres du territoire",
    ])  # fmt: skip
    expect(dialog).to_contain_text("Objections sans réponse (1)")
    expect(dialog).to_contain_text("« Le bâti agricole est oublié » sur « Patrimoine »")
    expect(dialog.get_by_role("button", name="Annuler")).to_be_focused()
    shoot(fac, "freeze-dialog-1366")
    dialog.get_by_role("button", name="Répondre d'abord").click()
    expect(fac.locator("#answer-ess")).to_be_focused()
    assert server_state(server, workshop)["frozen"] is None
    fac.click("#freeze")
    fac.click("#confirm-ok")

    # the record: what the record holds, in the workshop's time zone, with its hash
    record = fac.locator("#record")
    expect(record).to_be_visible()
    expect(fac.locator("#record-title")).to_be_focused()
    body = fac.locator("#record-body")
    expect(body).to_contain_text("Date de la séancevendredi 14 mars 2025")
    expect(body).to_contain_text("LieuSalle du conseil")
    expect(body).to_contain_text("(heure de Europe/Paris)")
    expect(body.locator(".record-members")).to_have_text(
        re.compile(r"Élus \(1\)\s*Marie Dupont\s*Habitants \(1\)\s*Ana")
    )
    expect(body.locator(".record-cap")).to_have_text("Une économie qui accueille et relie.")
    orientations = body.locator(".record-orientation")
    expect(orientations.nth(0)).to_contain_text("✓ Adoptée (par consentement)")
    expect(orientations.nth(0)).to_contain_text("« Les commerçants ne viendront pas le soir »")
    expect(orientations.nth(0)).to_contain_text("Réponse : La réunion aura lieu à 8 h.")
    expect(orientations.nth(0)).to_contain_text("SCoT · PLUi · Charte du PNR")
    expect(orientations.nth(1)).to_contain_text("Amendement : Y associer les artisans")
    expect(orientations.nth(1).locator("table.tally tbody tr")).to_have_count(6)
    expect(orientations.nth(2)).to_contain_text("aucune (pas décidée au moment du gel)")
    expect(body.locator(".record-points > li").nth(0)).to_contain_text(
        "Réponse de l'animation : Les idées attendront la phase 5."
    )
    expect(body.locator(".record-points > li").nth(1)).to_contain_text(
        "Sans réponse au moment du gel"
    )
    expect(body).to_contain_text(
        "2 point(s) de vigilance sans réponse, 1 objection(s) sans réponse."
    )
    observer = {"Authorization": f"Bearer {workshop['secrets']['observer']}"}
    stored = httpx.get(
        f"{server.base}/api/workshops/{workshop['id']}/snapshots/record", headers=observer
    )
    expect(body.locator(".record-hash code")).to_have_text(stored.json()["record"]["hash"])
    expect(ana.locator("#record-body .record-cap")).to_have_text(
        "Une économie qui accueille et relie."
    )
    fac.click("#drawer-close")
    shoot(fac, "record-1366")
    fac.set_viewport_size(WALL)
    shoot(fac, "record-1920")
    fac.click("#present")
    expect(fac.locator("body")).to_have_class("presenting")
    expect(fac.locator("#record")).to_be_visible()
    shoot(fac, "record-1920-presentation")
    fac.keyboard.press("Escape")
    fac.set_viewport_size(LAPTOP)

    # the phase-5 action sheets, from the record
    open_fold(fac, "panel-snapshots")
    fac.locator("#export-source").select_option("record")
    fac.locator("#export-format").select_option("actions.odt")
    with fac.expect_download() as download_info:
        fac.click("#export-form button[type=submit]")
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    sheet = load(str(path))
    titles = [str(h) for h in sheet.getElementsByType(H)]
    assert "Un guichet unique pour les porteurs" in titles, titles  # one sheet per idea
    texts = " ".join(str(p) for p in sheet.getElementsByType(P))
    assert "Statut à venir" in texts and "Proposée par Ana" in texts, texts[:300]
    for watched in (fac_w, ana_w):
        watched.assert_clean()
        watched.page.context.close()


def test_the_wall_follows_the_orientation_the_facilitator_points_at(
    browser: Browser, server: ServerProcess
) -> None:
    """« Montrer sur les écrans en présentation » in an orientation's menu: the wall shows
    it alone, with its number, and says so; a wall that joins later follows too; a screen
    that stops following shows the whole board again, and so does « Tout le tableau »."""
    workshop = workshop_of(server, "Le mur suit")
    fac_w = open_page(browser, workshop["links"]["facilitator"], "Claire")
    wall_w = open_page(browser, workshop["links"]["observer"], None, viewport=WALL)
    fac, wall = fac_w.page, wall_w.page
    expect(wall.locator("body")).to_have_class("presenting")
    expect(wall.locator(".columns > .col:visible")).to_have_count(3)
    column_menu(fac, "Liens entre acteurs").get_by_role(
        "button", name="Montrer sur les écrans en présentation"
    ).click()
    expect(wall.locator(".columns > .col:visible .col-title")).to_have_text(["Liens entre acteurs"])
    expect(wall.locator("#live")).to_have_text(
        "L'animation montre l'orientation 2 : « Liens entre acteurs »."
    )
    # shown alone, it keeps its number: the count of orientations starts after the first
    reset = wall.locator(".columns").evaluate("(grid) => grid.style.counterReset")
    assert reset == "orientation 1", reset
    shoot(wall, "wall-focus-1920")
    late_w = open_page(browser, workshop["links"]["observer"], None, viewport=WALL)
    late = late_w.page
    expect(late.locator(".columns > .col:visible .col-title")).to_have_text(["Liens entre acteurs"])
    late.click("#present-exit")
    late.click("#drawer-toggle")
    late.get_by_label("Suivre l'animation").uncheck()
    late.click("#drawer-close")
    late.click("#present")
    expect(late.locator(".columns > .col:visible")).to_have_count(3)
    open_fold(fac, "panel-facilitator")
    fac.locator("#focus-column").select_option(label="Tout le tableau")
    fac.locator("#focus-form").get_by_role("button", name="Montrer").click()
    expect(wall.locator(".columns > .col:visible")).to_have_count(3)
    expect(wall.locator("#live")).to_have_text("L'animation montre tout le tableau.")
    assert server_state(server, workshop)["focus"] is None
    for watched in (fac_w, wall_w, late_w):
        watched.assert_clean()
        watched.page.context.close()
