export { VirtualBoard } from './board.ts';
export type { BoardDef, VirtualBoardOptions, BoardMemory, PowerCut, FlashStats } from './board.ts';
export { exposeBoard } from './expose.ts';
export { runSim } from './run.ts';
export type { RunSimOptions, RunningSim } from './run.ts';
export type { ExposeOptions, Exposed } from './expose.ts';
