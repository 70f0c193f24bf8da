// The connection to the workshop room: one websocket, its reconnects, and the outbox.
//
// Every op gets a client op id (cop) and waits in the outbox (kept in localStorage)
// until the server acknowledges or refuses it. After any break the socket rejoins
// with the last seq it saw, receives what it missed, then re-sends the whole outbox:
// the server dedupes on (client id, cop) and answers an op it already committed with
// its original ack, so a retry never applies twice. Server frames are binary UTF-8
// JSON; ours go out as text.

import { clientId, dropOp, loadOutbox, nextCop, saveOp } from "./store.js";

const PROTOCOL_VERSION = 1;
const BACKOFF_FIRST = 400; // ms; doubles each failed attempt
const BACKOFF_MAX = 5000; // a workshop is short: never wait long to come back
const OFFLINE_AFTER = 3; // failed attempts before we say "offline" rather than "reconnecting"
// The server announces presence every 10 s, so a joined socket silent for 30 s sits on a
// dead link (Wi-Fi gone without a goodbye): drop it and reconnect rather than wait for TCP.
const SILENCE_LIMIT = 30000;

/**
 * States: "connecting" (first attempt), "online" (joined), "reconnecting",
 * "offline", "refused" (the server will not let this link in; no more retries).
 */
export class Connection {
  constructor({ workshop, token, name, onFrame, onState }) {
    this.workshop = workshop;
    this.token = token;
    this.name = name;
    this.client = clientId();
    this.onFrame = onFrame;
    this.onState = onState;
    this.outbox = loadOutbox(workshop);
    this.seq = null; // the last seq applied, sent as "since" when rejoining
    this.state = "connecting";
    this.ws = null;
    this.joined = false;
    this.refused = false; // the server said this link opens nothing here
    this.attempts = 0;
    this.timer = null;
    this.decoder = new TextDecoder();
    this.lastFrame = 0;
    setInterval(() => {
      if (this.joined && Date.now() - this.lastFrame > SILENCE_LIMIT) this.drop();
    }, SILENCE_LIMIT / 6);
    window.addEventListener("online", () => this.retryNow());
    // the browser's word on the network is a hint: only the socket's own close is news
    window.addEventListener("offline", () => { if (!this.joined) this.setState("offline"); });
  }

  /** Open the socket (again). */
  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws/${this.workshop}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.joined = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({
        type: "join", v: PROTOCOL_VERSION, token: this.token, client: this.client,
        name: this.name, since: this.seq,
      }));
    };
    ws.onmessage = (message) => {
      if (ws !== this.ws) return; // a late frame of a socket we gave up on
      this.lastFrame = Date.now();
      const text = typeof message.data === "string" ? message.data : this.decoder.decode(message.data);
      this.receive(JSON.parse(text));
    };
    ws.onclose = () => {
      if (ws === this.ws) this.lost();
    };
  }

  /** The socket is gone: say so, and try again later (unless the link was refused). */
  lost() {
    this.ws = null;
    this.joined = false;
    if (this.refused) {
      this.setState("refused"); // a wrong link stays wrong: stop knocking
      return;
    }
    this.attempts += 1;
    this.setState(this.attempts >= OFFLINE_AFTER || !navigator.onLine ? "offline" : "reconnecting");
    this.scheduleRetry();
  }

  /** Give up on a socket that went silent; its close may never come. */
  drop() {
    const ws = this.ws;
    this.lost();
    ws.close();
  }

  scheduleRetry() {
    const base = Math.min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (this.attempts - 1));
    // jitter, so a room of phones on the same Wi-Fi does not come back all at once
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Try at once (the browser says the network is back). */
  retryNow() {
    if (this.ws === null && this.state !== "refused") this.connect();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  receive(msg) {
    switch (msg.type) {
      case "welcome":
        this.joined = true;
        this.attempts = 0;
        this.onFrame(msg);
        this.seq = msg.seq;
        this.setState("online");
        this.flush();
        break;
      case "event":
      case "reset":
        this.onFrame(msg);
        this.seq = msg.seq;
        break;
      case "ack":
      case "reject":
        this.onFrame(msg, this.settle(msg.cop));
        break;
      case "error":
        if (msg.code === "bad_link") this.refused = true;
        this.onFrame(msg);
        break;
      case "presence":
      case "drag":
      case "vigilance":
        this.onFrame(msg);
        break;
      default:
        throw new Error(`Unexpected message type ${msg.type}`);
    }
  }

  /**
   * Queue an op (kept until acknowledged) and send it if we can; returns its cop.
   * `extra` is kept with the op for this browser's own guesses, never sent.
   */
  send(op, extra = {}) {
    const entry = { ...extra, cop: nextCop(), op };
    this.outbox.push(entry);
    saveOp(this.workshop, entry);
    if (this.joined) this.ws.send(frameOf(entry));
    return entry.cop;
  }

  /** Tell the room which note we hold (null when dropped). Presence only: never queued. */
  drag(note) {
    if (this.joined) this.ws.send(JSON.stringify({ type: "drag", note }));
  }

  /** Forget an op the server answered; returns its outbox entry (undefined if not ours). */
  settle(cop) {
    const index = this.outbox.findIndex((entry) => entry.cop === cop);
    dropOp(this.workshop, cop);
    return index >= 0 ? this.outbox.splice(index, 1)[0] : undefined;
  }

  /** Send every waiting op, oldest first, on the socket that just joined. */
  flush() {
    for (const entry of this.outbox) this.ws.send(frameOf(entry));
  }
}

/** The op frame of an outbox entry: its cop and op, nothing this browser keeps beside. */
function frameOf(entry) {
  return JSON.stringify({ type: "op", cop: entry.cop, op: entry.op });
}
