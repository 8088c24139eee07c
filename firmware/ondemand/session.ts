// On-demand module psd.session (firmware/core/modules.ts): the PSD side of the secure session
// with the PSS (protocol/session.ts). The host relays opaque messages; inside them the PSS
// sends ordinary PSD commands (extract, block read, confirm, funds, config) and gets their
// answers, authenticated and encrypted both ways. The session's keys and counters live in the
// resident PSD (psd.session), so they outlive this module between messages.
import { Command } from '../../protocol/commands.ts';
import { Entry } from '../core/entries.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { toHex, fromHex, asciiJson } from '../../protocol/bytes.ts';
import { isHex } from '../../protocol/is-hex.ts';
import { sessionKeys, sealSessionMessage, openSessionMessage, TO_DEVICE, TO_SERVER, SESSION_NONCE_BYTES } from '../../protocol/session.ts';
import { boardAeadPrims } from '../core/crypto/prims.ts';
import { fail, parseRequest } from '../core/device.ts';
import { Ledger, Need } from '../core/ledger.ts';
import { randomBytes } from './random.ts';
import { type Psd, registers, dispatch } from '../core/psd.ts';
import { contact } from './contact.ts';
import { loadRates } from './rates.ts';
import { event } from './events.ts';
import { AuditEvent } from '../../protocol/audit.ts';
import { rateVersion } from '../../protocol/rates.ts';
import { rateTableProblem } from '../../protocol/rate-check.ts';
import { withModule, STORE } from '../core/modules.ts';
import type { Received, SessionOnlyRequest, SessionRequests } from '../../protocol/bodies.ts';

/** Commands the PSS may send inside a session: statistics, funds and parameters; never
 * provisioning, a reboot or another session. (STATUS is too big for a session message; the
 * block, confirmation and funds answers carry the registers.) */
var INNER = [Command.STATS_EXTRACT, Command.BLOCK_READ, Command.CONFIRM, Command.FUNDS, Command.CONFIG, Command.CLOCK, Command.AUDIT];

/** Answers SESSION_OPEN and SESSION (psd.ts routes them here). */
export function handle(psd: Psd, type: number, req: Received<SessionRequests>): any {
  var board = psd.board;
  var ledger = psd.ledger;
  var prims = boardAeadPrims(board);
  if (!prims) fail(ErrorCode.NO_SESSION, 'this board has no AES; upload plain sealed blocks');
  if (type === Command.SESSION_OPEN) {
    if (!ledger.device) fail(ErrorCode.NOT_PROVISIONED);
    if (!isHex(req.nonce, 16)) fail(ErrorCode.BAD_ARGUMENT, 'nonce must be 16 bytes of hex');
    var nonce = randomBytes(board, SESSION_NONCE_BYTES);
    // a new session replaces the old one: its keys are gone
    psd.session = { keys: sessionKeys(board.sha256, ledger.deviceKey, ledger.device, fromHex(req.nonce), nonce, '')!, received: 0, sent: 0 };
    return { device: ledger.device, nonce: toHex(nonce), keyVersion: ledger.keyVersion };
  }
  if (type !== Command.SESSION) fail(ErrorCode.UNKNOWN_COMMAND, '0x' + type.toString(16));
  var s = psd.session;
  if (!s) fail(ErrorCode.NO_SESSION, 'open one first');
  if (!isHex(req.m)) fail(ErrorCode.BAD_ARGUMENT, 'm must be hex');
  var opened = openSessionMessage(prims!, s.keys, TO_DEVICE, s.received + 1, fromHex(req.m));
  if (!opened) fail(ErrorCode.AUTH, 'session message does not authenticate (forged, replayed or out of order)');
  s.received = opened!.counter;
  var answer: any;
  // the first message that authenticates is a contact with the data center
  if (!s.contacted) {
    contact(ledger, 0);
    s.contacted = true;
  }
  try {
    var inner = parseRequest(opened!.plaintext);
    var p: Received<SessionOnlyRequest> = inner.payload === undefined ? {} : inner.payload;
    if (!p || typeof p !== 'object' || p instanceof Array) fail(ErrorCode.BAD_PAYLOAD, 'payload must be an object');
    if (inner.type === Command.RATES) {
      var table = isHex(p.table) ? fromHex(p.table) : '';
      var problem = table ? rateTableProblem(table) : 'table must be hex';
      if (problem) fail(ErrorCode.BAD_ARGUMENT, 'rate table: ' + problem);
      loadRates(ledger, table);
      answer = { ok: { version: rateVersion(table) } };
    } else if (inner.type === Command.WITHDRAW) {
      // only the data center takes a device out of service
      withModule(board, STORE, function (m) {
        m.withdraw(ledger);
      });
      answer = { ok: { withdrawn: true, registers: registers() } };
    } else if (inner.type === Command.REKEY) {
      // new keys only ever arrive encrypted and authenticated by the PSS
      if (!isHex(p.deviceKey, 32) || !isHex(p.kmsKey, 32) || typeof p.version !== 'number') fail(ErrorCode.BAD_ARGUMENT, 'rekey needs version, deviceKey and kmsKey');
      rekey(ledger, p.version, fromHex(p.deviceKey), fromHex(p.kmsKey));
      answer = { ok: { keyVersion: ledger.keyVersion } };
    } else {
      if (!inner || INNER.indexOf(inner.type) < 0) fail(ErrorCode.UNKNOWN_COMMAND, 'not allowed in a session');
      psd.trusted = true;
      answer = { ok: dispatch(inner.type, p) || {} };
    }
  } catch (e) {
    var err: any = e;
    answer = { error: err && typeof err.code === 'number' ? { code: err.code, detail: err.detail } : { code: ErrorCode.INTERNAL, detail: String(err && err.message) } };
  }
  psd.trusted = false;
  s.sent++;
  return { m: toHex(sealSessionMessage(prims!, s.keys, TO_SERVER, s.sent, randomBytes(board, 16), asciiJson(answer))) };
}

/** The KMS replaces the device and KMS keys (inside a secure session only: the caller
 * checks). Never while a block awaits confirmation, so each block is sealed and confirmed
 * under one key. */
function rekey(L: Ledger, version: number, deviceKey: string, kmsKey: string): void {
  L.need(Need.PROVISIONED);
  if (L.sealed) fail(ErrorCode.PENDING_CONFIRMATION, 'confirm block ' + L.sealed.seq + ' before new keys');
  if (version !== L.keyVersion + 1) fail(ErrorCode.REPLAY, 'key version ' + version + ', expected ' + (L.keyVersion + 1));
  var data = JSON.stringify({ v: version, dk: toHex(deviceKey), kk: toHex(kmsKey) });
  L.needRoom([data.length]);
  L.commit(Entry.REKEY, data);
  event(L, AuditEvent.REKEY, version);
}
