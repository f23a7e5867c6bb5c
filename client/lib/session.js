'use strict';

// Session layer of the onestroke wire protocol (PROTOCOL.md §1–2): a wx.request
// that identifies the user through headers, because wx.request carries no cookies.

const SESSION_MAGIC_ID = 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';

const HEADER_CODE = 'X-WX-Code';
const HEADER_RAW_DATA = 'X-WX-RawData';
const HEADER_SIGNATURE = 'X-WX-Signature';

// Session errors that a fresh wx.login can cure.
const RETRY_REASONS = ['ERR_SESSION_EXPIRED', 'ERR_SESSION_KEY_EXCHANGE_FAILED'];
const MAX_RETRIES = 3;

function makeError(message, reason, detail) {
  const err = new Error(message);
  err.reason = reason;
  err.detail = detail;
  // wx's own failures carry errMsg; callers of the original client read it.
  if (detail && typeof detail.errMsg === 'string') err.errMsg = detail.errMsg;
  return err;
}

function wxFailureText(res) {
  return (res && res.errMsg) || String(res);
}

// One wx callback API as a Promise.
function callWx(wx, name) {
  return new Promise((resolve, reject) => {
    wx[name]({ success: resolve, fail: reject });
  });
}

// wx.request parses JSON bodies itself, but hands over a string when told to
// (dataType other than json): a session error must be recognised all the same.
function parseBody(data) {
  if (typeof data === 'string' && data.indexOf(SESSION_MAGIC_ID) !== -1) {
    try {
      return JSON.parse(data);
    } catch (e) {
      return data;
    }
  }
  return data;
}

// A body wx.request handed over as a string is parsed when it is JSON, and
// kept as it is otherwise (the drawing helpers and the v2 API share this).
function parseJSON(data) {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch (e) {
    return data;
  }
}

function isSessionError(body) {
  return body !== null && typeof body === 'object' && SESSION_MAGIC_ID in body;
}

// A user callback that throws must not turn a finished request into a failed
// one; rethrow outside the promise chain, as wx does for its own callbacks.
function invoke(fn, arg) {
  if (typeof fn !== 'function') return;
  try {
    fn(arg);
  } catch (e) {
    setTimeout(() => { throw e; });
  }
}

function globalWx() {
  return typeof wx !== 'undefined' ? wx : undefined; // eslint-disable-line no-undef
}

/**
 * createClient({ wx }) → { request(options) }.
 * `wx` defaults to the mini-program's global wx, looked up at request time.
 */
function createClient(config) {
  config = config || {};

  // The login of this visit: { promise, code, headers, established }.
  // Requests arriving while it is under way wait on the same promise, so one
  // wx.login serves them all and they all send the same first headers.
  let login = null;

  function getWx() {
    const w = config.wx || globalWx();
    if (!w) throw new Error('onestroke-client: no wx object (run inside a mini-program or pass createClient({ wx }))');
    return w;
  }

  // Drop a login only while it is the current one: a late answer to an old
  // code must not throw away a newer login.
  function forget(current) {
    if (login === current) login = null;
  }

  function startLogin(w) {
    const current = { established: false };
    current.promise = callWx(w, 'login')
      .catch((res) => {
        throw makeError('wx.login failed: ' + wxFailureText(res), 'ERR_WX_LOGIN_FAILED', res);
      })
      .then((res) => {
        if (!res || !res.code) throw makeError('wx.login gave no code', 'ERR_WX_LOGIN_FAILED', res);
        current.code = res.code;
        return callWx(w, 'getUserInfo').catch((res2) => {
          throw makeError('wx.getUserInfo failed: ' + wxFailureText(res2), 'ERR_WX_GET_USER_INFO_FAILED', res2);
        });
      })
      .then((info) => {
        current.headers = {
          [HEADER_CODE]: current.code,
          [HEADER_RAW_DATA]: encodeURIComponent(info.rawData),
          [HEADER_SIGNATURE]: info.signature || '',
        };
        return current;
      });
    // A failed login is not kept: the next request tries again.
    current.promise.catch(() => forget(current));
    return current;
  }

  function sessionHeaders(w) {
    if (!login) login = startLogin(w);
    return login.promise.then((current) => ({
      login: current,
      header: current.established ? { [HEADER_CODE]: current.code } : current.headers,
    }));
  }

  function send(w, options, sessionHeader) {
    const params = Object.assign({}, options);
    delete params.success;
    delete params.fail;
    delete params.complete;
    delete params.headers;
    // `headers` is honoured too: the original client read options.headers.
    params.header = Object.assign({}, options.headers, options.header, sessionHeader);
    return new Promise((resolve, reject) => {
      params.success = resolve;
      params.fail = (res) => {
        reject(makeError('wx.request failed: ' + wxFailureText(res), 'ERR_REQUEST_FAILED', res));
      };
      w.request(params);
    });
  }

  function attempt(options, retries) {
    const w = getWx();
    return sessionHeaders(w).then((session) => send(w, options, session.header).then((res) => {
      const body = parseBody(res && res.data);
      if (!isSessionError(body)) {
        // The server took these headers: from now on the code alone identifies us.
        session.login.established = true;
        return res;
      }
      // Whatever the reason, this login is of no further use.
      forget(session.login);
      const reason = body.reason;
      const detail = body.error;
      if (RETRY_REASONS.indexOf(reason) !== -1) {
        if (retries < MAX_RETRIES) return attempt(options, retries + 1);
        throw makeError('session error ' + reason + ' persisted after ' + MAX_RETRIES + ' retries', reason, detail);
      }
      const message = (detail && detail.message) || 'session error ' + (reason || 'without reason');
      throw makeError(message, reason, detail);
    }));
  }

  /**
   * Same options as wx.request (url, method, data, header, success, fail, complete, ...).
   * Returns a Promise of wx.request's success result ({ data, statusCode, header }).
   */
  function request(options) {
    options = options || {};
    const promise = Promise.resolve()
      .then(() => attempt(options, 0))
      .then((res) => {
        invoke(options.success, res);
        invoke(options.complete, res);
        return res;
      }, (err) => {
        invoke(options.fail, err);
        invoke(options.complete, err);
        throw err;
      });
    // Callback-style callers never look at the promise; their callback already
    // got the failure, so it must not also surface as an unhandled rejection.
    if (options.fail || options.complete) promise.catch(() => {});
    return promise;
  }

  return { request };
}

let defaultClient = null;

// The client of the global wx, made on first use.
function getDefaultClient() {
  if (!defaultClient) defaultClient = createClient();
  return defaultClient;
}

module.exports = {
  createClient,
  getDefaultClient,
  makeError,
  parseJSON,
  SESSION_MAGIC_ID,
  MAX_RETRIES,
  HEADERS: { CODE: HEADER_CODE, RAW_DATA: HEADER_RAW_DATA, SIGNATURE: HEADER_SIGNATURE },
};
