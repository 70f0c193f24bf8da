"""What the facilitator is shown live and asked to answer before the freeze: the method's
three points of vigilance (quoted from the seed, with Atelier's signals for each and
the facilitator's answer), Atelier's own advice, and the debate's open ends.

Pure: a board in, a JSON-ready list out, in a stable order so that equal boards give
equal checks. Every item has a ``code``, a ``source`` and a French ``message``:

- ``source: "method"``: one item per point of the method (``point``: ``actions``,
  ``ess``, ``documents``), always there, with ``quote`` (the seed's own words),
  ``signals`` (Atelier's heuristics, possibly none: signals, never verdicts), ``answer``
  (the facilitator's, '' until given) and ``open`` (no answer yet);
- ``source: "atelier"``: Atelier's advice, not the method's (number of orientations, an
  orientation without a finding or a statement, an ambition no orientation serves,
  findings left unsorted, an orientation left undecided);
- ``source: "debate"``: an objection still unanswered.

Notes still hidden by silent writing are left out: the facilitator must not learn of
them before the reveal.
"""

from typing import Any

from .items import Column, Note
from .model import AMBITION_LABELS, AMBITIONS, Board
from .signals import engages_wider_economy, reads_as_action, speaks_of_ess

__all__ = ["MAX_ORIENTATIONS", "METHOD_POINTS", "MIN_ORIENTATIONS", "check", "open_items"]

#: The seed's examples hold four or five orientations; fewer than 3 or more than 6 is a sign.
MIN_ORIENTATIONS = 3
MAX_ORIENTATIONS = 6
#: More action ideas than this many per formulated orientation (and at least
#: IDEAS_FLOOR) is a sign the debate slides towards actions.
IDEAS_PER_ORIENTATION = 2
IDEAS_FLOOR = 4

#: The method's three points of vigilance for phase 4: (point, title, the seed's words).
METHOD_POINTS: tuple[tuple[str, str, str], ...] = (
    (
        "actions",
        "Ne pas passer trop vite aux actions",
        "Prendre le temps de réaliser cette phase permet d'éviter de passer trop vite à la "
        "définition des actions (écueil très souvent observé) en perdant de vue l'ambition "
        "du territoire, ce qui pourrait conduire à la définition d'actions de très court "
        "terme, ou avec des impacts marginaux sur l'ensemble du développement économique "
        "du territoire.",
    ),
    (
        "ess",
        "Ne pas restreindre les orientations à l'ESS ni aux projets citoyens",
        "Dans la formulation de ces orientations stratégiques, il est utile de ne pas perdre "
        "de vue l'objectif central de la démarche, c'est-à-dire l'évolution de l'ensemble du "
        "système économique local vers des pratiques respectueuses de l'environnement, "
        "sobres en énergie, générant une valeur ajoutée maximale pour les territoires, des "
        "emplois durables et de qualité. Aussi, il convient d'être vigilant à ne pas "
        "restreindre les orientations stratégiques au seul sujet de l'économie sociale et "
        "solidaire, ni aux seuls projets citoyens alternatifs qui relèvent plus du "
        "vivre-ensemble que de l'économie en tant que telle.",
    ),
    (
        "documents",
        "Alimenter les documents cadres du territoire",
        "Enfin, s'engager dans une expérimentation comme Néolab² relève d'une démarche "
        "volontaire, sans portée réglementaire. Aussi, pour que Néolab² produise ses effets, "
        "il est important (selon le calendrier et les champs de compétences de la "
        "collectivité engagée) qu'elle puisse alimenter et peser sur les documents cadres "
        "du territoire en cours d'élaboration (SCoT, PLUi, projet de territoire, PCAET...).",
    ),
)


def check(board: Board) -> list[dict[str, Any]]:
    """The method's points (always three), then Atelier's advice, then the debate's open
    objections, as the facilitator is shown them now."""
    columns = board.live_columns()
    public: dict[str | None, list[Note]] = {}
    for note in board.notes.values():
        if not note.deleted and note.private_to is None:
            public.setdefault(note.column, []).append(note)
    signals = {
        "actions": _actions(board, columns),
        "ess": _ess(columns, public),
        "documents": [
            _item(
                "feeds_no_document", f"« {c.title} » n'alimente aucun document cadre.", column=c.id
            )
            for c in columns
            if not c.documents and not c.others
        ],
    }
    checks = [
        _point(board, number, point, title, quote, signals[point])
        for number, (point, title, quote) in enumerate(METHOD_POINTS, 1)
    ]
    checks += _advice(board, columns, public)
    checks += [
        _item(
            "objection_unanswered",
            f"Objection sans réponse sur « {c.title} » : « {o.text} »",
            source="debate",
            column=c.id,
            objection=o.id,
        )
        for c in columns
        for o in board.objections.values()
        if o.column == c.id and not o.answer
    ]
    return checks


def open_items(checks: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What is still open in ``checks``: the points without an answer and the objections
    without one (what the freeze dialog lists, and the record keeps)."""
    return {
        "points": [c["point"] for c in checks if c["source"] == "method" and c["open"]],
        "objections": [c["objection"] for c in checks if c["code"] == "objection_unanswered"],
    }


def _point(
    board: Board, number: int, point: str, title: str, quote: str, signals: list[dict[str, Any]]
) -> dict[str, Any]:
    answer = board.answers.get(point, "")
    state = "répondu" if answer else "réponse attendue avant le gel"
    count = f"{len(signals)} signal(aux)" if signals else "aucun signal"
    return {
        "code": f"method_{point}",
        "source": "method",
        "point": point,
        "number": number,
        "title": title,
        "quote": quote,
        "signals": signals,
        "answer": answer,
        "open": not answer,
        "message": f"Point de vigilance {number} de la méthode — {title} : {count}, {state}.",
    }


def _actions(board: Board, columns: list[Column]) -> list[dict[str, Any]]:
    found = [
        _item(
            "orientation_reads_as_action",
            f"« {c.title} » se lit comme une action ou un projet plutôt qu'un axe.",
            column=c.id,
        )
        for c in columns
        if reads_as_action(c.statement or c.title)
    ]
    ideas = sum(1 for i in board.ideas.values() if not i.deleted)
    formulated = sum(1 for c in columns if c.statement.strip())
    if ideas >= IDEAS_FLOOR and ideas > IDEAS_PER_ORIENTATION * max(1, formulated):
        found.append(
            _item(
                "ideas_outweigh_orientations",
                f"{ideas} idées d'actions pour {formulated} orientation(s) formulée(s) : "
                "le débat glisse-t-il vers les actions ?",
                count=ideas,
                total=formulated,
            )
        )
    return found


def _ess(columns: list[Column], public: dict[str | None, list[Note]]) -> list[dict[str, Any]]:
    if not columns:
        return []
    ess = []
    for column in columns:
        texts = [column.title, column.statement, *(n.text for n in public.get(column.id, []))]
        if any(engages_wider_economy(t) for t in texts):
            return []  # the wider fabric is engaged: no signal
        if any(speaks_of_ess(t) for t in texts):
            ess.append(column.id)
    message = (
        "Aucune orientation n'engage le tissu économique au sens large (entreprises, "
        "emploi, agriculture, industrie, tourisme, commerce)"
    )
    if ess:
        message += f" ; {len(ess)} parle(nt) d'ESS, d'associations ou de projets citoyens"
    return [_item("no_wider_economy", message + ".", count=len(ess), columns=ess)]


def _advice(
    board: Board, columns: list[Column], public: dict[str | None, list[Note]]
) -> list[dict[str, Any]]:
    """Atelier's own advice: worth a look, never the method's word."""
    advice: list[dict[str, Any]] = []
    if len(columns) < MIN_ORIENTATIONS:
        advice.append(
            _item(
                "too_few_orientations",
                f"Seulement {len(columns)} orientation(s) : en viser au moins {MIN_ORIENTATIONS}.",
                source="atelier",
                count=len(columns),
            )
        )
    if len(columns) > MAX_ORIENTATIONS:
        advice.append(
            _item(
                "too_many_orientations",
                f"{len(columns)} orientations : au-delà de {MAX_ORIENTATIONS}, le cap se dilue.",
                source="atelier",
                count=len(columns),
            )
        )
    deciding = bool(board.members) or any(c.decision is not None for c in columns)
    for column in columns:
        if not public.get(column.id):
            advice.append(
                _item(
                    "orientation_without_finding",
                    f"« {column.title} » ne s'appuie sur aucun constat.",
                    source="atelier",
                    column=column.id,
                )
            )
        if not column.statement.strip():
            advice.append(
                _item(
                    "orientation_without_statement",
                    f"« {column.title} » n'est pas encore formulée.",
                    source="atelier",
                    column=column.id,
                )
            )
        if deciding and column.decision is None:
            advice.append(
                _item(
                    "orientation_undecided",
                    f"« {column.title} » attend la décision de l'instance.",
                    source="atelier",
                    column=column.id,
                )
            )
    served = {a for c in columns for n in public.get(c.id, []) for a in n.ambitions}
    for ambition in AMBITIONS:
        if ambition not in served:
            advice.append(
                _item(
                    "ambition_unserved",
                    f"Aucune orientation ne sert l'ambition « {AMBITION_LABELS[ambition]} ».",
                    source="atelier",
                    ambition=ambition,
                )
            )
    unsorted = len(public.get(None, []))
    if unsorted:
        advice.append(
            _item(
                "findings_unsorted",
                f"{unsorted} constat(s) pas encore rattaché(s) à une orientation.",
                source="atelier",
                count=unsorted,
            )
        )
    return advice


def _item(code: str, message: str, **about: Any) -> dict[str, Any]:
    return {"code": code, **about, "message": message}
