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
      | 'ERR_CONFLICT'
      | 'ERR_QUOTA_EXCEEDED'
      | 'ERR_TOO_LARGE'
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

    /** A drawing as a page lists it, GET {base}/v2/drawings (no actions). */
    interface DrawingItem {
      /** [A-Za-z0-9_-], 1–64 characters, chosen by the client. */
      id: string;
      /** 0–64 characters; '' when untitled. */
      title: string;
      /** Present, true, while WeChat's content check has the title under review. */
      titleInReview?: boolean;
      /** RFC 3339 UTC. The pages are in this order, newest first. */
      createdAt: string;
      updatedAt: string;
      /** Bytes of the actions' JSON text. */
      bytes: number;
      /** The strong ETag of the drawing's revision ("…", 16 hex digits); every save changes it. */
      etag: string;
    }

    /** A page of drawings; next is the cursor of the following page, null after the last. */
    interface DrawingPage {
      items: DrawingItem[];
      next: string | null;
    }

    /** GET {base}/v2/drawings/{id}: the drawing with its actions, and the ETag header as etag. */
    interface Drawing {
      id: string;
      title: string;
      titleInReview?: boolean;
      /** The canvas action list (PROTOCOL §7.1), the JSON itself. */
      actions: unknown;
      createdAt: string;
      updatedAt: string;
      etag?: string;
    }

    interface DrawingPut {
      /** The action list, or its JSON text (an array). */
      actions: unknown[] | string;
      /** 0–64 characters; undefined keeps the stored title ('' on create). */
      title?: string;
    }

    /** Conditional requests: ifMatch the etag this device last saw (or several, or '*'); ifNoneMatch '*' creates only. */
    interface Conditions {
      ifMatch?: string | string[] | undefined;
      ifNoneMatch?: '*' | undefined;
    }

    /** The v2 drawing routes (PROTOCOL §7); a precondition that fails rejects with ERR_CONFLICT (412). */
    interface Drawings {
      /** GET {base}/v2/drawings?limit&cursor: limit 1–100 (default 20); following next reaches every drawing once. */
      page(options?: { limit?: number; cursor?: string | null }): Promise<DrawingPage>;
      get(id: string): Promise<Drawing>;
      /** PUT {base}/v2/drawings/{id}: the saved item, its etag, and created (201). */
      put(id: string, drawing: DrawingPut, options?: Conditions): Promise<DrawingItem & { created: boolean }>;
      delete(id: string, options?: Pick<Conditions, 'ifMatch'>): Promise<Empty>;
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
      /** The v2 drawing routes: pages, ETags, conditional saves. */
      drawings: Drawings;
      /** The legacy drawing routes with the token (the same drawings). */
      paints: Paints;
    }

    function createClient(config: ClientConfig): Client;
    const STORAGE_KEY: 'onestroke:v2:session';
    const TOKEN_PATTERN: RegExp;
    const RELOGIN_REASONS: ReadonlyArray<'ERR_SESSION_EXPIRED' | 'ERR_NO_SESSION'>;
    const SESSION_KEY_STALE: 'ERR_SESSION_KEY_STALE';
    const CONFLICT: 'ERR_CONFLICT';
  }
}

/** The drop-in: the session request of the global wx (weapp-session-client's API). */
declare function onestroke(options: onestroke.WxRequestOptions): Promise<onestroke.WxRequestResult>;

export = onestroke;
