'use strict';

// A wx for the pact tests: login and getUserInfo are scripted, request performs a
// real HTTP call with Node's fetch, shaped like wx.request (JSON body for POST,
// query string for GET, JSON-parsed answer handed to success whatever the status).
// `local` answers lie in front of the network: they let a test establish a
// session before the request under contract, without a pact interaction for it.

function toQuery(data) {
  return Object.keys(data).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(data[k])).join('&');
}

function createHttpWx(script) {
  const codes = script.codes.slice();
  const local = (script.local || []).slice();
  const wx = {
    loginCalls: 0,
    requests: [],

    login(o) {
      wx.loginCalls++;
      const code = codes.shift();
      setImmediate(() => (code ? o.success({ code, errMsg: 'login:ok' }) : o.fail({ errMsg: 'login:fail no code scripted' })));
    },

    storage: Object.assign({}, script.storage),
    getStorageSync(key) {
      return key in wx.storage ? wx.storage[key] : '';
    },
    setStorageSync(key, value) {
      wx.storage[key] = JSON.parse(JSON.stringify(value));
    },
    removeStorageSync(key) {
      delete wx.storage[key];
    },

    getUserInfo(o) {
      setImmediate(() => o.success({ rawData: script.rawData, signature: script.signature, errMsg: 'getUserInfo:ok' }));
    },

    request(o) {
      const method = (o.method || 'GET').toUpperCase();
      const header = Object.assign({}, o.header);
      wx.requests.push({ url: o.url, method, header, data: o.data, local: local.length > 0 });
      if (local.length > 0) {
        const answer = local.shift();
        setImmediate(() => o.success(Object.assign({ header: {}, errMsg: 'request:ok' }, answer)));
        return;
      }
      let url = o.url;
      let body;
      if (o.data !== undefined && (method === 'GET' || method === 'DELETE')) {
        url += (url.indexOf('?') === -1 ? '?' : '&') + toQuery(o.data);
      } else if (o.data !== undefined) {
        const type = Object.keys(header).find((k) => k.toLowerCase() === 'content-type');
        if (!type) header['content-type'] = 'application/json';
        const form = type && /x-www-form-urlencoded/.test(header[type]);
        body = typeof o.data === 'string' ? o.data : form ? toQuery(o.data) : JSON.stringify(o.data);
      }
      fetch(url, { method, headers: header, body })
        .then((res) => res.text().then((text) => {
          let data = text;
          if (o.dataType === undefined || o.dataType === 'json') {
            try { data = JSON.parse(text); } catch (e) { /* wx hands over the text */ }
          }
          o.success({ data, statusCode: res.status, header: Object.fromEntries(res.headers), errMsg: 'request:ok' });
        }))
        .catch((err) => o.fail({ errMsg: 'request:fail ' + err.message }));
    },
  };
  return wx;
}

module.exports = { createHttpWx };
