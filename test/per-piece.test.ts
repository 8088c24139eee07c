// Per-piece data (issue 12 item 7: the direction of US IMI and Royal Mail Mailmark) and the
// rate-table versions in the statistics, end to end on the built image: the virtual board and
// the linux image on the real interpreter, the real `psd` CLI, a data center over TCP. With
// `psd config --per-piece on` the PSD chains every indicium into its next sealed block, `psd
// frank` keeps each in the host store, and `psd upload` sends the list with the block; the PSS
// recomputes the chain and checks the list against the records. A dropped piece is refused
// (PSS code PIECES, psd error 128) and named; so are an added, a reordered and an altered one.
// The chain survives a power cycle between frankings (the FRANK journal record carries it).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { addRateTable } from '../server/rates.ts';
import { decodePieceList, pieceListProblem, encodePieceList } from '../server/pieces.ts';
import { sha256 } from '../server/hashes.ts';
import { decodeBlock, BLOCK_CHAIN, BLOCK_RATES, type Block } from '../protocol/block.ts';
import { pieceChainStart, pieceChainStep } from '../protocol/piece-chain.ts';
import { parseIndicium } from '../protocol/indicium.ts';
import { ANY_BAND } from '../protocol/rates.ts';
import { weightBand } from '../protocol/records.ts';
import { fromHex } from '../protocol/bytes.ts';
import { PieceLog } from '../host-bridge/pieces.ts';
import { BlockStore } from '../host-bridge/store.ts';
import { startTarget, runCli, targetKinds, targetTitle, sayRealSkipped, type Target } from '../testkit/target.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { credentialFile } from '../testkit/pss-operator.ts';

sayRealSkipped();
for (const kind of targetKinds()) {
  describe(`per-piece data and rate-table versions in the block: ${targetTitle(kind)}, psd CLI, PSS over TCP`, function () {
    this.timeout(kind === 'real' ? 300000 : 120000);
    let t: Target;
    let dir: string;
    let dc: DataCenter;
    let service: Service;
    let pss: string;
    let env: NodeJS.ProcessEnv;
    let device = 0;

    const cli = (args: string[]) => runCli(['--port', t.port, '--timeout', '8000', ...args, '--json'], { env, timeoutMs: 120000 });
    const psd = async (args: string[]) => {
      const r = await cli(args);
      expect(r.code, `psd ${args.join(' ')}\n${r.stdout}\n${r.stderr}${t.rb ? '\ninterpreter console: ' + t.rb.consoleTail(400) : ''}`).to.equal(0);
      return JSON.parse(r.stdout);
    };
    const store = () => new BlockStore(path.join(dir, 'store'));
    const log = () => new PieceLog(path.join(dir, 'store'), device);
    async function powerCycle() {
      if (t.rb) await t.rb.powerCycle();
      else t.vb!.powerCycle();
    }
    /** The chain over the host's kept pieces of a block, as the PSD computes it. */
    function chainOf(b: Block): string {
      let c = pieceChainStart(sha256, b.header.device, b.header.seq);
      for (const p of log().since(b.header.previousPieces, b.header.pieces)) c = pieceChainStep(sha256, c, p.band, fromHex(p.indicium));
      return c;
    }
    async function pendingBlock(): Promise<Block> {
      const [p] = await store().pending();
      expect(p, 'a block in the host store').to.not.equal(undefined);
      return p.block;
    }

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-per-piece-'));
      dc = await openDataCenter(path.join(dir, 'pss'));
      service = await startService(dc, { port: 0, idleMs: 30000 });
      pss = `127.0.0.1:${service.port}`;
      env = { PSD_STORE: path.join(dir, 'store'), PSS_ADDRESS: pss, PSS_CREDENTIALS: credentialFile(dc, dir) };
      t = await startTarget(kind === 'real' ? { kind: 'real' } : { kind: 'virtual', virtual: true, board: 'pico' });
      const p = await psd(['provision', '--kms', pss]);
      device = p.device;
      payingAccount(dc, device);
      await psd(['funds', '--kms', pss, '--amount', '500000']);
    });
    after(async () => {
      await t?.close();
      await service?.close();
      dc?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('switches on with psd config (CONFIG carries it, STATUS does not grow); the first session brings a rate table and seals an empty chain', async () => {
      const c = await psd(['config', '--per-piece', 'on']);
      expect(c.config.perPiece).to.equal(true);
      expect((await psd(['status'])).config).to.not.have.property('perPiece');
      const now = Math.floor(Date.now() / 1000);
      addRateTable(dc.store, { version: 3, effective: now - 86400, entries: [{ category: 5, band: ANY_BAND, postage: 110 }] });
      const r = await psd(['upload', '--session', '--pss', pss]);
      expect(r.confirmed).to.equal(true);
      expect(r.rates).to.deep.equal([3]);
      // block 1 held no piece: its chain is the start value, over 0 pieces, accepted without a list entry
      const stored = dc.store.get<{ raw: Buffer }>('SELECT raw FROM blocks WHERE device = ? AND seq = 1', [device])!;
      const b1 = decodeBlock(Buffer.from(stored.raw).toString('latin1'));
      expect([b1.header.chainPieces, b1.header.chain]).to.deep.equal([0, pieceChainStart(sha256, device, 1)]);
      expect(b1.header.rateNewest).to.equal(undefined);
    });

    it('chains every piece (single, dynamic, batch in chunks, zero-value; not a test imprint) across a power cycle; the block carries the chain and the rate versions', async () => {
      await psd(['frank', '--customer', '1001', '--category', '7', '--weight', '1200', '--postage', '490']);
      await psd(['frank', '--customer', '1001', '--category', '5', '--weight', '20']); // priced by rate table 3
      await psd(['frank', '--customer', '1001', '--category', '7', '--weight', '20', '--zero-value']);
      await psd(['frank', '--customer', '1001', '--category', '7', '--weight', '20', '--test-imprint']);
      await psd(['batch', 'start', '--customer', '1002', '--mode', 'dynamic']);
      await psd(['frank', '--category', '1', '--weight', '45', '--postage', '155']);
      await psd(['frank', '--category', '2', '--weight', '480', '--postage', '270']);
      await psd(['batch', 'end']);
      // a power cut between frankings: the chain so far is in the FRANK records of the journal
      await powerCycle();
      await psd(['batch', 'start', '--customer', '1003', '--mode', 'batch', '--category', '3', '--weight', '95', '--postage', '160']);
      await psd(['frank', '--count', '25', '--chunk', '12']);
      await psd(['batch', 'end']);
      const s = await psd(['status']);
      expect(s.lock).to.equal(null);
      expect(s.registers.pieces).to.equal(30);
      // the host kept each piece once, numbered 1..30 (the test imprint is no piece)
      expect(log().read().map((p) => p.piece)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(log().read()[1].band).to.equal(weightBand(20));
      await psd(['stats', 'extract']);
      const b = await pendingBlock();
      expect(b.header.seq).to.equal(2);
      expect(b.header.chainPieces).to.equal(30);
      expect(b.header.chain).to.equal(chainOf(b));
      expect([b.header.rateOldest, b.header.rateNewest]).to.deep.equal([3, 3]);
      expect(b.head.charCodeAt(5)).to.equal(BLOCK_RATES | BLOCK_CHAIN);
    });

    it('refuses a list with a dropped piece (error 128, PIECES, the piece named), takes the whole list, and drops the confirmed pieces from the host store', async () => {
      const file = log().file;
      const whole = fs.readFileSync(file, 'utf8');
      const lines = whole.trim().split('\n');
      fs.writeFileSync(file, lines.filter((_, i) => i !== 16).join('\n') + '\n');
      const dropped = parseIndicium(fromHex(lines[16].split(' ')[1])).piece;
      const r = await cli(['upload', '--pss', pss]);
      expect(r.code).to.equal(3);
      const out = JSON.parse(r.stdout);
      expect(out[0].outcome).to.equal('refused');
      expect(out[0].error).to.include({ code: 128, pssCode: 'PIECES' });
      expect(out[0].error.message).to.contain(`piece ${dropped} is missing from the list`).and.contain('dropped');
      expect(dc.store.get<{ n: number }>("SELECT COUNT(*) AS n FROM rejections WHERE code = 'PIECES'")!.n).to.equal(1);
      expect((await psd(['status'])).block.awaitingConfirmation).to.equal(2);
      // the host's own list, whole: stored, confirmed, and the pieces leave the host store
      fs.writeFileSync(file, whole);
      const ok = await psd(['upload', '--pss', pss]);
      expect(ok[0]).to.include({ outcome: 'stored', confirmed: true });
      expect(log().read()).to.deep.equal([]);
      const s = await psd(['status']);
      expect(s.block.lastConfirmed).to.equal(2);
      expect(s.block.confirmedPieces).to.equal(30);
    });

    it('the PSS names an added, a repeated, a reordered and an altered piece, and a missing list', async () => {
      await psd(['frank', '--customer', '1004', '--category', '1', '--weight', '20', '--postage', '85']);
      await psd(['frank', '--customer', '1004', '--category', '1', '--weight', '20', '--postage', '85']);
      await psd(['frank', '--customer', '1004', '--category', '2', '--weight', '20', '--postage', '95']);
      await psd(['stats', 'extract']);
      const b = await pendingBlock();
      const key = dc.kms.deviceKey(device);
      const pieces = log()
        .since(b.header.previousPieces, b.header.pieces)
        .map((p) => ({ band: p.band, indicium: fromHex(p.indicium) }));
      expect(pieces).to.have.length(3);
      const problem = (list: typeof pieces) => pieceListProblem(b, decodePieceList(encodePieceList(list)), sha256, key);
      expect(problem(pieces)).to.equal('');
      expect(problem([pieces[0], pieces[1], pieces[2], pieces[2]])).to.match(/4 pieces, the block 3: 1 added or repeated/);
      expect(problem([pieces[1], pieces[0], pieces[2]])).to.match(/altered or reordered/);
      const altered = pieces[2].indicium.substr(0, 27) + String.fromCharCode(1) + pieces[2].indicium.substr(28);
      expect(problem([pieces[0], pieces[1], { band: pieces[2].band, indicium: altered }])).to.match(/altered or reordered/);
      expect(problem([pieces[0], pieces[1], { band: pieces[2].band + 1, indicium: pieces[2].indicium }])).to.match(/altered or reordered/);
      // without the list the PSS refuses the block, saying what it needs
      const refused = await dc.pss.uploadGrouped((await store().pending())[0].bytes).catch((e) => e);
      expect(refused.code).to.equal('PIECES');
      expect(refused.message).to.contain('needs the list of its 3 pieces');
    });

    it('a secure session takes the list from the host and confirms; switching the option off waits for a seal', async () => {
      await psd(['frank', '--customer', '1004', '--category', '1', '--weight', '20', '--postage', '85']);
      const off = await cli(['config', '--per-piece', 'off']);
      expect(off.code).to.equal(1);
      expect(JSON.parse(off.stdout).error.message).to.contain('perPiece changes only before the first piece after a seal');
      // block 3 (sealed above) and then block 4 (the piece since), each with its list
      const r = await psd(['upload', '--session', '--pss', pss]);
      expect(r.confirmed).to.equal(true);
      expect(r.block.seq).to.equal(3);
      const again = await psd(['upload', '--session', '--pss', pss]);
      expect(again.block.seq).to.equal(4);
      const s = await psd(['status']);
      expect(s.block.confirmedPieces).to.equal(34);
      expect(log().read()).to.deep.equal([]);
      expect((await psd(['config', '--per-piece', 'off'])).config.perPiece).to.equal(false);
      await psd(['frank', '--customer', '1004', '--category', '1', '--weight', '20', '--postage', '85']);
      expect(log().read()).to.deep.equal([]);
      await psd(['stats', 'extract']);
      expect((await pendingBlock()).header.chain).to.equal(undefined);
    });
  });
}
