// On-demand modules from the code area (boards whose Storage cannot hold the code: board-defs
// codeArea, layout in kit/flash/code-area.ts). The boot code has checked at this boot that
// Flash.getFree() reports the area and has cached the resident core from it.
declare var E: any, Modules: any;

/**
 * Caches module `name` (and first the shared chunks it requires) from the code area at `addr`
 * into Espruino's module cache, as require() would from a Storage file: Modules.addCached runs
 * a string in flash (E.memoryArea) with jspEvaluateModule, so its function bodies stay in
 * flash. Returns require(name). Throws when the module is not in the area's directory or its
 * bytes fail their CRC-32 (the request then fails; nothing of it ran).
 */
export function loadFromCodeArea(addr: number, name: string): any {
  var head = E.memoryArea(addr, 16);
  // [[name, offset, length, crc32, [names it requires]], ...]: parsed per load, not kept
  var dir = JSON.parse(E.memoryArea(addr + 16, parseInt(head.substr(12, 4), 16)));
  var add = function (n: string) {
    if (Modules.getCached().indexOf(n) >= 0) return;
    var e = null;
    for (var i = 0; i < dir.length; i++) if (dir[i][0] === n) e = dir[i];
    if (!e) throw new Error('code area: no module ' + n + '; run psd flash');
    for (var j = 0; j < e[4].length; j++) add(e[4][j]);
    var code = E.memoryArea(addr + e[1], e[2]);
    if (E.CRC32(code) >>> 0 !== e[3]) throw new Error('code area: ' + n + ' fails its CRC-32; run psd flash');
    Modules.addCached(n, code);
  };
  add(name);
  return require(name);
}
