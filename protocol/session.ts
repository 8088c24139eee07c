// The secure session between a PSD and the PSS. The host relays it and sees only opaque bytes.
// It is ES5-safe, and it takes and returns byte strings.
//
// Message flow (the host passes every message on unchanged):
//   1. PSS -> PSD   SESSION_OPEN {nonce: 16 random bytes (hex)[, x25519: the PSS's ephemeral public key (hex)]}
//   2. PSD -> PSS   {device, nonce: 16 fresh random bytes (hex)[, x25519: the PSD's ephemeral public key]}
//                   The PSD sends x25519 only when the PSS offered one and the board can afford
//                   X25519 (ed25519 boards). Then both sides compute shared = X25519(own secret, peer public).
//                   Otherwise shared is ''.
//   3. Both sides:  keys = sessionKeys(sha256, deviceKey, device, nonceServer, nonceDevice, shared).
//                   The PSS looks deviceKey up in the KMS. The host never holds it.
//   4. PSS -> PSD   sealSessionMessage(.., TO_DEVICE, counter, iv, asciiJson({type, payload}))
//                   The payload is an ordinary PSD command.
//      PSD -> PSS   sealSessionMessage(.., TO_SERVER, counter, iv, the answer's JSON)
//      Each side counts its own messages from 1. A receiver accepts a counter only if it is
//      greater than the last one it accepted, so a replayed or reordered message is refused.
// Both sides contribute a fresh nonce, so each session has its own keys.
// If the host changes a nonce or a public key, the keys no longer match and the first message fails.
// Each direction has its own key and its own direction byte in the AAD, so a message
// reflected back to its sender does not open.
import { hmac } from './hmac.ts';
import { u32, readU32 } from './bytes.ts';
import { aeadSeal, aeadOpen, AeadPrims, AEAD_KEY_BYTES } from './aead.ts';

export var TO_DEVICE = 1;
export var TO_SERVER = 2;
export var SESSION_NONCE_BYTES = 16;

export interface SessionKeys {
  device: number;
  /** AEAD key (32 bytes) of messages to the PSD */
  toDevice: string;
  /** AEAD key (32 bytes) of messages to the PSS */
  toServer: string;
}

function direction(keys: SessionKeys, dir: number): string | null {
  return dir === TO_DEVICE ? keys.toDevice : dir === TO_SERVER ? keys.toServer : null;
}

/**
 * Each key = HMAC-SHA256(deviceKey, "PSD-SESSION" || dir || u32 device || nonceServer || nonceDevice || shared).
 * Returns null when an input has the wrong length (deviceKey 32, nonces 16, shared '' or 32 bytes).
 */
export function sessionKeys(
  sha256: (bytes: string) => string,
  deviceKey: string,
  device: number,
  nonceServer: string,
  nonceDevice: string,
  shared: string
): SessionKeys | null {
  if (deviceKey.length !== 32 || nonceServer.length !== SESSION_NONCE_BYTES || nonceDevice.length !== SESSION_NONCE_BYTES) return null;
  if (shared.length !== 0 && shared.length !== 32) return null;
  var tail = u32(device) + nonceServer + nonceDevice + shared;
  return {
    device: device >>> 0,
    toDevice: hmac(sha256, deviceKey, 'PSD-SESSION' + String.fromCharCode(TO_DEVICE) + tail),
    toServer: hmac(sha256, deviceKey, 'PSD-SESSION' + String.fromCharCode(TO_SERVER) + tail)
  };
}

function aad(device: number, dir: number, counter: number): string {
  return 'PSD-SESSION-MSG' + u32(device) + String.fromCharCode(dir) + u32(counter);
}

/** u32 counter || IV || C || T. The counter travels in clear so the receiver can refuse a replay. */
export function sealSessionMessage(prims: AeadPrims, keys: SessionKeys, dir: number, counter: number, iv: string, plaintext: string): string {
  var key = direction(keys, dir);
  if (!key || key.length !== AEAD_KEY_BYTES) throw new Error('session: unknown direction ' + dir);
  if (counter !== counter >>> 0 || counter < 1) throw new Error('session: counter must be 1..2^32-1');
  return u32(counter) + aeadSeal(prims, key, iv, aad(keys.device, dir, counter), plaintext);
}

/**
 * Opens a message sent in direction `dir`. It accepts the counter only if it is at least `minCounter`.
 * Pass the last accepted counter + 1, or 1 at the start of a session.
 * Returns null on any failure: wrong key or direction, tampering, or a replayed or stale counter.
 */
export function openSessionMessage(
  prims: AeadPrims,
  keys: SessionKeys,
  dir: number,
  minCounter: number,
  sealed: string
): { counter: number; plaintext: string } | null {
  var key = direction(keys, dir);
  if (!key || sealed.length < 4) return null;
  var counter = readU32(sealed, 0);
  if (counter < minCounter || counter < 1) return null;
  var p = aeadOpen(prims, key, aad(keys.device, dir, counter), sealed.substr(4));
  return p === null ? null : { counter: counter, plaintext: p };
}

/** One side's session state: its keys, which direction it receives, and both counters. */
export interface SessionEnd {
  keys: SessionKeys;
  /** TO_DEVICE on the PSD, TO_SERVER on the PSS */
  inbound: number;
  /** last counter sent */
  sent: number;
  /** last counter accepted */
  received: number;
}

export function sessionEnd(keys: SessionKeys, isDevice: boolean): SessionEnd {
  return { keys: keys, inbound: isDevice ? TO_DEVICE : TO_SERVER, sent: 0, received: 0 };
}

/** Seals the next outbound message (IV: 16 fresh random bytes). */
export function sessionSend(prims: AeadPrims, end: SessionEnd, iv: string, plaintext: string): string {
  end.sent++;
  return sealSessionMessage(prims, end.keys, end.inbound === TO_DEVICE ? TO_SERVER : TO_DEVICE, end.sent, iv, plaintext);
}

/** Opens an inbound message and moves the replay window. Returns null (and changes nothing) if it does not open. */
export function sessionReceive(prims: AeadPrims, end: SessionEnd, sealed: string): string | null {
  var m = openSessionMessage(prims, end.keys, end.inbound, end.received + 1, sealed);
  if (!m) return null;
  end.received = m.counter;
  return m.plaintext;
}
