/**
 * Espruino 2v29 profile check of a firmware image.
 *
 *   node --import tsx tools/profile/cli.ts <file.js> [--crypto SHA256,AES] [--allow-methods keys,values]
 *
 * Prints one line per problem (file:line:column [rule] message, then the snippet) and exits 1
 * when there is any; exits 0 and prints "ok" otherwise. Exit 2 on usage errors.
 */
import { readFileSync } from 'node:fs';
import { checkImage, type CheckOptions } from './check.ts';
import { detokenise, isPretokenised } from '../../kit/flash/pretokenise.ts';

function usage(msg?: string): never {
  if (msg) console.error(msg);
  console.error('usage: node --import tsx tools/profile/cli.ts <file.js> [--crypto SHA256,AES] [--allow-methods a,b]');
  process.exit(2);
}

const args = process.argv.slice(2);
let file: string | undefined;
const opts: CheckOptions = {};
const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--crypto') opts.nativeCrypto = list(args[++i]);
  else if (a.startsWith('--crypto=')) opts.nativeCrypto = list(a.slice(9));
  else if (a === '--allow-methods') opts.allowMethods = list(args[++i]);
  else if (a.startsWith('--allow-methods=')) opts.allowMethods = list(a.slice(16));
  else if (a === '-h' || a === '--help') usage();
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (!file) file = a;
  else usage(`unexpected argument ${a}`);
}
if (!file) usage('missing <file.js>');

let code: string;
try {
  code = readFileSync(file, 'utf8');
  // a built image is pretokenised (kit/flash/pretokenise.ts), bytes that are no UTF-8: check
  // the source Espruino reads in them
  if (code.includes('\ufffd')) {
    const bytes = readFileSync(file, 'latin1');
    if (isPretokenised(bytes)) code = detokenise(bytes);
  }
} catch (e: any) {
  console.error(`cannot read ${file}: ${e.message}`);
  process.exit(2);
}

const result = checkImage(code, opts);
for (const e of result.errors) {
  const where = e.line != null ? `${file}:${e.line}:${e.column}` : file;
  console.log(`${where} [${e.rule}] ${e.message}`);
  if (e.snippet) console.log(`    ${e.snippet}`);
}
if (result.ok) console.log(`${file}: ok (Espruino 2v29 profile)`);
else console.log(`${file}: ${result.errors.length} problem(s)`);
process.exit(result.ok ? 0 : 1);
