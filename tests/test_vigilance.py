"""The method's points of vigilance and Atelier's signals for them (rooms/vigilance.py,
rooms/signals.py): quoted, answered, and signals that fire where they should only."""

import pytest
from atelier.rooms.model import Board
from atelier.rooms.signals import engages_wider_economy, reads_as_action, speaks_of_ess
from atelier.rooms.vigilance import METHOD_POINTS, check, open_items

from .support import ROOT
from .test_room_controls import ANA, FACILITATOR, run

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

#: The nine orientations the seed gives as examples: axes, not actions.
SEED_ORIENTATIONS = [
    "Faire de la coopération des acteurs économiques un moteur pour stimuler et renforcer "
    "l'économie locale",
    "Construire une économie qui inclut tout le monde et respecte l'environnement en tirant "
    "mieux parti des ressources locales (naturelles et humaines)",
    "Se saisir des évolutions liées au numérique et à la mobilité pour diversifier le tissu "
    "économique et favoriser l'accès à l'emploi de tous",
    "Améliorer la vie quotidienne des salariés et le bien-être au travail pour renforcer "
    "l'attractivité territoriale",
    "Une stratégie et des actions de développement économique portées pour accueillir, "
    "soutenir et diversifier les entreprises",
    "La création de liens entre les acteurs économiques du territoire pour soutenir le "
    "développement économique",
    "Un développement économique valorisant et respectant le patrimoine naturel, paysager et bâti",
    "Assurer des services et des commerces suffisants, accessibles aux habitants et pour ceux "
    "qui viennent travailler sur la commune",
    "Des nouvelles formes d'échanges et de consommation pour le territoire et les habitants "
    "(entraide, troc, co-voiturage, zone de gratuité...)",
]


def test_each_point_quotes_the_method_as_docs_method_md_does() -> None:
    """The three quotes are the seed's sentences, word for word as docs/method.md sets
    them beside their features."""
    doc = (ROOT / "docs" / "method.md").read_text()
    for _, _, quote in METHOD_POINTS:
        for sentence in quote.split(". "):
            assert sentence.rstrip(".") in doc, sentence[:60]


@pytest.mark.parametrize("statement", SEED_ORIENTATIONS)
def test_the_seed_s_own_orientations_never_read_as_actions(statement: str) -> None:
    """None of the seed's nine examples raises the « reads as an action » signal."""
    assert not reads_as_action(statement)


@pytest.mark.parametrize("statement", [
    "Créer un espace de coworking à Crozon", "Mettre en place une navette estivale",
    "Un club d'entreprises de la presqu'île", "ouvrir l'épicerie solidaire",
    "Lancer une plateforme de covoiturage",
])  # fmt: skip
def test_one_project_reads_as_an_action(statement: str) -> None:
    """A statement that opens with an action verb on one thing, or names one project, does."""
    assert reads_as_action(statement)


def test_words_are_matched_without_case_or_accents() -> None:
    """ESS and the wider economy are told apart by their words, any case, any accent."""
    assert speaks_of_ess("Soutenir l'ÉCONOMIE SOCIALE et les associations")
    assert engages_wider_economy("Accueillir des ENTREPRISES et de l'emploi agricole")
    assert not engages_wider_economy("Une zone de gratuité à la salle des fêtes")


def _point(board: Board, point: str) -> dict[str, object]:
    return next(c for c in check(board) if c.get("point") == point)


def test_signals_fire_for_each_point_and_answers_close_them() -> None:
    """Point 1: an action-like statement and a pile of ideas; point 2: only ESS; point 3:
    an orientation feeding nothing. Each point stays open until answered, signals or not."""
    board = Board.new()
    run(
        board,
        FACILITATOR,
        {"kind": "column.add", "id": "c1", "title": "Entraide"},
        {"kind": "column.state", "id": "c1", "statement": "Créer une recyclerie associative"},
        {"kind": "column.add", "id": "c2", "title": "Vivre ensemble"},
        {"kind": "column.state", "id": "c2", "statement": "Des projets citoyens de quartier"},
    )
    ideas = [{"kind": "idea.add", "id": f"i{i}", "column": "c1", "text": "Une idée"}
             for i in range(5)]  # fmt: skip
    run(board, ANA, {"kind": "note.add", "id": "n1", "text": "Des bénévoles", "column": "c2"},
        *ideas)  # fmt: skip
    actions = _point(board, "actions")
    assert [s["code"] for s in actions["signals"]] == [  # type: ignore[union-attr]
        "orientation_reads_as_action", "ideas_outweigh_orientations"]  # fmt: skip
    ess = _point(board, "ess")["signals"]
    assert [(s["code"], s["columns"]) for s in ess] == [  # type: ignore[union-attr]
        ("no_wider_economy", ["c1", "c2"])]  # fmt: skip
    documents = _point(board, "documents")["signals"]
    assert [s["column"] for s in documents] == ["c1", "c2"]  # type: ignore[union-attr]
    run(board, FACILITATOR, {"kind": "column.state", "id": "c2",
                             "statement": "Des emplois de quartier pour les habitants"},
        {"kind": "column.documents", "id": "c1", "documents": ["plui"], "others": []})  # fmt: skip
    assert _point(board, "ess")["signals"] == []
    assert [s["column"] for s in _point(board, "documents")["signals"]] == ["c2"]  # type: ignore[union-attr]
    assert open_items(check(board))["points"] == ["actions", "ess", "documents"]
    run(board, FACILITATOR, {"kind": "vigilance.answer", "point": "ess", "text": "Vu."})
    point = _point(board, "ess")
    assert (point["open"], point["answer"]) == (False, "Vu.")
    assert open_items(check(board))["points"] == ["actions", "documents"]


def test_silent_notes_never_feed_the_signals() -> None:
    """A silent note's words stay out of the checks until the reveal."""
    board = Board.new()
    run(board, FACILITATOR, {"kind": "column.add", "id": "c1", "title": "Entraide"},
        {"kind": "tools.set", "silent": True})  # fmt: skip
    run(board, ANA, {"kind": "note.add", "id": "s1", "text": "Des entreprises", "column": "c1"})
    assert _point(board, "ess")["signals"] != []
    run(board, FACILITATOR, {"kind": "notes.reveal"})
    assert _point(board, "ess")["signals"] == []
