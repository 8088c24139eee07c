// The PSD application: the protocol front dispatching to the ledger. Franking and indicia are
// answered here (resident); the rest, opening and closing batches included, is answered by
// on-demand modules (firmware/ondemand/, loaded from Storage for the request and dropped
// after): see firmware/core/modules.ts.
import { Board } from '../board.ts';
import { BuildInfo, HAS_AES } from '../build-info.ts';
import { Command, INDICIA_PER_FRAME, MAX_PIECES_PER_FRANK } from '../../protocol/commands.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { toHex } from '../../protocol/bytes.ts';
import { MAX_CATEGORIES, MAX_WEIGHT_G, MAX_U32, weightBand } from '../../protocol/records.ts';
import { startFront, fail, DeviceFront } from './device.ts';
import { integer } from './args.ts';
import { withModule, BOOT, ADMIN, SEAL, SESSION, AUDIT, BATCH, StoreOp } from './modules.ts';
import { Ledger, FrankCommit, MODE_SINGLE, MODE_BATCH, Need } from './ledger.ts';
import { LogEvent, LOG_ENTRIES, LOG_DETAIL_CHARS } from '../../protocol/log.ts';
import { tableInForce, listedPostage, rateVersion } from '../../protocol/rates.ts';
import type { AnyRequest, Received } from '../../protocol/bodies.ts';

var FLUSH_CHECK_MS = 60000;

/** The running PSD, as the on-demand modules see it. */
export interface Psd {
  board: Board;
  /** the build's facts (firmware/build-info.ts buildInfo: a new object per call) */
  build: () => BuildInfo;
  ledger: Ledger;
  front: DeviceFront;
  /** what the board said about the last reset */
  boardFlags: string[];
  /** the secure session's keys and counters (firmware/ondemand/session.ts), or null */
  session: any;
  /** true while a request from inside the secure session is answered: the data center's own */
  trusted: boolean;
  /** the most interpreter variables in use seen since boot, sampled at the end of every
   * sealing, block-read and session request and of STATUS (the answer built, the module
   * still loaded): 0 where the board cannot tell */
  memoryPeak: number;
  /** why the device started, as STATUS and the log say it */
  resetCause: string;
  /** the device log (protocol/log.ts), oldest first: each entry the JSON text of [seq,
   * uptime s, clock s, code, detail] (text: an array of five costs some 13 interpreter
   * variables, its text about 7; 16 entries are kept) */
  logEntries: string[];
  /** the audit being read (sealed, protocol/audit.ts), page by page: set by
   * firmware/ondemand/audit.ts, absent before the first and once read to the end */
  audit?: string;
}

/** The on-demand module that answers a command, or '' when it is resident or unknown. */
function moduleFor(type: number): string {
  if (type === Command.STATUS || type === Command.LOG || type === Command.REBOOT || type === Command.CLOCK || type === Command.PROVISION || type === Command.FUNDS || type === Command.CONFIG || type === Command.STATS_FLUSH || type === Command.STATS_LIST) return ADMIN;
  if (type >= Command.STATS_EXTRACT && type <= Command.HOST_SEAL_END) return SEAL;
  if (type === Command.AUDIT) return AUDIT;
  if (type === Command.BATCH_START || type === Command.BATCH_END) return BATCH;
  if (type === Command.SESSION_OPEN || type === Command.SESSION) return SESSION;
  return '';
}

// The PSD's own functions live at the module's top level over these variables (set once by
// startPsd: a device runs one PSD), not in closures made by startPsd: on Espruino a function
// made inside another keeps both scopes, 3 variables more each for as long as the image runs
// (tools/flatten-classes.ts says why).
var psd: Psd;
var ledger: Ledger;
var board: Board;
/** the rate table version that priced the piece being franked (0: declared by the host) */
var priced = 0;

/** Notes an event in the device log (the ledger's note, for its own events). */
function log(code: number, detail: string) {
  var entries = psd.logEntries;
  entries.push(JSON.stringify([(entries.length ? JSON.parse(entries[entries.length - 1])[0] : 0) + 1, Math.floor(board.uptime()), ledger.seconds(), code, String(detail).substr(0, LOG_DETAIL_CHARS)]));
  if (entries.length > LOG_ENTRIES) entries.shift();
}

/** The registers as answers show them (on-demand modules import it: a field of the PSD object
 * for each of these functions cost a variable or two more) */
export function registers(): { ascending: number; descending: number; pieces: number; controlTotal: number } {
  return { ascending: ledger.ascending, descending: ledger.descending, pieces: ledger.pieces, controlTotal: ledger.ascending + ledger.descending };
}

function onTamper() {
  if (!ledger.tampered) ledger.store(StoreOp.TAMPER);
}

/** The postage of a piece (category, weight band, declared postage or undefined): the rate
 * table in force decides it for the categories it lists (a declared postage must agree, else
 * it is refused), the host declares it for the others. */
export function tariff(category: number, band: number, declared: any): number {
  var table = tableInForce(ledger.rates, ledger.seconds());
  var listed = table ? listedPostage(table, category, band) : -1;
  // the version that priced it (0: declared by the host), for the block's statistics
  priced = listed < 0 ? 0 : rateVersion(table);
  if (listed < 0) {
    if (declared === undefined) fail(ErrorCode.BAD_ARGUMENT, 'postage needed: category ' + category + ' is not in a rate table in force');
    return integer(declared, 'postage', 1, MAX_U32);
  }
  if (declared !== undefined && declared !== listed) fail(ErrorCode.RATE_MISMATCH, 'category ' + category + ' band ' + band + ' costs ' + listed + ' under rate table ' + rateVersion(table) + ', not ' + declared);
  return listed;
}

function frankAnswer(c: FrankCommit, repeated: boolean) {
  var indicia: string[] = [];
  for (var i = 0; i < c.count && i < INDICIA_PER_FRAME; i++) indicia.push(toHex(ledger.indicium(c, i)));
  var a: any = { id: c.id, first: c.firstPiece + 1, count: c.count, amount: c.test ? 0 : c.count * c.postage, repeated: repeated, registers: registers(), indicia: indicia };
  if (c.test) a.test = true;
  // past the warning threshold every answer says how long franking has left
  var age = ledger.contactAge();
  if (age > ledger.config.contactWarnS) a.contactLockInS = ledger.config.contactLockS - age;
  return a;
}

/** Answers one request (the front calls it, and the secure session for its inner commands):
 * franking and indicia here, the rest by the on-demand module moduleFor names. */
export function dispatch(type: number, req: Received<AnyRequest>): any {
  switch (type) {
    case Command.FRANK:
      var id = integer(req.id, 'id', 1, MAX_U32);
      // a repeated request (the answer was lost, or the device rebooted before it left):
      // the pieces were charged once; answer again, never charge again
      if (ledger.last && ledger.last.id === id) return frankAnswer(ledger.last, true);
      var b = ledger.batch;
      var mode = b ? b.mode : MODE_SINGLE;
      var count = mode === MODE_BATCH ? integer(req.count === undefined ? 1 : req.count, 'count', 1, MAX_PIECES_PER_FRANK) : 1;
      if (mode !== MODE_BATCH && req.count !== undefined && req.count !== 1) fail(ErrorCode.BAD_ARGUMENT, 'count is for batch mode; ' + (mode === MODE_SINGLE ? 'single' : 'dynamic') + ' mode franks one piece per request');
      var customer = b ? b.customer : integer(req.customer, 'customer', 1, MAX_U32);
      var category = mode === MODE_BATCH ? b!.category : integer(req.category, 'category', 0, MAX_CATEGORIES - 1);
      var weight = mode === MODE_BATCH ? b!.weight : integer(req.weight, 'weight', 1, MAX_WEIGHT_G);
      // a zero-value piece (postage 0, counted apart) or a test imprint (no postage, no record)
      var kind = req.kind;
      if (kind !== undefined && kind !== 'zero' && kind !== 'test') fail(ErrorCode.BAD_ARGUMENT, "kind must be 'zero' or 'test'");
      if (kind !== undefined && mode === MODE_BATCH) fail(ErrorCode.BAD_ARGUMENT, 'zero-value and test imprints are not franked in batch mode');
      // the device's state answers before the piece's price, in frank()'s order: a locked
      // PSD (withdrawn, tampered) franks no more whatever the postage, and which rate table
      // is in force depends on the clock
      ledger.need(Need.PROVISIONED | Need.CLOCK | Need.CONTACT);
      priced = 0;
      var band = weightBand(weight);
      var postage = kind ? integer(req.postage === undefined ? 0 : req.postage, 'postage', 0, 0) : tariff(category, band, mode === MODE_BATCH ? b!.postage : req.postage);
      return frankAnswer(ledger.frank({ id: id, customer: customer, category: category, band: band, mode: mode, weight: weight, postage: postage, count: count, test: kind === 'test', rate: priced }), false);
    case Command.INDICIA:
      var c = ledger.last;
      if (!c) fail(ErrorCode.BAD_ARGUMENT, 'nothing franked yet');
      var from = integer(req.from, 'from', c!.firstPiece + 1, c!.firstPiece + c!.count);
      var n = integer(req.count === undefined ? INDICIA_PER_FRAME : req.count, 'count', 1, INDICIA_PER_FRAME);
      var indicia: string[] = [];
      for (var p = from; p < from + n && p <= c!.firstPiece + c!.count; p++) indicia.push(toHex(ledger.indicium(c!, p - c!.firstPiece - 1)));
      return { id: c!.id, from: from, indicia: indicia };
    case Command.ECHO:
      if (typeof req.data !== 'string') fail(ErrorCode.BAD_ARGUMENT, 'data must be a string');
      return { data: req.data };
  }
  var name = moduleFor(type);
  if (!name) fail(ErrorCode.UNKNOWN_COMMAND, '0x' + type.toString(16));
  // boards without AES-CBC carry no session code: they upload plain sealed blocks
  if (name === SESSION && !HAS_AES) fail(ErrorCode.NO_SESSION, 'no AES on this board: upload plain sealed blocks');
  return withModule(board, name, function (m) {
    var answer = m.handle(psd, type, req);
    // the heavy requests (sealing, reading a block, the session), not the admin ones: a
    // reading costs a garbage collection on a board and a heap walk on the virtual board
    var mem = name === ADMIN || name === BATCH ? null : board.memory();
    if (mem && mem.used > psd.memoryPeak) psd.memoryPeak = mem.used;
    return answer;
  });
}

// a refusal is noted in the device log before it goes out
function answer(type: number, req: Received<AnyRequest>): any {
  try {
    return dispatch(type, req);
  } catch (e) {
    var err: any = e;
    log(LogEvent.REFUSED, '0x' + type.toString(16) + ' ' + (err && typeof err.code === 'number' ? err.code + ' ' + err.detail : String(err && err.message)));
    throw e;
  }
}

function knows(type: number) {
  return type === Command.FRANK || type === Command.INDICIA || type === Command.ECHO || !!moduleFor(type);
}

// the period flush also happens while nothing is franked
function tick() {
  try {
    ledger.maybeFlush();
    ledger.keepTime();
  } catch (e) {}
  board.setTimer(tick, FLUSH_CHECK_MS);
}

export function startPsd(b: Board, build: () => BuildInfo): Psd {
  board = b;
  ledger = new Ledger(b, build().maxRecords);
  psd = {
    board: b,
    build: build,
    ledger: ledger,
    front: null as any,
    boardFlags: b.resetFlags,
    session: null,
    trusted: false,
    memoryPeak: 0,
    resetCause: '',
    logEntries: []
  };
  ledger.note = log;
  var layout = b.flash.problem || '';
  withModule(b, BOOT, function (m) {
    // a region the board does not have is never touched: the device answers, locked
    if (layout) ledger.lock = { code: ErrorCode.BOOT_FAILED, detail: layout };
    else m.boot(ledger);
    // power-on known-answer tests of the crypto this image uses
    var selfTest = m.cryptoSelfTest(b);
    if (selfTest && !ledger.lock) ledger.lock = { code: ErrorCode.SELF_TEST, detail: selfTest };
    m.noteSelfTest(ledger, selfTest);
    psd.resetCause = (ledger.rebootedByCommand ? ['reboot command'] : ledger.formatted ? ['first boot'] : ['power-on or reset']).concat(psd.boardFlags).join(', ');
    log(LogEvent.BOOT, psd.resetCause);
    log(LogEvent.SELF_TEST, selfTest ? selfTest + ' failed' : 'passed');
    if (ledger.lock) log(LogEvent.LOCKED, ledger.lock.code + ' ' + ledger.lock.detail);
  });
  var tamper = b.tamper;
  if (tamper) {
    if (tamper.active()) onTamper();
    tamper.watch(onTamper);
  }
  psd.front = startFront(b, answer, knows);
  b.setTimer(tick, FLUSH_CHECK_MS);
  return psd;
}
