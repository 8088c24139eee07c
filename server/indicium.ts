// Checking an indicium at the data center: its layout (protocol/indicium.ts) and its MAC,
// HMAC-SHA256 under the device's key truncated to 8 bytes, computed with node:crypto (an
// implementation independent of the firmware's protocol/hmac.ts).
import crypto from 'node:crypto';
import { parseIndicium, indiciumVersion, indiciumBytesOf, INDICIUM_BODY_BYTES_OF, INDICIUM_BYTES, INDICIUM_MAC_BYTES, INDICIUM_VERSION, type IndiciumFields } from '../protocol/indicium.ts';

export const DEVICE_KEY_BYTES = 32;

export type IndiciumReject = 'WRONG_LENGTH' | 'UNKNOWN_VERSION' | 'UNKNOWN_DEVICE' | 'BAD_KEY' | 'BAD_MAC';

export interface ParsedIndicium extends IndiciumFields {
  version: number;
  /** hex */
  mac: string;
}

export interface IndiciumCheck {
  ok: boolean;
  /** the fields as printed (null when the bytes are not an indicium at all) */
  fields: ParsedIndicium | null;
  /** why it is not authentic ('' when ok) */
  reason: string;
  code?: IndiciumReject;
}

function reject(code: IndiciumReject, reason: string, fields: ParsedIndicium | null): IndiciumCheck {
  return { ok: false, fields, reason, code };
}

/** The fields of an indicium (layout 1: 40 bytes, 2: 42 bytes), MAC as hex. */
export function indiciumFields(bytes: string): ParsedIndicium {
  const p = parseIndicium(bytes);
  return { ...p, mac: Buffer.from(p.mac, 'latin1').toString('hex') };
}

/** Length and version, what can be judged before any key is involved: null when both are right. */
function layoutProblem(bytes: string): IndiciumCheck | null {
  const sizes = Object.keys(INDICIUM_BODY_BYTES_OF).map((v) => indiciumBytesOf(Number(v)));
  if (!sizes.includes(bytes.length)) return reject('WRONG_LENGTH', `an indicium is ${INDICIUM_BYTES} bytes (${sizes.filter((n) => n !== INDICIUM_BYTES).join(', ')} in older layouts), this is ${bytes.length}`, null);
  const version = indiciumVersion(bytes);
  const expected = indiciumBytesOf(version);
  if (expected < 0) return reject('UNKNOWN_VERSION', `unknown indicium layout version ${version} (this data center reads versions 1 to ${INDICIUM_VERSION})`, null);
  if (bytes.length !== expected) return reject('WRONG_LENGTH', `a layout-${version} indicium is ${expected} bytes, this is ${bytes.length}`, null);
  return null;
}

/**
 * Verifies an indicium under its device's key. Both arguments are byte strings (one char per
 * byte, the protocol's convention): bytes the indicium (40 or 42 bytes), deviceKey the 32-byte key.
 */
export function verifyIndicium(bytes: string, deviceKey: string): IndiciumCheck {
  const problem = layoutProblem(bytes);
  if (problem) return problem;
  const fields = indiciumFields(bytes);
  if (deviceKey.length !== DEVICE_KEY_BYTES) return reject('BAD_KEY', `a device key is ${DEVICE_KEY_BYTES} bytes, got ${deviceKey.length}`, fields);
  const bodyBytes = INDICIUM_BODY_BYTES_OF[fields.version];
  const body = Buffer.from(bytes.slice(0, bodyBytes), 'latin1');
  const expected = crypto.createHmac('sha256', Buffer.from(deviceKey, 'latin1')).update(body).digest().subarray(0, INDICIUM_MAC_BYTES);
  const mac = Buffer.from(bytes.slice(bodyBytes), 'latin1');
  if (!crypto.timingSafeEqual(expected, mac)) return reject('BAD_MAC', `MAC does not match: not issued by PSD-${fields.device} under its key, or altered since`, fields);
  return { ok: true, fields, reason: '' };
}

/** Finds a device's 32-byte key (byte string), or the keys it has held (newest first), or
 * null/undefined when the device is unknown. */
export type DeviceKeyLookup = (device: number) => string | string[] | null | undefined | Promise<string | string[] | null | undefined>;

/** Verifies an indicium under the key of the device it names, as the KMS looks it up
 * (e.g. derived from the master key). */
export async function verifyIndiciumWith(bytes: string, lookup: DeviceKeyLookup): Promise<IndiciumCheck> {
  const problem = layoutProblem(bytes);
  if (problem) return problem;
  const fields = indiciumFields(bytes);
  const key = await lookup(fields.device);
  if (key === null || key === undefined) return reject('UNKNOWN_DEVICE', `PSD-${fields.device} is not a device this data center knows`, fields);
  // a device rekeyed since: its earlier indicia are under an earlier key
  const keys = typeof key === 'string' ? [key] : key;
  let first: IndiciumCheck | null = null;
  for (const k of keys) {
    const check = verifyIndicium(bytes, k);
    if (check.ok) return check;
    first ??= check;
  }
  return first ?? reject('UNKNOWN_DEVICE', `PSD-${fields.device} has no key at this data center`, fields);
}
