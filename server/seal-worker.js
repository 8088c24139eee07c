// A worker thread of the PSS's seal pool (server/seal-pool.ts): decodes sealed blocks and
// checks their digest chain and seal with node:crypto (server/verify.ts checkSeal), so that
// the event loop only stores them. Plain JavaScript that registers tsx for this thread (the
// pss CLI registers it for its own thread only).
//
// Requests: {id, raw, key} (byte strings). Answers: {id, check: {algorithm, key, digest,
// sealOk}} or {id, check: null} when the block does not decode (verifyBlock says why).
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { decodeBlock } = await import('../protocol/block.ts');
const { checkSeal, nodeCryptoPrimitives } = await import('./verify.ts');

parentPort.on('message', (jobs) => {
  const answers = jobs.map(({ id, raw, key }) => {
    let block;
    try {
      block = decodeBlock(raw);
    } catch {
      return { id, check: null };
    }
    return { id, check: checkSeal(block, key, nodeCryptoPrimitives) };
  });
  parentPort.postMessage(answers);
});
parentPort.postMessage('ready');
