// Run a piece of JavaScript on the real interpreter (Espruino 2v29's Linux build) as a file
// argument, in a private temporary folder, and collect what it prints.
//
// The binary exits by itself once nothing is pending; a snippet that never ends (a regex loop
// that does not advance, say) is ended with SIGKILL after `timeoutMs` (the binary hooks
// SIGINT/SIGTERM). Its standard input is /dev/null: a snippet that reads Serial1 needs
// kit/real/runner.ts instead.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SnippetRun {
  /** everything the interpreter printed (banner included) */
  stdout: string;
  stderr: string;
  /** true when the snippet was still running at the timeout and was killed */
  timedOut: boolean;
  status: number | null;
}

export function runSnippet(binary: string, code: string, timeoutMs = 20000): SnippetRun {
  const dir = mkdtempSync(join(tmpdir(), 'espruino-snippet-'));
  try {
    writeFileSync(join(dir, 'snippet.js'), code);
    const r = spawnSync(binary, ['snippet.js'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      encoding: 'latin1',
      maxBuffer: 64 * 1024 * 1024
    });
    const timedOut = r.error != null && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    if (r.error && !timedOut) throw r.error;
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines the snippet printed that start with `marker` (marker removed), in order. */
export function markedLines(stdout: string, marker: string): string[] {
  const out: string[] = [];
  for (const line of stdout.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.startsWith(marker)) out.push(l.slice(marker.length));
  }
  return out;
}

/**
 * One module of the project (say protocol/bytes.ts) as the build makes it for a board
 * (rollup.config.js: Babel to ES5, without the minifier), as a script that defines the global
 * `name` holding the module's exports. Append calls to it and run the lot with runSnippet.
 */
export async function buildModuleEs5(entry: string, name: string): Promise<string> {
  const { rollup } = await import('rollup');
  const { scriptConfig } = await import('../../rollup.config.js');
  const config: any = scriptConfig({ board: 'linux', nativeCrypto: [], seal: 'hmac', naclBuild: 'fast' }, { minify: false });
  const bundle = await rollup({ input: entry, plugins: config.plugins, onwarn: (w) => { throw new Error('rollup: ' + w.message); } });
  try {
    const { output } = await bundle.generate({ format: 'iife', name, strict: false });
    return output[0].code;
  } finally {
    await bundle.close();
  }
}
