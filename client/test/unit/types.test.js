'use strict';

// index.d.ts against a TypeScript example that uses every v2 function:
// tsc --noEmit --strict with typescript from devDependencies (npm ci installs it).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const v2 = require('../../lib/v2.js');

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(ROOT, 'types-test', 'example.ts');

test('index.d.ts type-checks against types-test/example.ts (tsc --noEmit --strict)', () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const run = spawnSync(process.execPath, [tsc, '-p', path.join('types-test', 'tsconfig.json'), '--noEmit', '--strict', '--pretty', 'false'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, 'tsc failed:\n' + run.stdout + run.stderr);
});

test('the example calls every function of the v2 client, and index.d.ts declares each', () => {
  const example = fs.readFileSync(EXAMPLE, 'utf8');
  const declarations = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8');
  const client = v2.createClient({ baseUrl: 'https://example.test/applet', wx: {} });
  const names = Object.keys(client).filter((k) => typeof client[k] === 'function')
    .concat(Object.keys(client.paints).map((k) => 'paints.' + k))
    .concat(Object.keys(client.drawings).map((k) => 'drawings.' + k));
  assert.ok(names.length >= 13, names.join());
  for (const name of names) {
    assert.ok(example.includes('api.' + name + '('), `types-test/example.ts does not call api.${name}()`);
    const member = name.split('.').pop();
    assert.match(declarations, new RegExp('\\b' + member + '(<[^()]*>)?\\('), `index.d.ts does not declare ${name}`);
  }
  for (const name of Object.keys(v2)) assert.ok(example.includes('onestroke.v2.' + name), `the example does not use v2.${name}`);
});
