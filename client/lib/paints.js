'use strict';

// Helpers for the drawing routes (PROTOCOL.md §3). Business answers come as
// {"code":0,"msg":"success","data":...} or {"code":-1,"msg":"fail","error":{"reason":...}}.

const session = require('./session.js');

const parseJSON = session.parseJSON;

const makeError = session.makeError;

function badResponse(res, what) {
  const status = res && res.statusCode;
  return makeError('unexpected answer from the server (HTTP ' + status + '): ' + what, 'ERR_BAD_RESPONSE', res && res.data);
}

// The business envelope → its data, or an Error carrying the server's reason.
function unwrap(res) {
  const body = parseJSON(res && res.data);
  if (!body || typeof body !== 'object' || typeof body.code !== 'number') {
    throw badResponse(res, 'no business envelope');
  }
  if (body.code === 0) return body.data;
  const error = body.error || {};
  const reason = error.reason || 'ERR_UNKNOWN';
  const err = makeError(error.message || body.msg || reason, reason, error);
  err.statusCode = res.statusCode;
  throw err;
}

/**
 * createPaints({ baseUrl: 'https://host/applet', client }) → { save, list, remove, session }.
 * `client` is anything with request(wx.request options) → Promise of the wx.request result;
 * it defaults to the session client of the global wx.
 */
function createPaints(config) {
  config = config || {};
  const base = String(config.baseUrl || '').replace(/\/+$/, '');
  if (!base) throw new Error('onestroke-client: createPaints needs a baseUrl such as https://host/applet');

  function client() {
    return config.client || session.getDefaultClient();
  }

  function get(path) {
    return client().request({ url: base + path, method: 'GET' });
  }

  function post(path, data) {
    return client().request({
      url: base + path,
      method: 'POST',
      data,
      header: { 'Content-Type': 'application/json' },
    });
  }

  return {
    // actions is stored verbatim as a string (the list page JSON.parses it),
    // so an action list given as an array or object is turned into its JSON text.
    save(paint) {
      const actions = typeof paint.actions === 'string' ? paint.actions : JSON.stringify(paint.actions);
      return post('/session/paints/save', { id: paint.id, actions }).then(unwrap);
    },

    list() {
      return get('/session/paints/list').then((res) => {
        const data = unwrap(res);
        if (!Array.isArray(data)) throw badResponse(res, 'list data is not an array');
        return data;
      });
    },

    remove(id) {
      return post('/session/paints/delete', { id }).then(unwrap);
    },

    // The user the server sees for this session, or null.
    session() {
      return get('/session').then((res) => {
        const body = parseJSON(res && res.data);
        if (!body || typeof body !== 'object' || !('wxUserInfo' in body)) {
          throw badResponse(res, 'no wxUserInfo');
        }
        return body.wxUserInfo || null;
      });
    },
  };
}

module.exports = { createPaints };
