'use strict';

// The package a mini-program installs: publishable, no runtime dependencies, and what
// WeChat DevTools' "build npm" needs. A package without a `miniprogram` field is built
// from its `main` file, following its require()s (so index.js must reach every file).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('package.json: publishable, main and types exist, no runtime dependencies', () => {
  assert.equal(pkg.name, 'onestroke-client');
  assert.notEqual(pkg.private, true, 'a private package cannot be published');
  assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
  assert.ok(fs.existsSync(path.join(ROOT, pkg.main)), pkg.main);
  assert.ok(fs.existsSync(path.join(ROOT, pkg.types)), pkg.types);
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
  assert.equal(pkg.miniprogram, undefined, 'a miniprogram field would make DevTools copy that folder instead of building main');
  for (const [name, version] of Object.entries(pkg.devDependencies)) assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is pinned`);
});

test('index.js reaches every library file through relative requires (DevTools builds from main)', () => {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    for (const m of source.matchAll(/require\('(\.[^']+)'\)/g)) visit(path.resolve(path.dirname(file), m[1]));
  };
  visit(path.join(ROOT, pkg.main));
  for (const f of fs.readdirSync(path.join(ROOT, 'lib'))) assert.ok(seen.has(path.join(ROOT, 'lib', f)), `lib/${f} is not reached from ${pkg.main}`);
});

test('npm pack: the tarball holds the library and its types, not the tests', () => {
  const run = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const files = JSON.parse(run.stdout)[0].files.map((f) => f.path).sort();
  for (const f of ['index.js', 'index.d.ts', 'lib/v2.js', 'lib/session.js', 'lib/paints.js', 'lib/id.js', 'package.json', 'README.md']) {
    assert.ok(files.includes(f), `${f} is missing from the package: ${files.join(', ')}`);
  }
  for (const f of files) assert.doesNotMatch(f, /^(test|types-test|pacts|node_modules)\//, `${f} should not be published`);
});
