'use strict';

// A scripted stand-in for the mini-program's wx: login hands out codes in order,
// getUserInfo gives fixed rawData/signature, request answers through `respond`,
// storage is a plain object.
// Every callback fires asynchronously, as in WeChat.

const RAW_DATA = JSON.stringify({ nickName: '小明 Alice', gender: 2, language: 'zh_CN', avatarUrl: 'https://wx.qlogo.cn/a/132' });
const SIGNATURE = '75e81ceda165f4ffa64f4068af58c64b8f54b88c';

function later(fn, ms) {
  setTimeout(fn, ms || 1);
}

function createFakeWx(options) {
  options = options || {};
  let nextCode = 1;
  const wx = {
    loginCalls: 0,
    getUserInfoCalls: 0,
    requests: [],
    // Set to { errMsg } to make the next calls fail.
    loginFailure: null,
    userInfoFailure: null,
    userInfo: { rawData: RAW_DATA, signature: SIGNATURE },
    // respond(call, index) → { statusCode, data } or { fail: { errMsg } }, or a Promise of one
    respond: options.respond || (() => ({ statusCode: 200, data: { ok: true } })),

    login(o) {
      wx.loginCalls++;
      const code = 'CODE-' + nextCode++;
      later(() => (wx.loginFailure ? o.fail(wx.loginFailure) : o.success({ code, errMsg: 'login:ok' })), 5);
    },

    getUserInfo(o) {
      wx.getUserInfoCalls++;
      later(() => (wx.userInfoFailure
        ? o.fail(wx.userInfoFailure)
        : o.success(Object.assign({ errMsg: 'getUserInfo:ok' }, wx.userInfo))));
    },

    // wx's synchronous storage; getStorageSync answers '' for a missing key, as wx does.
    storage: Object.assign({}, options.storage),
    storageFailure: null,
    getStorageSync(key) {
      if (wx.storageFailure) throw new Error(wx.storageFailure);
      return key in wx.storage ? wx.storage[key] : '';
    },
    setStorageSync(key, value) {
      if (wx.storageFailure) throw new Error(wx.storageFailure);
      wx.storage[key] = JSON.parse(JSON.stringify(value));
    },
    removeStorageSync(key) {
      if (wx.storageFailure) throw new Error(wx.storageFailure);
      delete wx.storage[key];
    },

    request(o) {
      const call = { url: o.url, method: o.method, data: o.data, header: o.header };
      const index = wx.requests.push(call) - 1;
      later(() => Promise.resolve(wx.respond(call, index)).then((answer) => {
        if (answer.fail) o.fail(answer.fail);
        else o.success({ data: answer.data, statusCode: answer.statusCode || 200, header: answer.header || {}, errMsg: 'request:ok' });
      }), 3);
    },
  };
  return wx;
}

const MAGIC = 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';

function sessionError(reason, statusCode) {
  const data = { [MAGIC]: 1, error: { name: 'Error', message: 'session trouble: ' + (reason || 'no reason'), detail: {} } };
  if (reason) data.reason = reason;
  return { statusCode: statusCode || 401, data };
}

module.exports = { createFakeWx, sessionError, RAW_DATA, SIGNATURE, MAGIC };
