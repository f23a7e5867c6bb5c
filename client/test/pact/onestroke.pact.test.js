'use strict';

// Consumer contract of the mini-program client with the onestroke service.
// Each test drives the library itself (session client + paints helpers) through a
// wx whose request performs real HTTP calls to the pact mock server.

process.env.PACT_DO_NOT_TRACK = 'true';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { PactV3, MatchersV3 } = require('@pact-foundation/pact');

const { createClient, createPaints, v2 } = require('../../index.js');
const { createHttpWx } = require('../support/http-wx.js');

const { like, eachLike, string, regex, integer, boolean } = MatchersV3;

const CONSUMER = 'onestroke-miniprogram-client';
const PROVIDER = 'onestroke';
const PACT_DIR = path.join(__dirname, '..', '..', 'pacts');
const PACT_FILE = path.join(PACT_DIR, `${CONSUMER}-${PROVIDER}.json`);
const MAGIC = 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';

// User alice as WeChat knows her. The provider's stand-in for WeChat must answer
// code2Session with this openid and session_key (given in the state params), so
// that the signature below, sha1(rawData + session_key) over UTF-8 bytes, verifies.
const OPENID = 'oGZUI0egBJY1zhBYw2KhdUfwVJJE';
const SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ=='; // base64 of 16 bytes
const USER = {
  nickName: '爱丽丝 Alice',
  gender: 2,
  language: 'zh_CN',
  city: 'Guangzhou',
  province: 'Guangdong',
  country: 'China',
  avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/alice/132',
};
const RAW_DATA = JSON.stringify(USER);
const sha1 = (text) => crypto.createHash('sha1').update(text, 'utf8').digest('hex');
const SIGNATURE = sha1(RAW_DATA + SESSION_KEY);
const FORGED_SIGNATURE = sha1(RAW_DATA + 'AAAAAAAAAAAAAAAAAAAAAA==');
const USER_INFO = Object.assign({}, USER, { openId: OPENID });

const PAINT_ID = 'mi3k9x2a7q4z';
const ACTION_LIST = [
  { method: 'moveTo', data: [12, 30] },
  { method: 'lineTo', data: [48, 96] },
  { method: 'setStrokeStyle', data: ['#FF0000'] },
  { method: 'stroke', data: [] },
];
const ACTIONS = JSON.stringify(ACTION_LIST);

const JSON_TYPE = { 'Content-Type': regex('^application/json(;.*)?$', 'application/json; charset=utf-8') };

// --- provider states (the Go provider implements one handler per name) ---

// WeChat's code2Session answers `code` with alice's openid and session_key.
function wechatAccepts(code) {
  return {
    description: `WeChat accepts code ${code} for user alice`,
    parameters: { code, openid: OPENID, session_key: SESSION_KEY, rawData: RAW_DATA, signature: SIGNATURE },
  };
}

// The session store maps `code` to alice's user info (rawData + openId).
function verifiedSession(code) {
  return { description: `a verified session exists for code ${code}`, parameters: { code, openid: OPENID, rawData: RAW_DATA } };
}

const aliceHasDrawings = {
  description: 'user alice has drawings',
  parameters: { openid: OPENID, drawings: [{ id: PAINT_ID, actions: ACTIONS }] },
};

// --- message shapes ---

function firstHeaders(code, signature) {
  return { 'X-WX-Code': code, 'X-WX-RawData': encodeURIComponent(RAW_DATA), 'X-WX-Signature': signature || SIGNATURE };
}

function sessionErrorBody(reason) {
  const body = { [MAGIC]: 1, error: { name: 'Error', message: like('session error text'), detail: like({}) } };
  if (reason) body.reason = reason;
  return body;
}

const userInfoBody = { wxUserInfo: like(USER_INFO) };
const successBody = (data) => ({ code: 0, msg: 'success', data });
const failBody = (reason, message) => ({ code: -1, msg: 'fail', error: { reason, message: like(message) } });

// The answer a test uses to establish a session locally before the request under contract.
const ESTABLISHED = { statusCode: 200, data: { wxUserInfo: USER_INFO } };

// The mock server records a request as matched a moment after it has
// answered it: a test whose last request came back just now can be told it
// was "expected but not received" (seen in about one run in five). So every
// test's body is followed by a short pause before the mock server is asked.
const MATCH_SETTLE_MS = 50;

function newPact() {
  const pact = new PactV3({ consumer: CONSUMER, provider: PROVIDER, dir: PACT_DIR, logLevel: 'warn' });
  const executeTest = pact.executeTest.bind(pact);
  pact.executeTest = (fn) => executeTest(async (mockServer) => {
    const result = await fn(mockServer);
    await new Promise((resolve) => setTimeout(resolve, MATCH_SETTLE_MS));
    return result;
  });
  return pact;
}

function libraryFor(mockServer, wx) {
  const client = createClient({ wx });
  return createPaints({ baseUrl: `${mockServer.url}/applet`, client });
}

// pact merges into an existing file: start from none.
test.before(() => fs.rmSync(PACT_FILE, { force: true }));

test('first request of a visit logs in with code, rawData and signature', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [wechatAccepts('CODE-ALICE-1')],
    uponReceiving: 'a first request of a visit with code, rawData and signature',
    withRequest: { method: 'GET', path: '/applet/session', headers: firstHeaders('CODE-ALICE-1') },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: userInfoBody },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-ALICE-1'], rawData: RAW_DATA, signature: SIGNATURE });
    const user = await libraryFor(mockServer, wx).session();
    assert.equal(user.openId, OPENID);
    assert.equal(user.nickName, USER.nickName);
    assert.equal(wx.loginCalls, 1);
  });
});

test('a later request sends the code only', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [verifiedSession('CODE-ALICE')],
    uponReceiving: 'a request with the code of a verified session',
    withRequest: { method: 'GET', path: '/applet/session', headers: { 'X-WX-Code': 'CODE-ALICE' } },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: userInfoBody },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-ALICE'], rawData: RAW_DATA, signature: SIGNATURE, local: [ESTABLISHED] });
    const paints = libraryFor(mockServer, wx);
    await paints.session(); // establishes the session (answered locally)
    const user = await paints.session();
    assert.equal(user.openId, OPENID);
    assert.deepEqual(Object.keys(wx.requests[1].header), ['X-WX-Code']);
  });
});

// The retry after a fresh wx.login, shared by the expired and exchange-failed tests.
const reloginInteraction = {
  states: [wechatAccepts('CODE-ALICE-2')],
  uponReceiving: 'the first request after logging in again',
  withRequest: { method: 'GET', path: '/applet/session', headers: firstHeaders('CODE-ALICE-2') },
  willRespondWith: { status: 200, headers: JSON_TYPE, body: userInfoBody },
};

test('an expired session makes the client log in again and retry', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [{ description: 'no session exists for code CODE-GONE', parameters: { code: 'CODE-GONE' } }],
    uponReceiving: 'a request with the code of an expired session',
    withRequest: { method: 'GET', path: '/applet/session', headers: { 'X-WX-Code': 'CODE-GONE' } },
    willRespondWith: { status: 401, headers: JSON_TYPE, body: sessionErrorBody('ERR_SESSION_EXPIRED') },
  });
  pact.addInteraction(reloginInteraction);
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-GONE', 'CODE-ALICE-2'], rawData: RAW_DATA, signature: SIGNATURE, local: [ESTABLISHED] });
    const paints = libraryFor(mockServer, wx);
    await paints.session();
    const user = await paints.session();
    assert.equal(user.openId, OPENID);
    assert.equal(wx.loginCalls, 2);
    assert.deepEqual(wx.requests.map((r) => r.header['X-WX-Code']), ['CODE-GONE', 'CODE-GONE', 'CODE-ALICE-2']);
  });
});

test('a failed code exchange makes the client log in again and retry', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [{ description: 'WeChat refuses code CODE-BAD', parameters: { code: 'CODE-BAD', errcode: 40029, errmsg: 'invalid code' } }],
    uponReceiving: 'a first request with a code WeChat refuses',
    withRequest: { method: 'GET', path: '/applet/session', headers: firstHeaders('CODE-BAD') },
    willRespondWith: { status: 401, headers: JSON_TYPE, body: sessionErrorBody('ERR_SESSION_KEY_EXCHANGE_FAILED') },
  });
  pact.addInteraction(reloginInteraction);
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-BAD', 'CODE-ALICE-2'], rawData: RAW_DATA, signature: SIGNATURE });
    const user = await libraryFor(mockServer, wx).session();
    assert.equal(user.openId, OPENID);
    assert.equal(wx.loginCalls, 2);
  });
});

test('untrusted raw data fails the request without a retry', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [wechatAccepts('CODE-ALICE-3')],
    uponReceiving: 'a first request whose signature does not match rawData',
    withRequest: { method: 'GET', path: '/applet/session', headers: firstHeaders('CODE-ALICE-3', FORGED_SIGNATURE) },
    willRespondWith: { status: 401, headers: JSON_TYPE, body: sessionErrorBody('ERR_UNTRUSTED_RAW_DATA') },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-ALICE-3'], rawData: RAW_DATA, signature: FORGED_SIGNATURE });
    await assert.rejects(libraryFor(mockServer, wx).session(), (err) => err.reason === 'ERR_UNTRUSTED_RAW_DATA');
    assert.equal(wx.requests.length, 1);
  });
});

test('rawData that is not JSON fails the request (session error without reason)', async () => {
  const badRawData = '{"nickName":"Alice","gender":2';
  const pact = newPact();
  pact.addInteraction({
    states: [{ description: 'no session exists for code CODE-MALFORMED', parameters: { code: 'CODE-MALFORMED' } }],
    uponReceiving: 'a first request whose rawData is not JSON',
    withRequest: {
      method: 'GET',
      path: '/applet/session',
      headers: { 'X-WX-Code': 'CODE-MALFORMED', 'X-WX-RawData': encodeURIComponent(badRawData), 'X-WX-Signature': sha1(badRawData + SESSION_KEY) },
    },
    willRespondWith: { status: 400, headers: JSON_TYPE, body: sessionErrorBody(null) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-MALFORMED'], rawData: badRawData, signature: sha1(badRawData + SESSION_KEY) });
    await assert.rejects(libraryFor(mockServer, wx).session(), (err) => err.reason === undefined && err.detail.name === 'Error');
    assert.equal(wx.requests.length, 1);
  });
});

test('save a drawing', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [verifiedSession('CODE-ALICE')],
    uponReceiving: 'a request to save a drawing',
    withRequest: {
      method: 'POST',
      path: '/applet/session/paints/save',
      headers: { 'X-WX-Code': 'CODE-ALICE', 'Content-Type': 'application/json' },
      body: { id: string(PAINT_ID), actions: string(ACTIONS) },
    },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({}) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-ALICE'], rawData: RAW_DATA, signature: SIGNATURE, local: [ESTABLISHED] });
    const paints = libraryFor(mockServer, wx);
    await paints.session();
    // the action list as the canvas gives it: the library sends its JSON text
    assert.deepEqual(await paints.save({ id: PAINT_ID, actions: ACTION_LIST }), {});
  });
});

test('list the drawings', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [verifiedSession('CODE-ALICE'), aliceHasDrawings],
    uponReceiving: 'a request to list the drawings',
    withRequest: { method: 'GET', path: '/applet/session/paints/list', headers: { 'X-WX-Code': 'CODE-ALICE' } },
    willRespondWith: {
      status: 200,
      headers: JSON_TYPE,
      body: successBody(eachLike({ id: string(PAINT_ID), actions: string(ACTIONS) })),
    },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-ALICE'], rawData: RAW_DATA, signature: SIGNATURE, local: [ESTABLISHED] });
    const paints = libraryFor(mockServer, wx);
    await paints.session();
    const list = await paints.list();
    assert.equal(list.length, 1);
    assert.equal(list[0].id, PAINT_ID);
    assert.deepEqual(JSON.parse(list[0].actions), ACTION_LIST);
  });
});

test('delete a drawing', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [verifiedSession('CODE-ALICE'), aliceHasDrawings],
    uponReceiving: 'a request to delete a drawing',
    withRequest: {
      method: 'POST',
      path: '/applet/session/paints/delete',
      headers: { 'X-WX-Code': 'CODE-ALICE', 'Content-Type': 'application/json' },
      body: { id: string(PAINT_ID) },
    },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({}) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-ALICE'], rawData: RAW_DATA, signature: SIGNATURE, local: [ESTABLISHED] });
    const paints = libraryFor(mockServer, wx);
    await paints.session();
    assert.deepEqual(await paints.remove(PAINT_ID), {});
  });
});

test('saving actions that are not JSON is refused with ERR_INVALID_REQUEST', async () => {
  const badActions = '[{"method":"moveTo","data":[12,30]';
  const pact = newPact();
  pact.addInteraction({
    states: [verifiedSession('CODE-ALICE')],
    uponReceiving: 'a request to save a drawing whose actions are not JSON',
    withRequest: {
      method: 'POST',
      path: '/applet/session/paints/save',
      headers: { 'X-WX-Code': 'CODE-ALICE', 'Content-Type': 'application/json' },
      body: { id: string(PAINT_ID), actions: badActions },
    },
    willRespondWith: { status: 400, headers: JSON_TYPE, body: failBody('ERR_INVALID_REQUEST', 'actions is not valid JSON') },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-ALICE'], rawData: RAW_DATA, signature: SIGNATURE, local: [ESTABLISHED] });
    const paints = libraryFor(mockServer, wx);
    await paints.session();
    await assert.rejects(paints.save({ id: PAINT_ID, actions: badActions }), (err) => err.reason === 'ERR_INVALID_REQUEST' && err.statusCode === 400);
  });
});

test('a paints route without a session is refused with ERR_NO_SESSION', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [{ description: 'nobody is logged in' }],
    uponReceiving: 'a request for the drawings without a session',
    withRequest: { method: 'GET', path: '/applet/session/paints/list' },
    willRespondWith: { status: 401, headers: JSON_TYPE, body: failBody('ERR_NO_SESSION', 'no session') },
  });
  await pact.executeTest(async (mockServer) => {
    // The session client always logs in, so the helpers ride on a bare wx.request here.
    const wx = createHttpWx({ codes: [], rawData: RAW_DATA, signature: SIGNATURE });
    const bare = { request: (o) => new Promise((resolve, reject) => wx.request(Object.assign({}, o, { success: resolve, fail: reject }))) };
    const paints = createPaints({ baseUrl: `${mockServer.url}/applet`, client: bare });
    await assert.rejects(paints.list(), (err) => err.reason === 'ERR_NO_SESSION');
    assert.equal(wx.requests[0].header['X-WX-Code'], undefined);
  });
});

// ===================================================================================
// The v2 API (PROTOCOL §6): wx.login alone, then Authorization: Bearer <token>.
// Every interaction below is a request the v2 client (index.js .v2) makes by itself.
// ===================================================================================

const DEVICE = 'iPhone 15 Pro (WeChat 8.0.50)';
const RFC3339 = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$';
const TOKEN_REGEX = '^ost_[A-Za-z0-9_-]{43}$';
const timestamp = (example) => regex(RFC3339, example);

// The server keeps a user's tokens in the user's shard (domain.UserShard), which a token
// names in its first character after ost_ (the top six bits of its first byte): a token a
// provider state seeds for alice must name her shard, or the store refuses it. These are
// fixed (derived from their label), so the pact file is stable.
const sha256 = (text) => crypto.createHash('sha256').update(text, 'utf8').digest();
const ALICE_SHARD = sha256('onestroke/token-shard\x00' + OPENID)[0] % 64;
function aliceToken(label) {
  const bytes = sha256(`onestroke pact token ${label}`);
  bytes[0] = (ALICE_SHARD << 2) | (bytes[0] & 3);
  return 'ost_' + bytes.toString('base64url');
}
const TOKEN = aliceToken('alice'); // alice's live token on this phone
const TOKEN_EXPIRED = aliceToken('alice expired');
const TOKEN_RELOGIN = aliceToken('alice after expiry'); // the answer to the login after expiry
const TOKEN_LOGIN = aliceToken('alice login'); // the example answer to a first login
const TOKEN_AFTER_STALE = aliceToken('alice after a stale session_key'); // the answer to the login after it

// Session ids: 22 base64url characters, as the service makes them.
const SESSION_PHONE = 'pactSessionAlicePhone1';
const SESSION_PAD = 'pactSessionAliceIPad01';
const SESSION_EXPIRED = 'pactSessionAliceGone01';
const SESSION_UNKNOWN = 'pactSessionNobody00001';
const PAD = 'iPad Air (WeChat 8.0.49)';

const PROFILE = { nickName: '爱丽丝', avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/alice-v2/132' };
const NEW_PROFILE = { nickName: 'Alice 爱丽丝', avatarUrl: 'https://cdn.example.com/avatars/alice.png' };

// --- v2 provider states ---

// WeChat's code2Session answers `code` with alice's openid and session_key (same as the
// legacy state of that name; a v2 login needs no rawData).
function wechatAcceptsLogin(code) {
  return { description: `WeChat accepts code ${code} for user alice`, parameters: { code, openid: OPENID, session_key: SESSION_KEY } };
}

// A live session of alice's, reached by `token` (its SHA-256 digest in the store).
function aliceHasToken(token, sessionId, device) {
  return { description: 'alice has a token', parameters: { token, openid: OPENID, sessionId, device } };
}

// A session of alice's that existed and expired (idle past its timeout): the token is unknown now.
const aliceTokenExpired = {
  description: "alice's token has expired",
  parameters: { token: TOKEN_EXPIRED, openid: OPENID, sessionId: SESSION_EXPIRED },
};

// A second live session of alice's, on another device (its token is the provider's own).
const aliceHasAnotherSession = {
  description: 'alice has another session',
  parameters: { openid: OPENID, sessionId: SESSION_PAD, device: PAD },
};

const aliceHasProfile = {
  description: 'alice has a profile',
  parameters: Object.assign({ openid: OPENID }, PROFILE),
};

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const stored = (token, sessionId) => ({
  [v2.STORAGE_KEY]: { token, sessionId, openId: OPENID, expiresAt: '2099-12-31T00:00:00Z', idleTimeout: 604800 },
});

function loginInteraction(code, token, description) {
  return {
    states: [wechatAcceptsLogin(code)],
    uponReceiving: description,
    withRequest: {
      method: 'POST',
      path: '/applet/v2/login',
      headers: { 'Content-Type': 'application/json' },
      body: { code, device: DEVICE },
    },
    willRespondWith: {
      status: 200,
      headers: JSON_TYPE,
      body: successBody({
        token: regex(TOKEN_REGEX, token),
        sessionId: string(SESSION_PHONE),
        openId: OPENID,
        expiresAt: timestamp('2026-12-01T08:00:00Z'),
        idleTimeout: integer(604800),
      }),
    },
  };
}

function v2Client(mockServer, wx) {
  return v2.createClient({ baseUrl: `${mockServer.url}/applet`, device: DEVICE, wx });
}

test('v2: the tokens seeded for alice fall into her shard and have the token format', () => {
  for (const t of [TOKEN, TOKEN_EXPIRED, TOKEN_RELOGIN, TOKEN_LOGIN, TOKEN_AFTER_STALE]) {
    assert.match(t, v2.TOKEN_PATTERN);
    assert.equal(Buffer.from(t.slice(4), 'base64url')[0] >> 2, ALICE_SHARD, 'the first character names her shard');
  }
});

test('v2: login with a wx.login code, the token kept in storage', async () => {
  const pact = newPact();
  pact.addInteraction(loginInteraction('CODE-V2-1', TOKEN_LOGIN, 'a v2 login with a wx.login code'));
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-V2-1'] });
    const data = await v2Client(mockServer, wx).login();
    assert.equal(data.token, TOKEN_LOGIN);
    assert.equal(data.openId, OPENID);
    assert.equal(wx.storage[v2.STORAGE_KEY].token, TOKEN_LOGIN);
    assert.equal(wx.loginCalls, 1);
  });
});

test('v2: a login code WeChat refuses makes the client call wx.login again', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [{ description: 'WeChat refuses code CODE-V2-BAD', parameters: { code: 'CODE-V2-BAD', errcode: 40029, errmsg: 'invalid code' } }],
    uponReceiving: 'a v2 login with a code WeChat refuses',
    withRequest: {
      method: 'POST',
      path: '/applet/v2/login',
      headers: { 'Content-Type': 'application/json' },
      body: { code: 'CODE-V2-BAD', device: DEVICE },
    },
    willRespondWith: { status: 401, headers: JSON_TYPE, body: failBody('ERR_LOGIN_CODE_INVALID', 'WeChat refused the login code') },
  });
  pact.addInteraction(loginInteraction('CODE-V2-3', TOKEN_LOGIN, 'a v2 login with a new code after a refused one'));
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-V2-BAD', 'CODE-V2-3'] });
    const data = await v2Client(mockServer, wx).login();
    assert.equal(data.token, TOKEN_LOGIN);
    assert.equal(wx.loginCalls, 2);
  });
});

test('v2: a token that expired makes the client log in again and retry once', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceTokenExpired],
    uponReceiving: 'a v2 request with a token that expired',
    withRequest: { method: 'GET', path: '/applet/v2/me', headers: bearer(TOKEN_EXPIRED) },
    willRespondWith: {
      status: 401,
      // The provider's verifier (pact_matching) takes a regex to match the whole
      // header value, not a part of it as JavaScript's test() does: the pattern
      // runs to the end of the value, or the server's trailing quote fails it.
      headers: Object.assign({ 'WWW-Authenticate': regex('^Bearer\\b.*\\berror="invalid_token".*$', 'Bearer error="invalid_token"') }, JSON_TYPE),
      body: failBody('ERR_SESSION_EXPIRED', 'the session has expired'),
    },
  });
  pact.addInteraction(loginInteraction('CODE-V2-2', TOKEN_RELOGIN, 'a v2 login again after the token expired'));
  pact.addInteraction({
    states: [aliceHasToken(TOKEN_RELOGIN, SESSION_PHONE, DEVICE)],
    uponReceiving: 'the v2 request retried with the new token',
    withRequest: { method: 'GET', path: '/applet/v2/me', headers: bearer(TOKEN_RELOGIN) },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({ openId: OPENID }) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-V2-2'], storage: stored(TOKEN_EXPIRED, SESSION_EXPIRED) });
    const me = await v2Client(mockServer, wx).me();
    assert.equal(me.openId, OPENID);
    assert.equal(wx.loginCalls, 1);
    assert.deepEqual(wx.requests.map((r) => r.header.Authorization), [`Bearer ${TOKEN_EXPIRED}`, undefined, `Bearer ${TOKEN_RELOGIN}`]);
    assert.equal(wx.storage[v2.STORAGE_KEY].token, TOKEN_RELOGIN);
  });
});

test('v2: logout revokes the calling token', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE)],
    uponReceiving: 'a v2 logout',
    withRequest: { method: 'POST', path: '/applet/v2/logout', headers: bearer(TOKEN) },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({}) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).logout(), {});
    assert.equal(v2.STORAGE_KEY in wx.storage, false);
  });
});

test('v2: logout-all ends every session of the user', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasAnotherSession],
    uponReceiving: 'a v2 logout of every session',
    withRequest: { method: 'POST', path: '/applet/v2/logout-all', headers: bearer(TOKEN) },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({ revoked: integer(2) }) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).logoutAll(), { revoked: 2 });
    assert.equal(v2.STORAGE_KEY in wx.storage, false);
  });
});

test('v2: list the sessions', async () => {
  const session = (sessionId, device, current) => ({
    sessionId: string(sessionId),
    device: string(device),
    createdAt: timestamp('2026-12-01T08:00:00Z'),
    lastSeenAt: timestamp('2026-12-01T09:30:00.5Z'),
    expiresAt: timestamp('2026-12-08T09:30:00.5Z'),
    current: boolean(current),
  });
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasAnotherSession],
    uponReceiving: 'a v2 request for the sessions',
    withRequest: { method: 'GET', path: '/applet/v2/sessions', headers: bearer(TOKEN) },
    // two sessions, newest first: their order is not part of the contract here
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody([session(SESSION_PAD, PAD, false), session(SESSION_PHONE, DEVICE, true)]) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const list = await v2Client(mockServer, wx).sessions();
    assert.equal(list.length, 2);
    assert.deepEqual(list.filter((s) => s.current).map((s) => s.sessionId), [SESSION_PHONE]);
  });
});

test('v2: revoke another session', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasAnotherSession],
    uponReceiving: 'a v2 request to revoke another session of the user',
    withRequest: { method: 'DELETE', path: `/applet/v2/sessions/${SESSION_PAD}`, headers: bearer(TOKEN) },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({}) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).revoke(SESSION_PAD), {});
    assert.equal(wx.storage[v2.STORAGE_KEY].token, TOKEN, 'this session is kept');
  });
});

test('v2: revoking a session the user does not have is ERR_NOT_FOUND', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE)],
    uponReceiving: 'a v2 request to revoke an unknown session',
    withRequest: { method: 'DELETE', path: `/applet/v2/sessions/${SESSION_UNKNOWN}`, headers: bearer(TOKEN) },
    willRespondWith: { status: 404, headers: JSON_TYPE, body: failBody('ERR_NOT_FOUND', 'no such session') },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    await assert.rejects(v2Client(mockServer, wx).revoke(SESSION_UNKNOWN), (err) => err.reason === 'ERR_NOT_FOUND' && err.status === 404);
    assert.equal(wx.requests.length, 1);
  });
});

test('v2: read the profile', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasProfile],
    uponReceiving: 'a v2 request for the profile',
    withRequest: { method: 'GET', path: '/applet/v2/me', headers: bearer(TOKEN) },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody(Object.assign({ openId: OPENID }, PROFILE)) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).me(), Object.assign({ openId: OPENID }, PROFILE));
  });
});

test('v2: update the profile', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE)],
    uponReceiving: 'a v2 request to update the profile',
    withRequest: {
      method: 'PATCH',
      path: '/applet/v2/me',
      headers: Object.assign({ 'Content-Type': 'application/json' }, bearer(TOKEN)),
      body: NEW_PROFILE,
    },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody(Object.assign({ openId: OPENID }, NEW_PROFILE)) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).updateMe(NEW_PROFILE), Object.assign({ openId: OPENID }, NEW_PROFILE));
  });
});

test('v2: the legacy session route with a token', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasProfile],
    uponReceiving: 'a request for the session with a token',
    withRequest: { method: 'GET', path: '/applet/session', headers: bearer(TOKEN) },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: { wxUserInfo: Object.assign({ openId: OPENID }, PROFILE) } },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const user = await v2Client(mockServer, wx).paints.session();
    assert.equal(user.openId, OPENID);
    assert.equal(user.nickName, PROFILE.nickName);
  });
});

test('v2: save a drawing with a token', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE)],
    uponReceiving: 'a request to save a drawing with a token',
    withRequest: {
      method: 'POST',
      path: '/applet/session/paints/save',
      headers: Object.assign({ 'Content-Type': 'application/json' }, bearer(TOKEN)),
      body: { id: string(PAINT_ID), actions: string(ACTIONS) },
    },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({}) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).paints.save({ id: PAINT_ID, actions: ACTION_LIST }), {});
    assert.equal(wx.requests[0].header['X-WX-Code'], undefined);
  });
});

test('v2: list the drawings with a token', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasDrawings],
    uponReceiving: 'a request to list the drawings with a token',
    withRequest: { method: 'GET', path: '/applet/session/paints/list', headers: bearer(TOKEN) },
    willRespondWith: {
      status: 200,
      headers: JSON_TYPE,
      body: successBody(eachLike({ id: string(PAINT_ID), actions: string(ACTIONS) })),
    },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const list = await v2Client(mockServer, wx).paints.list();
    assert.equal(list.length, 1);
    assert.deepEqual(JSON.parse(list[0].actions), ACTION_LIST);
  });
});

test('v2: delete a drawing with a token', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasDrawings],
    uponReceiving: 'a request to delete a drawing with a token',
    withRequest: {
      method: 'POST',
      path: '/applet/session/paints/delete',
      headers: Object.assign({ 'Content-Type': 'application/json' }, bearer(TOKEN)),
      body: { id: string(PAINT_ID) },
    },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({}) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).paints.remove(PAINT_ID), {});
  });
});

// ===================================================================================
// WeChat's platform services (PROTOCOL §8): the phone number, encryptedData, and the
// content check a new nickName passes.
// ===================================================================================

const PHONE = { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' };
const PHONE_CODE = 'PHONE-CODE-ALICE-1';
const PHONE_CODE_USED = 'PHONE-CODE-USED';

// encryptedData as WeChat makes it (PROTOCOL §8): the JSON of the payload with a watermark
// naming the app, AES-128-CBC under the base64-decoded session_key, PKCS#7 padding (Node's
// default), both results base64. The provider's app id is providerAppID and alice's seeded
// session_key is seededSessionKey in tests/pact/provider_test.go: SESSION_KEY above. The IV
// and the watermark's time are fixed, so the pact file is stable.
const PROVIDER_APP_ID = 'wxPROVIDER';
const WATERMARK = { appid: PROVIDER_APP_ID, timestamp: 1764576000 }; // 2025-12-01T08:00:00Z
// What wx.getWeRunData gives: the steps of the last days.
const WERUN = { stepInfoList: [{ timestamp: 1764432000, step: 8042 }, { timestamp: 1764518400, step: 12507 }] };
// A session_key alice had before her last login: data encrypted under it is stale.
const OLD_SESSION_KEY = sha256('onestroke pact old session_key of alice').subarray(0, 16).toString('base64');

function encryptedData(sessionKey, payload, label) {
  const iv = sha256(`onestroke pact iv ${label}`).subarray(0, 16);
  const cipher = crypto.createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  const plain = JSON.stringify(Object.assign({}, payload, { watermark: WATERMARK }));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return { encryptedData: data.toString('base64'), iv: iv.toString('base64') };
}
const WERUN_DATA = encryptedData(SESSION_KEY, WERUN, 'werun');
const STALE_DATA = encryptedData(OLD_SESSION_KEY, WERUN, 'werun stale');

function openedWith(sessionKey, sealed) {
  const decipher = crypto.createDecipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), Buffer.from(sealed.iv, 'base64'));
  const plain = Buffer.concat([decipher.update(Buffer.from(sealed.encryptedData, 'base64')), decipher.final()]);
  return JSON.parse(plain.toString('utf8'));
}

// --- §8 provider states ---

const aliceHasPhoneCode = {
  description: 'WeChat has a phone code for alice',
  parameters: Object.assign({ code: PHONE_CODE, openid: OPENID }, PHONE),
};
const phoneCodeRefused = {
  description: `WeChat refuses phone code ${PHONE_CODE_USED}`,
  parameters: { code: PHONE_CODE_USED, errcode: 40029, errmsg: 'invalid code' },
};
const aliceHasPhoneNumber = {
  description: 'alice has a phone number',
  parameters: Object.assign({ openid: OPENID }, PHONE),
};
const contentRisky = (nickName) => ({ description: "WeChat's content check finds a nickName risky", parameters: { nickName } });
const contentReview = (nickName) => ({ description: "WeChat's content check puts a nickName under review", parameters: { nickName } });

const postJSON = (path, body) => ({
  method: 'POST',
  path,
  headers: Object.assign({ 'Content-Type': 'application/json' }, bearer(TOKEN)),
  body,
});

test('v2: the decrypt vectors open under alice\'s session_key, and the stale one does not', () => {
  assert.deepEqual(openedWith(SESSION_KEY, WERUN_DATA), Object.assign({}, WERUN, { watermark: WATERMARK }));
  assert.deepEqual(openedWith(OLD_SESSION_KEY, STALE_DATA), Object.assign({}, WERUN, { watermark: WATERMARK }));
  assert.throws(() => openedWith(SESSION_KEY, STALE_DATA), 'the provider must fail to open it');
});

test('v2: the phone number behind a getPhoneNumber code', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasPhoneCode],
    uponReceiving: 'a v2 request for the phone number behind a getPhoneNumber code',
    withRequest: postJSON('/applet/v2/me/phone', { code: PHONE_CODE }),
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody(PHONE) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).phoneNumber(PHONE_CODE), PHONE);
  });
});

test('v2: a phone code WeChat refuses is ERR_PHONE_CODE_INVALID, and the token is kept', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), phoneCodeRefused],
    uponReceiving: 'a v2 request for the phone number behind a code WeChat refuses',
    withRequest: postJSON('/applet/v2/me/phone', { code: PHONE_CODE_USED }),
    willRespondWith: { status: 400, headers: JSON_TYPE, body: failBody('ERR_PHONE_CODE_INVALID', 'WeChat refused this phone number code') },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    await assert.rejects(v2Client(mockServer, wx).phoneNumber(PHONE_CODE_USED), (err) => err.reason === 'ERR_PHONE_CODE_INVALID' && err.status === 400);
    assert.equal(wx.storage[v2.STORAGE_KEY].token, TOKEN);
    assert.equal(wx.loginCalls, 0);
  });
});

test('v2: the profile shows the stored phone number', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasProfile, aliceHasPhoneNumber],
    uponReceiving: 'a v2 request for the profile of a user with a phone number',
    withRequest: { method: 'GET', path: '/applet/v2/me', headers: bearer(TOKEN) },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody(Object.assign({ openId: OPENID }, PROFILE, { phoneNumber: PHONE.phoneNumber })) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const me = await v2Client(mockServer, wx).me();
    assert.equal(me.phoneNumber, PHONE.phoneNumber);
    assert.equal(me.nickName, PROFILE.nickName);
  });
});

test('v2: decrypt encryptedData with the session\'s session_key, the watermark removed', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE)],
    uponReceiving: "a v2 request to decrypt data encrypted under the session's session_key",
    withRequest: postJSON('/applet/v2/me/decrypt', WERUN_DATA),
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody(WERUN) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const out = await v2Client(mockServer, wx).decrypt(WERUN_DATA.encryptedData, WERUN_DATA.iv);
    assert.deepEqual(out, WERUN);
    assert.equal('watermark' in out, false);
  });
});

test('v2: a stale session_key makes the client log in again, then reject', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE)],
    uponReceiving: 'a v2 request to decrypt data encrypted under an older session_key',
    withRequest: postJSON('/applet/v2/me/decrypt', STALE_DATA),
    willRespondWith: { status: 401, headers: JSON_TYPE, body: failBody('ERR_SESSION_KEY_STALE', 'the data does not open with the session_key') },
  });
  pact.addInteraction(loginInteraction('CODE-V2-4', TOKEN_AFTER_STALE, 'a v2 login again after a stale session_key'));
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: ['CODE-V2-4'], storage: stored(TOKEN, SESSION_PHONE) });
    await assert.rejects(v2Client(mockServer, wx).decrypt(STALE_DATA.encryptedData, STALE_DATA.iv),
      (err) => err.reason === v2.SESSION_KEY_STALE && err.status === 401);
    assert.equal(wx.loginCalls, 1);
    assert.deepEqual(wx.requests.map((r) => [r.method, r.url.replace(mockServer.url, '')]),
      [['POST', '/applet/v2/me/decrypt'], ['POST', '/applet/v2/login']], 'not retried with the same data');
    assert.equal(wx.storage[v2.STORAGE_KEY].token, TOKEN_AFTER_STALE, 'the new session (and session_key) is kept');
  });
});

test('v2: a nickName WeChat finds risky is refused with ERR_CONTENT_RISKY', async () => {
  const risky = '加微信领红包 Alice';
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), contentRisky(risky)],
    uponReceiving: 'a v2 request to set a nickName the content check finds risky',
    withRequest: { method: 'PATCH', path: '/applet/v2/me', headers: Object.assign({ 'Content-Type': 'application/json' }, bearer(TOKEN)), body: { nickName: risky } },
    willRespondWith: { status: 422, headers: JSON_TYPE, body: failBody('ERR_CONTENT_RISKY', 'WeChat found this nickName risky') },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    await assert.rejects(v2Client(mockServer, wx).updateMe({ nickName: risky }), (err) => err.reason === 'ERR_CONTENT_RISKY' && err.status === 422);
    assert.equal(wx.storage[v2.STORAGE_KEY].token, TOKEN);
    assert.equal(wx.requests.length, 1);
  });
});

test('v2: a nickName under WeChat\'s review is stored and flagged', async () => {
  const review = 'Alice 代购';
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), contentReview(review)],
    uponReceiving: 'a v2 request to set a nickName the content check puts under review',
    withRequest: { method: 'PATCH', path: '/applet/v2/me', headers: Object.assign({ 'Content-Type': 'application/json' }, bearer(TOKEN)), body: { nickName: review } },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({ openId: OPENID, nickName: review, nickNameInReview: true }) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).updateMe({ nickName: review }), { openId: OPENID, nickName: review, nickNameInReview: true });
  });
});

// ===================================================================================
// The v2 drawing routes (PROTOCOL §7): pages, ETags and conditional saves.
// ===================================================================================

const ETAG_REGEX = '^"[0-9a-f]{16}"$';
const CURSOR_REGEX = '^[A-Za-z0-9_-]+$';
// The revisions the provider state seeds (fixed, so that the ETags are known here).
const ETAG_SUNSET = '"00000000000000a1"';
const ETAG_STALE = '"00000000000000ff"';
const SECOND_ID = 'mi3k9x2a7q5y';
const NEW_ID = 'mi3k9x2b0000';

function aliceHasV2Drawings(count) {
  const drawings = [{ id: PAINT_ID, title: 'Sunset 日落', actions: ACTIONS, revision: ETAG_SUNSET.replace(/"/g, '') }];
  if (count > 1) drawings.push({ id: SECOND_ID, title: '', actions: '[]', revision: '00000000000000b2' });
  return { description: count > 1 ? 'alice has two v2 drawings' : 'alice has a v2 drawing', parameters: { openid: OPENID, drawings } };
}

const itemShape = (id, title, etag) => ({
  id: string(id),
  title: string(title),
  createdAt: timestamp('2026-12-01T08:00:00Z'),
  updatedAt: timestamp('2026-12-01T08:00:00Z'),
  bytes: integer(ACTIONS.length),
  etag: regex(ETAG_REGEX, etag),
});

const putJSON = (path, headers, body) => ({
  method: 'PUT',
  path,
  headers: Object.assign({ 'Content-Type': 'application/json' }, bearer(TOKEN), headers),
  body,
});

test('v2: a page of the drawings, with the cursor of the next', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasV2Drawings(2)],
    uponReceiving: 'a v2 request for the first page of one drawing',
    withRequest: { method: 'GET', path: '/applet/v2/drawings', query: { limit: '1' }, headers: bearer(TOKEN) },
    willRespondWith: {
      status: 200,
      headers: JSON_TYPE,
      body: successBody({ items: eachLike(itemShape(SECOND_ID, '', '"00000000000000b2"')), next: regex(CURSOR_REGEX, 'AQAAAAAAAAAAAG1pM2s5eDJhN3E0eg') }),
    },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const page = await v2Client(mockServer, wx).drawings.page({ limit: 1 });
    assert.equal(page.items.length, 1);
    assert.match(page.next, new RegExp(CURSOR_REGEX));
    assert.match(page.items[0].etag, new RegExp(ETAG_REGEX));
    assert.equal('actions' in page.items[0], false);
  });
});

test('v2: the last page has no next', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasV2Drawings(1)],
    uponReceiving: 'a v2 request for a page that holds the last drawing',
    withRequest: { method: 'GET', path: '/applet/v2/drawings', headers: bearer(TOKEN) },
    willRespondWith: {
      status: 200,
      headers: JSON_TYPE,
      body: successBody({ items: eachLike(itemShape(PAINT_ID, 'Sunset 日落', ETAG_SUNSET)), next: null }),
    },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const page = await v2Client(mockServer, wx).drawings.page();
    assert.equal(page.next, null);
    assert.equal(page.items[0].id, PAINT_ID);
  });
});

test('v2: read a drawing, its actions the array and its ETag', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasV2Drawings(1)],
    uponReceiving: 'a v2 request for a drawing',
    withRequest: { method: 'GET', path: `/applet/v2/drawings/${PAINT_ID}`, headers: bearer(TOKEN) },
    willRespondWith: {
      status: 200,
      headers: Object.assign({ ETag: ETAG_SUNSET }, JSON_TYPE),
      body: successBody({
        id: PAINT_ID,
        title: 'Sunset 日落',
        actions: ACTION_LIST,
        createdAt: timestamp('2026-12-01T08:00:00Z'),
        updatedAt: timestamp('2026-12-01T08:00:00Z'),
      }),
    },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const d = await v2Client(mockServer, wx).drawings.get(PAINT_ID);
    assert.deepEqual(d.actions, ACTION_LIST);
    assert.equal(d.etag, ETAG_SUNSET);
  });
});

test('v2: create a drawing, create only (If-None-Match: *)', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE)],
    uponReceiving: 'a v2 request to create a drawing that does not exist yet',
    withRequest: putJSON(`/applet/v2/drawings/${NEW_ID}`, { 'If-None-Match': '*' }, { actions: ACTION_LIST, title: 'Sunrise' }),
    willRespondWith: {
      status: 201,
      headers: Object.assign({ ETag: regex(ETAG_REGEX, '"3f2a9c0d1b4e5f60"') }, JSON_TYPE),
      body: successBody(itemShape(NEW_ID, 'Sunrise', '"3f2a9c0d1b4e5f60"')),
    },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const saved = await v2Client(mockServer, wx).drawings.put(NEW_ID, { actions: ACTION_LIST, title: 'Sunrise' }, { ifNoneMatch: '*' });
    assert.equal(saved.created, true);
    assert.match(saved.etag, new RegExp(ETAG_REGEX));
  });
});

test('v2: save a drawing with the ETag last seen', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasV2Drawings(1)],
    uponReceiving: 'a v2 request to save a drawing with its current ETag',
    withRequest: putJSON(`/applet/v2/drawings/${PAINT_ID}`, { 'If-Match': ETAG_SUNSET }, { actions: ACTION_LIST }),
    willRespondWith: {
      status: 200,
      headers: Object.assign({ ETag: regex(ETAG_REGEX, '"5b1e0c7a9d3f4e21"') }, JSON_TYPE),
      body: successBody(itemShape(PAINT_ID, 'Sunset 日落', '"5b1e0c7a9d3f4e21"')),
    },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    const saved = await v2Client(mockServer, wx).drawings.put(PAINT_ID, { actions: ACTION_LIST }, { ifMatch: ETAG_SUNSET });
    assert.equal(saved.created, false);
    assert.equal(saved.title, 'Sunset 日落', 'the title kept');
  });
});

test('v2: a save with an ETag another device saved over is ERR_CONFLICT', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasV2Drawings(1)],
    uponReceiving: 'a v2 request to save a drawing with a stale ETag',
    withRequest: putJSON(`/applet/v2/drawings/${PAINT_ID}`, { 'If-Match': ETAG_STALE }, { actions: [] }),
    willRespondWith: { status: 412, headers: JSON_TYPE, body: failBody('ERR_CONFLICT', 'The drawing changed since its ETag was read') },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    await assert.rejects(v2Client(mockServer, wx).drawings.put(PAINT_ID, { actions: [] }, { ifMatch: ETAG_STALE }),
      (err) => err.reason === v2.CONFLICT && err.status === 412);
    assert.equal(wx.storage[v2.STORAGE_KEY].token, TOKEN);
  });
});

test('v2: delete a drawing with its ETag', async () => {
  const pact = newPact();
  pact.addInteraction({
    states: [aliceHasToken(TOKEN, SESSION_PHONE, DEVICE), aliceHasV2Drawings(1)],
    uponReceiving: 'a v2 request to delete a drawing with its current ETag',
    withRequest: { method: 'DELETE', path: `/applet/v2/drawings/${PAINT_ID}`, headers: Object.assign({ 'If-Match': ETAG_SUNSET }, bearer(TOKEN)) },
    willRespondWith: { status: 200, headers: JSON_TYPE, body: successBody({}) },
  });
  await pact.executeTest(async (mockServer) => {
    const wx = createHttpWx({ codes: [], storage: stored(TOKEN, SESSION_PHONE) });
    assert.deepEqual(await v2Client(mockServer, wx).drawings.delete(PAINT_ID, { ifMatch: ETAG_SUNSET }), {});
  });
});
