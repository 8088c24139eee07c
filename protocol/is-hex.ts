// Checking hex text from the wire: a file of its own, apart from bytes.ts, because only the
// PSD's on-demand modules check hex arguments while its resident core uses the rest of bytes.ts
// (the build puts a whole file where its first user is).
/**
 * true when `s` is a string of hex digits (0-9 a-f A-F) that is `bytes` bytes long (2 × bytes
 * digits), or, with `bytes` omitted, one or more whole bytes.
 *
 * Lengths are checked in JS and the digits by a regex within the subset Espruino 2v29's engine
 * answers as V8 does (tools/profile/regex.ts): no counted quantifier `{32}` (taken literally
 * there, so every session nonce was refused) and no quantified group `(..)+`. The regex scans
 * natively: a JS loop over a 2 KB hex string costs ~58 ms on the Linux build, the regex 0.4 ms.
 */
export function isHex(s: unknown, bytes?: number): boolean {
  if (typeof s !== 'string') return false;
  if (bytes === undefined ? s.length === 0 || s.length % 2 !== 0 : s.length !== bytes * 2) return false;
  // a literal here, not a module constant: on Espruino a regex kept at the top level of the
  // resident core holds ~8 variables for as long as the board runs; this one lives per call
  return /^[0-9a-fA-F]*$/.test(s);
}
