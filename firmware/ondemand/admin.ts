// On-demand module psd.admin (firmware/core/modules.ts): the commands a host sends now and
// then rather than per piece: status, clock, provisioning, funds resets, configuration, the
// statistics listing and flush, reboot.
import { Command, RECORDS_PER_FRAME } from '../../protocol/commands.ts';
import { Entry } from '../core/entries.ts';
import { freeBytes, totalBytes } from './pages.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { toHex, u32, u48, readU32, MAX_U48, asciiJson } from '../../protocol/bytes.ts';
import { BlockHead } from '../../protocol/block.ts';
import { MAX_PAYLOAD_BYTES } from '../../protocol/frame.ts';
import { MAX_U32, MIXED_BAND } from '../../protocol/records.ts';
import { RecordTable, WORDS } from '../core/table.ts';
import { encodeRecords } from './table-records.ts';
import { fundsMessage } from '../../protocol/auth.ts';
import { hmac } from '../../protocol/hmac.ts';
import { sameBytes } from '../../protocol/same-bytes.ts';
import { fail } from '../core/device.ts';
import { integer } from '../core/args.ts';
import { hexBytes } from './hexarg.ts';
import { Ledger, Config, FRANK_BYTES, Need } from '../core/ledger.ts';
import { randomBytes } from './random.ts';
import { batchInfo } from './batches.ts';
import { type Psd, registers } from '../core/psd.ts';
import { contact } from './contact.ts';
import { event } from './events.ts';
import { AuditEvent, CLOCK_EVENT_S } from '../../protocol/audit.ts';
import { rateVersion, rateEffective, tableInForce } from '../../protocol/rates.ts';
import type { AdminRequest, ConfigRequest, Received } from '../../protocol/bodies.ts';

/** log entries per answer */
var LOG_PAGE = 6;

/** A true/false setting of the request, or the current one when it is absent. */
function flag(req: Received<ConfigRequest>, current: Config, name: 'lockUntilConfirmed' | 'foldWhenFull' | 'recordsOnHost' | 'perPiece'): boolean {
  var v = req[name];
  if (v === undefined) return current[name];
  if (v !== true && v !== false) fail(ErrorCode.BAD_ARGUMENT, name + ' must be true or false');
  return v;
}

/** A setting only the data center may change (inside a session), or the current one. */
function trustedSetting(psd: Psd, req: Received<ConfigRequest>, current: Config, name: 'contactWarnS' | 'contactLockS' | 'clockBackS' | 'clockForwardS', min: number, max: number): number {
  if (req[name] === undefined) return current[name];
  if (!psd.trusted) fail(ErrorCode.AUTH, name + ' is set by the data center, inside a session');
  return integer(req[name], name, min, max);
}

function memoryNow(board: Psd['board'], psd: Psd) {
  var m = board.memory();
  if (!m) return null;
  if (m.used > psd.memoryPeak) psd.memoryPeak = m.used;
  return { used: m.used, total: m.total, peak: psd.memoryPeak };
}

/** Answers one request of the commands above (psd.ts routes them here). */
export function handle(psd: Psd, type: number, req: Received<AdminRequest>): any {
  var ledger = psd.ledger;
  var board = psd.board;
  switch (type) {
    case Command.STATUS:
      return fitted(status(psd));
    case Command.REBOOT:
      noteReboot(ledger);
      // answer first: the reboot happens after the response left
      board.setTimer(function () {
        board.reboot();
      }, 50);
      return { rebooting: true };
    case Command.CLOCK:
      setClock(psd, ledger, integer(req.now, 'now', 1, 8640000000000000));
      ledger.maybeFlush();
      return { clock: ledger.seconds() };
    case Command.PROVISION:
      // now (ms): the KMS's time, given with the keys: the first trusted time (lab: none)
      var at = req.now === undefined ? 0 : integer(req.now, 'now', 1, 8640000000000000);
      provision(ledger, integer(req.device, 'device', 1, MAX_U32), hexBytes(req.deviceKey, 'deviceKey', 32), hexBytes(req.kmsKey, 'kmsKey', 32));
      if (at) {
        ledger.clockOffsetMs = at - board.uptime() * 1000;
        contact(ledger, Math.floor(at / 1000));
      }
      // the public half of the device's signing key, for the KMS to certify
      return { device: ledger.device, seal: ledger.signKey ? 'ed25519' : 'hmac', publicKey: ledger.signKey ? toHex(ledger.signKey.substr(32)) : null };
    case Command.FUNDS:
      loadFunds(ledger, integer(req.counter, 'counter', 1, MAX_U32), integer(req.amount, 'amount', 1, MAX_U48), hexBytes(req.mac, 'mac', 32));
      return { registers: registers(), fundsCounter: ledger.fundsCounter };
    case Command.STATS_FLUSH:
      if (ledger.lock) fail(ledger.lock.code, ledger.lock.detail);
      var n = ledger.flush();
      return { flushed: n, records: ledger.flash.count };
    case Command.STATS_LIST:
      if (req.tier !== undefined && req.tier !== 'ram' && req.tier !== 'flash') fail(ErrorCode.BAD_ARGUMENT, "tier must be 'ram' or 'flash'");
      var tier = req.tier === 'ram' ? ledger.ram : ledger.flash;
      var from = integer(req.from === undefined ? 0 : req.from, 'from', 0, MAX_U32);
      var records: string[] = [];
      for (var i = from; i < tier.count && records.length < RECORDS_PER_FRAME; i++) records.push(toHex(encodeRecords(tier, i, 1)));
      return { tier: req.tier === 'ram' ? 'ram' : 'flash', total: tier.count, from: from, records: records };
    case Command.LOG:
      // the entries from `from` on, a few at a time (an answer fits a frame)
      var after = integer(req.from === undefined ? 0 : req.from, 'from', 0, MAX_U32);
      var list: any[] = [];
      var all = psd.logEntries;
      for (var e = 0; e < all.length && list.length < LOG_PAGE; e++) {
        var entry = JSON.parse(all[e]);
        if (entry[0] >= after) list.push({ seq: entry[0], uptime: entry[1], clock: entry[2], code: entry[3], detail: entry[4] });
      }
      var last = all.length ? JSON.parse(all[all.length - 1])[0] : 0;
      return { entries: list, next: list.length ? list[list.length - 1].seq + 1 : Math.max(after, last + 1), last: last };
    case Command.CONFIG:
      var c = ledger.config;
      configure(ledger, {
        flushPeriodS: req.flushPeriodS === undefined ? c.flushPeriodS : integer(req.flushPeriodS, 'flushPeriodS', 60, 2592000),
        flushEveryPieces: req.flushEveryPieces === undefined ? c.flushEveryPieces : integer(req.flushEveryPieces, 'flushEveryPieces', 1, 65535),
        lowStoragePct: req.lowStoragePct === undefined ? c.lowStoragePct : integer(req.lowStoragePct, 'lowStoragePct', 1, 90),
        foldWhenFull: flag(req, c, 'foldWhenFull'),
        recordsOnHost: flag(req, c, 'recordsOnHost'),
        lockUntilConfirmed: flag(req, c, 'lockUntilConfirmed'),
        perPiece: flag(req, c, 'perPiece'),
        // the contact and clock rules are the data center's: only inside a session
        contactWarnS: trustedSetting(psd, req, c, 'contactWarnS', 3600, 31536000),
        contactLockS: trustedSetting(psd, req, c, 'contactLockS', 3600, 31536000),
        clockBackS: trustedSetting(psd, req, c, 'clockBackS', 0, 2592000),
        clockForwardS: trustedSetting(psd, req, c, 'clockForwardS', 0, 2592000)
      });
      return { config: ledger.config };
  }
  fail(ErrorCode.UNKNOWN_COMMAND, '0x' + type.toString(16));
}

/** The STATUS answer in full (see fitted). */
function status(psd: Psd): any {
  var ledger = psd.ledger;
  var board = psd.board;
  var build = psd.build();
  var st = storage(ledger);
  return {
    deviceId: ledger.device ? 'PSD-' + ledger.device : 'unprovisioned-' + board.serialNumber,
    device: ledger.device,
    board: build.board,
    hardware: board.hardware,
    interpreter: board.interpreter,
    firmwareVersion: build.firmwareVersion,
    buildHash: build.buildHash,
    uptime: Math.floor(board.uptime() - psd.front.bootedAt),
    resetCause: psd.resetCause,
    clock: ledger.seconds(),
    registers: registers(),
    // zero-value pieces (in the piece counter too) and test imprints (counted here only)
    imprints: ledger.zeroPieces || ledger.testPieces ? { zeroValue: ledger.zeroPieces, test: ledger.testPieces } : undefined,
    fundsCounter: ledger.fundsCounter,
    storage: {
      used: st.used,
      free: st.free,
      total: st.total,
      low: st.low,
      records: st.records,
      summaryRecords: summaries(ledger.flash),
      ramRecords: st.ramRecords,
      recordCapacity: st.capacity
    },
    batch: batchInfo(ledger),
    // the registers at the last confirmed block: what is not yet confirmed is the movement since
    block: {
      lastSealed: ledger.blockSeq,
      awaitingConfirmation: ledger.sealed ? ledger.sealed.seq : 0,
      lastConfirmed: ledger.confirmedSeq,
      confirmedPieces: ledger.releasedPieces,
      confirmedAscending: ledger.releasedAmount
    },
    // the host's settings; the data center's contact and clock rules: CONFIG {} reads them
    config: hostConfig(ledger.config),
    // (a lock's detail may be an exception's message: cut to what a frame affords)
    lock: ledger.lock ? { code: ledger.lock.code, detail: String(ledger.lock.detail).substr(0, 80) } : null,
    contact: contactStatus(ledger),
    // the rate tables held (version, effective from) and the one in force (0: none)
    rates: ledger.rates.length ? rateStatus(ledger) : undefined,
    // in use now (this module loaded, the answer being built), in all, and the peak so far
    memory: memoryNow(board, psd),
    link: psd.front.counters
  };
}

/** Sections STATUS leaves out, in this order, when the whole would not fit a frame (with
 * every number at its largest it would not): the link counters, memory, the settings (CONFIG
 * {} reads them), the rate tables, the imprint counts and the board's descriptions.
 * `omitted` names what was left out. */
var OPTIONAL = ['link', 'memory', 'rates', 'imprints', 'resetCause', 'hardware', 'interpreter', 'config'];

function fitted(a: any): any {
  for (var i = 0; i < OPTIONAL.length && asciiJson(a).length > MAX_PAYLOAD_BYTES; i++) {
    delete a[OPTIONAL[i]];
    a.omitted = OPTIONAL.slice(0, i + 1);
  }
  return a;
}

function provision(L: Ledger, device: number, deviceKey: string, kmsKey: string): void {
  L.need(0);
  if (L.device) fail(ErrorCode.BAD_ARGUMENT, 'already provisioned');
  // a board that signs makes its own key pair: the secret never leaves it, the KMS
  // certifies the public key
  var ed = L.board.ed25519;
  var sk = ed ? ed.keyPairFromSeed(randomBytes(L.board, 32)).secretKey : '';
  var data = JSON.stringify({ device: device, deviceKey: deviceKey, kmsKey: kmsKey, sk: toHex(sk), el: L.elapsed(), ck: L.seconds() });
  L.needRoom([data.length]);
  L.commit(Entry.PROVISION, data);
}

function loadFunds(L: Ledger, counter: number, amount: number, mac: string): void {
  L.need(Need.PROVISIONED);
  var expected = hmac(L.board.sha256, L.kmsKey, fundsMessage(L.device, counter, amount));
  if (!sameBytes(expected, mac)) fail(ErrorCode.AUTH, 'funds reset not from the KMS');
  if (counter !== L.fundsCounter + 1) fail(ErrorCode.REPLAY, 'funds counter ' + counter + ', expected ' + (L.fundsCounter + 1));
  if (L.descending + amount > MAX_U48 || L.fundsTotal + amount > MAX_U48) fail(ErrorCode.OVERFLOW);
  L.needRoom([10]);
  L.commit(Entry.FUNDS, u32(counter) + u48(amount));
  event(L, AuditEvent.FUNDS, counter);
  contact(L, 0);
}

function configure(L: Ledger, c: Config): void {
  // nothing changes (a read, or the same settings again): no flash written, answered even locked
  var changed = false;
  for (var k in c) if ((c as any)[k] !== (L.config as any)[k]) changed = true;
  if (!changed) return;
  L.need(0);
  // every piece so far must be in a confirmed block, wherever its records were kept
  if (c.recordsOnHost !== L.config.recordsOnHost && (L.flash.count || L.ram.count || L.sealed || L.pieces !== L.releasedPieces))
    fail(ErrorCode.BAD_ARGUMENT, 'recordsOnHost changes only when every piece is in a confirmed block');
  // a block's chain covers all its pieces or there is none: the option switches between blocks
  if (c.perPiece !== L.config.perPiece && L.pieces !== (L.sealed ? readU32(L.sealed.head, BlockHead.PIECES) : L.releasedPieces))
    fail(ErrorCode.BAD_ARGUMENT, 'perPiece changes only before the first piece after a seal: extract the statistics first');
  if (c.contactWarnS > c.contactLockS) fail(ErrorCode.BAD_ARGUMENT, 'contactWarnS must not exceed contactLockS');
  var data = JSON.stringify(c);
  L.needRoom([data.length]);
  L.commit(Entry.CONFIG, data);
}

/** The host's clock is held to a window around the device's own time (the last trusted time
 * plus the time the device has run since), and never before the last journal entry (no
 * backdating); the data center's time, inside a session, is trusted and sets both. */
function setClock(psd: Psd, L: Ledger, nowMs: number): void {
  var now = Math.floor(nowMs / 1000);
  if (!psd.trusted) {
    if (now < L.lastTime - 300) fail(ErrorCode.CLOCK_REFUSED, now + ' is before the last journal entry ' + L.lastTime + ' (no backdating)');
    if (L.trustedTime) {
      var own = L.trustedTime + L.elapsed() - L.trustedElapsed;
      if (now < own - L.config.clockBackS || now > own + L.config.clockForwardS)
        fail(ErrorCode.CLOCK_REFUSED, now + ' is outside ' + (own - L.config.clockBackS) + '..' + (own + L.config.clockForwardS) + ' (the device time ' + own + '); a session with the data center sets it');
    }
  }
  // a move beyond drift is an event: the device's clock, else its own time since the last trusted time
  var before = L.seconds() || (L.trustedTime ? L.trustedTime + L.elapsed() - L.trustedElapsed : 0);
  L.clockOffsetMs = nowMs - L.board.uptime() * 1000;
  if (before && (now - before > CLOCK_EVENT_S || before - now > CLOCK_EVENT_S)) event(L, psd.trusted ? AuditEvent.TRUSTED_TIME : AuditEvent.CLOCK, now - before);
  if (psd.trusted) contact(L, now);
}

function rateStatus(L: Ledger): any {
  var held: number[][] = [];
  for (var i = 0; i < L.rates.length; i++) held.push([rateVersion(L.rates[i]), rateEffective(L.rates[i])]);
  var t = tableInForce(L.rates, L.seconds());
  return { inForce: t ? rateVersion(t) : 0, held: held };
}

/** The contact watchdog as STATUS shows it. */
function contactStatus(L: Ledger): any {
  var age = L.contactAge();
  var c = L.config;
  return { state: !L.device ? 'unprovisioned' : age > c.contactLockS ? 'locked' : age > c.contactWarnS ? 'warning' : 'ok', ageS: age, trustedTime: L.trustedTime || undefined };
}

function hostConfig(c: Config): any {
  return { flushPeriodS: c.flushPeriodS, flushEveryPieces: c.flushEveryPieces, lowStoragePct: c.lowStoragePct, lockUntilConfirmed: c.lockUntilConfirmed, foldWhenFull: c.foldWhenFull, recordsOnHost: c.recordsOnHost };
}

/** Notes a deliberate reboot, so the next boot can tell why it happened. */
function noteReboot(L: Ledger): void {
  if (!L.lock && L.room([0])) L.journal.append(Entry.REBOOT, '');
}

/** How many records of a table are summary records (folded). */
function summaries(t: RecordTable): number {
  var n = 0;
  for (var at = 1; at < t.count * WORDS; at += WORDS) if ((t.words[at] & 0xff) === MIXED_BAND) n++;
  return n;
}

function storage(L: Ledger): { used: number; free: number; total: number; low: boolean; records: number; ramRecords: number; capacity: number } {
  var total = totalBytes(L.journal);
  var free = freeBytes(L.journal);
  var records = L.flash.count;
  var low = (100 * free) / total < L.config.lowStoragePct || L.flash.count + L.ram.count >= L.flash.capacity * 0.9 || !L.journal.fits(L.reserve().concat([FRANK_BYTES * 8]));
  return { used: total - free, free: free, total: total, low: low, records: records, ramRecords: L.ram.count, capacity: L.flash.capacity };
}
