// Property names the firmware minifier must keep. Every other property name in the image
// (class fields and methods of the core: `pendingChunks`, `needWritable`, ...) is renamed
// to one or two letters, which takes a third off the image: on the Pico the image and the
// statistics share 48 KB of flash.
//
// Kept, conservatively:
// - every identifier of the code outside the image (host bridge, server, tools, tests): the
//   host reads answers by these names, and the virtual board names Espruino's API with them;
// - every property name in the firmware's wire layer (firmware/core/psd.ts, device.ts, the
//   request handlers of firmware/ondemand/admin.ts, seal.ts, session.ts) and
//   its Espruino binding (binding.ts, code-area.ts): requests and answers are JSON, and the binding speaks Espruino's API;
// - every key of an object literal anywhere in the firmware and protocol: objects that are
//   written to the journal as JSON (state, batch, config) must read back under the same
//   names after a firmware update, and objects handed to JSON are built as literals;
// - every name Espruino 2v29 has (kit/builtins-2v29.json) and JavaScript's own
//   (terser's builtin list, kept by default).
// Written by hand because no minifier knows which names cross the wire; the image tests
// (psd-core, powercut, e2e) run on the mangled image and catch a name that slipped through.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function files(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files(p, out);
    else if (/\.(ts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

function identifiers(file, into) {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, fs.readFileSync(file, 'utf8'));
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    if (t === ts.SyntaxKind.Identifier || t >= ts.SyntaxKind.FirstKeyword) into.add(scanner.getTokenText());
    else if (t === ts.SyntaxKind.StringLiteral) into.add(scanner.getTokenValue());
  }
}

function literalKeys(file, into) {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isObjectLiteralExpression(node)) {
      for (const p of node.properties) if (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) into.add(p.name.text);
    }
    // fields of interfaces describe objects that cross JSON (answers, journal state)
    if (ts.isInterfaceDeclaration(node) || ts.isTypeLiteralNode(node)) {
      for (const m of node.members) if (m.name && ts.isIdentifier(m.name)) into.add(m.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

function classMembers(file) {
  const out = new Set();
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isClassDeclaration(node)) {
      for (const m of node.members) if (m.name && ts.isIdentifier(m.name)) out.add(m.name.text);
      const ctor = node.members.find((m) => ts.isConstructorDeclaration(m));
      if (ctor) for (const p of ctor.parameters) if (p.modifiers && ts.isIdentifier(p.name)) out.add(p.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

let cached = null;

export function reservedPropertyNames() {
  if (cached) return cached;
  const names = new Set();
  for (const dir of ['host-bridge', 'server', 'tools', 'test', 'bin']) for (const f of files(path.join(root, dir))) identifiers(f, names);
  for (const f of ['firmware/core/psd.ts', 'firmware/ondemand/admin.ts', 'firmware/ondemand/seal.ts', 'firmware/ondemand/session.ts', 'firmware/core/device.ts', 'firmware/espruino/binding.ts', 'firmware/espruino/code-area.ts', 'firmware/main.ts', 'firmware/build-info.ts', 'firmware/board.ts'])
    if (fs.existsSync(path.join(root, f))) identifiers(path.join(root, f), names);
  // Members of the resident core's classes (Ledger, RecordTable, Journal, ...) are the image's
  // own business: no answer, journal entry or Espruino API reads them by name, and outside the
  // image only the TypeScript core's tests use them. Renamed unless they are also an object
  // literal's key or an interface's field (below) or Espruino's (builtins): a name of more than
  // 7 letters costs Espruino a second variable, for every field of an object that lives as
  // long as the board does (Ledger: needContact, releasedPieces, ..., ~19 variables)
  for (const f of files(path.join(root, 'firmware/core'))) for (const m of classMembers(f)) names.delete(m);
  for (const f of [...files(path.join(root, 'firmware')), ...files(path.join(root, 'protocol'))]) literalKeys(f, names);
  const builtins = JSON.parse(fs.readFileSync(path.join(root, 'kit/builtins-2v29.json'), 'utf8'));
  JSON.stringify(builtins, (key, value) => {
    if (key) names.add(key);
    if (typeof value === 'string') for (const part of value.split('.')) names.add(part);
    return value;
  });
  cached = [...names].sort();
  return cached;
}

/**
 * Names the resident core must not take for its top-level functions and variables. The core
 * runs in the global scope (tools/build.ts: a function made there keeps no scope, one variable
 * less each), so its mangled names are globals: one that matched a name Espruino or the
 * on-demand modules read as a global (`E`, a pin `D1`, `LED`) would hide it. Terser only avoids
 * the globals the core itself reads; these are the rest: the standard globals Espruino 2v29 has
 * or lacks (kit/builtins-2v29.json), Espruino's own (its reference, class "global" and the board
 * objects), and every pin name a board can have.
 */
let globalsCached = null;

export function globalNames() {
  if (globalsCached) return globalsCached;
  const builtins = JSON.parse(fs.readFileSync(path.join(root, 'kit/builtins-2v29.json'), 'utf8'));
  const names = new Set([...builtins.present.globals, ...builtins.missing.globals]);
  const espruino = ('E Modules process global console print require eval load save reset dump edit echo trace getTime setTime ' +
    'getSerial setWatch clearWatch digitalRead digitalWrite digitalPulse analogRead analogWrite pinMode getPinMode peek8 peek16 ' +
    'peek32 poke8 poke16 poke32 shiftOut setBusyIndicator setSleepIndicator setDeepSleep changeInterval arguments exports module ' +
    'HIGH LOW USB Serial LoopbackA LoopbackB Telnet Bluetooth Terminal SPI I2C OneWire Pin Waveform Graphics NRF Puck Pixl Bangle ' +
    'Badge Microbit ESP32 ESP8266 Wifi Storage Flash LED BTN undefined NaN Infinity').split(' ');
  for (const n of espruino) names.add(n);
  for (let i = 0; i <= 8; i++) for (const p of ['LED', 'BTN', 'Serial', 'SPI', 'I2C']) names.add(p + i);
  // pins: D0-D99, A0-A15 ... H0-H15 (STM32 ports), and their two-digit forms
  for (const port of 'ABCDEFGH') for (let i = 0; i < 100; i++) names.add(port + i);
  globalsCached = [...names].sort();
  return globalsCached;
}
