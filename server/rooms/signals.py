"""Reading an orientation's words for the method's points of vigilance: Atelier's own
heuristics, which give signals and never verdicts.

Pure functions on text. Words are compared without case or accents, at the start of a
word (« entreprise » matches « entreprises »). The word lists are Atelier's, written
for French local economies; docs/method.md gives them and says why.
"""

import functools
import re
import unicodedata

__all__ = ["engages_wider_economy", "plain", "reads_as_action", "speaks_of_ess"]

#: Verbs that, at the head of a statement and followed by one thing (« un », « une »,
#: « le »…), usually introduce a single action or project rather than an axis. Verbs
#: that head the seed's own orientations (faire, construire, améliorer, assurer, se
#: saisir…) are left out on purpose.
_ACTION_VERBS = (
    "creer", "mettre en place", "mettre en oeuvre", "ouvrir", "installer", "implanter",
    "lancer", "organiser", "monter", "amenager", "realiser", "acheter", "recruter",
    "embaucher", "financer", "editer", "publier", "renover", "rehabiliter", "equiper",
    "batir", "inaugurer", "signer", "subventionner", "recenser", "rediger",
)  # fmt: skip

#: Things that name one project when a statement says « un·e » of them.
_PROJECTS = (
    "tiers-lieu", "tiers lieu", "recyclerie", "ressourcerie", "application", "site internet",
    "site web", "plateforme", "festival", "epicerie", "marche", "salon", "forum", "club",
    "annuaire", "guichet", "local", "batiment", "navette", "boutique", "cantine", "cafe",
    "espace de coworking", "pepiniere", "halle", "journee", "evenement", "poste de",
    "maison de", "zone d'activite", "parking", "aire de",
)  # fmt: skip

_ESS = (
    r"\bess\b", r"economie sociale", r"solidaire", r"\bassociati", r"\bcitoyen",
    r"\bbenevol", r"\bentraide", r"\btroc\b", r"\bgratuit", r"vivre[- ]ensemble",
    r"\bscic\b", r"\bscop\b", r"\bcooperatives?\b", r"monnaie locale", r"jardins? partage",
    r"repair ?cafe",
)  # fmt: skip

#: The wider economic fabric the method asks not to lose: firms, jobs, farming,
#: industry, tourism, trade (the issue's list), and the words they come with.
_FABRIC = (
    r"\bentreprise", r"\bemploi", r"\bagricol", r"\bagricult", r"\bindustri", r"\btouris",
    r"\bcommerc", r"\bartisan", r"\bfiliere", r"\bsalarie", r"\bpme\b", r"\btpe\b",
    r"\beconomie locale", r"tissu economique", r"acteurs economiques",
    r"developpement economique", r"zones? d'activite", r"\bexploitation", r"\bpeche\b",
    r"\bpecheur", r"\bbtp\b", r"\blogistique", r"\brecrut", r"\bmetiers?\b",
    r"\bemployeur", r"\bfoncier economique", r"\beconomie circulaire",
)  # fmt: skip

_HEAD = re.compile(
    r"^(?:" + "|".join(re.escape(v) for v in _ACTION_VERBS) + r")\s+(?:un|une|le|la|l')\b"
)
_PROJECT = re.compile(r"\b(?:un|une)\s+(?:" + "|".join(re.escape(p) for p in _PROJECTS) + r")\b")
_ESS_WORDS = re.compile("|".join(_ESS))
_FABRIC_WORDS = re.compile("|".join(_FABRIC))


@functools.lru_cache(maxsize=8192)
def plain(text: str) -> str:
    """``text`` in lower case without accents, ligatures or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("\u2019", "'").split())


def reads_as_action(statement: str) -> bool:
    """Whether a statement reads as one action or project rather than an axis: it opens
    with an action verb on one thing, or it names one project."""
    words = plain(statement)
    return bool(_HEAD.search(words) or _PROJECT.search(words))


# The checks run after every op while a facilitator is connected, over every grounding
# finding: the answer for a text is kept, so a check costs a lookup per finding (measured
# on a 5,000-note board with no word of the fabric: 150 ms a check without, 2 ms with).
@functools.lru_cache(maxsize=16384)
def speaks_of_ess(text: str) -> bool:
    """Whether ``text`` speaks of the social and solidarity economy, associations or
    citizen projects."""
    return bool(_ESS_WORDS.search(plain(text)))


@functools.lru_cache(maxsize=16384)
def engages_wider_economy(text: str) -> bool:
    """Whether ``text`` speaks of the wider economic fabric (firms, jobs, farming,
    industry, tourism, trade)."""
    return bool(_FABRIC_WORDS.search(plain(text)))
