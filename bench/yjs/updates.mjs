// Writes the Yjs updates the benchmark's clients send to the y-websocket server, made
// by yjs itself: each sending client has its own Y.Doc whose map "notes" holds its note
// as a Y.Map; its ops move the note (column) and edit it (text) in turn, as the Atelier
// clients do. Every value carries "#op=KEY;" so that a receiver can tell which op an
// update is without decoding it (the raw relay's frames carry the same key).
//
// Usage: node updates.mjs OUT.json KEY_SPAN COLUMNS GIDX:COUNT [GIDX:COUNT ...]
// OUT.json: {"GIDX": {"seed": "base64 frame", "ops": ["base64 frame", ...]}}, each frame a
// whole y-websocket sync message; "seed" creates the note and is sent before the run.
import { writeFileSync } from 'node:fs'
import * as Y from 'yjs'

const [out, span, columns, ...clients] = process.argv.slice(2)
const result = {}
for (const spec of clients) {
  const [gidx, count] = spec.split(':').map(Number)
  const doc = new Y.Doc()
  doc.clientID = gidx + 1 // distinct and stable: every update depends on its own only
  const frames = []
  doc.on('update', (update) => {
    // messageSync (0), messageYjsUpdate (2), then the update as a varint-prefixed array
    const length = []
    let n = update.length
    while (n > 127) { length.push((n & 127) | 128); n = Math.floor(n / 128) }
    length.push(n)
    frames.push(Buffer.concat([Buffer.from([0, 2, ...length]), Buffer.from(update)]).toString('base64'))
  })
  const note = new Y.Map()
  doc.getMap('notes').set(`n${gidx}`, note)
  const seed = frames.pop() // the note's creation: sent when the client connects
  for (let cop = 1; cop <= count; cop++) {
    const key = gidx * Number(span) + cop
    if (cop % 2) {
      note.set('column', `c${(Math.floor(cop / 2) + 1) % Number(columns)} #op=${key};`)
    } else {
      note.set('text', `Constat revu ${cop} #op=${key};`)
    }
  }
  result[gidx] = { seed, ops: frames }
}
writeFileSync(out, JSON.stringify(result))
