'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { createClient, MAX_RETRIES } = require('../../lib/session.js');
const { createFakeWx, sessionError, RAW_DATA, SIGNATURE } = require('../support/fake-wx.js');

const URL = 'https://example.test/applet/session';

async function until(check) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.ok(check(), 'condition not reached');
}

function firstHeaders(code) {
  return { 'X-WX-Code': code, 'X-WX-RawData': encodeURIComponent(RAW_DATA), 'X-WX-Signature': SIGNATURE };
}

test('the first request logs in and sends code, encoded rawData and signature', async () => {
  const wx = createFakeWx();
  const client = createClient({ wx });
  const calls = [];
  const res = await client.request({
    url: URL,
    header: { 'X-Trace': 't1' },
    success: (r) => calls.push(['success', r]),
    complete: (r) => calls.push(['complete', r]),
  });
  assert.equal(wx.loginCalls, 1);
  assert.equal(wx.getUserInfoCalls, 1);
  assert.deepEqual(wx.requests[0].header, Object.assign({ 'X-Trace': 't1' }, firstHeaders('CODE-1')));
  assert.equal(wx.requests[0].url, URL);
  assert.deepEqual(res.data, { ok: true });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(calls, [['success', res], ['complete', res]]);
});

test('rawData with non-ASCII text is percent-encoded so it fits in a header', async () => {
  const wx = createFakeWx();
  await createClient({ wx }).request({ url: URL });
  const sent = wx.requests[0].header['X-WX-RawData'];
  assert.match(sent, /^[\x21-\x7e]+$/);
  assert.equal(decodeURIComponent(sent), RAW_DATA);
});

test('after an accepted response later requests send the code only', async () => {
  const wx = createFakeWx();
  const client = createClient({ wx });
  await client.request({ url: URL });
  await client.request({ url: URL + '/paints/list' });
  await client.request({ url: URL + '/paints/list', header: { 'X-Trace': 't3' } });
  assert.equal(wx.loginCalls, 1);
  assert.deepEqual(wx.requests[1].header, { 'X-WX-Code': 'CODE-1' });
  assert.deepEqual(wx.requests[2].header, { 'X-Trace': 't3', 'X-WX-Code': 'CODE-1' });
});

test('concurrent requests during a login share one wx.login and send the same first headers', async () => {
  const wx = createFakeWx();
  const client = createClient({ wx });
  await Promise.all([client.request({ url: URL }), client.request({ url: URL }), client.request({ url: URL })]);
  assert.equal(wx.loginCalls, 1);
  assert.equal(wx.getUserInfoCalls, 1);
  assert.equal(wx.requests.length, 3);
  for (const r of wx.requests) assert.deepEqual(r.header, firstHeaders('CODE-1'));
});

test('a request sent before the first answer came back still carries the first headers', async () => {
  // Until the server has accepted the login there is no session to point at with the code alone.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const wx = createFakeWx({ respond: (call, i) => (i === 0 ? held : { data: {} }) });
  const client = createClient({ wx });
  const first = client.request({ url: URL });
  await until(() => wx.requests.length === 1);
  const second = client.request({ url: URL });
  await until(() => wx.requests.length === 2);
  release({ data: {} });
  await Promise.all([first, second]);
  assert.equal(wx.loginCalls, 1);
  assert.deepEqual(wx.requests[1].header, firstHeaders('CODE-1'));
  await client.request({ url: URL });
  assert.deepEqual(wx.requests[2].header, { 'X-WX-Code': 'CODE-1' });
});

for (const reason of ['ERR_SESSION_EXPIRED', 'ERR_SESSION_KEY_EXCHANGE_FAILED']) {
  test(`${reason} on the first request: log in again and retry`, async () => {
    const wx = createFakeWx({ respond: (call, i) => (i === 0 ? sessionError(reason, 401) : { statusCode: 200, data: { ok: 2 } }) });
    const client = createClient({ wx });
    const res = await client.request({ url: URL });
    assert.deepEqual(res.data, { ok: 2 });
    assert.equal(wx.loginCalls, 2);
    assert.equal(wx.requests.length, 2);
    assert.deepEqual(wx.requests[0].header, firstHeaders('CODE-1'));
    assert.deepEqual(wx.requests[1].header, firstHeaders('CODE-2'));
    // and the new session is the one in use afterwards
    await client.request({ url: URL });
    assert.deepEqual(wx.requests[2].header, { 'X-WX-Code': 'CODE-2' });
  });

  test(`${reason} on a later, code-only request: log in again and retry`, async () => {
    const wx = createFakeWx({ respond: (call, i) => (i === 1 ? sessionError(reason, 401) : { statusCode: 200, data: { ok: i } }) });
    const client = createClient({ wx });
    await client.request({ url: URL });
    const res = await client.request({ url: URL });
    assert.deepEqual(res.data, { ok: 2 });
    assert.deepEqual(wx.requests[1].header, { 'X-WX-Code': 'CODE-1' });
    assert.deepEqual(wx.requests[2].header, firstHeaders('CODE-2'));
    assert.equal(wx.loginCalls, 2);
  });
}

test('concurrent requests hit by the same expiry share the new login', async () => {
  const wx = createFakeWx({ respond: (call) => (call.header['X-WX-Code'] === 'CODE-1' ? sessionError('ERR_SESSION_EXPIRED') : { data: {} }) });
  const client = createClient({ wx });
  await Promise.all([client.request({ url: URL }), client.request({ url: URL })]);
  assert.equal(wx.loginCalls, 2);
  assert.deepEqual(wx.requests.map((r) => r.header['X-WX-Code']), ['CODE-1', 'CODE-1', 'CODE-2', 'CODE-2']);
});

test(`the retry limit: after ${MAX_RETRIES} retries the request fails with the reason`, async () => {
  const wx = createFakeWx({ respond: () => sessionError('ERR_SESSION_EXPIRED', 401) });
  const client = createClient({ wx });
  const calls = [];
  await assert.rejects(
    client.request({ url: URL, fail: (e) => calls.push(['fail', e]), complete: (e) => calls.push(['complete', e]) }),
    (err) => {
      assert.ok(err instanceof Error);
      assert.equal(err.reason, 'ERR_SESSION_EXPIRED');
      assert.equal(err.detail.name, 'Error');
      assert.deepEqual(calls, [['fail', err], ['complete', err]]);
      return true;
    },
  );
  assert.equal(MAX_RETRIES, 3);
  assert.equal(wx.requests.length, 1 + MAX_RETRIES);
  assert.equal(wx.loginCalls, 1 + MAX_RETRIES);
});

test('ERR_UNTRUSTED_RAW_DATA fails at once, without a retry', async () => {
  const wx = createFakeWx({ respond: () => sessionError('ERR_UNTRUSTED_RAW_DATA', 401) });
  const client = createClient({ wx });
  let failed = null;
  await assert.rejects(client.request({ url: URL, fail: (e) => { failed = e; } }), (err) => {
    assert.ok(err instanceof Error);
    assert.equal(err.reason, 'ERR_UNTRUSTED_RAW_DATA');
    assert.deepEqual(err.detail, { name: 'Error', message: 'session trouble: ERR_UNTRUSTED_RAW_DATA', detail: {} });
    assert.equal(err.message, 'session trouble: ERR_UNTRUSTED_RAW_DATA');
    return true;
  });
  assert.equal(failed.reason, 'ERR_UNTRUSTED_RAW_DATA');
  assert.equal(wx.requests.length, 1);
  assert.equal(wx.loginCalls, 1);
});

test('after a refused login the next request logs in afresh', async () => {
  const wx = createFakeWx({ respond: (call, i) => (i === 0 ? sessionError('ERR_UNTRUSTED_RAW_DATA') : { data: {} }) });
  const client = createClient({ wx });
  await assert.rejects(client.request({ url: URL }));
  await client.request({ url: URL });
  assert.deepEqual(wx.requests[1].header, firstHeaders('CODE-2'));
});

test('a session error without a reason fails the request', async () => {
  const wx = createFakeWx({ respond: () => sessionError(undefined, 400) });
  await assert.rejects(createClient({ wx }).request({ url: URL }), (err) => {
    assert.ok(err instanceof Error);
    assert.equal(err.reason, undefined);
    assert.equal(err.detail.message, 'session trouble: no reason');
    return true;
  });
  assert.equal(wx.requests.length, 1);
});

test('a session error whose body is bare (no error object) still fails clearly', async () => {
  const wx = createFakeWx({ respond: () => ({ statusCode: 200, data: { 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A': 1 } }) });
  await assert.rejects(createClient({ wx }).request({ url: URL }), /session error without reason/);
});

test('a session error handed over as text (dataType text) is recognised', async () => {
  const wx = createFakeWx({ respond: (call, i) => (i === 0 ? { data: JSON.stringify(sessionError('ERR_SESSION_EXPIRED').data) } : { data: 'plain text' }) });
  const res = await createClient({ wx }).request({ url: URL, dataType: 'text' });
  assert.equal(res.data, 'plain text');
  assert.equal(wx.loginCalls, 2);
});

test('the HTTP status does not decide: a 500 without the magic key is an answer, a 200 with it a session error', async () => {
  const wx = createFakeWx({ respond: (call, i) => (i === 0 ? sessionError('ERR_SESSION_EXPIRED', 200) : { statusCode: 500, data: { code: -1 } }) });
  const res = await createClient({ wx }).request({ url: URL });
  assert.equal(res.statusCode, 500);
  assert.equal(wx.loginCalls, 2);
});

test('wx.login failure fails the request and sends nothing; the next request tries again', async () => {
  const wx = createFakeWx();
  wx.loginFailure = { errMsg: 'login:fail timeout' };
  const client = createClient({ wx });
  const calls = [];
  await assert.rejects(client.request({ url: URL, fail: (e) => calls.push(e), complete: (e) => calls.push(e) }), (err) => {
    assert.equal(err.reason, 'ERR_WX_LOGIN_FAILED');
    assert.equal(err.errMsg, 'login:fail timeout');
    assert.match(err.message, /wx\.login failed: login:fail timeout/);
    return true;
  });
  assert.equal(calls.length, 2);
  assert.equal(wx.requests.length, 0);
  wx.loginFailure = null;
  await client.request({ url: URL });
  assert.equal(wx.loginCalls, 2);
  assert.equal(wx.requests.length, 1);
});

test('wx.getUserInfo failure (user refused) fails the request', async () => {
  const wx = createFakeWx();
  wx.userInfoFailure = { errMsg: 'getUserInfo:fail auth deny' };
  await assert.rejects(createClient({ wx }).request({ url: URL }), (err) => {
    assert.equal(err.reason, 'ERR_WX_GET_USER_INFO_FAILED');
    assert.equal(err.errMsg, 'getUserInfo:fail auth deny');
    return true;
  });
  assert.equal(wx.requests.length, 0);
});

test('wx.request failure (network) fails the request and keeps the login', async () => {
  const wx = createFakeWx({ respond: (call, i) => (i === 0 ? { fail: { errMsg: 'request:fail timeout' } } : { data: {} }) });
  const client = createClient({ wx });
  await assert.rejects(client.request({ url: URL }), (err) => {
    assert.equal(err.reason, 'ERR_REQUEST_FAILED');
    assert.equal(err.errMsg, 'request:fail timeout');
    return true;
  });
  await client.request({ url: URL });
  assert.equal(wx.loginCalls, 1);
  // the server never saw the first headers, so they are sent again
  assert.deepEqual(wx.requests[1].header, firstHeaders('CODE-1'));
});

test('wx.request options pass through; the original `headers` option is honoured', async () => {
  const wx = createFakeWx();
  await createClient({ wx }).request({ url: URL, method: 'POST', data: { a: 1 }, headers: { 'X-Old': 'yes' } });
  assert.equal(wx.requests[0].method, 'POST');
  assert.deepEqual(wx.requests[0].data, { a: 1 });
  assert.equal(wx.requests[0].header['X-Old'], 'yes');
});

test('callback-only callers get no unhandled rejection', async () => {
  const wx = createFakeWx({ respond: () => sessionError('ERR_UNTRUSTED_RAW_DATA') });
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    await new Promise((resolve) => createClient({ wx }).request({ url: URL, fail: resolve }));
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

test('without any wx the request fails clearly', async () => {
  await assert.rejects(createClient().request({ url: URL }), /no wx object/);
});
