// Comparing MACs and digests: a file of its own, apart from hmac.ts, because the PSD's resident
// core computes HMACs on every piece but compares them only in on-demand modules (the build
// puts a whole file where its first user is: firmware/README, resident core).
/** Compares MACs without stopping at the first difference. */
export function sameBytes(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  var diff = 0;
  for (var i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
