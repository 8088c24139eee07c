// Entry of the crypto probe image. tools/crypto-probe/build.ts builds it with the firmware's
// own Rollup configuration and profile check. It binds the board the way firmware/main.ts
// does, so it runs the same crypto code path as the firmware: protocol/aead.ts,
// protocol/session.ts, protocol/hmac.ts, the crypto self-tests and, on ed25519 boards,
// tweetnacl. Its one global, psdCrypto(op, args), lets the tests and benches run published
// vectors inside the image on the virtual board. Arguments and results are hex.
// Never flashed: it has no PSD in it.
import { buildInfo, HAS_ED25519 } from '../../firmware/build-info.ts';
import { espruinoBoard } from '../../firmware/espruino/binding.ts';
import { fromHex, toHex, u32 } from '../../protocol/bytes.ts';
import { aeadSeal, aeadOpen } from '../../protocol/aead.ts';
import { sealSessionMessage, openSessionMessage, sessionKeys, SessionKeys } from '../../protocol/session.ts';
import { hmac } from '../../protocol/hmac.ts';
import { boardAeadPrims } from '../../firmware/core/crypto/prims.ts';
import { cryptoSelfTest, ed25519SelfTest, x25519SelfTest } from '../../firmware/core/crypto/selftest.ts';
import { ed25519KeyPair, ed25519Sign, x25519, x25519Public, naclUseRandom } from '../../firmware/core/crypto/nacl.ts';

declare var global: any;

var board = espruinoBoard(buildInfo());
var prims = boardAeadPrims(board);
if (HAS_ED25519) naclUseRandom(board.random32);

function keysOf(hex: string, device: string): SessionKeys {
  var k = fromHex(hex);
  return { device: parseInt(device, 10), toDevice: k.substr(0, 32), toServer: k.substr(32, 32) };
}

/** Byte-string operations; 'unavailable' where this board's image has no such crypto. */
var ops: { [name: string]: (a: string[]) => string | null } = {
  sha256: function (a) {
    return board.sha256(a[0]);
  },
  hmac: function (a) {
    return hmac(board.sha256, a[0], a[1]);
  },
  aeadSeal: function (a) {
    return prims ? aeadSeal(prims, a[0], a[1], a[2], a[3]) : 'unavailable';
  },
  aeadOpen: function (a) {
    return prims ? aeadOpen(prims, a[0], a[1], a[2]) : 'unavailable';
  },
  sessionKeys: function (a) {
    var k = sessionKeys(board.sha256, a[0], parseInt(a[1], 10), a[2], a[3], a[4]);
    return k ? k.toDevice + k.toServer : null;
  },
  sessionSeal: function (a) {
    return prims ? sealSessionMessage(prims, keysOf(a[0], a[1]), parseInt(a[2], 10), parseInt(a[3], 10), a[4], a[5]) : 'unavailable';
  },
  sessionOpen: function (a) {
    if (!prims) return 'unavailable';
    var m = openSessionMessage(prims, keysOf(a[0], a[1]), parseInt(a[2], 10), parseInt(a[3], 10), a[4]);
    return m ? u32(m.counter) + m.plaintext : null;
  }
};
if (HAS_ED25519) {
  ops.edPublic = function (a) {
    return ed25519KeyPair(a[0]).publicKey;
  };
  // [64-byte secret key (seed || public key), message]
  ops.edSign = function (a) {
    return ed25519Sign(a[1], a[0]);
  };
  ops.x25519 = function (a) {
    return x25519(a[0], a[1]);
  };
  ops.x25519Public = function (a) {
    return x25519Public(a[0]);
  };
}

/** Arguments that stay text: decimal numbers and hex key material handed on as hex. */
var TEXT_ARGS: { [name: string]: number[] } = { sessionKeys: [1], sessionSeal: [0, 1, 2, 3], sessionOpen: [0, 1, 2, 3] };

/**
 * psdCrypto(op, [hex args]) -> hex result, 'null', or 'unavailable'.
 * psdCrypto('info') -> JSON text {aes, ed25519, selftest}.
 * psdCrypto('bench', [op, n, args...]) runs op n times (the arguments are decoded once).
 * psdCrypto('selftest', ['ed25519' | 'x25519']) -> 'pass' or the failed test's name.
 */
global.psdCrypto = function (op: string, args: string[]): string {
  if (op === 'info') return JSON.stringify({ aes: !!prims, ed25519: HAS_ED25519, selftest: cryptoSelfTest(board) });
  if (op === 'selftest') {
    if (!HAS_ED25519) return 'unavailable';
    return (args[0] === 'ed25519' ? ed25519SelfTest() : x25519SelfTest()) || 'pass';
  }
  var n = 1;
  if (op === 'bench') {
    op = args[0];
    n = parseInt(args[1], 10);
    args = args.slice(2);
  }
  var fn = ops[op];
  if (!fn) return 'unavailable';
  var text = TEXT_ARGS[op] || [];
  var a: string[] = [];
  for (var i = 0; i < args.length; i++) a.push(text.indexOf(i) >= 0 ? args[i] : fromHex(args[i]));
  var r: string | null = null;
  for (var j = 0; j < n; j++) r = fn(a);
  return r === null ? 'null' : r === 'unavailable' ? r : toHex(r);
};
