// The PSD's protocol front: frames in, exactly one response out per request.
// A retransmitted request (same sequence number, same CRC) gets the stored response and is
// never executed twice.
import { Board } from '../board.ts';
import { FrameDecoder, Frame, encodeFrame, PROTOCOL_VERSION, RESPONSE_FLAG, ERROR_TYPE, MAX_PAYLOAD_BYTES } from '../../protocol/frame.ts';
import { Command } from '../../protocol/commands.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { asciiJson } from '../../protocol/bytes.ts';
import { jsonError } from '../../protocol/json.ts';

/** A refusal: it becomes an error frame with this code. A plain object, not an Error
 * subclass, because `instanceof` on Error subclasses does not work on Espruino. */
export interface DeviceError {
  code: number;
  /** what only the device knows (amounts, which record); the host adds the code's message
   * from protocol/errors.ts, so the image carries no message table */
  detail: string;
}

export function deviceError(code: number, detail?: string): DeviceError {
  return { code: code, detail: detail || '' };
}

export function fail(code: number, detail?: string): never {
  throw deviceError(code, detail);
}

/** A request's object: strict JSON (protocol/json.ts) before the interpreter's lenient
 * JSON.parse sees it, and an object at the top. Else BAD_PAYLOAD, with the refused byte. */
export function parseRequest(text: string): any {
  var at = jsonError(text);
  var v = at < 0 ? JSON.parse(text) : null;
  if (!v || typeof v !== 'object' || v instanceof Array) fail(ErrorCode.BAD_PAYLOAD, at < 0 ? 'expected an object' : 'byte ' + at);
  return v;
}

/** Answers one request (its type and parsed object): the answer object, or a thrown
 * DeviceError; an unknown type throws UNKNOWN_COMMAND. */
export type Dispatch = (type: number, request: any) => any;

export interface DeviceFront {
  counters: { frames: number; retransmits: number; dropped: number; crcErrors: number };
  bootedAt: number;
}

// A partial frame older than this is dropped (the host retransmits anyway).
var STALE_FRAME_MS = 1000;

// The front's state and functions live at the module's top level, not in closures made by
// startFront: on Espruino a function made inside another keeps both scopes, 3 variables more
// each for as long as the image runs (tools/flatten-classes.ts says why). A device has one front.
var board: Board;
var dispatchRequest: Dispatch;
var knowsType: ((type: number) => boolean) | undefined;
var front: DeviceFront;
var decoder: FrameDecoder;
var lastSeq = -1;
var lastCrc = -1;
var lastResponse = '';
var crcReported = false;
var staleTimer: unknown = null;

function send(type: number, seq: number, body: any) {
  var payload = asciiJson(body);
  // an answer that cannot fit a frame must still be an answer: say so instead
  if (payload.length > MAX_PAYLOAD_BYTES) {
    type = ERROR_TYPE;
    payload = asciiJson(deviceError(ErrorCode.INTERNAL, 'answer of ' + payload.length + ' bytes does not fit a frame'));
  }
  var frame = encodeFrame(type, seq, payload, board.crc32);
  board.serial.write(frame);
  return frame;
}

function execute(f: Frame): { type: number; body: any } {
  if (f.version !== PROTOCOL_VERSION) return { type: ERROR_TYPE, body: deviceError(ErrorCode.VERSION, 'device speaks ' + PROTOCOL_VERSION) };
  if (knowsType && !knowsType(f.type)) return { type: ERROR_TYPE, body: deviceError(ErrorCode.UNKNOWN_COMMAND, '0x' + f.type.toString(16)) };
  try {
    return { type: f.type | RESPONSE_FLAG, body: dispatchRequest(f.type, f.payload.length ? parseRequest(f.payload) : {}) || {} };
  } catch (e) {
    var err: any = e;
    // a refusal keeps its code; anything else thrown is an internal error
    return { type: ERROR_TYPE, body: err && typeof err.code === 'number' ? deviceError(err.code, err.detail) : deviceError(ErrorCode.INTERNAL, err && err.message ? err.message : String(err)) };
  }
}

function onFrame(f: Frame) {
  front.counters.frames++;
  if (f.seq === lastSeq && f.crc === lastCrc) {
    front.counters.retransmits++;
    board.serial.write(lastResponse);
    return;
  }
  var out = execute(f);
  var response = send(out.type, f.seq, out.body);
  lastSeq = f.seq;
  lastCrc = f.crc;
  lastResponse = response;
}

function onDrop(why: string, bytes: number, seq?: number) {
  front.counters.dropped += bytes;
  if (why === 'crc') {
    front.counters.crcErrors++;
    // one report per burst, with the header's seq so the host can retransmit at once
    if (!crcReported) send(ERROR_TYPE, seq || 0, deviceError(ErrorCode.CRC));
    crcReported = true;
  } else if (why === 'oversize' && !crcReported) {
    send(ERROR_TYPE, 0, deviceError(ErrorCode.OVERSIZE));
    crcReported = true;
  }
}

function dropStale() {
  staleTimer = null;
  decoder.reset();
}

function onData(bytes: string) {
  crcReported = false;
  decoder.push(bytes);
  if (staleTimer !== null) board.clearTimer(staleTimer);
  staleTimer = decoder.pending() ? board.setTimer(dropStale, STALE_FRAME_MS) : null;
}

/** Starts answering frames on the board's serial line (once per boot: a device has one
 * front). `knows`: whether a request type is one the device answers; an unknown type is
 * refused (UNKNOWN_COMMAND) before its payload is read. */
export function startFront(b: Board, dispatch: Dispatch, knows?: (type: number) => boolean): DeviceFront {
  board = b;
  dispatchRequest = dispatch;
  knowsType = knows;
  front = {
    counters: { frames: 0, retransmits: 0, dropped: 0, crcErrors: 0 },
    bootedAt: b.uptime()
  };
  decoder = new FrameDecoder(b.crc32, onFrame, onDrop);
  b.serial.onData(onData);
  return front;
}
