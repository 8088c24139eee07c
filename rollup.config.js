// Rollup builds one firmware image per board: TypeScript stripped and downlevelled to ES5
// by Babel (TypeScript 6+ no longer emits ES5), bundled into one IIFE and minified by
// terser with ASCII-only output (byte strings such as '\xa5' must stay escaped).
// tools/build.ts drives it for every board; `npx rollup -c` builds the Pico image alone.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { babel } from '@rollup/plugin-babel';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { reservedPropertyNames } from './tools/reserved-names.js';

const buildInfoModule = path.resolve('firmware/build-info.ts');

/** Replaces firmware/build-info.ts with the facts of this build. */
function buildInfo(info) {
  return {
    name: 'psd-build-info',
    load(id) {
      if (path.resolve(id) === buildInfoModule)
        return (
          'export var BUILD = ' + JSON.stringify(info) + ';\n' +
          'export var HAS_SHA256 = ' + (info.nativeCrypto.indexOf('SHA256') >= 0) + ';\n' +
          'export var HAS_AES = ' + (info.nativeCrypto.indexOf('AES') >= 0) + ';\n' +
          'export var HAS_ED25519 = ' + (info.seal === 'ed25519') + ';\n'
        );
      return null;
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

export function firmwareConfig(info, { minify = true } = {}) {
  return {
    input: 'firmware/main.ts',
    plugins: [
      buildInfo(info),
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
      }),
      minify &&
        terser({
          ecma: 5,
          compress: { passes: 2, unsafe: false },
          // internal property names too; tools/reserved-names.js says which names must stay
          mangle: { toplevel: true, properties: { reserved: reservedPropertyNames() } },
          format: { ascii_only: true, comments: false }
        })
    ].filter(Boolean),
    output: { format: 'iife', strict: false }
  };
}

export default {
  ...firmwareConfig({
    board: 'pico',
    firmwareVersion: '0.0.0-dev',
    buildHash: 'dev',
    dataPort: 'USB',
    serialPath: null,
    flash: { dataStart: 0, pageBytes: 16384, dataPages: 4, writeAlignBytes: 4 },
    nativeCrypto: ['SHA256', 'AES'],
    seal: 'hmac',
    tamper: null,
    leds: [],
    maxRecords: 360
  }),
  output: { file: 'dist/firmware/pico.dev.js', format: 'iife', strict: false }
};
