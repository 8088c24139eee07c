// Entry of every firmware image: bind the board, start the PSD.
import { BUILD } from './build-info.ts';
import { espruinoBoard } from './espruino/binding.ts';
import { startPsd } from './core/psd.ts';

startPsd(espruinoBoard(BUILD), BUILD);
