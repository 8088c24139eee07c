// Rollup builds one firmware image per board: TypeScript stripped and downlevelled to ES5
// by Babel (TypeScript 6+ no longer emits ES5), bundled into one IIFE and minified by
// terser with ASCII-only output (byte strings such as '\xa5' must stay escaped).
// tools/build.ts drives it for every board; `npx rollup -c` builds the Pico image alone.
import path from 'node:path';
import { babel } from '@rollup/plugin-babel';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const buildInfoModule = path.resolve('firmware/build-info.ts');

/** Replaces firmware/build-info.ts with the facts of this build. */
function buildInfo(info) {
  return {
    name: 'psd-build-info',
    load(id) {
      if (path.resolve(id) === buildInfoModule)
        return (
          'export var BUILD = ' + JSON.stringify(info) + ';\n' +
          'export var HAS_SHA256 = ' + (info.nativeCrypto.indexOf('SHA256') >= 0) + ';\n'
        );
      return null;
    }
  };
}

export function firmwareConfig(info, { minify = true } = {}) {
  return {
    input: 'firmware/main.ts',
    plugins: [
      buildInfo(info),
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
          mangle: { toplevel: true },
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
    tamper: null,
    leds: [],
    maxRecords: 360
  }),
  output: { file: 'dist/firmware/pico.dev.js', format: 'iife', strict: false }
};
