// Bugs planted on purpose, to show that each fuzz target's checks catch each kind of failure
// (test/fuzz.test.ts runs them). The device's bugs are a prelude put before the real built
// image: it wraps the data port (USB on the Pico) and misbehaves whenever an ECHO frame
// arrives (or, for `state`, after the device answered an ECHO, with its answer or a refusal),
// which the fuzzer sends often and the
// scenario setup and STATUS probes never do.
import { readFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import type { Crc32 } from '../../protocol/frame.ts';
import type { Failure } from './framework.ts';
import { imagePath } from './device-board.ts';

/** What the data handler does with a read that holds an ECHO frame. */
const ON_ECHO: { [kind in Failure]: string } = {
  crash: "throw new Error('planted crash');",
  hang: 'deaf = true; return;',
  unanswered: 'return;',
  state: '' // passes it on; the bug is in the answer (below)
};

/** The ES5 prelude for one kind of bug (the Pico's data port is USB). */
function prelude(kind: Failure): string {
  return `(function () {
  var on = USB.on, write = USB.write, mute = false, deaf = false, echoSeen = false, handler;
  var ECHO = '\\xa5\\x5a\\x01\\x02';
  // a valid CONFIG frame {"flushEveryPieces":7}
  var payload = '{"flushEveryPieces":7}';
  var body = '\\x01\\x16\\x00\\x01\\x00' + String.fromCharCode(payload.length) + payload;
  var c = E.CRC32(body) >>> 0;
  var config = '\\xa5\\x5a' + body + String.fromCharCode((c >>> 24) & 255, (c >>> 16) & 255, (c >>> 8) & 255, c & 255);
  // fed to the device with its answer dropped: a state change no answer explains
  function inject() { mute = true; handler(config); mute = false; }
  USB.write = function (b) {
    if (mute) return;
    if (${kind === 'state'} && echoSeen) { echoSeen = false; setTimeout(inject, 0); }
    return write.apply(USB, arguments);
  };
  USB.on = function (ev, fn) {
    if (ev !== 'data') return on.call(USB, ev, fn);
    handler = fn;
    return on.call(USB, 'data', function (d) {
      if (deaf) return;
      if (d.indexOf(ECHO) >= 0) { echoSeen = true; ${ON_ECHO[kind]} }
      fn(d);
    });
  };
})();
`;
}

/** The built Pico image with a bug of this kind planted in front of it. */
export function plantedImage(kind: Failure, boardId = 'pico'): string {
  return prelude(kind) + readFileSync(imagePath(boardId), 'latin1');
}

/** A CRC that ignores a frame's last payload byte: a decoder using it accepts corrupted frames. */
export const sloppyCrc32: Crc32 = (bytes) => zlibCrc32(Buffer.from(bytes.slice(0, -1), 'latin1')) >>> 0;
