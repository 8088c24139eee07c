// A worker thread of the PSS's seal pool (server/seal-pool.ts): cuts sealed blocks into their
// parts and checks their digest chain and seal with node:crypto (server/verify.ts checkSeal),
// and computes an HMAC block's confirmation, so that the event loop does neither. Plain JavaScript that registers tsx for this thread (the
// pss CLI registers it for its own thread only).
//
// Requests: {id, raw, key} (byte strings). Answers: {id, check: {algorithm, key, digest,
// sealOk, confirmation?}} or {id, check: null} when the block does not decode (verifyBlock
// says why). The records are not decoded here (the seal covers their bytes).
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { sealedParts, checkSealAndConfirm, nodeCryptoPrimitives } = await import('./verify.ts');

parentPort.on('message', (jobs) => {
  const answers = jobs.map(({ id, raw, key }) => {
    let parts;
    try {
      parts = sealedParts(raw);
    } catch {
      return { id, check: null };
    }
    return { id, check: checkSealAndConfirm(parts, key, nodeCryptoPrimitives) };
  });
  parentPort.postMessage(answers);
});
parentPort.postMessage('ready');
