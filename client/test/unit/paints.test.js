'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { createClient } = require('../../lib/session.js');
const { createPaints } = require('../../lib/paints.js');
const { createFakeWx, sessionError } = require('../support/fake-wx.js');

const BASE = 'https://example.test/applet';

function setup(respond) {
  const wx = createFakeWx({ respond });
  const paints = createPaints({ baseUrl: BASE + '/', client: createClient({ wx }) });
  return { wx, paints };
}

const ok = (data) => () => ({ statusCode: 200, data: { code: 0, msg: 'success', data } });
const fail = (statusCode, reason, message) => () => ({ statusCode, data: { code: -1, msg: 'fail', error: { reason, message } } });

test('save posts {id, actions} as JSON to {base}/session/paints/save and resolves the data', async () => {
  const { wx, paints } = setup(ok({}));
  const actions = '[{"method":"moveTo","data":[1,2]}]';
  assert.deepEqual(await paints.save({ id: 'kz1abc2d3e4f', actions }), {});
  const call = wx.requests[0];
  assert.equal(call.url, BASE + '/session/paints/save');
  assert.equal(call.method, 'POST');
  assert.equal(call.header['Content-Type'], 'application/json');
  assert.equal(call.header['X-WX-Code'], 'CODE-1');
  assert.deepEqual(call.data, { id: 'kz1abc2d3e4f', actions });
});

test('save turns an action list given as array or object into its JSON text', async () => {
  const { wx, paints } = setup(ok({}));
  const list = [{ method: 'moveTo', data: [1, 2] }, { method: 'lineTo', data: [3, 4] }];
  await paints.save({ id: 'a1', actions: list });
  await paints.save({ id: 'a2', actions: { method: 'stroke' } });
  assert.equal(wx.requests[0].data.actions, JSON.stringify(list));
  assert.equal(wx.requests[1].data.actions, '{"method":"stroke"}');
  assert.equal(typeof wx.requests[0].data.actions, 'string');
});

test('list GETs {base}/session/paints/list and resolves the array', async () => {
  const items = [{ id: 'kz1abc2d3e4f', actions: '[]' }];
  const { wx, paints } = setup(ok(items));
  assert.deepEqual(await paints.list(), items);
  assert.equal(wx.requests[0].url, BASE + '/session/paints/list');
  assert.equal(wx.requests[0].method, 'GET');
});

test('list refuses a success envelope whose data is not an array', async () => {
  const { paints } = setup(ok({}));
  await assert.rejects(paints.list(), (err) => err.reason === 'ERR_BAD_RESPONSE');
});

test('remove posts {id} to {base}/session/paints/delete', async () => {
  const { wx, paints } = setup(ok({}));
  assert.deepEqual(await paints.remove('kz1abc2d3e4f'), {});
  assert.equal(wx.requests[0].url, BASE + '/session/paints/delete');
  assert.equal(wx.requests[0].method, 'POST');
  assert.deepEqual(wx.requests[0].data, { id: 'kz1abc2d3e4f' });
});

test('session resolves wxUserInfo, or null for an anonymous answer', async () => {
  const user = { nickName: 'Alice', openId: 'oAlice' };
  let answer = { wxUserInfo: user };
  const { wx, paints } = setup(() => ({ data: answer }));
  assert.deepEqual(await paints.session(), user);
  assert.equal(wx.requests[0].url, BASE + '/session');
  answer = { wxUserInfo: null };
  assert.equal(await paints.session(), null);
});

for (const [status, reason] of [
  [400, 'ERR_INVALID_REQUEST'], [401, 'ERR_NO_SESSION'], [404, 'ERR_NOT_FOUND'], [413, 'ERR_TOO_LARGE'],
  [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'], [405, 'ERR_METHOD_NOT_ALLOWED'], [503, 'ERR_UNAVAILABLE'], [500, 'ERR_INTERNAL'],
]) {
  test(`a business failure ${reason} rejects with that reason`, async () => {
    const { paints } = setup(fail(status, reason, 'because ' + reason));
    await assert.rejects(paints.save({ id: 'x', actions: 'not json' }), (err) => {
      assert.ok(err instanceof Error);
      assert.equal(err.reason, reason);
      assert.equal(err.message, 'because ' + reason);
      assert.equal(err.statusCode, status);
      assert.deepEqual(err.detail, { reason, message: 'because ' + reason });
      return true;
    });
  });
}

test('a failure envelope without an error object still rejects', async () => {
  const { paints } = setup(() => ({ statusCode: 500, data: { code: -1, msg: 'fail' } }));
  await assert.rejects(paints.remove('x'), (err) => err.reason === 'ERR_UNKNOWN' && err.message === 'fail');
});

test('an answer that is no envelope (a proxy error page) rejects with ERR_BAD_RESPONSE', async () => {
  const { paints } = setup(() => ({ statusCode: 502, data: '<html>Bad Gateway</html>' }));
  await assert.rejects(paints.list(), (err) => err.reason === 'ERR_BAD_RESPONSE' && /HTTP 502/.test(err.message));
  await assert.rejects(paints.session(), (err) => err.reason === 'ERR_BAD_RESPONSE');
});

test('session errors reach the helpers as rejections with the session reason', async () => {
  const { paints } = setup(() => sessionError('ERR_UNTRUSTED_RAW_DATA'));
  await assert.rejects(paints.list(), (err) => err.reason === 'ERR_UNTRUSTED_RAW_DATA');
});

test('createPaints needs a baseUrl', () => {
  assert.throws(() => createPaints({}), /baseUrl/);
});

test('any object with request() can carry the helpers', async () => {
  const seen = [];
  const client = { request: (o) => { seen.push(o); return Promise.resolve({ statusCode: 200, data: { code: 0, msg: 'success', data: [] } }); } };
  assert.deepEqual(await createPaints({ baseUrl: BASE, client }).list(), []);
  assert.equal(seen[0].url, BASE + '/session/paints/list');
});
