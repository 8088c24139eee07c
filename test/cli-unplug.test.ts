// A device unplugged mid-batch: psd stops with a clear message and a non-zero exit, says what
// the device acknowledged and which request is unanswered; after reconnecting, resending that
// request id never charges twice. The line is cut by a TCP relay between psd and the virtual
// board (the board keeps running, as a PSD does when only its cable is pulled).
import { expect } from 'chai';
import net from 'node:net';
import nodeCrypto from 'node:crypto';
import { startTarget, runCli, type Target } from '../testkit/target.ts';

/** A relay that forwards host<->board until `cut()`: then it drops the connection. */
async function relay(target: string) {
  const [host, port] = target.replace('tcp://', '').split(':');
  const sockets: net.Socket[] = [];
  let answers = 0;
  let cutAfter = Infinity;
  const server = net.createServer((client) => {
    const board = net.connect(Number(port), host);
    sockets.push(client, board);
    client.on('data', (d) => board.write(d));
    board.on('data', (d) => {
      // count answers (frames start with A5 5A) and pull the cable after enough of them
      for (let i = 0; i + 1 < d.length; i++) if (d[i] === 0xa5 && d[i + 1] === 0x5a) answers++;
      if (answers > cutAfter) {
        client.destroy();
        board.destroy();
        return;
      }
      client.write(d);
    });
    client.on('error', () => board.destroy());
    board.on('error', () => client.destroy());
    client.on('close', () => board.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cutAfterAnswers(n: number) {
      answers = 0;
      cutAfter = n;
    },
    heal() {
      cutAfter = Infinity;
    },
    close: () => new Promise<void>((r) => server.close(() => r()))
  };
}

describe('psd: a device unplugged mid-batch', function () {
  this.timeout(60000);
  let t: Target;
  before(async function () {
    t = await startTarget({ pty: false, virtual: true });
  });
  after(async () => {
    await t?.close();
  });

  it('exits non-zero with what was acknowledged and the unanswered id; resending it never charges twice', async () => {
    const key = nodeCrypto.randomBytes(32).toString('hex');
    const direct = ['--port', t.tcpUrl!];
    expect((await runCli([...direct, 'provision', '--device', '77', '--device-key', key, '--kms-key', key])).code).to.equal(0);
    expect((await runCli([...direct, 'funds', '--amount', '1000000', '--kms-key', key])).code).to.equal(0);
    expect((await runCli([...direct, 'batch', 'start', '--customer', '5', '--mode', 'batch', '--category', '1', '--weight', '20', '--postage', '85'])).code).to.equal(0);
    const r = await relay(t.tcpUrl!);
    // STATUS, CLOCK, then FRANK answers: the cable goes after the third frank request was sent
    r.cutAfterAnswers(4);
    const cut = await runCli(['--port', r.url, '--timeout', '500', '--retries', '0', 'frank', '--count', '1000', '--chunk', '100']);
    expect(cut.code).to.not.equal(0);
    expect(cut.stderr).to.match(/error 10[14]/);
    const m = /(\d+) pieces? franked and acknowledged before it, request id (\d+) \((\d+) pieces\) unanswered/.exec(cut.stderr);
    expect(m, cut.stderr).to.not.equal(null);
    expect(cut.stderr).to.match(/hint: reconnect, then `psd frank --id \d+ --count 100`/);
    const [acknowledged, id, inFlight] = [Number(m![1]), m![2], Number(m![3])];
    expect(cut.stderr).to.not.match(/at .*\.ts:\d+/); // no stack trace
    const before = JSON.parse((await runCli([...direct, '--json', 'status'])).stdout).registers.pieces;
    expect([acknowledged, acknowledged + inFlight]).to.include(before);
    // reconnected: the same id is answered from the commit (or franked now), never twice
    r.heal();
    const again = await runCli(['--port', r.url, '--json', 'frank', '--id', id, '--count', String(inFlight)]);
    expect(again.code, again.stderr).to.equal(0);
    const after = JSON.parse((await runCli([...direct, '--json', 'status'])).stdout).registers.pieces;
    expect(after).to.equal(acknowledged + inFlight);
    const third = await runCli(['--port', r.url, '--json', 'frank', '--id', id, '--count', String(inFlight)]);
    expect(third.code).to.equal(0);
    expect(JSON.parse((await runCli([...direct, '--json', 'status'])).stdout).registers.pieces).to.equal(after);
    await r.close();
  });
});
