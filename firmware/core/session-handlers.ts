// The PSD side of the secure session with the PSS (protocol/session.ts): the host relays
// opaque messages; inside them the PSS sends ordinary PSD commands (extract, block read,
// confirm, funds, config) and gets their answers, authenticated and encrypted both ways.
import { Board } from '../board.ts';
import { Command } from '../../protocol/commands.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { toHex, fromHex, asciiJson, isHex } from '../../protocol/bytes.ts';
import { sessionKeys, sealSessionMessage, openSessionMessage, SessionKeys, TO_DEVICE, TO_SERVER, SESSION_NONCE_BYTES } from '../../protocol/session.ts';
import { boardAeadPrims } from './crypto/prims.ts';
import { fail, parseRequest } from './device.ts';
import { Ledger, randomBytes } from './ledger.ts';

/** Commands the PSS may send inside a session: statistics, funds and parameters; never
 * provisioning, a reboot or another session. (STATUS is too big for a session message; the
 * block, confirmation and funds answers carry the registers.) */
var INNER = [Command.STATS_EXTRACT, Command.BLOCK_READ, Command.CONFIRM, Command.FUNDS, Command.CONFIG, Command.CLOCK];


export function addSessionHandlers(board: Board, ledger: Ledger, handlers: { [type: number]: (req: any) => any }) {
  var prims = boardAeadPrims(board);
  var session: { keys: SessionKeys; received: number; sent: number } | null = null;

  handlers[Command.SESSION_OPEN] = function (req) {
    if (!prims) fail(ErrorCode.NO_SESSION, 'this board has no AES; upload plain sealed blocks');
    if (!ledger.device) fail(ErrorCode.NOT_PROVISIONED);
    if (!isHex(req.nonce, 16)) fail(ErrorCode.BAD_ARGUMENT, 'nonce must be 16 bytes of hex');
    var nonce = randomBytes(board, SESSION_NONCE_BYTES);
    // a new session replaces the old one: its keys are gone
    session = { keys: sessionKeys(board.sha256, ledger.deviceKey, ledger.device, fromHex(req.nonce), nonce, '')!, received: 0, sent: 0 };
    return { device: ledger.device, nonce: toHex(nonce), keyVersion: ledger.keyVersion };
  };

  handlers[Command.SESSION] = function (req) {
    if (!session) fail(ErrorCode.NO_SESSION, 'open one first');
    if (!isHex(req.m)) fail(ErrorCode.BAD_ARGUMENT, 'm must be hex');
    var s = session!;
    var opened = openSessionMessage(prims!, s.keys, TO_DEVICE, s.received + 1, fromHex(req.m));
    if (!opened) fail(ErrorCode.AUTH, 'session message does not authenticate (forged, replayed or out of order)');
    s.received = opened!.counter;
    var answer: any;
    try {
      var inner = parseRequest(opened!.plaintext);
      var p = inner.payload === undefined ? {} : inner.payload;
      if (!p || typeof p !== 'object' || p instanceof Array) fail(ErrorCode.BAD_PAYLOAD, 'payload must be an object');
      if (inner.type === Command.REKEY) {
        // new keys only ever arrive encrypted and authenticated by the PSS
        if (!isHex(p.deviceKey, 32) || !isHex(p.kmsKey, 32) || typeof p.version !== 'number')
          fail(ErrorCode.BAD_ARGUMENT, 'rekey needs version, deviceKey and kmsKey');
        ledger.rekey(p.version, fromHex(p.deviceKey), fromHex(p.kmsKey));
        answer = { ok: { keyVersion: ledger.keyVersion } };
      } else {
        if (!inner || INNER.indexOf(inner.type) < 0) fail(ErrorCode.UNKNOWN_COMMAND, 'not allowed in a session');
        answer = { ok: handlers[inner.type](p) || {} };
      }
    } catch (e) {
      var err: any = e;
      answer = { error: err && typeof err.code === 'number' ? { code: err.code, detail: err.detail } : { code: ErrorCode.INTERNAL, detail: String(err && err.message) } };
    }
    s.sent++;
    return { m: toHex(sealSessionMessage(prims!, s.keys, TO_SERVER, s.sent, randomBytes(board, 16), asciiJson(answer))) };
  };
}
