// The PSS's TCP protocol: the PSD's frames (protocol/frame.ts) with ASCII JSON payloads,
// one answer per request (type | RESPONSE_FLAG, or ERROR_TYPE with {code, message} where
// code is a protocol/pss-errors.ts string). Shared by server/service.ts and kit/pss-client.ts.
//
// A retransmitted frame (same sequence number and CRC) is answered from the stored answer
// and never executed twice, as on the serial line. Uploads may be pipelined: a client sends
// many frames without waiting; the PSS answers every frame in order and keeps a connection's
// last 256 answers for retransmissions (kit/pss-client.ts uploadMany keeps at most 48 in
// flight). Any other request is run after the answers to the frames before it.
//
// Roles (server/api.ts, kit/tls.ts): plain frames are a device's and need no secret
// (hello, status, upload, sessions without funds, rekey or config); register, certify, funds
// and sessions with funds, rekey or config need an operator's client certificate of the lab
// CA over TLS on the same port, else NOT_AUTHORISED. An auditor's may make the device's.
//
//   type  request          payload -> answer
//   0x40  hello            {} -> {server, version, protocol, caPublicKey}
//   0x41  register         {serial, board, seal?, account?} -> {device, seal, deviceKey, kmsKey, now}
//                          (the same serial gets its existing device and keys back; now: the
//                          data center's time in ms, the PSD's first trusted time)
//   0x42  certify          {device, publicKey} -> {device, certificate}
//   0x43  funds            {device, amount} -> {device, counter, amount, mac}  (paid from the
//                          device's account: NO_ACCOUNT, BALANCE beyond its balance)
//   0x44  upload           {hex, more?} -> {received} while more, then
//                          {device, seq, stored, digest, confirmation}
//   0x45  session-begin    {device, funds?, config?} -> SessionStep
//   0x46  session-next     the PSD's answer body as it came (so it always fits a frame),
//                          or {error: {code, message}} when the PSD refused -> SessionStep
//   0x47  session-end      {} -> {ended}
//   0x48  status           {} -> {devices, blocks, records, rejections, lastBlocks?}
//   0x49  report           {by, from?, to?, customers?, devices?, sort?, offset?} ->
//                          {by, from, to, totals, rows (as many as fit a frame), next?}:
//                          an auditor's or operator's (TLS); ask again with offset = next
//   0x4a  audit            {hex} -> {device, seq, stored, flags, events}: a device audit
//                          (protocol/audit.ts) read from the PSD outside a session (no credential)
//   0x4b  pieces           {hex, more?} -> {received}: the list of the next block's pieces
//                          (server/pieces.ts), in parts; the next upload or session on this
//                          connection takes it (a device with per-piece data needs it)
//   0x4f  export           {period, pssId?} -> {period, publicKey, blocks, records, discount,
//                          customers, files: [{name, bytes}]}; then {period, file, offset} ->
//                          {file, offset, data (base64), next?}: an auditor's or operator's (TLS)
//
// SessionStep = {relay: {type, payload}} (send this to the PSD, return its answer with
// session-next) or {done: true, report} when the PSS has finished.
import { blockHeadBytes, sealBytes, SEAL_ED25519, BLOCK_RATES, BLOCK_CHAIN } from './block.ts';
import { RECORD_BYTES } from './records.ts';
export const PssRequest = {
  HELLO: 0x40,
  REGISTER: 0x41,
  CERTIFY: 0x42,
  FUNDS: 0x43,
  UPLOAD: 0x44,
  SESSION_BEGIN: 0x45,
  SESSION_NEXT: 0x46,
  SESSION_END: 0x47,
  STATUS: 0x48,
  REPORT: 0x49,
  /** a period's signed export for the postal authority, a file page at a time (auditor or operator) */
  EXPORT: 0x4f,
  AUDIT: 0x4a,
  PIECES: 0x4b
} as const;

export const PssRequestName: { [type: number]: string } = {
  0x40: 'hello',
  0x41: 'register',
  0x42: 'certify',
  0x43: 'funds',
  0x44: 'upload',
  0x45: 'session-begin',
  0x46: 'session-next',
  0x47: 'session-end',
  0x48: 'status',
  0x49: 'report',
  0x4f: 'export',
  0x4a: 'audit',
  0x4b: 'pieces'
};

export const DEFAULT_PSS_PORT = 7707;
export const DEFAULT_PSS_HOST = '127.0.0.1';
/** Hex characters of block per upload frame: a frame holds 1,012 payload bytes. */
export const UPLOAD_HEX_PER_FRAME = 960;
/** Most records and customers in a block the PSS takes (a Pico's flash holds ~1,300 records). */
export const MAX_UPLOAD_RECORDS = 8192;
export const MAX_UPLOAD_CUSTOMERS = 1024;
/** Largest list of pieces the PSS takes with a block: 250,000 pieces of up to 62 bytes. */
export const MAX_PIECE_LIST_BYTES = 250_000 * 64;
/** Largest block the PSS takes: its head with the customers, the records and the longer seal. */
export const MAX_UPLOAD_BYTES = blockHeadBytes(MAX_UPLOAD_CUSTOMERS, BLOCK_RATES | BLOCK_CHAIN) + MAX_UPLOAD_RECORDS * RECORD_BYTES + sealBytes(SEAL_ED25519);

export interface UploadAnswer {
  device: number;
  seq: number;
  /** false: the PSS already had this very block (a repeated upload); confirmed again */
  stored: boolean;
  digest: string;
  confirmation: string;
}

export interface AuditAnswer {
  seq: number;
  /** false: the PSS had this very audit already */
  stored: boolean;
  flags: { kind: string; detail: string }[];
  events: number;
}

export interface PsdRequest {
  type: number;
  payload: Record<string, unknown>;
}

export interface SessionReport {
  device: number;
  block: { seq: number; stored: boolean; records: number } | null;
  /** blocks stored and confirmed before `block` in this session: a withdrawal's block sealed
   * before the session, when pieces were franked after it (their block is `block`) */
  earlierBlocks?: { seq: number; stored: boolean; records: number }[];
  confirmed: boolean;
  funds: { counter: number; amount: number; loaded: boolean } | null;
  config: Record<string, unknown> | null;
  /** the rate tables the PSD took in this session (versions) */
  rates?: number[];
  /** the trusted time the PSS set in the PSD, seconds since 1970 */
  clock?: number;
  /** the device withdrawn from service in this session: its registers at withdrawal and what
   * its account was credited (the unused descending register) */
  withdrawn?: { ascending: number; descending: number; pieces: number; account: number | null; credited: number };
  /** the key version the PSD holds after a rekey in this session */
  keyVersion?: number;
  /** the device audit of this contact (protocol/audit.ts), as the PSS stored it: the breaks in
   * continuity it flagged, and the coded events it brought that the PSS did not have; absent
   * when the PSD's image has no AUDIT command (from before it) */
  audit?: AuditAnswer;
  /** what went wrong, when the session could not finish everything */
  error?: { code: string; message: string };
}

export type SessionStep = { relay: PsdRequest; done?: undefined } | { done: true; report: SessionReport };
