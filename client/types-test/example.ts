// A mini-program's use of onestroke-client, written in TypeScript. It is never run:
// test/unit/types.test.js type-checks it against index.d.ts (tsc --noEmit --strict),
// and checks that it calls every function of the v2 client. The lines marked as
// expected errors (at the end) must NOT compile: they prove the declarations are strict.

import onestroke = require('onestroke-client');

// The mini-program's global wx, as miniprogram-api-typings would declare it.
declare const wx: onestroke.WxLike;

// --- the v2 API ---

const api = onestroke.v2.createClient({ baseUrl: 'https://example.com/applet', device: 'iPhone 15', storageKey: 'my-app:session', wx });
const defaults: onestroke.v2.Client = onestroke.v2.createClient({ baseUrl: 'https://example.com/applet' });

async function v2Page(): Promise<string> {
  const login: onestroke.v2.LoginData = await api.login();
  const token: string = login.token;
  const idle: number = login.idleTimeout;
  const union: string | undefined = login.unionId;

  const held = api.current();
  const sessionId: string = held ? held.sessionId : '';

  const me: onestroke.v2.Profile = await api.me();
  const nick: string | undefined = me.nickName;
  await api.updateMe({ nickName: '爱丽丝' });
  const updated = await api.updateMe({ avatarUrl: 'https://example.com/a.png' });
  const avatar: string | undefined = updated.avatarUrl;

  const phone: onestroke.v2.PhoneNumber = await api.phoneNumber('button-code');
  const pure: string = phone.purePhoneNumber;
  const share = await api.decrypt<{ openGId: string }>('encrypted', 'iv');
  const group: string = share.openGId;
  const stale: boolean = onestroke.v2.SESSION_KEY_STALE === 'ERR_SESSION_KEY_STALE';

  const sessions: onestroke.v2.SessionInfo[] = await api.sessions();
  const others = sessions.filter((s) => !s.current).map((s) => s.sessionId + ' ' + s.device + ' ' + s.lastSeenAt);
  if (others.length > 0) await api.revoke(sessions[1].sessionId);

  const custom = await api.request<{ items: string[] }>({ url: '/v2/custom', method: 'POST', data: { a: 1 }, header: { 'X-Trace': 't' } });
  const first: string | undefined = custom.items[0];
  const raw: unknown = await api.request({ url: 'https://example.com/other' });

  await api.paints.save({ id: onestroke.makeId(), actions: [{ method: 'moveTo', data: [1, 2] }] });
  const list: onestroke.Paint[] = await api.paints.list();
  const actions: unknown = JSON.parse(list[0].actions);
  await api.paints.remove(list[0].id);
  const user: onestroke.UserInfo | null = await api.paints.session();

  // The v2 drawings: a walk over the pages, a conditional save, a conditional delete.
  let cursor: string | null = null;
  const titles: string[] = [];
  do {
    const page: onestroke.v2.DrawingPage = await api.drawings.page({ limit: 50, cursor });
    page.items.forEach((it: onestroke.v2.DrawingItem) => titles.push(it.title + it.bytes + (it.titleInReview ? '?' : '')));
    cursor = page.next;
  } while (cursor !== null);
  const drawing: onestroke.v2.Drawing = await api.drawings.get('d1');
  try {
    const saved = await api.drawings.put('d1', { actions: [{ method: 'save', data: [] }], title: 'Sunset' }, { ifMatch: drawing.etag });
    const made: boolean = saved.created;
    await api.drawings.put('d2', { actions: '[]' }, { ifNoneMatch: '*' });
    await api.drawings.delete('d1', { ifMatch: saved.etag });
    titles.push(String(made));
  } catch (e) {
    if ((e as onestroke.v2.Error).reason === onestroke.v2.CONFLICT) titles.push('changed elsewhere');
  }

  const { revoked }: { revoked: number } = await api.logoutAll();
  await api.logout();
  await defaults.me();

  try {
    await api.me();
  } catch (e) {
    const err = e as onestroke.v2.Error;
    if (err.reason === 'ERR_RATE_LIMITED' && err.retryAfter !== undefined) return 'wait ' + err.retryAfter;
    if (err.status === 404 || err.reason === 'ERR_NOT_FOUND') return 'gone';
  }
  const key: 'onestroke:v2:session' = onestroke.v2.STORAGE_KEY;
  const ok: boolean = onestroke.v2.TOKEN_PATTERN.test(token) && onestroke.v2.RELOGIN_REASONS.indexOf('ERR_NO_SESSION') >= 0;
  return [token, idle, union, sessionId, nick, avatar, pure, group, stale, others, first, raw, actions, user, revoked, key, ok, titles].join();
}

// --- the drop-in API, unchanged ---

async function legacyPage(): Promise<number> {
  const res: onestroke.WxRequestResult = await onestroke({ url: 'https://example.com/applet/session', success: (r) => r.statusCode });
  onestroke.request({ url: 'https://example.com/applet/session', fail: (err) => err.message, complete: () => undefined });
  const client: onestroke.SessionClient = onestroke.createClient({ wx });
  const paints = onestroke.createPaints({ baseUrl: 'https://example.com/applet', client });
  await paints.save({ id: onestroke.makeId(Date.now()), actions: '[]' });
  const drawings = await paints.list();
  await paints.remove(drawings[0].id);
  const user = await paints.session();
  const code: string = onestroke.HEADERS.CODE;
  return res.statusCode + onestroke.MAX_RETRIES + onestroke.SESSION_MAGIC_ID.length + code.length + (user ? user.openId.length : 0);
}

// --- what must not compile ---

async function mistakes(): Promise<void> {
  // @ts-expect-error baseUrl is required
  onestroke.v2.createClient({ device: 'x' });
  // @ts-expect-error nickName is a string
  await api.updateMe({ nickName: 42 });
  // @ts-expect-error unknown profile field
  await api.updateMe({ nick: 'x' });
  // @ts-expect-error a session id is a string
  await api.revoke(7);
  // @ts-expect-error decrypt needs the iv
  await api.decrypt('encrypted');
  // @ts-expect-error current() may be null
  api.current().token;
  // @ts-expect-error the token is a string
  const n: number = (await api.login()).token;
  // @ts-expect-error request() resolves with unknown unless told
  (await api.request({ url: '/v2/me' })).openId;
  // @ts-expect-error v2 request options take no callbacks
  await api.request({ url: '/v2/me', success: () => undefined });
  // @ts-expect-error sessions are not numbers
  const s: number[] = await api.sessions();
  // @ts-expect-error logoutAll answers { revoked }
  const r: { count: number } = await api.logoutAll();
  // @ts-expect-error a PUT needs the actions
  await api.drawings.put('d1', { title: 'x' });
  // @ts-expect-error If-None-Match takes only *
  await api.drawings.put('d1', { actions: [] }, { ifNoneMatch: '"00000000000000a1"' });
  // @ts-expect-error a page's next may be null
  const c: string = (await api.drawings.page()).next;
  void n; void s; void r; void c;
}

export { v2Page, legacyPage, mistakes };
