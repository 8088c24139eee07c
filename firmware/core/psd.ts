// The PSD application: the command handlers over the ledger, wired to the protocol front.
import { Board } from '../board.ts';
import { BuildInfo, HAS_AES } from '../build-info.ts';
import { Command, INDICIA_PER_FRAME, RECORDS_PER_FRAME, MAX_PIECES_PER_FRANK } from '../../protocol/commands.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { cryptoSelfTest } from './crypto/selftest.ts';
import { toHex, fromHex, isHex, readU16, MAX_U48 } from '../../protocol/bytes.ts';
import { MAX_CATEGORIES, MAX_WEIGHT_G, MAX_U32, weightBand } from '../../protocol/records.ts';
import { startFront, fail } from './device.ts';
import { addSessionHandlers } from './session-handlers.ts';
import { Ledger, FrankCommit, Sealed, MODE_SINGLE, MODE_DYNAMIC, MODE_BATCH } from './ledger.ts';

var FLUSH_CHECK_MS = 60000;
/** head bytes per answer: small enough to travel inside a session message too */
var HEAD_PAGE = 128;

function integer(v: any, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || v !== Math.floor(v) || v < min || v > max) fail(ErrorCode.BAD_ARGUMENT, name + ' must be an integer ' + min + '..' + max);
  return v;
}

function hexBytes(v: any, name: string, bytes: number): string {
  if (!isHex(v, bytes)) fail(ErrorCode.BAD_ARGUMENT, name + ' must be ' + bytes + ' bytes of hex');
  return fromHex(v);
}

/** A true/false setting of the request, or the current one when it is absent. */
function flag(req: any, current: any, name: string): boolean {
  var v = req[name];
  if (v === undefined) return current[name];
  if (v !== true && v !== false) fail(ErrorCode.BAD_ARGUMENT, name + ' must be true or false');
  return v;
}

var MODE_NAMES = ['', 'single', 'dynamic', 'batch'];

export function startPsd(board: Board, build: BuildInfo) {
  var boardFlags = board.resetInfo();
  var ledger = new Ledger(board, build.maxRecords);
  var layout = board.flash.problem ? board.flash.problem() : '';
  // a region the board does not have is never touched: the device answers, locked
  if (layout) ledger.lock = { code: ErrorCode.BOOT_FAILED, detail: layout };
  else ledger.boot();
  // power-on known-answer tests of the crypto this image uses
  var selfTest = cryptoSelfTest(board);
  if (selfTest && !ledger.lock) ledger.lock = { code: ErrorCode.SELF_TEST, detail: selfTest };
  var tamper = board.tamper;
  if (tamper) {
    if (tamper.active()) ledger.tamper();
    tamper.watch(function () {
      ledger.tamper();
    });
  }
  var handlers: { [type: number]: (req: any) => any } = {};
  var front = startFront(board, build, handlers);

  function registers() {
    return { ascending: ledger.ascending, descending: ledger.descending, pieces: ledger.pieces, controlTotal: ledger.ascending + ledger.descending };
  }

  function batchInfo() {
    var b = ledger.batch;
    return b ? { txn: b.txn, customer: b.customer, mode: MODE_NAMES[b.mode], category: b.category, weight: b.weight, postage: b.postage, pieces: b.pieces, startedAt: b.startedAt } : null;
  }

  function frankAnswer(c: FrankCommit, repeated: boolean) {
    var indicia: string[] = [];
    for (var i = 0; i < c.count && i < INDICIA_PER_FRAME; i++) indicia.push(toHex(ledger.indicium(c, i)));
    return { id: c.id, first: c.firstPiece + 1, count: c.count, amount: c.count * c.postage, repeated: repeated, registers: registers(), indicia: indicia };
  }

  handlers[Command.STATUS] = function () {
    var storage = ledger.storage();
    return {
      deviceId: ledger.device ? 'PSD-' + ledger.device : 'unprovisioned-' + board.serialNumber,
      device: ledger.device,
      board: build.board,
      hardware: board.hardware,
      interpreter: board.interpreter,
      firmwareVersion: build.firmwareVersion,
      buildHash: build.buildHash,
      uptime: Math.floor(board.uptime() - front.bootedAt),
      resetCause: (ledger.rebootedByCommand ? ['reboot command'] : ledger.formatted ? ['first boot'] : ['power-on or reset']).concat(boardFlags).join(', '),
      clock: ledger.seconds(),
      registers: registers(),
      fundsCounter: ledger.fundsCounter,
      storage: {
        used: storage.used,
        free: storage.free,
        total: storage.total,
        low: storage.low,
        pageBytes: board.flash.pageBytes,
        pages: board.flash.pageCount,
        records: storage.records,
        summaryRecords: ledger.flash.summaries(),
        ramRecords: storage.ramRecords,
        recordCapacity: storage.capacity
      },
      batch: batchInfo(),
      // the registers at the last confirmed block: what is not yet confirmed is the movement since
      block: {
        lastSealed: ledger.blockSeq,
        awaitingConfirmation: ledger.sealed ? ledger.sealed.seq : 0,
        lastConfirmed: ledger.confirmedSeq,
        confirmedPieces: ledger.releasedPieces,
        confirmedAscending: ledger.releasedAmount
      },
      config: ledger.config,
      lock: ledger.lock,
      memory: board.memory(),
      link: front.counters
    };
  };

  handlers[Command.ECHO] = function (req) {
    if (typeof req.data !== 'string') fail(ErrorCode.BAD_ARGUMENT, 'data must be a string');
    return { data: req.data };
  };

  handlers[Command.REBOOT] = function () {
    ledger.noteReboot();
    // answer first: the reboot happens after the response left
    board.setTimer(function () {
      board.reboot();
    }, 50);
    return { rebooting: true };
  };

  handlers[Command.CLOCK] = function (req) {
    ledger.setClock(integer(req.now, 'now', 1, 8640000000000000));
    ledger.maybeFlush();
    return { clock: ledger.seconds() };
  };

  handlers[Command.PROVISION] = function (req) {
    ledger.provision(integer(req.device, 'device', 1, MAX_U32), hexBytes(req.deviceKey, 'deviceKey', 32), hexBytes(req.kmsKey, 'kmsKey', 32));
    // the public half of the device's signing key, for the KMS to certify
    return { device: ledger.device, seal: ledger.signKey ? 'ed25519' : 'hmac', publicKey: ledger.signKey ? toHex(ledger.signKey.substr(32)) : null };
  };

  handlers[Command.FUNDS] = function (req) {
    ledger.loadFunds(integer(req.counter, 'counter', 1, MAX_U32), integer(req.amount, 'amount', 1, MAX_U48), hexBytes(req.mac, 'mac', 32));
    return { registers: registers(), fundsCounter: ledger.fundsCounter };
  };

  handlers[Command.BATCH_START] = function (req) {
    var mode = req.mode === 'batch' ? MODE_BATCH : req.mode === 'dynamic' ? MODE_DYNAMIC : fail(ErrorCode.BAD_ARGUMENT, "mode must be 'batch' or 'dynamic'");
    var customer = integer(req.customer, 'customer', 1, MAX_U32);
    var fixed = mode === MODE_BATCH;
    var b = ledger.startBatch({
      customer: customer,
      mode: mode,
      category: fixed ? integer(req.category, 'category', 0, MAX_CATEGORIES - 1) : 0,
      weight: fixed ? integer(req.weight, 'weight', 1, MAX_WEIGHT_G) : 0,
      postage: fixed ? integer(req.postage, 'postage', 1, MAX_U32) : 0
    });
    return { batch: batchInfo(), registers: registers(), txn: b.txn };
  };

  handlers[Command.BATCH_END] = function () {
    var r = ledger.endBatch();
    return { txn: r.batch.txn, pieces: r.batch.pieces, flushed: r.flushed, registers: registers() };
  };

  handlers[Command.FRANK] = function (req) {
    var id = integer(req.id, 'id', 1, MAX_U32);
    // a repeated request (the answer was lost, or the device rebooted before it left):
    // the pieces were charged once; answer again, never charge again
    if (ledger.last && ledger.last.id === id) return frankAnswer(ledger.last, true);
    var b = ledger.batch;
    var mode = b ? b.mode : MODE_SINGLE;
    var count = mode === MODE_BATCH ? integer(req.count === undefined ? 1 : req.count, 'count', 1, MAX_PIECES_PER_FRANK) : 1;
    if (mode !== MODE_BATCH && req.count !== undefined && req.count !== 1) fail(ErrorCode.BAD_ARGUMENT, 'count is for batch mode; ' + MODE_NAMES[mode] + ' mode franks one piece per request');
    var customer = b ? b.customer : integer(req.customer, 'customer', 1, MAX_U32);
    var category = mode === MODE_BATCH ? b!.category : integer(req.category, 'category', 0, MAX_CATEGORIES - 1);
    var weight = mode === MODE_BATCH ? b!.weight : integer(req.weight, 'weight', 1, MAX_WEIGHT_G);
    var postage = mode === MODE_BATCH ? b!.postage : integer(req.postage, 'postage', 1, MAX_U32);
    var c = ledger.frank({ id: id, customer: customer, category: category, band: weightBand(weight), mode: mode, weight: weight, postage: postage, count: count });
    return frankAnswer(c, false);
  };

  handlers[Command.INDICIA] = function (req) {
    var c = ledger.last;
    if (!c) fail(ErrorCode.BAD_ARGUMENT, 'nothing franked yet');
    var from = integer(req.from, 'from', c!.firstPiece + 1, c!.firstPiece + c!.count);
    var n = integer(req.count === undefined ? INDICIA_PER_FRAME : req.count, 'count', 1, INDICIA_PER_FRAME);
    var indicia: string[] = [];
    for (var p = from; p < from + n && p <= c!.firstPiece + c!.count; p++) indicia.push(toHex(ledger.indicium(c!, p - c!.firstPiece - 1)));
    return { id: c!.id, from: from, indicia: indicia };
  };

  handlers[Command.STATS_FLUSH] = function () {
    if (ledger.lock) fail(ledger.lock.code, ledger.lock.detail);
    var n = ledger.flush();
    return { flushed: n, records: ledger.flash.count };
  };

  handlers[Command.STATS_LIST] = function (req) {
    if (req.tier !== undefined && req.tier !== 'ram' && req.tier !== 'flash') fail(ErrorCode.BAD_ARGUMENT, "tier must be 'ram' or 'flash'");
    var tier = req.tier === 'ram' ? ledger.ram : ledger.flash;
    var from = integer(req.from === undefined ? 0 : req.from, 'from', 0, MAX_U32);
    var records: string[] = [];
    for (var i = from; i < tier.count && records.length < RECORDS_PER_FRAME; i++) records.push(toHex(tier.encode(i, 1)));
    return { tier: req.tier === 'ram' ? 'ram' : 'flash', total: tier.count, from: from, records: records };
  };

  // a block's head grows with its customers: it is read in pages, like the records
  function sealedInfo(x: Sealed) {
    return { seq: x.seq, headBytes: x.head.length, recordCount: readU16(x.head, 6), digest: toHex(x.digest), seal: toHex(x.seal), state: 'sent' };
  }

  handlers[Command.STATS_EXTRACT] = function () {
    var r = ledger.extract();
    var info: any = sealedInfo(r.sealed);
    info.fresh = r.fresh;
    return info;
  };

  handlers[Command.BLOCK_READ] = function (req) {
    var seq = integer(req.seq, 'seq', 1, MAX_U32);
    var x = ledger.sealed;
    if (!x || x.seq !== seq) fail(ErrorCode.NO_BLOCK, x ? 'block ' + x.seq + ' awaits confirmation' : 'no block awaits confirmation');
    if (req.headFrom !== undefined) {
      var at = integer(req.headFrom, 'headFrom', 0, x!.head.length);
      return { seq: x!.seq, headFrom: at, headBytes: x!.head.length, head: toHex(x!.head.substr(at, HEAD_PAGE)) };
    }
    var n = ledger.flash.frozen;
    var from = integer(req.from === undefined ? 0 : req.from, 'from', 0, n);
    var max = integer(req.count === undefined ? RECORDS_PER_FRAME : req.count, 'count', 1, RECORDS_PER_FRAME);
    var records: string[] = [];
    for (var i = from; i < n && records.length < max; i++) records.push(toHex(ledger.flash.encode(i, 1)));
    return { seq: x!.seq, from: from, total: n, records: records };
  };

  // claim 10: the host's records pass through the PSD only to be sealed
  handlers[Command.HOST_SEAL_BEGIN] = function (req) {
    var customers = req.customers;
    if (!(customers instanceof Array) || customers.length > 200) fail(ErrorCode.BAD_ARGUMENT, 'customers must be a list of at most 200');
    for (var i = 0; i < customers.length; i++) integer(customers[i], 'customer', 1, MAX_U32);
    ledger.beginHostSeal(integer(req.records, 'records', 0, 65535), customers);
    return { seq: ledger.blockSeq + 1 };
  };

  handlers[Command.HOST_SEAL_RECORDS] = function (req) {
    var records = req.records;
    if (!(records instanceof Array) || records.length > RECORDS_PER_FRAME) fail(ErrorCode.BAD_ARGUMENT, 'records must be a list of at most ' + RECORDS_PER_FRAME);
    var bytes: string[] = [];
    for (var i = 0; i < records.length; i++) bytes.push(hexBytes(records[i], 'record', 24));
    ledger.hostSealRecords(integer(req.from, 'from', 0, 65535), bytes);
    return { received: ledger.hostSeal ? ledger.hostSeal.received : 0 };
  };

  handlers[Command.HOST_SEAL_END] = function () {
    return sealedInfo(ledger.endHostSeal());
  };

  handlers[Command.CONFIRM] = function (req) {
    var r = ledger.confirm(integer(req.seq, 'seq', 1, MAX_U32), hexBytes(req.mac, 'mac', 32));
    return { seq: r.seq, repeated: r.repeated, registers: registers(), records: ledger.flash.count };
  };

  handlers[Command.CONFIG] = function (req) {
    var c = ledger.config;
    ledger.configure({
      flushPeriodS: req.flushPeriodS === undefined ? c.flushPeriodS : integer(req.flushPeriodS, 'flushPeriodS', 60, 2592000),
      flushEveryPieces: req.flushEveryPieces === undefined ? c.flushEveryPieces : integer(req.flushEveryPieces, 'flushEveryPieces', 1, 65535),
      lowStoragePct: req.lowStoragePct === undefined ? c.lowStoragePct : integer(req.lowStoragePct, 'lowStoragePct', 1, 90),
      foldWhenFull: flag(req, c, 'foldWhenFull'),
      recordsOnHost: flag(req, c, 'recordsOnHost'),
      lockUntilConfirmed: flag(req, c, 'lockUntilConfirmed')
    });
    return { config: ledger.config };
  };

  // boards without AES-CBC carry no session code: they upload plain sealed blocks
  if (HAS_AES) addSessionHandlers(board, ledger, handlers);
  else
    handlers[Command.SESSION_OPEN] = handlers[Command.SESSION] = function () {
      fail(ErrorCode.NO_SESSION, 'no AES on this board: upload plain sealed blocks');
    };

  // the period flush also happens while nothing is franked
  function tick() {
    try {
      ledger.maybeFlush();
    } catch (e) {}
    board.setTimer(tick, FLUSH_CHECK_MS);
  }
  board.setTimer(tick, FLUSH_CHECK_MS);
  return { front: front, ledger: ledger };
}
