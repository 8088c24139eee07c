// Rollup builds one firmware image per board: TypeScript stripped and downlevelled to ES5
// by Babel (TypeScript 6+ no longer emits ES5), split into Storage files (boot code,
// resident core, on-demand modules) and minified by terser with ASCII-only output (byte
// strings such as '\xa5' must stay escaped). tools/build.ts drives it for every board.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { babel } from '@rollup/plugin-babel';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { reservedPropertyNames, globalNames } from './tools/reserved-names.js';
import { Command } from './protocol/commands.ts';
import { ErrorCode } from './protocol/errors.ts';
import { Entry } from './firmware/core/entries.ts';
import { LogEvent } from './protocol/log.ts';
import { BlockHead } from './protocol/block.ts';
import { RecordField } from './protocol/records.ts';
import { AuditEvent } from './protocol/audit.ts';
import { StoreOp } from './firmware/core/modules.ts';
import { Need } from './firmware/core/ledger-entries.ts';

const buildInfoModule = path.resolve('firmware/build-info.ts');

/** Replaces firmware/build-info.ts with the facts of this build. */
function buildInfo(info) {
  return {
    name: 'psd-build-info',
    load(id) {
      // the code area and where the statistics lie are compile-time constants only: each
      // property of the build info costs variables while a caller holds it
      const { codeArea, statsInStorage, ...build } = info;
      if (path.resolve(id) === buildInfoModule)
        return (
          'export function buildInfo() { return ' + JSON.stringify(build) + '; }\n' +
          'export var HAS_SHA256 = ' + (info.nativeCrypto.indexOf('SHA256') >= 0) + ';\n' +
          'export var HAS_AES = ' + (info.nativeCrypto.indexOf('AES') >= 0) + ';\n' +
          'export var HAS_ED25519 = ' + (info.seal === 'ed25519') + ';\n' +
          'export var CODE_AREA = ' + (codeArea ? codeArea.addr : 0) + ';\n' +
          'export var STATS_IN_STORAGE = ' + !!statsInStorage + ';\n'
        );
      return null;
    }
  };
}

/**
 * `Command.X`, `ErrorCode.X`, `Entry.X` (journal record types, firmware/core/entries.ts),
 * `LogEvent.X`, `AuditEvent.X` (protocol/audit.ts), `StoreOp.X` (firmware/core/modules.ts), `Need.X` (firmware/core/ledger-entries.ts) and the field offsets `BlockHead.X` and `RecordField.X` (protocol/block.ts,
 * records.ts) become the numbers their tables define, in the image only: on
 * Espruino each property of those objects costs variables for as long as the image runs
 * (about 120 in all), a literal costs nothing. protocol/ stays the one source of the values.
 */
function inlineProtocolCodes() {
  const tables = { Command, ErrorCode, Entry, LogEvent, BlockHead, RecordField, AuditEvent, StoreOp, Need };
  return {
    name: 'psd-inline-protocol-codes',
    transform(code, id) {
      if (!/\/(firmware|protocol)\/.*\.ts$/.test(id)) return null;
      const out = code.replace(/\b(Command|ErrorCode|Entry|LogEvent|BlockHead|RecordField|AuditEvent|StoreOp|Need)\.([A-Z][A-Z0-9_]*)\b/g, (m, table, name) => {
        const v = tables[table][name];
        if (typeof v !== 'number') throw new Error(`${id}: ${m} is not defined in protocol/`);
        return String(v);
      });
      return out === code ? null : { code: out, map: null };
    }
  };
}

// ---- tweetnacl (Ed25519, X25519) for ed25519 boards: firmware/core/crypto/nacl.ts ----
const TWEETNACL_ID = '\0tweetnacl-es5';
// nacl-fast.js is the build the Espruino figures were measured with (sign 7.0 s on the Linux
// build). It adds ~32 KB to an image; nacl.js (the compact TweetNaCl port) adds ~19 KB and is
// slower (not measured on Espruino). A board picks one with board-defs naclBuild.
const TWEETNACL_FILES = { fast: 'tweetnacl/nacl-fast.js', compact: 'tweetnacl/nacl.js' };

/**
 * Serves `import nacl from 'tweetnacl'` as an ES module built from the published
 * TWEETNACL_FILE, unmodified. The wrapper hands it its own `module` object. It also binds
 * `self` and `require` to undefined, so the library's load-time PRNG probe finds nothing
 * to touch on Espruino (nacl.ts gives it the board's random source instead). Side-effect
 * free for Rollup, so images that never call into it (HAS_ED25519 false) do not contain it.
 */
function tweetnaclEs5(file) {
  return {
    name: 'psd-tweetnacl-es5',
    resolveId(source) {
      return source === 'tweetnacl' ? { id: TWEETNACL_ID, moduleSideEffects: false } : null;
    },
    load(id) {
      if (id !== TWEETNACL_ID) return null;
      const src = fs.readFileSync(createRequire(import.meta.url).resolve(file), 'utf8');
      return (
        'var nacl = {};\n' +
        '(function (module, self, require) {\n' + src + '\n})({ exports: nacl }, undefined, undefined);\n' +
        'export default nacl;\n'
      );
    }
  };
}

/** The on-demand modules (firmware/core/modules.ts): Storage name -> source. Boards without
 * AES carry no session module. */
export function onDemandEntries(info) {
  const entries = {
    'psd.boot': 'firmware/ondemand/boot.ts',
    'psd.store': 'firmware/ondemand/store.ts',
    'psd.seal': 'firmware/ondemand/seal.ts',
    'psd.admin': 'firmware/ondemand/admin.ts',
    'psd.audit': 'firmware/ondemand/audit.ts',
    'psd.batch': 'firmware/ondemand/batch.ts'
  };
  if (info.nativeCrypto.indexOf('AES') >= 0) entries['psd.session'] = 'firmware/ondemand/session.ts';
  return entries;
}

/** The Storage file that holds every module the boot code reaches (loaded at boot, resident). */
export const CORE_CHUNK = 'psd.core';

/** Storage names of chunks shared by on-demand modules only (firmware/espruino/binding.ts
 * drops them whenever it drops a module). */
export const SHARED_PREFIX = 'psd.x';

/**
 * Rollup options for one image: the boot code (firmware/main.ts), the resident core it
 * reaches (one chunk, CORE_CHUNK) and one chunk per on-demand module, as CommonJS, each
 * becoming a Storage file that Espruino's require() loads by name (tools/build.ts renames
 * the requires, wraps the boot code and minifies all chunks with one shared name cache, so
 * mangled property names agree across files).
 */
export function firmwareConfig(info) {
  const entries = { boot: 'firmware/main.ts', ...onDemandEntries(info) };
  const main = path.resolve(entries.boot);
  return {
    input: entries,
    plugins: [
      buildInfo(info),
      inlineProtocolCodes(),
      tweetnaclEs5(TWEETNACL_FILES[info.naclBuild] || TWEETNACL_FILES.fast),
      resolve({ extensions: ['.ts', '.js'] }),
      babel({
        babelHelpers: 'bundled',
        babelrc: false,
        configFile: false,
        extensions: ['.ts', '.js'],
        presets: [
          ['@babel/preset-env', { targets: { ie: '11' }, loose: true, modules: false, bugfixes: false }],
          ['@babel/preset-typescript', { onlyRemoveTypeImports: false }]
        ]
      })
    ],
    output: {
      format: 'cjs',
      strict: false,
      esModule: false,
      generatedCode: 'es5',
      freeze: false,
      // the core's exports (what on-demand modules take from it) get short names: each one is a
      // property of the core's exports object, and a long name costs more variables
      minifyInternalExports: true,
      entryFileNames: '[name].js',
      // code shared by on-demand modules only: loaded with them, dropped with them (psd.x*)
      chunkFileNames: (c) => (c.name === CORE_CHUNK ? '[name].js' : SHARED_PREFIX + '[name].js'),
      // every module the boot code reaches statically is resident: one chunk, loaded at boot
      manualChunks(id, api) {
        if (id === main) return undefined;
        const seen = new Set();
        const reach = (m) => {
          if (m === id) return true;
          if (seen.has(m)) return false;
          seen.add(m);
          const info = api.getModuleInfo(m);
          return !!info && info.importedIds.some(reach);
        };
        return reach(main) ? CORE_CHUNK : undefined;
      }
    }
  };
}

/**
 * One self-contained script (an IIFE) from `input` with the firmware's Babel, build facts and
 * terser: for probes and checkers built as the firmware is (tools/crypto-probe, the strict-JSON
 * test, tools/real/snippet.ts), which set their own input.
 */
export function scriptConfig(info, { minify = true } = {}) {
  const split = firmwareConfig(info);
  return {
    input: 'firmware/main.ts',
    plugins: [...split.plugins, minify && terser(terserOptions())].filter(Boolean),
    output: { format: 'iife', strict: false }
  };
}

/** terser's options for every chunk of an image (tools/build.ts adds the shared nameCache). */
export function terserOptions() {
  return {
    ecma: 5,
    // inline 2, not 3: terser inlines a function with locals as `...; var i,s,o}` at the end, and
    // Espruino creates a local only when it reaches its var (tools/profile/check.ts hoisting)
    compress: { passes: 2, unsafe: false, toplevel: true, inline: 2 },
    // internal property names too; tools/reserved-names.js says which names must stay
    // `undeclared`: also names read off undeclared globals, so a Storage module's
    // `exports.x` gets the same name as its users' `core.x` (Espruino's own names are reserved)
    // top-level names: the resident core runs in the global scope (tools/build.ts), so none of
    // its names may be one Espruino or a module reads as a global (tools/reserved-names.js)
    mangle: { toplevel: true, reserved: globalNames(), properties: { reserved: reservedPropertyNames(), undeclared: true } },
    format: { ascii_only: true, comments: false }
  };
}
