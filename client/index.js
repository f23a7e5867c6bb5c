'use strict';

// Drop-in for weapp-session-client: the module itself is the session request
// function of the global wx, so `const request = require('onestroke-client')` works
// as before; the rest hangs off it, the v2 API (token sessions) as `.v2`.

const session = require('./lib/session.js');
const paints = require('./lib/paints.js');
const id = require('./lib/id.js');
const v2 = require('./lib/v2.js');

function request(options) {
  return session.getDefaultClient().request(options);
}

request.request = request;
request.createClient = session.createClient;
request.createPaints = paints.createPaints;
request.makeId = id.makeId;
request.SESSION_MAGIC_ID = session.SESSION_MAGIC_ID;
request.MAX_RETRIES = session.MAX_RETRIES;
request.HEADERS = session.HEADERS;
// The modern protocol (PROTOCOL.md §6): require('onestroke-client').v2.createClient({ baseUrl }).
request.v2 = v2;

module.exports = request;
