// Entry of every firmware image: bind the board, start the PSD. If the PSD cannot start, the
// device still answers STATUS with the reason (firmware/core/failsafe.ts) instead of going
// silent; if even the binding fails, the interpreter prints the exception on its console.
import { buildInfo } from './build-info.ts';
import { espruinoBoard } from './espruino/binding.ts';
import { startPsd } from './core/psd.ts';
import { startFailsafe } from './core/failsafe.ts';

var board = espruinoBoard(buildInfo());
try {
  startPsd(board, buildInfo);
} catch (e) {
  startFailsafe(board, buildInfo(), e);
}
