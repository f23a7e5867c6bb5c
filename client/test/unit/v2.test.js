'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const v2 = require('../../lib/v2.js');
const { createFakeWx, MAGIC } = require('../support/fake-wx.js');

const BASE = 'https://example.test/applet';
const KEY = 'onestroke:v2:session';

// Tokens of the service's format: ost_ + 43 base64url characters.
const token = (n) => 'ost_' + String(n).padStart(43, 'A').replace(/[^A-Za-z0-9_-]/g, '_');
const T1 = token('one');
const T2 = token('two');
const T3 = token('three');
const STORED = { token: T1, sessionId: 'sess-stored', openId: 'oALICE', expiresAt: '2026-12-31T00:00:00Z', idleTimeout: 604800 };

const ok = (data, extra) => Object.assign({ statusCode: 200, data: { code: 0, msg: 'success', data } }, extra);
const fail = (status, reason, header) => ({ statusCode: status, header: header || {}, data: { code: -1, msg: 'fail', error: { reason, message: reason + ' text' } } });
const loginAnswer = (tok, sessionId) => ok({ token: tok, sessionId: sessionId || 'sess-' + tok.slice(-3), openId: 'oALICE', expiresAt: '2026-12-31T00:00:00Z', idleTimeout: 604800 });

// A server: logins hand out the given tokens in order; other routes answer route(call, tokenSent).
function server(tokens, route) {
  const queue = tokens.slice();
  return (call) => {
    if (call.url === BASE + '/v2/login') {
      const next = queue.shift();
      return typeof next === 'string' ? loginAnswer(next) : next;
    }
    const auth = call.header && call.header.Authorization;
    return route(call, auth ? auth.replace(/^Bearer /, '') : undefined);
  };
}

const isLogin = (call) => call.url === BASE + '/v2/login';
const bearer = (call) => call.header.Authorization;

test('login: wx.login, then POST /v2/login with code and device; the token is stored and returned', async () => {
  const wx = createFakeWx({ respond: server([T1], () => ok({})) });
  const client = v2.createClient({ baseUrl: BASE + '/', device: 'iPhone 15', wx });
  const data = await client.login();
  assert.equal(data.token, T1);
  assert.equal(wx.loginCalls, 1);
  assert.equal(wx.getUserInfoCalls, 0, 'v2 never asks for the user info');
  assert.deepEqual(wx.requests[0], {
    url: BASE + '/v2/login', method: 'POST', data: { code: 'CODE-1', device: 'iPhone 15' },
    header: { 'Content-Type': 'application/json' },
  });
  assert.equal(wx.storage[KEY].token, T1);
  assert.equal(wx.storage[KEY].sessionId, data.sessionId);
  assert.deepEqual(client.current(), wx.storage[KEY]);
});

test('login without a device sends the code alone; storageKey is honoured', async () => {
  const wx = createFakeWx({ respond: server([T1], () => ok({})) });
  await v2.createClient({ baseUrl: BASE, storageKey: 'my-key', wx }).login();
  assert.deepEqual(wx.requests[0].data, { code: 'CODE-1' });
  assert.equal(wx.storage['my-key'].token, T1);
  assert.equal(KEY in wx.storage, false);
});

test('concurrent login() calls share one wx.login and one POST /v2/login', async () => {
  const wx = createFakeWx({ respond: server([T1, T2], () => ok({})) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  const all = await Promise.all([client.login(), client.login(), client.login()]);
  assert.equal(wx.loginCalls, 1);
  assert.equal(wx.requests.length, 1);
  for (const d of all) assert.equal(d.token, T1);
  // once done, a further login() is a new login
  assert.equal((await client.login()).token, T2);
  assert.equal(wx.loginCalls, 2);
});

test('concurrent requests without a token share one login, then all carry the token', async () => {
  const wx = createFakeWx({ respond: server([T1, T2], () => ok({ me: true })) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  const answers = await Promise.all([client.me(), client.sessions().catch((e) => e), client.request({ url: '/v2/other' })]);
  assert.equal(wx.loginCalls, 1);
  assert.equal(wx.requests.filter(isLogin).length, 1);
  for (const r of wx.requests.filter((c) => !isLogin(c))) assert.equal(bearer(r), 'Bearer ' + T1);
  assert.deepEqual(answers[0], { me: true });
  assert.equal(answers[1].reason, 'ERR_BAD_RESPONSE', 'sessions must be an array');
});

test('a token in storage is read back on start: no login', async () => {
  const wx = createFakeWx({ storage: { [KEY]: STORED }, respond: server([], () => ok({ openId: 'oALICE' })) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.equal(client.current().token, T1);
  assert.deepEqual(await client.me(), { openId: 'oALICE' });
  assert.equal(wx.loginCalls, 0);
  assert.deepEqual(wx.requests[0], { url: BASE + '/v2/me', method: 'GET', data: undefined, header: { Authorization: 'Bearer ' + T1 } });
});

test('a stored value that is not a token of this format is ignored', async () => {
  for (const stored of ['', 'garbage', { token: 'abc' }, { token: 'ost_short' }, JSON.stringify(STORED).slice(0, 10)]) {
    const wx = createFakeWx({ storage: { [KEY]: stored }, respond: server([T2], () => ok({})) });
    const client = v2.createClient({ baseUrl: BASE, wx });
    assert.equal(client.current(), null);
    await client.me();
    assert.equal(wx.loginCalls, 1);
  }
  // a stored JSON string of a login is accepted
  const wx = createFakeWx({ storage: { [KEY]: JSON.stringify(STORED) }, respond: server([], () => ok({})) });
  await v2.createClient({ baseUrl: BASE, wx }).me();
  assert.equal(wx.loginCalls, 0);
});

test('unreadable or full storage does not fail: the token serves the visit', async () => {
  const wx = createFakeWx({ respond: server([T1], () => ok({})) });
  wx.storageFailure = 'storage full';
  const client = v2.createClient({ baseUrl: BASE, wx });
  await client.me();
  await client.me();
  assert.equal(wx.loginCalls, 1);
  assert.equal(bearer(wx.requests[2]), 'Bearer ' + T1);
});

test('request: the token added, a path joined to baseUrl, an absolute url kept, the caller\'s headers kept', async () => {
  const wx = createFakeWx({ storage: { [KEY]: STORED }, respond: server([], () => ok([1, 2])) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.request({ url: '/v2/things', header: { 'X-Trace': 't1' } }), [1, 2]);
  await client.request({ url: 'https://other.test/x', method: 'post', data: { a: 1 }, header: { 'content-type': 'application/json; charset=utf-8' } });
  assert.deepEqual(wx.requests[0].header, { 'X-Trace': 't1', Authorization: 'Bearer ' + T1 });
  assert.equal(wx.requests[1].url, 'https://other.test/x');
  assert.equal(wx.requests[1].method, 'POST');
  assert.deepEqual(wx.requests[1].header, { 'content-type': 'application/json; charset=utf-8', Authorization: 'Bearer ' + T1 });
});

test('request: a 2xx answer that is no envelope resolves with the body; a non-2xx one is ERR_BAD_RESPONSE', async () => {
  const answers = [{ statusCode: 200, data: { wxUserInfo: null } }, { statusCode: 502, data: '<html>Bad Gateway</html>' }];
  const wx = createFakeWx({ storage: { [KEY]: STORED }, respond: (call, i) => answers[i] });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.request({ url: '/session' }), { wxUserInfo: null });
  await assert.rejects(client.request({ url: '/session' }), (err) => err.reason === 'ERR_BAD_RESPONSE' && err.status === 502);
});

for (const reason of ['ERR_SESSION_EXPIRED', 'ERR_NO_SESSION']) {
  test(`${reason}: the token is forgotten, the client logs in again and retries once`, async () => {
    const wx = createFakeWx({
      storage: { [KEY]: STORED },
      respond: server([T2], (call, tok) => (tok === T1 ? fail(401, reason, { 'WWW-Authenticate': 'Bearer' }) : ok({ openId: 'oALICE' }))),
    });
    const client = v2.createClient({ baseUrl: BASE, wx });
    assert.deepEqual(await client.me(), { openId: 'oALICE' });
    assert.equal(wx.loginCalls, 1);
    assert.deepEqual(wx.requests.map((c) => (isLogin(c) ? 'login' : bearer(c))), ['Bearer ' + T1, 'login', 'Bearer ' + T2]);
    assert.equal(wx.storage[KEY].token, T2);
  });
}

test('a second expiry in a row rejects: one retry, not more', async () => {
  const wx = createFakeWx({
    storage: { [KEY]: STORED },
    respond: server([T2, T3], () => fail(401, 'ERR_SESSION_EXPIRED', { 'www-authenticate': 'Bearer error="invalid_token"' })),
  });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await assert.rejects(client.me(), (err) => {
    assert.equal(err.reason, 'ERR_SESSION_EXPIRED');
    assert.equal(err.status, 401);
    assert.equal(err.message, 'ERR_SESSION_EXPIRED text');
    assert.ok(err instanceof Error);
    return true;
  });
  assert.equal(wx.loginCalls, 1);
  assert.deepEqual(wx.requests.map((c) => (isLogin(c) ? 'login' : bearer(c))), ['Bearer ' + T1, 'login', 'Bearer ' + T2]);
  // The failed token is forgotten too: the next request logs in afresh.
  assert.equal(wx.storage[KEY], undefined);
});

test('concurrent requests whose token expired share one new login', async () => {
  const wx = createFakeWx({
    storage: { [KEY]: STORED },
    respond: server([T2, T3], (call, tok) => (tok === T1 ? fail(401, 'ERR_SESSION_EXPIRED') : ok({ n: call.url }))),
  });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await Promise.all([client.me(), client.request({ url: '/a' }), client.request({ url: '/b' })]);
  assert.equal(wx.loginCalls, 1);
  const retries = wx.requests.filter((c) => !isLogin(c) && bearer(c) === 'Bearer ' + T2);
  assert.equal(retries.length, 3);
});

test('a late expiry of an old token does not throw away a newer login', async () => {
  let releaseOld;
  const oldHeld = new Promise((resolve) => { releaseOld = resolve; });
  const wx = createFakeWx({
    storage: { [KEY]: STORED },
    respond: server([T2, T3], (call, tok) => {
      if (tok !== T1) return ok({});
      return call.url.endsWith('/slow') ? oldHeld : fail(401, 'ERR_SESSION_EXPIRED');
    }),
  });
  const client = v2.createClient({ baseUrl: BASE, wx });
  const slow = client.request({ url: '/slow' });
  await client.me(); // expires T1, logs in with T2
  releaseOld(fail(401, 'ERR_SESSION_EXPIRED'));
  await slow; // its retry uses T2, no second login
  assert.equal(wx.loginCalls, 1);
  assert.equal(wx.storage[KEY].token, T2);
});

test('ERR_LOGIN_CODE_INVALID: wx.login again once; a second refusal rejects', async () => {
  const wx = createFakeWx({ respond: server([fail(401, 'ERR_LOGIN_CODE_INVALID'), T1], () => ok({})) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.equal((await client.login()).token, T1);
  assert.equal(wx.loginCalls, 2);
  assert.deepEqual(wx.requests.map((c) => c.data.code), ['CODE-1', 'CODE-2']);

  const wx2 = createFakeWx({ respond: server([fail(401, 'ERR_LOGIN_CODE_INVALID'), fail(401, 'ERR_LOGIN_CODE_INVALID'), T1], () => ok({})) });
  const client2 = v2.createClient({ baseUrl: BASE, wx: wx2 });
  await assert.rejects(client2.me(), (err) => err.reason === 'ERR_LOGIN_CODE_INVALID' && err.status === 401);
  assert.equal(wx2.loginCalls, 2);
  assert.equal(wx2.requests.length, 2, 'the request itself was never sent');
});

test('ERR_RATE_LIMITED carries status 429 and retryAfter from the header; nothing is retried', async () => {
  const wx = createFakeWx({ respond: server([fail(429, 'ERR_RATE_LIMITED', { 'retry-after': '30' }), T1], () => ok({})) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await assert.rejects(client.login(), (err) => err.reason === 'ERR_RATE_LIMITED' && err.status === 429 && err.retryAfter === 30);
  assert.equal(wx.loginCalls, 1);
  // the failed login is not kept: the next call logs in again
  assert.equal((await client.login()).token, T1);
});

test('Retry-After as an HTTP date becomes seconds from now; absent means undefined', async () => {
  const at = new Date(Date.now() + 120000).toUTCString();
  const answers = [fail(503, 'ERR_WECHAT_UNAVAILABLE', { 'Retry-After': at }), fail(503, 'ERR_WECHAT_UNAVAILABLE')];
  const wx = createFakeWx({ respond: (call, i) => answers[i] });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await assert.rejects(client.login(), (err) => err.reason === 'ERR_WECHAT_UNAVAILABLE' && err.retryAfter >= 118 && err.retryAfter <= 120);
  await assert.rejects(client.login(), (err) => err.status === 503 && err.retryAfter === undefined);
});

test('wx failures: ERR_WX_LOGIN_FAILED, ERR_REQUEST_FAILED; a login answer without a token is ERR_BAD_RESPONSE', async () => {
  const wx = createFakeWx();
  wx.loginFailure = { errMsg: 'login:fail network' };
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx }).me(), (err) => err.reason === 'ERR_WX_LOGIN_FAILED' && err.errMsg === 'login:fail network');

  const wx2 = createFakeWx({ storage: { [KEY]: STORED }, respond: () => ({ fail: { errMsg: 'request:fail timeout' } }) });
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx: wx2 }).me(), (err) => err.reason === 'ERR_REQUEST_FAILED' && err.status === undefined);

  const wx3 = createFakeWx({ respond: () => ok({ token: 'not-a-token' }) });
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx: wx3 }).login(), (err) => err.reason === 'ERR_BAD_RESPONSE');
  assert.deepEqual(wx3.storage, {});
});

test('other failures reject with reason, status and the server\'s message, without a retry', async () => {
  const wx = createFakeWx({ storage: { [KEY]: STORED }, respond: () => fail(400, 'ERR_INVALID_REQUEST') });
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx }).updateMe({ nickName: '' }), (err) => {
    assert.equal(err.reason, 'ERR_INVALID_REQUEST');
    assert.equal(err.status, 400);
    assert.equal(err.statusCode, 400);
    assert.equal(err.message, 'ERR_INVALID_REQUEST text');
    assert.deepEqual(err.detail, { reason: 'ERR_INVALID_REQUEST', message: 'ERR_INVALID_REQUEST text' });
    return true;
  });
  assert.equal(wx.requests.length, 1);
  assert.equal(wx.loginCalls, 0);
});

test('logout: POST /v2/logout with the token, then the token is forgotten', async () => {
  const wx = createFakeWx({ storage: { [KEY]: STORED }, respond: () => ok({}) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.logout(), {});
  assert.deepEqual(wx.requests[0], { url: BASE + '/v2/logout', method: 'POST', data: undefined, header: { Authorization: 'Bearer ' + T1 } });
  assert.equal(KEY in wx.storage, false);
  assert.equal(client.current(), null);
  // nothing held: no request at all
  assert.deepEqual(await client.logout(), {});
  assert.equal(wx.requests.length, 1);
});

test('logout: a token the server no longer knows is logged out already; other failures reject, the token forgotten all the same', async () => {
  const wx = createFakeWx({ storage: { [KEY]: STORED }, respond: () => fail(401, 'ERR_SESSION_EXPIRED') });
  assert.deepEqual(await v2.createClient({ baseUrl: BASE, wx }).logout(), {});
  assert.equal(wx.loginCalls, 0, 'logout never logs in');
  assert.equal(KEY in wx.storage, false);

  const wx2 = createFakeWx({ storage: { [KEY]: STORED }, respond: () => fail(503, 'ERR_UNAVAILABLE') });
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx: wx2 }).logout(), (err) => err.reason === 'ERR_UNAVAILABLE');
  assert.equal(KEY in wx2.storage, false);

  const wx3 = createFakeWx({ storage: { [KEY]: STORED }, respond: () => ({ fail: { errMsg: 'request:fail' } }) });
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx: wx3 }).logout(), (err) => err.reason === 'ERR_REQUEST_FAILED');
  assert.equal(KEY in wx3.storage, false);
});

test('logout during a login under way logs that login out', async () => {
  const wx = createFakeWx({ respond: server([T1], () => ok({})) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  const login = client.login();
  await client.logout();
  assert.equal((await login).token, T1);
  assert.deepEqual(wx.requests.map((c) => [c.url.slice(BASE.length), bearer(c)]), [['/v2/login', undefined], ['/v2/logout', 'Bearer ' + T1]]);
  assert.equal(client.current(), null);
  assert.equal(KEY in wx.storage, false);
});

test('logoutAll: POST /v2/logout-all → { revoked }, the token forgotten', async () => {
  const wx = createFakeWx({ storage: { [KEY]: STORED }, respond: () => ok({ revoked: 3 }) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.logoutAll(), { revoked: 3 });
  assert.equal(wx.requests[0].url, BASE + '/v2/logout-all');
  assert.equal(wx.requests[0].method, 'POST');
  assert.equal(client.current(), null);
});

test('sessions, revoke, me, updateMe: their routes, methods and bodies', async () => {
  const list = [{ sessionId: 'sess-stored', device: 'iPhone', createdAt: 'x', lastSeenAt: 'x', expiresAt: 'x', current: true }];
  const wx = createFakeWx({
    storage: { [KEY]: STORED },
    respond: (call) => (call.method === 'GET' && call.url.endsWith('/v2/sessions') ? ok(list) : ok(call.method === 'DELETE' ? {} : { openId: 'oALICE', nickName: '爱丽丝' })),
  });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.sessions(), list);
  assert.deepEqual(await client.revoke('other/1'), {});
  assert.deepEqual(await client.me(), { openId: 'oALICE', nickName: '爱丽丝' });
  await client.updateMe({ nickName: '爱丽丝' });
  await client.updateMe({ nickName: undefined, avatarUrl: 'https://example.test/a.png' });
  const seen = wx.requests.map((c) => [c.method, c.url.slice(BASE.length), c.data]);
  assert.deepEqual(seen, [
    ['GET', '/v2/sessions', undefined],
    ['DELETE', '/v2/sessions/other%2F1', undefined],
    ['GET', '/v2/me', undefined],
    ['PATCH', '/v2/me', { nickName: '爱丽丝' }],
    ['PATCH', '/v2/me', { avatarUrl: 'https://example.test/a.png' }],
  ]);
  assert.equal(wx.requests[3].header['Content-Type'], 'application/json');
  assert.equal(client.current().token, T1, 'revoking another session keeps this one');
});

test('revoke of this client\'s own session forgets its token; a 404 rejects with ERR_NOT_FOUND', async () => {
  const answers = [ok({}), fail(404, 'ERR_NOT_FOUND')];
  const wx = createFakeWx({ storage: { [KEY]: STORED }, respond: (call, i) => answers[i] });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await client.revoke('sess-stored');
  assert.equal(client.current(), null);
  assert.equal(KEY in wx.storage, false);

  const wx2 = createFakeWx({ storage: { [KEY]: STORED }, respond: () => fail(404, 'ERR_NOT_FOUND') });
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx: wx2 }).revoke('nope'), (err) => err.reason === 'ERR_NOT_FOUND' && err.status === 404);
  assert.equal(wx2.requests.length, 1);
});

test('paints: the legacy drawing routes with the token', async () => {
  const wx = createFakeWx({
    storage: { [KEY]: STORED },
    respond: (call) => {
      if (call.url.endsWith('/paints/list')) return ok([{ id: 'a1', actions: '[]' }]);
      if (call.url.endsWith('/session')) return { statusCode: 200, data: { wxUserInfo: { openId: 'oALICE', nickName: '爱丽丝' } } };
      return ok({});
    },
  });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.paints.save({ id: 'a1', actions: [{ method: 'moveTo', data: [1, 2] }] }), {});
  assert.deepEqual(await client.paints.save({ id: 'a1', actions: '[]' }), {});
  assert.deepEqual(await client.paints.list(), [{ id: 'a1', actions: '[]' }]);
  assert.deepEqual(await client.paints.remove('a1'), {});
  assert.deepEqual(await client.paints.session(), { openId: 'oALICE', nickName: '爱丽丝' });
  const seen = wx.requests.map((c) => [c.method, c.url.slice(BASE.length), c.data, c.header.Authorization]);
  const auth = 'Bearer ' + T1;
  assert.deepEqual(seen, [
    ['POST', '/session/paints/save', { id: 'a1', actions: '[{"method":"moveTo","data":[1,2]}]' }, auth],
    ['POST', '/session/paints/save', { id: 'a1', actions: '[]' }, auth],
    ['GET', '/session/paints/list', undefined, auth],
    ['POST', '/session/paints/delete', { id: 'a1' }, auth],
    ['GET', '/session', undefined, auth],
  ]);
  for (const c of wx.requests) assert.equal(c.header['X-WX-Code'], undefined);
});

test('paints: a legacy session error body for an expired token also logs in again and retries', async () => {
  const expired = { statusCode: 401, data: { [MAGIC]: 1, reason: 'ERR_SESSION_EXPIRED', error: { name: 'Error', message: 'gone', detail: {} } } };
  const wx = createFakeWx({
    storage: { [KEY]: STORED },
    respond: server([T2], (call, tok) => (tok === T1 ? expired : { statusCode: 200, data: { wxUserInfo: { openId: 'oALICE' } } })),
  });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.paints.session(), { openId: 'oALICE' });
  assert.equal(wx.loginCalls, 1);
  // and a paints failure envelope is an error like any other
  const wx2 = createFakeWx({ storage: { [KEY]: STORED }, respond: () => fail(413, 'ERR_TOO_LARGE') });
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx: wx2 }).paints.save({ id: 'a', actions: [] }), (err) => err.reason === 'ERR_TOO_LARGE' && err.status === 413);
});

test('createClient needs a baseUrl; the global wx is used when none is given', async () => {
  assert.throws(() => v2.createClient({}), /baseUrl/);
  const wx = createFakeWx({ respond: server([T1], () => ok({ openId: 'oALICE' })) });
  globalThis.wx = wx;
  try {
    const client = require('../../index.js').v2.createClient({ baseUrl: BASE });
    assert.deepEqual(await client.me(), { openId: 'oALICE' });
    assert.equal(wx.storage[KEY].token, T1);
  } finally {
    delete globalThis.wx;
  }
  assert.equal(v2.STORAGE_KEY, KEY);
  assert.ok(v2.TOKEN_PATTERN.test(T1));
});

test('phoneNumber: POST /v2/me/phone with the button code and the token; the number comes back', async () => {
  const number = { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' };
  const wx = createFakeWx({ respond: server([T1], (call, tok) => (call.url === BASE + '/v2/me/phone' && tok === T1 ? ok(number) : fail(404, 'ERR_NOT_FOUND'))) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.phoneNumber('PHONE-CODE'), number);
  const call = wx.requests.find((c) => c.url === BASE + '/v2/me/phone');
  assert.equal(call.method, 'POST');
  assert.deepEqual(call.data, { code: 'PHONE-CODE' });
  assert.equal(bearer(call), 'Bearer ' + T1);
});

test('phoneNumber: a refused code rejects with its reason and keeps the token', async () => {
  const wx = createFakeWx({ respond: server([T1], () => fail(400, 'ERR_PHONE_CODE_INVALID')) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await assert.rejects(client.phoneNumber('USED'), (err) => err.reason === 'ERR_PHONE_CODE_INVALID' && err.status === 400);
  assert.equal(client.current().token, T1);
  assert.equal(wx.loginCalls, 1);
});

test('decrypt: POST /v2/me/decrypt answers the object', async () => {
  const wx = createFakeWx({ respond: server([T1], (call) => ok({ openGId: 'G-1', echo: call.data })) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  const out = await client.decrypt('ENC', 'IV');
  assert.deepEqual(out, { openGId: 'G-1', echo: { encryptedData: 'ENC', iv: 'IV' } });
});

test('decrypt: a stale session_key logs in again (a new session_key) and rejects, so the app fetches the data anew', async () => {
  const wx = createFakeWx({ respond: server([T1, T2], () => fail(401, 'ERR_SESSION_KEY_STALE')) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await assert.rejects(client.decrypt('ENC', 'IV'), (err) => err.reason === v2.SESSION_KEY_STALE && err.status === 401);
  assert.equal(wx.loginCalls, 2, 'a fresh login after the stale answer');
  assert.equal(client.current().token, T2);
  assert.equal(wx.requests.filter((c) => c.url === BASE + '/v2/me/decrypt').length, 1, 'not retried with the same data');
});

// --- the v2 drawing routes (PROTOCOL §7) ---

const ETAG1 = '"00000000000000a1"';
const ETAG2 = '"00000000000000b2"';
const ITEM = { id: 'd1', title: 'Sunset', createdAt: '2026-12-01T08:00:00Z', updatedAt: '2026-12-01T08:00:00Z', bytes: 2, etag: ETAG1 };

test('drawings.page: GET /v2/drawings with limit and cursor; next is null after the last page', async () => {
  const pages = { '': { items: [ITEM], next: 'CURSOR-2' }, 'CURSOR-2': { items: [], next: null } };
  const wx = createFakeWx({ respond: server([T1], (call) => ok(pages[(call.data && call.data.cursor) || ''])) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.drawings.page({ limit: 1 }), { items: [ITEM], next: 'CURSOR-2' });
  assert.deepEqual(await client.drawings.page({ limit: 1, cursor: 'CURSOR-2' }), { items: [], next: null });
  await client.drawings.page();
  const calls = wx.requests.filter((c) => c.url === BASE + '/v2/drawings');
  assert.deepEqual(calls.map((c) => [c.method, c.data]), [['GET', { limit: 1 }], ['GET', { limit: 1, cursor: 'CURSOR-2' }], ['GET', undefined]]);
  assert.equal(bearer(calls[0]), 'Bearer ' + T1);
});

test('drawings.page: an answer without items is a bad response', async () => {
  const wx = createFakeWx({ respond: server([T1], () => ok({ next: null })) });
  await assert.rejects(v2.createClient({ baseUrl: BASE, wx }).drawings.page(), (err) => err.reason === 'ERR_BAD_RESPONSE');
});

test('drawings.get: the drawing with its etag, from the ETag header whatever its case', async () => {
  const drawing = { id: 'd 1', title: '', actions: [{ method: 'save' }], createdAt: ITEM.createdAt, updatedAt: ITEM.updatedAt };
  const wx = createFakeWx({ respond: server([T1], () => ok(drawing, { header: { etag: ETAG1 } })) });
  const got = await v2.createClient({ baseUrl: BASE, wx }).drawings.get('d 1');
  assert.deepEqual(got, Object.assign({}, drawing, { etag: ETAG1 }));
  assert.equal(wx.requests[1].url, BASE + '/v2/drawings/d%201');
});

test('drawings.put: PUT the action list (or its text) and the title; the etag and whether it was created come back', async () => {
  let status = 201;
  const wx = createFakeWx({ respond: server([T1], (call) => Object.assign(ok(Object.assign({}, ITEM, { etag: status === 201 ? ETAG1 : ETAG2 })), { statusCode: status, header: { ETag: status === 201 ? ETAG1 : ETAG2 } })) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  const made = await client.drawings.put('d1', { title: 'Sunset', actions: [{ method: 'save' }] }, { ifNoneMatch: '*' });
  assert.equal(made.created, true);
  assert.equal(made.etag, ETAG1);
  status = 200;
  const saved = await client.drawings.put('d1', { actions: '[{"method":"restore"}]' }, { ifMatch: made.etag });
  assert.equal(saved.created, false);
  assert.equal(saved.etag, ETAG2);
  const puts = wx.requests.filter((c) => c.method === 'PUT');
  assert.deepEqual(puts[0].data, { title: 'Sunset', actions: [{ method: 'save' }] });
  assert.equal(puts[0].header['If-None-Match'], '*');
  assert.deepEqual(puts[1].data, { actions: [{ method: 'restore' }] }, 'no title: the stored one stays');
  assert.equal(puts[1].header['If-Match'], ETAG1);
  assert.equal(puts[1].header['Content-Type'], 'application/json');
});

test('drawings.put: another device saved since the etag: ERR_CONFLICT (412), the token kept', async () => {
  const wx = createFakeWx({ respond: server([T1], () => fail(412, v2.CONFLICT)) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await assert.rejects(client.drawings.put('d1', { actions: [] }, { ifMatch: [ETAG1, ETAG2] }), (err) => err.reason === 'ERR_CONFLICT' && err.status === 412);
  assert.equal(wx.requests[1].header['If-Match'], ETAG1 + ', ' + ETAG2);
  assert.equal(client.current().token, T1);
});

test('drawings.put: actions that are not a list, or ifNoneMatch other than *, are refused before any request', async () => {
  const wx = createFakeWx({ respond: server([T1], () => ok({})) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  await assert.rejects(client.drawings.put('d1', { actions: { method: 'save' } }), (err) => err.reason === 'ERR_INVALID_REQUEST');
  await assert.rejects(client.drawings.put('d1', { actions: [] }, { ifNoneMatch: ETAG1 }), (err) => err.reason === 'ERR_INVALID_REQUEST');
  assert.equal(wx.requests.length, 0);
});

test('drawings.delete: DELETE with If-Match', async () => {
  const wx = createFakeWx({ respond: server([T1], () => ok({})) });
  const client = v2.createClient({ baseUrl: BASE, wx });
  assert.deepEqual(await client.drawings.delete('d1', { ifMatch: ETAG1 }), {});
  assert.deepEqual(await client.drawings.delete('d2'), {});
  const dels = wx.requests.filter((c) => c.method === 'DELETE');
  assert.deepEqual(dels.map((c) => [c.url, c.header['If-Match']]), [[BASE + '/v2/drawings/d1', ETAG1], [BASE + '/v2/drawings/d2', undefined]]);
});
