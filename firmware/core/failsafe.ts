// When the PSD itself cannot start (an exception at boot), the device still answers on its
// data port: STATUS says it is locked and why, every other command is refused with the same
// code. Nothing is read from or written to flash here.
import { Board } from '../board.ts';
import { BuildInfo } from '../build-info.ts';
import { Command } from '../../protocol/commands.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { startFront, fail } from './device.ts';

export function startFailsafe(board: Board, build: BuildInfo, error: any) {
  var lock = { code: ErrorCode.BOOT_FAILED, detail: 'boot: ' + ((error && error.message) || String(error)) };
  startFront(board, function (type: number) {
    if (type === Command.STATUS) return { board: build.board, hardware: board.hardware, interpreter: board.interpreter, firmwareVersion: build.firmwareVersion, buildHash: build.buildHash, lock: lock, memory: board.memory() };
    // every other request, known or not, gets the reason the PSD is not running
    fail(lock.code, lock.detail);
  });
}
