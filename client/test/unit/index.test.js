'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const acorn = require('acorn');

const { createFakeWx } = require('../support/fake-wx.js');

const ROOT = path.join(__dirname, '..', '..');

test('the module is the request function of the global wx, like weapp-session-client', async () => {
  const wx = createFakeWx();
  globalThis.wx = wx;
  try {
    const request = require('../../index.js');
    const res = await request({ url: 'https://example.test/applet/session' });
    assert.deepEqual(res.data, { ok: true });
    assert.equal(wx.requests[0].header['X-WX-Code'], 'CODE-1');
    assert.equal(request.request, request);
    assert.equal(typeof request.createClient, 'function');
    assert.equal(typeof request.createPaints, 'function');
    assert.equal(typeof request.makeId, 'function');
    assert.equal(request.SESSION_MAGIC_ID, 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A');
    // the helpers default to the same client
    wx.respond = () => ({ data: { code: 0, msg: 'success', data: [] } });
    assert.deepEqual(await request.createPaints({ baseUrl: 'https://example.test/applet' }).list(), []);
    assert.deepEqual(wx.requests[1].header, { 'X-WX-Code': 'CODE-1' });
  } finally {
    delete globalThis.wx;
  }
});

test('makeId: base36 time then base36 random, 12 characters of [a-z0-9]', () => {
  const { makeId } = require('../../index.js');
  for (let i = 0; i < 200; i++) assert.match(makeId(), /^[a-z0-9]{12}$/);
  const now = 1764000000000;
  const id = makeId(now);
  assert.equal(id.slice(0, 8), now.toString(36));
  assert.ok(makeId(now + 1000) > makeId(now), 'ids sort by time');
});

// The library runs inside WeChat: ES2017 script syntax, CommonJS, no Node APIs.
const libraryFiles = ['index.js'].concat(fs.readdirSync(path.join(ROOT, 'lib')).map((f) => path.join('lib', f)));

// Every AST node below `node`, without a walker library.
function* nodes(node) {
  if (!node || typeof node.type !== 'string') return;
  yield node;
  for (const value of Object.values(node)) {
    for (const child of Array.isArray(value) ? value : [value]) {
      if (child && typeof child === 'object') yield* nodes(child);
    }
  }
}

const NODE_ONLY = new Set(['process', 'Buffer', '__dirname', '__filename', 'global', 'globalThis']);

for (const file of libraryFiles) {
  test(`${file} is plain ES2017 without Node APIs`, () => {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const ast = acorn.parse(source, { ecmaVersion: 2017, sourceType: 'script' });
    for (const node of nodes(ast)) {
      if (node.type === 'Identifier') assert.ok(!NODE_ONLY.has(node.name), `${file} uses ${node.name}`);
      if (node.type === 'CallExpression' && node.callee.name === 'require') {
        const target = node.arguments[0] && node.arguments[0].value;
        assert.match(String(target), /^\.\.?\//, `${file} requires ${target}: only the library's own files may be required`);
      }
    }
  });
}
