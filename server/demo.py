"""Demo workshops from the seed's own examples, so a newcomer sees a full board at once.

The orientations are those the seed quotes for the Presqu'île de Crozon - Aulne
Maritime and for La Vraie Croix; the findings under them are plausible examples
written for the demo, not the territories' real diagnostics. The boards are built
with the same reducer as a live room (so they are valid boards), then stored as each
new workshop's starting checkpoint.
"""

import asyncio
from typing import Any

from .backends.base import Store
from .flow_api import new_workshop
from .rooms.model import Board
from .rooms.ops import IMPORT_ROLE
from .rooms.reducer import Context, apply

__all__ = ["DEMOS", "TYPES", "build_board", "create_demos"]

# (title, statement, [(finding, ambitions)], [action ideas])
_Orientation = tuple[str, str, list[tuple[str, list[str]]], list[str]]

DEMOS: dict[str, dict[str, Any]] = {
    "crozon": {
        "title": "Démo — Orientations stratégiques",
        "territory": "Communauté de communes Presqu'île de Crozon - Aulne Maritime",
        "orientations": [
            ("Coopération des acteurs économiques",
             "Faire de la coopération des acteurs économiques un moteur pour stimuler et "
             "renforcer l'économie locale",
             [("Les entreprises se connaissent peu d'une commune à l'autre", ["ancrage"]),
              ("Peu d'achats groupés entre artisans malgré des besoins communs",
               ["ancrage", "transition"])],
             ["Un club d'entreprises de la presqu'île"]),
            ("Économie inclusive et ressources locales",
             "Construire une économie qui inclut tout le monde et respecte l'environnement en "
             "tirant mieux parti des ressources locales (naturelles et humaines)",
             [("Filières bois et algues peu structurées localement", ["transition", "ancrage"]),
              ("Des personnes éloignées de l'emploi faute de mobilité", ["travail"])],
             []),
            ("Numérique et mobilité",
             "Se saisir des évolutions liées au numérique et à la mobilité pour diversifier le "
             "tissu économique et favoriser l'accès à l'emploi de tous",
             [("Couverture numérique inégale selon les communes", ["ancrage"]),
              ("Pas de tiers-lieu de télétravail sur le territoire", ["travail", "consommation"])],
             ["Un espace de coworking à Crozon"]),
            ("Bien-être au travail",
             "Améliorer la vie quotidienne des salariés et le bien-être au travail pour "
             "renforcer l'attractivité territoriale",
             [("Difficultés de logement des saisonniers", ["travail"])],
             []),
        ],
        "unsorted": [("Forte saisonnalité de l'activité touristique", ["consommation"]),
                     ("Commerces de centre-bourg fragiles l'hiver", ["consommation", "ancrage"])],
    },
    "vraie-croix": {
        "title": "Démo — Orientations stratégiques",
        "territory": "Commune de La Vraie Croix",
        "orientations": [
            ("Accueillir et soutenir les entreprises",
             "Une stratégie et des actions de développement économique portées pour accueillir, "
             "soutenir et diversifier les entreprises",
             [("Pas de foncier disponible pour les artisans", ["ancrage"])], []),
            ("Liens entre acteurs économiques",
             "La création de liens entre les acteurs économiques du territoire pour soutenir le "
             "développement économique",
             [("Aucune rencontre régulière entre commerçants et artisans", ["ancrage"])], []),
            ("Patrimoine naturel, paysager et bâti",
             "Un développement économique valorisant et respectant le patrimoine naturel, "
             "paysager et bâti",
             [("Le label Petite Cité de Caractère peu mis en avant", ["transition", "ancrage"])],
             []),
            ("Services et commerces accessibles",
             "Assurer des services et des commerces suffisants, accessibles aux habitants et "
             "pour ceux qui viennent travailler sur la commune",
             [("Pas de commerce alimentaire ouvert le lundi", ["consommation"])], []),
            ("Nouvelles formes d'échanges",
             "Des nouvelles formes d'échanges et de consommation pour le territoire et les "
             "habitants (entraide, troc, co-voiturage, zone de gratuité...)",
             [("Une aire de co-voiturage sous-utilisée", ["consommation", "travail"])],
             ["Une zone de gratuité à la salle des fêtes"]),
        ],
        "unsorted": [],
    },
}  # fmt: skip


#: The AFOM type the demo's diagnostic gives each finding (made up, like the findings).
TYPES: dict[str, str] = {
    "Les entreprises se connaissent peu d'une commune à l'autre": "faiblesse",
    "Peu d'achats groupés entre artisans malgré des besoins communs": "faiblesse",
    "Filières bois et algues peu structurées localement": "opportunite",
    "Des personnes éloignées de l'emploi faute de mobilité": "faiblesse",
    "Couverture numérique inégale selon les communes": "faiblesse",
    "Pas de tiers-lieu de télétravail sur le territoire": "opportunite",
    "Difficultés de logement des saisonniers": "menace",
    "Forte saisonnalité de l'activité touristique": "menace",
    "Commerces de centre-bourg fragiles l'hiver": "faiblesse",
    "Pas de foncier disponible pour les artisans": "faiblesse",
    "Aucune rencontre régulière entre commerçants et artisans": "faiblesse",
    "Le label Petite Cité de Caractère peu mis en avant": "atout",
    "Pas de commerce alimentaire ouvert le lundi": "faiblesse",
    "Une aire de co-voiturage sous-utilisée": "opportunite",
}


def build_board(demo: dict[str, Any]) -> Board:
    """The demo's board in phase 4, its orientations formulated and its findings sorted.

    The findings and ideas come as a diagnostic's import brings them: signed
    « Diagnostic », typed, and marked imported (no pseudonym to erase)."""
    board = Board.new(4)  # the workshop runs phase 4; the earlier ones were held elsewhere
    facilitator = Context("Animation", "facilitator", "demo-facilitator")
    participant = Context("Diagnostic", IMPORT_ROLE, "demo-import")
    ops: list[tuple[Context, dict[str, Any]]] = []
    orientations: list[_Orientation] = demo["orientations"]
    for i, (title, statement, findings, ideas) in enumerate(orientations, 1):
        ops.append((facilitator, {"kind": "column.add", "id": f"o{i}", "title": title}))
        ops.append((facilitator, {"kind": "column.state", "id": f"o{i}", "statement": statement}))
        for j, (text, ambitions) in enumerate(findings, 1):
            ops.append((participant, {"kind": "note.add", "id": f"o{i}n{j}", "text": text,
                                      "column": f"o{i}", "ambitions": ambitions,
                                      "type": TYPES[text], "imported": True}))  # fmt: skip
        for j, text in enumerate(ideas, 1):
            ops.append((participant, {"kind": "idea.add", "id": f"o{i}i{j}", "column": f"o{i}",
                                      "text": text, "imported": True}))  # fmt: skip
    for j, (text, ambitions) in enumerate(demo["unsorted"], 1):
        ops.append((participant, {"kind": "note.add", "id": f"p{j}", "text": text,
                                  "colour": "blue", "ambitions": ambitions,
                                  "type": TYPES[text], "imported": True}))  # fmt: skip
    for seq, (ctx, op) in enumerate(ops, 1):
        apply(board, op, Context(ctx.author, ctx.role, ctx.client, 0, seq))  # type: ignore[arg-type]
    return board


async def create_demos(backend: Store, base_url: str) -> list[dict[str, Any]]:
    """Create one workshop per demo; return each one's id, territory and links."""
    await backend.start()
    try:
        return [
            await new_workshop(
                backend,
                build_board(demo),
                title=demo["title"],
                territory=demo["territory"],
                previous=None,
                base_url=base_url,
            )
            for demo in DEMOS.values()
        ]
    finally:
        await backend.close()


def run(backend: Store, base_url: str) -> list[dict[str, Any]]:
    """Create the demos from a command (outside any event loop)."""
    return asyncio.run(create_demos(backend, base_url))
