// Every string the page shows, one dictionary per language. French first, English second.
//
// Static markup names its strings with data-i18n (text), data-i18n-label (aria-label and
// title) and data-i18n-placeholder; translate() fills them, so switching the language
// relabels the whole page, board included, without rebuilding anything.

const fr = {
  "app.tagline": "Tableau collaboratif en direct pour les ateliers de stratégie territoriale (Néolab², phase 4 : orientations stratégiques).",
  "home.title": "Créer un atelier",
  "home.field.title": "Titre de l'atelier",
  "home.field.territory": "Territoire",
  "home.create": "Créer l'atelier",
  "home.creating": "Création…",
  "home.failed": "La création a échoué : {message}",
  "home.links": "Liens d'accès",
  "home.recent": "Ateliers créés depuis ce navigateur",
  "home.linksHint": "Gardez le lien animateur pour vous. Partagez le lien participant (ou son QR code) avec le groupe, le lien observateur avec le public. Qui a un lien entre sans compte.",
  "role.facilitator": "Animation",
  "role.participant": "Participant·e",
  "role.observer": "Observation",
  "link.copy": "Copier le lien",
  "link.copied": "Lien copié",
  "link.open": "Ouvrir",
  "link.qr": "QR code du lien « {role} »",
  "join.title": "Rejoindre l'atelier",
  "join.name": "Votre pseudonyme",
  "join.hint": "Visible des autres personnes présentes. Ni compte, ni adresse e-mail.",
  "join.go": "Entrer",
  "join.badLink": "Ce lien n'ouvre aucun atelier. Demandez le bon lien à l'animation.",
  "join.noKey": "Ce lien est incomplet : il lui manque sa clé (la partie après « #k= »).",
  "join.home": "Créer un atelier",
  "conn.connecting": "connexion…",
  "conn.online": "connecté",
  "conn.reconnecting": "reconnexion…",
  "conn.offline": "hors ligne",
  "conn.refused": "accès refusé",
  "sync.pending": "{n} modification(s) en attente",
  "sync.saved": "tout est enregistré",
  "note.pending": "en attente",
  "note.saved": "enregistré",
  "note.by": "par {name}",
  "note.held": "{name} le déplace",
  "note.draft": "brouillon",
  "note.new": "Nouveau constat",
  "note.newIn": "Nouveau constat dans « {column} »",
  "note.add": "Ajouter",
  "note.edit": "Modifier",
  "note.move": "Déplacer",
  "note.delete": "Supprimer",
  "note.grip": "Poignée : faire glisser pour déplacer",
  "note.save": "Enregistrer",
  "note.cancel": "Annuler",
  "note.text": "Texte du constat",
  "note.colour": "Couleur",
  "note.ambitions": "Ambitions servies",
  "note.keys": "Entrée : modifier. M : déplacer. Suppr : supprimer (Ctrl+Z : rétablir). Flèches : constat voisin.",
  "move.to": "Déplacer vers",
  "move.confirm": "Confirmer",
  "pool.title": "Constats à classer",
  "column.count": "{n}",
  "column.countLabel": "{n} constat(s)",
  "column.add": "Ajouter l'orientation",
  "column.new": "Nouvelle orientation stratégique",
  "column.rename": "Renommer",
  "column.left": "Déplacer l'orientation vers la gauche",
  "column.right": "Déplacer l'orientation vers la droite",
  "column.title": "Intitulé de l'orientation",
  "column.delete": "Supprimer l'orientation",
  "column.confirmDelete": "Confirmer : ses constats retournent à classer",
  "board.readonly": "Lecture seule : vous observez l'atelier.",
  "board.label": "Tableau de l'atelier",
  "view.list": "Vue liste",
  "view.board": "Vue tableau",
  "presence.title": "Présents",
  "presence.you": "vous",
  "presence.count": "{n} présent(s)",
  "lang.switch": "English",
  "lang.label": "Switch to English",
  "name.change": " : changer de pseudonyme",
  "announce.moved": "Constat « {text} » déplacé vers « {column} », position {index}.",
  "announce.added": "Constat ajouté à « {column} ».",
  "announce.deleted": "Constat supprimé. Ctrl+Z pour le rétablir.",
  "announce.columnMoved": "Orientation « {column} » déplacée en position {index}.",
  "announce.restored": "Constat rétabli.",
  "announce.moveMode": "Choisissez la destination, puis confirmez.",
  "undo.deleted": "Constat supprimé.",
  "undo.action": "Annuler la suppression",
  "reject.forbidden": "Les observateurs peuvent regarder mais pas modifier.",
  "reject.unknown_note": "Ce constat n'existe plus : quelqu'un l'a supprimé.",
  "reject.unknown_column": "Cette orientation n'existe plus : quelqu'un l'a supprimée.",
  "reject.id_taken": "Cet identifiant est déjà pris.",
  "reject.too_many_notes": "Le tableau est plein (5 000 constats au plus).",
  "reject.too_many_columns": "Trop d'orientations (30 au plus).",
  "reject.not_deleted": "Ce constat n'est pas supprimé.",
  "reject.too_long": "Texte trop long.",
  "reject.bad_field": "Valeur refusée par le serveur.",
  "reject.missing_field": "Modification incomplète.",
  "reject.unknown_op": "Opération inconnue du serveur.",
  "board.frozen": "Tableau figé : c'est désormais le relevé officiel.",
  "reject.frozen": "Le tableau est figé : c'est le relevé officiel.",
  "reject.locked": "Cette orientation est verrouillée par l'animation.",
  "reject.unknown_idea": "Cette idée d'action n'existe plus.",
  "reject.too_many_ideas": "Trop d'idées d'actions sur ce tableau.",
  "reject.voting_closed": "Le vote n'est pas ouvert.",
  "reject.no_votes_left": "Vous avez utilisé tous vos votes.",
  "reject.no_vote": "Vous n'avez pas voté pour cette orientation.",
  "reject.last_phase": "C'est déjà la dernière phase.",
  "reject.rate_limited": "Trop de modifications à la fois : patientez un instant.",
  "reject.prefix": "Modification refusée : {reason}",
  "error.server": "Erreur signalée par le serveur : {message}",
  "colour.yellow": "Jaune",
  "colour.pink": "Rose",
  "colour.blue": "Bleu",
  "colour.green": "Vert",
  "colour.orange": "Orange",
  "colour.purple": "Violet",
  "amb.ancrage": "Ancrage territorial",
  "amb.transition": "Engagement du tissu économique dans la transition écologique",
  "amb.travail": "Un monde du travail respectueux du bien-être des individus",
  "amb.consommation": "Des formes d'échanges et des modes de consommation responsables",
  "amb.short.ancrage": "Ancrage",
  "amb.short.transition": "Transition",
  "amb.short.travail": "Travail",
  "amb.short.consommation": "Consommation",
};

const en = {
  "app.tagline": "A live collaborative board for territorial strategy workshops (Néolab², phase 4: strategic orientations).",
  "home.title": "Create a workshop",
  "home.field.title": "Workshop title",
  "home.field.territory": "Territory",
  "home.create": "Create the workshop",
  "home.creating": "Creating…",
  "home.failed": "Could not create it: {message}",
  "home.links": "Access links",
  "home.recent": "Workshops created from this browser",
  "home.linksHint": "Keep the facilitator link to yourself. Share the participant link (or its QR code) with the group, the observer link with the public. Anyone with a link gets in without an account.",
  "role.facilitator": "Facilitator",
  "role.participant": "Participant",
  "role.observer": "Observer",
  "link.copy": "Copy link",
  "link.copied": "Link copied",
  "link.open": "Open",
  "link.qr": "QR code of the “{role}” link",
  "join.title": "Join the workshop",
  "join.name": "Your pseudonym",
  "join.hint": "Others in the room will see it. No account, no e-mail address.",
  "join.go": "Enter",
  "join.badLink": "This link opens no workshop. Ask the facilitator for the right one.",
  "join.noKey": "This link is incomplete: its key (the part after “#k=”) is missing.",
  "join.home": "Create a workshop",
  "conn.connecting": "connecting…",
  "conn.online": "connected",
  "conn.reconnecting": "reconnecting…",
  "conn.offline": "offline",
  "conn.refused": "access refused",
  "sync.pending": "{n} change(s) waiting",
  "sync.saved": "all saved",
  "note.pending": "waiting",
  "note.saved": "saved",
  "note.by": "by {name}",
  "note.held": "{name} is moving it",
  "note.draft": "draft",
  "note.new": "New finding",
  "note.newIn": "New finding in “{column}”",
  "note.add": "Add",
  "note.edit": "Edit",
  "note.move": "Move",
  "note.delete": "Delete",
  "note.grip": "Handle: drag to move",
  "note.save": "Save",
  "note.cancel": "Cancel",
  "note.text": "Finding text",
  "note.colour": "Colour",
  "note.ambitions": "Ambitions served",
  "note.keys": "Enter: edit. M: move. Delete: delete (Ctrl+Z: restore). Arrows: neighbouring finding.",
  "move.to": "Move to",
  "move.confirm": "Confirm",
  "pool.title": "Findings to sort",
  "column.count": "{n}",
  "column.countLabel": "{n} finding(s)",
  "column.add": "Add the orientation",
  "column.new": "New strategic orientation",
  "column.rename": "Rename",
  "column.left": "Move the orientation left",
  "column.right": "Move the orientation right",
  "column.title": "Orientation title",
  "column.delete": "Delete the orientation",
  "column.confirmDelete": "Confirm: its findings go back to sort",
  "board.readonly": "Read only: you are observing the workshop.",
  "board.label": "Workshop board",
  "view.list": "List view",
  "view.board": "Board view",
  "presence.title": "Here",
  "presence.you": "you",
  "presence.count": "{n} here",
  "lang.switch": "Français",
  "lang.label": "Passer en français",
  "name.change": ": change pseudonym",
  "announce.moved": "Finding “{text}” moved to “{column}”, position {index}.",
  "announce.added": "Finding added to “{column}”.",
  "announce.deleted": "Finding deleted. Ctrl+Z restores it.",
  "announce.columnMoved": "Orientation “{column}” moved to position {index}.",
  "announce.restored": "Finding restored.",
  "announce.moveMode": "Choose where to, then confirm.",
  "undo.deleted": "Finding deleted.",
  "undo.action": "Undo delete",
  "reject.forbidden": "Observers can watch but not edit.",
  "reject.unknown_note": "This finding no longer exists: someone deleted it.",
  "reject.unknown_column": "This orientation no longer exists: someone deleted it.",
  "reject.id_taken": "This id is already taken.",
  "reject.too_many_notes": "The board is full (5,000 findings at most).",
  "reject.too_many_columns": "Too many orientations (30 at most).",
  "reject.not_deleted": "This finding is not deleted.",
  "reject.too_long": "Text too long.",
  "reject.bad_field": "The server refused a value.",
  "reject.missing_field": "Incomplete change.",
  "reject.unknown_op": "The server does not know this operation.",
  "board.frozen": "Board frozen: it is the official record now.",
  "reject.frozen": "The board is frozen: it is the official record.",
  "reject.locked": "The facilitator locked this orientation.",
  "reject.unknown_idea": "This action idea no longer exists.",
  "reject.too_many_ideas": "Too many action ideas on this board.",
  "reject.voting_closed": "Voting is not open.",
  "reject.no_votes_left": "You have used all your votes.",
  "reject.no_vote": "You have no vote on this orientation.",
  "reject.last_phase": "This is already the last phase.",
  "reject.rate_limited": "Too many changes at once: wait a moment.",
  "reject.prefix": "Change refused: {reason}",
  "error.server": "The server reported an error: {message}",
  "colour.yellow": "Yellow",
  "colour.pink": "Pink",
  "colour.blue": "Blue",
  "colour.green": "Green",
  "colour.orange": "Orange",
  "colour.purple": "Purple",
  "amb.ancrage": "Territorial anchoring",
  "amb.transition": "Businesses engaged in the ecological transition",
  "amb.travail": "A world of work that respects people's well-being",
  "amb.consommation": "Responsible forms of exchange and consumption",
  "amb.short.ancrage": "Anchoring",
  "amb.short.transition": "Transition",
  "amb.short.travail": "Work",
  "amb.short.consommation": "Consumption",
};

export const DICTIONARIES = { fr, en };
export const LANGS = ["fr", "en"];
const KEY = "atelier.lang";

let lang = readLang();

function readLang() {
  try {
    const saved = localStorage.getItem(KEY);
    return LANGS.includes(saved) ? saved : "fr";
  } catch {
    return "fr"; // storage blocked: French, the default
  }
}

/** The current language code. */
export function currentLang() {
  return lang;
}

/** Switch language, remember it, relabel the page. */
export function setLang(next) {
  if (!LANGS.includes(next)) throw new Error(`Expected one of ${LANGS} but got ${next}`);
  lang = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // not remembered, still switched
  }
  translate(document);
}

/** The string for key in the current language, with {name} placeholders filled. */
export function t(key, params = {}) {
  const template = DICTIONARIES[lang][key] ?? DICTIONARIES.fr[key];
  if (template === undefined) throw new Error(`Missing string ${key}`);
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    const value = params[name];
    // {key: "..."} is a string of the dictionary, translated too, so a switch relabels it
    if (value !== null && typeof value === "object") return t(value.key);
    return String(value ?? "");
  });
}

/** Fill every data-i18n* attribute under root (parameters come from data-i18n-args JSON). */
export function translate(root) {
  if (root === document) document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n, args(el));
  }
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    const text = t(el.dataset.i18nLabel, args(el));
    el.setAttribute("aria-label", text);
    el.title = text;
  }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

function args(el) {
  return el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : {};
}

/** Set an element's text from a key (and keep the key, so a language switch relabels it). */
export function label(el, key, params) {
  el.dataset.i18n = key;
  if (params) el.dataset.i18nArgs = JSON.stringify(params);
  else delete el.dataset.i18nArgs;
  el.textContent = t(key, params);
}
