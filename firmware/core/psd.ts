// The PSD application: wires the command handlers to the protocol front.
import { Board } from '../board.ts';
import { BuildInfo } from '../build-info.ts';
import { Command } from '../../protocol/commands.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { startFront, fail } from './device.ts';

export function startPsd(board: Board, build: BuildInfo) {
  var resetInfo = board.resetInfo();
  var handlers: { [type: number]: (req: any) => any } = {};
  var front = startFront(board, build, handlers);

  handlers[Command.STATUS] = function () {
    var memory = board.memory();
    var flashBytes = board.flash.pageBytes * board.flash.pageCount;
    return {
      deviceId: 'PSD-' + board.serialNumber,
      board: build.board,
      hardware: board.hardware,
      interpreter: board.interpreter,
      firmwareVersion: build.firmwareVersion,
      buildHash: build.buildHash,
      uptime: Math.floor(board.uptime() - front.bootedAt),
      resetCause: resetInfo.length ? resetInfo.join(',') : 'unknown',
      registers: { ascending: 0, descending: 0, pieces: 0, controlTotal: 0 },
      storage: { used: 0, free: flashBytes, total: flashBytes, pageBytes: board.flash.pageBytes, pages: board.flash.pageCount },
      memory: memory,
      link: front.counters
    };
  };

  handlers[Command.ECHO] = function (req) {
    if (typeof req.data !== 'string') fail(ErrorCode.BAD_ARGUMENT, 'data must be a string');
    return { data: req.data };
  };

  handlers[Command.REBOOT] = function () {
    // answer first: the reboot happens after the response left
    board.setTimer(function () {
      board.reboot();
    }, 50);
    return { rebooting: true };
  };
  return front;
}
