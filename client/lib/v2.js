'use strict';

// The modern protocol (PROTOCOL.md §6): wx.login alone, then a session token of
// the service's own, sent as Authorization: Bearer. Answers come in the business
// envelope {"code":0,"msg":"success","data":...}; failures as
// {"code":-1,"msg":"fail","error":{"reason","message"}} with a fitting status.

const session = require('./session.js');

const parseJSON = session.parseJSON;

const DEFAULT_STORAGE_KEY = 'onestroke:v2:session';
const TOKEN_PATTERN = /^ost_[A-Za-z0-9_-]{43}$/;

// Answers a fresh login cures: the request is sent once more with a new token.
const RELOGIN_REASONS = ['ERR_SESSION_EXPIRED', 'ERR_NO_SESSION'];
// WeChat refused the code (used, expired, invalid): a new wx.login may succeed.
const LOGIN_CODE_INVALID = 'ERR_LOGIN_CODE_INVALID';
// A conditional drawing request whose ETag is not the drawing's any more (PROTOCOL §7).
const CONFLICT = 'ERR_CONFLICT';
// The session's session_key no longer decrypts what the client sent (PROTOCOL §8): the
// client logs in again (a new session_key), and the data must be fetched from WeChat again.
const SESSION_KEY_STALE = 'ERR_SESSION_KEY_STALE';

function globalWx() {
  return typeof wx !== 'undefined' ? wx : undefined; // eslint-disable-line no-undef
}

// A response header, whatever the case of its name.
function headerValue(res, name) {
  const header = (res && res.header) || {};
  const wanted = name.toLowerCase();
  const key = Object.keys(header).find((k) => k.toLowerCase() === wanted);
  return key === undefined ? undefined : header[key];
}

// Retry-After as seconds: delta-seconds, or an HTTP-date turned into seconds from now.
function parseRetryAfter(value) {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return parseInt(text, 10);
  const at = Date.parse(text);
  if (isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function makeError(message, reason, res, detail) {
  const err = session.makeError(message, reason, detail);
  const status = res && typeof res.statusCode === 'number' ? res.statusCode : undefined;
  err.status = status;
  err.statusCode = status;
  const retryAfter = parseRetryAfter(headerValue(res, 'Retry-After'));
  if (retryAfter !== undefined) err.retryAfter = retryAfter;
  return err;
}

function badResponse(res, what) {
  const status = res && res.statusCode;
  return makeError('unexpected answer from the server (HTTP ' + status + '): ' + what, 'ERR_BAD_RESPONSE', res, res && res.data);
}

// A wx.request result → { data } or { error }.
function interpret(res) {
  const body = parseJSON(res && res.data);
  const isObject = body !== null && typeof body === 'object';
  if (isObject && session.SESSION_MAGIC_ID in body) {
    // The legacy session error body (GET {base}/session answers it).
    const error = body.error || {};
    return { error: makeError(error.message || 'session error ' + (body.reason || 'without reason'), body.reason || 'ERR_UNKNOWN', res, error) };
  }
  if (isObject && typeof body.code === 'number') {
    if (body.code === 0) return { data: body.data };
    const error = body.error || {};
    const reason = error.reason || 'ERR_UNKNOWN';
    return { error: makeError(error.message || body.msg || reason, reason, res, error) };
  }
  const status = res && res.statusCode;
  if (isObject && status >= 200 && status < 300) return { data: body };
  return { error: badResponse(res, 'no business envelope') };
}

function copy(value) {
  return value && typeof value === 'object' ? JSON.parse(JSON.stringify(value)) : value;
}

function validLogin(data) {
  return data !== null && typeof data === 'object' && typeof data.token === 'string' && TOKEN_PATTERN.test(data.token);
}

/**
 * createClient({ baseUrl: 'https://host/applet', storageKey, device, wx }) → the v2 client.
 * The token is kept with wx.setStorageSync under storageKey (default 'onestroke:v2:session')
 * and read back with wx.getStorageSync on first use.
 */
function createClient(config) {
  config = config || {};
  const base = String(config.baseUrl || '').replace(/\/+$/, '');
  if (!base) throw new Error('onestroke-client: v2.createClient needs a baseUrl such as https://host/applet');
  const storageKey = config.storageKey || DEFAULT_STORAGE_KEY;
  const device = config.device;

  let held = null; // the login data in use: { token, sessionId, openId, ... }
  let loaded = false;
  let inflight = null; // the login under way, shared by every caller

  function getWx() {
    const w = config.wx || globalWx();
    if (!w) throw new Error('onestroke-client: no wx object (run inside a mini-program or pass createClient({ wx }))');
    return w;
  }

  function load() {
    if (loaded) return held;
    loaded = true;
    try {
      const stored = parseJSON(getWx().getStorageSync(storageKey));
      if (validLogin(stored)) held = stored;
    } catch (e) {
      // Unreadable storage: no token, the next request logs in.
    }
    return held;
  }

  function keep(data) {
    loaded = true;
    held = data;
    try {
      getWx().setStorageSync(storageKey, data);
    } catch (e) {
      // Storage full or unavailable: the token still serves this visit.
    }
  }

  // Forget the token, but only if it is still the one in use: a late failure
  // of an old token must not throw away a newer login.
  function forget(which) {
    if (which !== undefined && held !== which) return;
    held = null;
    loaded = true;
    try {
      getWx().removeStorageSync(storageKey);
    } catch (e) {
      // Nothing more to do.
    }
  }

  function url(path) {
    return /^https?:\/\//i.test(path) ? path : base + path;
  }

  // One wx.request; resolves with its success result, whatever the status.
  function send(options, token) {
    const w = getWx();
    const params = Object.assign({}, options);
    delete params.success;
    delete params.fail;
    delete params.complete;
    params.url = url(String(options.url || ''));
    params.method = (options.method || 'GET').toUpperCase();
    const header = Object.assign({}, options.header);
    if (params.data !== undefined && !Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) {
      header['Content-Type'] = 'application/json';
    }
    if (token) header.Authorization = 'Bearer ' + token;
    params.header = header;
    return new Promise((resolve, reject) => {
      params.success = resolve;
      params.fail = (res) => {
        reject(makeError('wx.request failed: ' + ((res && res.errMsg) || String(res)), 'ERR_REQUEST_FAILED', undefined, res));
      };
      w.request(params);
    });
  }

  function wxLogin() {
    return new Promise((resolve, reject) => {
      getWx().login({ success: resolve, fail: reject });
    }).then((res) => {
      if (!res || !res.code) throw makeError('wx.login gave no code', 'ERR_WX_LOGIN_FAILED', undefined, res);
      return res.code;
    }, (res) => {
      throw makeError('wx.login failed: ' + ((res && res.errMsg) || String(res)), 'ERR_WX_LOGIN_FAILED', undefined, res);
    });
  }

  function loginOnce() {
    return wxLogin().then((code) => {
      const data = { code };
      if (device !== undefined && device !== null && device !== '') data.device = String(device);
      return send({ url: '/v2/login', method: 'POST', data });
    }).then((res) => {
      const out = interpret(res);
      if (out.error) throw out.error;
      if (!validLogin(out.data)) throw badResponse(res, 'the login answer holds no token');
      keep(out.data);
      return copy(out.data);
    });
  }

  /** wx.login → POST {base}/v2/login; concurrent callers share one login. */
  function login() {
    if (!inflight) {
      const current = Promise.resolve()
        .then(loginOnce)
        .catch((err) => {
          if (err.reason === LOGIN_CODE_INVALID) return loginOnce(); // once more with a new code
          throw err;
        });
      inflight = current;
      const done = () => { if (inflight === current) inflight = null; };
      current.then(done, done);
    }
    return inflight;
  }

  // The login data to send with: the one held, or a fresh login.
  function ensure() {
    const current = load();
    if (current) return Promise.resolve(current);
    return login().then(() => held || Promise.reject(makeError('logged in, but the token is gone (logged out meanwhile)', 'ERR_NO_SESSION')));
  }

  // One request with the token, once more after a fresh login when the server does not
  // take it; resolves with { data, res } (res: the wx.request result, for its headers).
  function exchange(options, retried) {
    return ensure().then((used) => send(options, used.token).then((res) => {
      const out = interpret(res);
      if (out.error && RELOGIN_REASONS.indexOf(out.error.reason) !== -1) {
        // The server does not take this token: it is of no further use.
        forget(used);
        if (!retried) return exchange(options, true);
      }
      if (out.error) throw out.error;
      return { data: out.data, res };
    }));
  }

  function attempt(options, retried) {
    return exchange(options, retried).then((out) => out.data);
  }

  /**
   * A request with the token: options as wx.request's, `url` absolute or a path under
   * baseUrl. Resolves with the envelope's data (or a 2xx body that is no envelope);
   * rejects with an Error carrying reason, status, retryAfter.
   */
  function request(options) {
    return Promise.resolve().then(() => attempt(options || {}, false));
  }

  function expectObject(data, what) {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw makeError('unexpected answer from the server: ' + what + ' is not an object', 'ERR_BAD_RESPONSE', undefined, data);
    }
    return data;
  }

  function drawingPath(id) {
    return '/v2/drawings/' + encodeURIComponent(String(id));
  }

  // The conditional headers of a drawing request: ifMatch (an ETag as answered, several
  // as an array, or '*') and ifNoneMatch ('*': create only).
  function conditions(options) {
    options = options || {};
    const header = {};
    if (options.ifMatch !== undefined && options.ifMatch !== null && options.ifMatch !== '') {
      header['If-Match'] = Array.isArray(options.ifMatch) ? options.ifMatch.join(', ') : String(options.ifMatch);
    }
    if (options.ifNoneMatch !== undefined && options.ifNoneMatch !== null && options.ifNoneMatch !== '') {
      if (options.ifNoneMatch !== '*') throw makeError('ifNoneMatch takes only \'*\' (create only)', 'ERR_INVALID_REQUEST');
      header['If-None-Match'] = '*';
    }
    return header;
  }

  // The answer's ETag header, or the etag the data carries.
  function etagOf(res, data) {
    const header = headerValue(res, 'ETag');
    if (typeof header === 'string' && header !== '') return header;
    return data && typeof data.etag === 'string' ? data.etag : undefined;
  }

  function expectArray(data, what) {
    if (!Array.isArray(data)) throw makeError('unexpected answer from the server: ' + what + ' is not an array', 'ERR_BAD_RESPONSE', undefined, data);
    return data;
  }

  /** POST {base}/v2/logout; the token is forgotten whatever the answer. */
  function logout() {
    // A login under way while no token is held would leave one behind: end it too.
    const pending = !load() && inflight ? inflight.catch(() => null) : Promise.resolve();
    return pending.then(() => {
      const used = load();
      if (!used) return {};
      return send({ url: '/v2/logout', method: 'POST' }, used.token).then((res) => {
        forget(used);
        const out = interpret(res);
        // A token the server no longer knows is logged out already.
        if (out.error && RELOGIN_REASONS.indexOf(out.error.reason) === -1) throw out.error;
        return out.error ? {} : out.data;
      }, (err) => {
        forget(used);
        throw err;
      });
    });
  }

  return {
    login,
    request,
    logout,

    /** POST {base}/v2/logout-all → { revoked }; ends every session of the user, this one too. */
    logoutAll() {
      return request({ url: '/v2/logout-all', method: 'POST' }).then((data) => {
        forget();
        return data;
      });
    },

    /** GET {base}/v2/sessions → the user's sessions, newest first. */
    sessions() {
      return request({ url: '/v2/sessions', method: 'GET' }).then((data) => expectArray(data, 'sessions'));
    },

    /** DELETE {base}/v2/sessions/{id}; revoking this client's own session forgets its token. */
    revoke(sessionId) {
      return request({ url: '/v2/sessions/' + encodeURIComponent(String(sessionId)), method: 'DELETE' }).then((data) => {
        if (held && held.sessionId === sessionId) forget(held);
        return data;
      });
    },

    /** GET {base}/v2/me → the profile. */
    me() {
      return request({ url: '/v2/me', method: 'GET' });
    },

    /** PATCH {base}/v2/me { nickName?, avatarUrl? } → the profile. */
    updateMe(changes) {
      changes = changes || {};
      const data = {};
      if (changes.nickName !== undefined) data.nickName = changes.nickName;
      if (changes.avatarUrl !== undefined) data.avatarUrl = changes.avatarUrl;
      return request({ url: '/v2/me', method: 'PATCH', data });
    },

    /**
     * POST {base}/v2/me/phone { code } → { phoneNumber, purePhoneNumber, countryCode }: the
     * code of a <button open-type="getPhoneNumber"> (e.detail.code); the number is also kept on
     * the profile.
     */
    phoneNumber(code) {
      return request({ url: '/v2/me/phone', method: 'POST', data: { code: String(code) } });
    },

    /**
     * POST {base}/v2/me/decrypt { encryptedData, iv } → the decrypted object, watermark
     * removed. On ERR_SESSION_KEY_STALE the client logs in again (a fresh session_key) before
     * it rejects: fetch the data from WeChat again (wx.getShareInfo, …) and retry.
     */
    decrypt(encryptedData, iv) {
      return request({ url: '/v2/me/decrypt', method: 'POST', data: { encryptedData, iv } }).catch((err) => {
        if (err.reason !== SESSION_KEY_STALE) throw err;
        forget();
        return login().then(() => { throw err; }, () => { throw err; });
      });
    },

    /** The login data held (token, sessionId, openId, ...), or null; no network. */
    current() {
      return copy(load());
    },

    // The v2 drawing routes (PROTOCOL §7): pages that reach every drawing once, ETags and
    // conditional saves. The drawings are the legacy routes' (paints below) too.
    drawings: {
      /**
       * GET {base}/v2/drawings?limit&cursor → { items, next }: items newest created first,
       * without actions; next is the cursor of the following page, null after the last.
       */
      page(options) {
        options = options || {};
        const data = {};
        if (options.limit !== undefined && options.limit !== null) data.limit = options.limit;
        if (options.cursor !== undefined && options.cursor !== null && options.cursor !== '') data.cursor = String(options.cursor);
        const params = { url: '/v2/drawings', method: 'GET' };
        if (Object.keys(data).length > 0) params.data = data;
        return request(params).then((page) => {
          expectObject(page, 'the page');
          expectArray(page.items, 'the page\'s items');
          return { items: page.items, next: typeof page.next === 'string' ? page.next : null };
        });
      },

      /** GET {base}/v2/drawings/{id} → the drawing with its actions (the array) and its etag. */
      get(id) {
        return exchange({ url: drawingPath(id), method: 'GET' }, false).then((out) => {
          const drawing = expectObject(out.data, 'the drawing');
          return Object.assign({}, drawing, { etag: etagOf(out.res, drawing) });
        });
      },

      /**
       * PUT {base}/v2/drawings/{id} { title?, actions } → the drawing's item (etag included)
       * and created (true when the PUT made it). actions: the action list, or its JSON text;
       * title undefined keeps the stored one. options.ifMatch: the etag this device last saw
       * (ERR_CONFLICT, 412, when another device saved since); options.ifNoneMatch '*': create
       * only.
       */
      put(id, drawing, options) {
        drawing = drawing || {};
        return Promise.resolve().then(() => {
          const header = conditions(options);
          const actions = typeof drawing.actions === 'string' ? JSON.parse(drawing.actions) : drawing.actions;
          if (!Array.isArray(actions)) throw makeError('actions must be the action list (an array) or its JSON text', 'ERR_INVALID_REQUEST');
          const data = { actions };
          if (drawing.title !== undefined) data.title = drawing.title;
          return exchange({ url: drawingPath(id), method: 'PUT', data, header }, false);
        }).then((out) => {
          const item = expectObject(out.data, 'the saved drawing');
          return Object.assign({}, item, { etag: etagOf(out.res, item), created: out.res.statusCode === 201 });
        });
      },

      /** DELETE {base}/v2/drawings/{id}; options.ifMatch as put's. */
      delete(id, options) {
        return Promise.resolve().then(() => request({ url: drawingPath(id), method: 'DELETE', header: conditions(options) }));
      },
    },

    // The legacy drawing routes (PROTOCOL §3) with the token in place of X-WX-Code.
    paints: {
      save(paint) {
        const actions = typeof paint.actions === 'string' ? paint.actions : JSON.stringify(paint.actions);
        return request({ url: '/session/paints/save', method: 'POST', data: { id: paint.id, actions } });
      },
      list() {
        return request({ url: '/session/paints/list', method: 'GET' }).then((data) => expectArray(data, 'the list'));
      },
      remove(id) {
        return request({ url: '/session/paints/delete', method: 'POST', data: { id } });
      },
      // The user the legacy session route sees for the token (profile and openId), or null.
      session() {
        return request({ url: '/session', method: 'GET' }).then((body) => {
          if (!body || typeof body !== 'object' || !('wxUserInfo' in body)) {
            throw makeError('unexpected answer from the server: no wxUserInfo', 'ERR_BAD_RESPONSE', undefined, body);
          }
          return body.wxUserInfo || null;
        });
      },
    },
  };
}

module.exports = {
  createClient,
  STORAGE_KEY: DEFAULT_STORAGE_KEY,
  TOKEN_PATTERN,
  RELOGIN_REASONS,
  SESSION_KEY_STALE,
  CONFLICT,
};
