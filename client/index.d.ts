// TypeScript declarations of onestroke-client (plain CommonJS, `module.exports = request`).
//
//   import onestroke = require('onestroke-client');          // or: const onestroke = require(...)
//   onestroke({ url }) / onestroke.createPaints({ baseUrl })  // the drop-in API (PROTOCOL §1–3)
//   onestroke.v2.createClient({ baseUrl })                    // the v2 API (PROTOCOL §6)
//
// No dependency on the mini-program's own typings: `wx` is described by the few
// members the library uses (WxLike), so the global `wx` of miniprogram-api-typings fits.

declare namespace onestroke {
  /** What wx.request's success callback gets. */
  interface WxRequestResult<T = any> {
    data: T;
    statusCode: number;
    header: Record<string, string>;
    errMsg?: string;
  }

  /** The options of wx.request, without its callbacks. */
  interface WxRequestParams {
    url: string;
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | (string & {});
    data?: string | object | ArrayBuffer;
    header?: Record<string, string>;
    /** Read by the original weapp-session-client; merged under `header`. */
    headers?: Record<string, string>;
    dataType?: string;
    responseType?: string;
    timeout?: number;
    /** Any other option of wx.request (enableHttp2, enableCache, …) is passed on. */
    [option: string]: unknown;
  }

  /** The options of wx.request, plus the callbacks the drop-in honours. */
  interface WxRequestOptions extends WxRequestParams {
    success?(res: WxRequestResult): void;
    fail?(err: Error): void;
    complete?(resOrErr: WxRequestResult | Error): void;
  }

  interface WxCallbacks<T> {
    success?(res: T): void;
    fail?(res: { errMsg: string }): void;
  }

  /** The members of the mini-program's `wx` this library calls. */
  interface WxLike {
    login(options: WxCallbacks<{ code: string; errMsg?: string }>): unknown;
    /** The drop-in API only. */
    getUserInfo?(options: WxCallbacks<{ rawData: string; signature: string }>): unknown;
    request(options: any): unknown;
    /** The v2 API only: where the token is kept. */
    getStorageSync?(key: string): any;
    setStorageSync?(key: string, value: any): void;
    removeStorageSync?(key: string): void;
  }

  /** Every failure of this library is an Error with these fields. */
  interface OnestrokeError extends Error {
    /** ERR_SESSION_EXPIRED, ERR_NO_SESSION, ERR_REQUEST_FAILED, … (see README "Errors"). */
    reason?: string;
    /** The server's error object, or wx's failure result. */
    detail?: any;
    /** wx's own failures: their errMsg. */
    errMsg?: string;
    /** The HTTP status, when the server answered. */
    statusCode?: number;
  }

  // --- the drop-in API (PROTOCOL §1–3) ---

  interface SessionClient {
    request(options: WxRequestOptions): Promise<WxRequestResult>;
  }

  /** Anything with a wx.request-like request(options) → Promise of its result. */
  interface RequestClient {
    request(options: WxRequestOptions): Promise<WxRequestResult>;
  }

  /** A drawing as the list route answers it: `actions` is JSON text. */
  interface Paint {
    id: string;
    actions: string;
  }

  /** A drawing to save: `actions` as JSON text, or the action list itself (sent as its JSON text). */
  interface PaintToSave {
    id: string;
    actions: string | unknown[];
  }

  /** wxUserInfo as GET {base}/session answers it. */
  interface UserInfo {
    openId: string;
    nickName?: string;
    avatarUrl?: string;
    [field: string]: unknown;
  }

  type Empty = Record<string, never>;

  interface Paints {
    save(paint: PaintToSave): Promise<Empty>;
    list(): Promise<Paint[]>;
    remove(id: string): Promise<Empty>;
    /** The user the server sees, or null. */
    session(): Promise<UserInfo | null>;
  }

  function createClient(config?: { wx?: WxLike }): SessionClient;
  function createPaints(config: { baseUrl: string; client?: RequestClient }): Paints;
  /** A drawing id: base36 time and 4 random base36 characters, about 12 characters of [a-z0-9]. */
  function makeId(now?: number): string;
  const request: typeof onestroke;
  const SESSION_MAGIC_ID: 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';
  const MAX_RETRIES: number;
  const HEADERS: { CODE: 'X-WX-Code'; RAW_DATA: 'X-WX-RawData'; SIGNATURE: 'X-WX-Signature' };

  // --- the v2 API (PROTOCOL §6) ---

  namespace v2 {
    type Reason =
      | 'ERR_NO_SESSION'
      | 'ERR_SESSION_EXPIRED'
      | 'ERR_LOGIN_CODE_INVALID'
      | 'ERR_WECHAT_UNAVAILABLE'
      | 'ERR_RATE_LIMITED'
      | 'ERR_INVALID_REQUEST'
      | 'ERR_NOT_FOUND'
      | 'ERR_SESSION_KEY_STALE'
      | 'ERR_CONTENT_RISKY'
      | 'ERR_PHONE_CODE_INVALID'
      | 'ERR_WX_LOGIN_FAILED'
      | 'ERR_REQUEST_FAILED'
      | 'ERR_BAD_RESPONSE'
      | 'ERR_UNKNOWN'
      | (string & {});

    /** A failure of the v2 API. */
    interface Error extends OnestrokeError {
      reason: Reason;
      /** The HTTP status (undefined when wx.request or wx.login itself failed). */
      status?: number;
      statusCode?: number;
      /** Seconds to wait, from the Retry-After header (ERR_RATE_LIMITED, sometimes 503). */
      retryAfter?: number;
    }

    /** The data of POST {base}/v2/login, kept in storage. */
    interface LoginData {
      /** ost_ and 43 base64url characters. */
      token: string;
      sessionId: string;
      openId: string;
      unionId?: string;
      /** RFC 3339 UTC. */
      expiresAt: string;
      /** Seconds of idle time after which the session ends. */
      idleTimeout: number;
    }

    interface Profile {
      openId: string;
      unionId?: string;
      nickName?: string;
      avatarUrl?: string;
      phoneNumber?: string;
    }

    interface ProfileUpdate {
      /** 1–32 characters, no control characters. */
      nickName?: string;
      /** An https:// URL of at most 512 bytes. */
      avatarUrl?: string;
    }

    /** POST {base}/v2/me/phone: the number behind a getPhoneNumber button's code. */
    interface PhoneNumber {
      /** With the country code for numbers outside mainland China. */
      phoneNumber: string;
      purePhoneNumber: string;
      countryCode: string;
    }

    /** One of the user's sessions, GET {base}/v2/sessions. */
    interface SessionInfo {
      sessionId: string;
      device: string;
      createdAt: string;
      lastSeenAt: string;
      expiresAt: string;
      /** The session of the token that asked. */
      current: boolean;
    }

    /** wx.request options without the callbacks (the answer is the promise's); `url` absolute or a path under baseUrl. */
    interface RequestOptions extends WxRequestParams {
      success?: never;
      fail?: never;
      complete?: never;
    }

    interface ClientConfig {
      /** The service's base, e.g. https://host/applet. */
      baseUrl: string;
      /** The wx storage key of the token; default 'onestroke:v2:session'. */
      storageKey?: string;
      /** A name of this device for the session list, at most 64 characters. */
      device?: string;
      /** Default: the mini-program's global wx. */
      wx?: WxLike;
    }

    interface Client {
      /** wx.login → POST {base}/v2/login; concurrent callers share one login. */
      login(): Promise<LoginData>;
      /** A request with the token; resolves with the envelope's data. */
      request<T = unknown>(options: RequestOptions): Promise<T>;
      /** POST {base}/v2/logout; the token is forgotten whatever the answer. */
      logout(): Promise<Empty>;
      /** POST {base}/v2/logout-all: every session of the user ends. */
      logoutAll(): Promise<{ revoked: number }>;
      sessions(): Promise<SessionInfo[]>;
      /** DELETE {base}/v2/sessions/{sessionId}; ERR_NOT_FOUND for another user's or an unknown id. */
      revoke(sessionId: string): Promise<Empty>;
      me(): Promise<Profile>;
      updateMe(changes: ProfileUpdate): Promise<Profile>;
      /** POST {base}/v2/me/phone { code }; the number is kept on the profile too. */
      phoneNumber(code: string): Promise<PhoneNumber>;
      /**
       * POST {base}/v2/me/decrypt { encryptedData, iv } → the decrypted object (watermark removed).
       * On ERR_SESSION_KEY_STALE the client has logged in again: fetch the data anew and retry.
       */
      decrypt<T = Record<string, unknown>>(encryptedData: string, iv: string): Promise<T>;
      /** The login data held, or null; no network. */
      current(): LoginData | null;
      /** The legacy drawing routes with the token. */
      paints: Paints;
    }

    function createClient(config: ClientConfig): Client;
    const STORAGE_KEY: 'onestroke:v2:session';
    const TOKEN_PATTERN: RegExp;
    const RELOGIN_REASONS: ReadonlyArray<'ERR_SESSION_EXPIRED' | 'ERR_NO_SESSION'>;
    const SESSION_KEY_STALE: 'ERR_SESSION_KEY_STALE';
  }
}

/** The drop-in: the session request of the global wx (weapp-session-client's API). */
declare function onestroke(options: onestroke.WxRequestOptions): Promise<onestroke.WxRequestResult>;

export = onestroke;
