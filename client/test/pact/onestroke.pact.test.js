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

const { createClient, createPaints } = require('../../index.js');
const { createHttpWx } = require('../support/http-wx.js');

const { like, eachLike, string, regex } = MatchersV3;

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

function newPact() {
  return new PactV3({ consumer: CONSUMER, provider: PROVIDER, dir: PACT_DIR, logLevel: 'warn' });
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
