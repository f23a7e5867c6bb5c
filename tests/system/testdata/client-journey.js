'use strict';
// The client library's journey through nginx over HTTPS (tests/system/scaleout_test.go runs it
// with node, NODE_EXTRA_CA_CERTS set to the test CA): the drop-in API (wx.login +
// wx.getUserInfo, then the drawing helpers) and the v2 API (wx.login alone, a token, the
// drawing helpers with the token, sessions, logout), against the real service. Input: the
// JOURNEY environment variable, JSON {base, legacy: {code, rawData, signature}, v2codes: [...]}.
// Output: one JSON object on stdout, which the Go test checks.

const path = require('path');
const client = require(path.join(__dirname, '..', '..', '..', 'client', 'index.js'));
const { createHttpWx } = require(path.join(__dirname, '..', '..', '..', 'client', 'test', 'support', 'http-wx.js'));

async function main() {
  const input = JSON.parse(process.env.JOURNEY);
  const out = {};

  // The drop-in API, as a 2017 mini-program uses it.
  const legacyWx = createHttpWx({ codes: [input.legacy.code], rawData: input.legacy.rawData, signature: input.legacy.signature });
  const legacy = client.createClient({ wx: legacyWx });
  const paints = client.createPaints({ baseUrl: input.base, client: legacy });
  out.legacyUser = await paints.session();
  const id = client.makeId();
  await paints.save({ id, actions: [{ method: 'moveTo', data: [1, 2] }, { method: 'lineTo', data: [30, 40] }] });
  out.legacyList = await paints.list();
  out.legacySavedId = id;
  out.legacyLogins = legacyWx.loginCalls;

  // The v2 API, as a mini-program written today uses it.
  const v2Wx = createHttpWx({ codes: input.v2codes.slice() });
  const api = client.v2.createClient({ baseUrl: input.base, device: 'system test', wx: v2Wx });
  const login = await api.login();
  out.v2OpenId = login.openId;
  out.v2Me = await api.me();
  const v2id = client.makeId();
  await api.paints.save({ id: v2id, actions: [{ method: 'arc', data: [5, 5, 3, 0, 6.28] }] });
  out.v2List = await api.paints.list();
  out.v2SavedId = v2id;
  out.v2Sessions = await api.sessions();
  await api.logout();
  out.v2AfterLogout = api.current();
  // A request after logout logs in again by itself (a second wx.login code).
  out.v2MeAgain = await api.me();
  out.v2Logins = v2Wx.loginCalls;
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write('journey failed: ' + (err && err.stack || err) + ' reason=' + (err && err.reason) + '\n');
  process.exit(1);
});
