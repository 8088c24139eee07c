// The variable layout of Espruino 2v29 builds (part of the virtual board's memory model, memory.ts).

// ------------------------------------------------------------------ the variable layout

/** Sizes that decide how many variables a value takes (jsutils.h). */
export interface VarLayout {
  /** bytes per variable (process.memory().blocksize) */
  blocksize: number;
  /** characters in the first variable of a name (JSVAR_DATA_STRING_NAME_LEN) */
  nameChars: number;
  /** characters in the first variable of a string (JSVAR_DATA_STRING_LEN) */
  stringChars: number;
  /** characters in each extension variable (JSVAR_DATA_STRING_MAX_LEN) */
  extChars: number;
  /** integers in [inlineMin, inlineMax] are stored inside their name (JSVARREF_MIN/MAX) */
  inlineMin: number;
  inlineMax: number;
  /** strings made for byte storage longer than this are flat (JSV_FLAT_STRING_BREAK_EVEN) */
  flatBreakEven: number;
}

/**
 * The layout of a board's build: 64-bit pointers on the Linux build (8 name characters),
 * 32-bit on the boards (4); references as wide as the variable count needs (13 bits for
 * 5,100 variables), 32 bits on the resizable Linux build (`resizable`, or the linux board's
 * nominal 65,535).
 */
export function varLayout(espruinoBoard: string, variables: number, resizable = espruinoBoard === 'LINUX' && variables >= 65535): VarLayout {
  const word = espruinoBoard === 'LINUX' ? 8 : 4;
  let ref: number, count: number, pack = 0;
  if (resizable) [ref, count] = [32, 8];
  else if (variables <= 254) [ref, count, pack] = [8, 6, 8];
  else if (variables <= 1023) [ref, count, pack] = [10, 6, 2];
  else if (variables <= 2047) [ref, count] = [11, 4];
  else if (variables <= 4095) [ref, count] = [12, 8];
  else if (variables <= 8191) [ref, count] = [13, 4];
  else if (variables <= 16383) [ref, count] = [14, 8];
  else [ref, count] = [16, 8];
  const stringChars = word + ((ref * 3 + pack) >> 3);
  const extChars = word + ((ref * 3 + pack + count) >> 3);
  const inlineMax = ref >= 32 ? 2147483647 : (1 << (ref - 1)) - 1;
  return {
    blocksize: word + Math.ceil((ref * 4 + count + pack) / 8) + 2,
    nameChars: word,
    stringChars,
    extChars,
    inlineMin: -inlineMax - 1,
    inlineMax,
    flatBreakEven: stringChars + extChars
  };
}
