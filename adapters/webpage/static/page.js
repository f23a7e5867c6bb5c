// onestroke's development page: sign in as a test user through the
// development mint, draw, and keep one's drawings through the v2 routes
// (PROTOCOL §7). Plain JavaScript, no framework, no build step; wxcanvas.js
// (loaded before this file) replays action lists and builds strokes.
(function () {
  'use strict';

  const BASE = document.querySelector('meta[name="onestroke-base-path"]').content.replace(/\/$/, '');
  const V2 = BASE + '/v2';
  const MINT = '/_dev/wx-login';
  const SESSION_KEY = 'onestroke.page.session'; // localStorage: every tab of this origin shares it
  const PAGE_SIZE = 12;
  const THUMB_WIDTH = 256;
  const THUMBS_AT_ONCE = 2; // of the 4 drawing requests one user may have in the service at once
  const { replay, stroke, COLOURS, LINE_WIDTH } = window.wxcanvas;

  // MESSAGES is the one table of what the page says for each reason the API
  // can answer (PROTOCOL §6, §7), and what it offers to do next:
  //   signIn   the session is gone: the sign-in form comes back;
  //   conflict the drawing changed elsewhere: reload it (or keep one's own);
  //   retry    a transient failure: try again (after Retry-After if given).
  // NETWORK is a fetch that got no answer; UNKNOWN an answer with a reason
  // this table lacks (its status is shown).
  const MESSAGES = {
    ERR_NO_SESSION: { kind: 'signIn', text: () => 'You are not signed in. Sign in again to go on.' },
    ERR_SESSION_EXPIRED: { kind: 'signIn', text: () => 'Your session has ended (signed out elsewhere, revoked, or unused for too long). Sign in again to go on.' },
    ERR_LOGIN_CODE_INVALID: { kind: 'signIn', text: () => 'WeChat refused the login code (used already, or expired). Sign in again.' },
    ERR_CONFLICT: { kind: 'conflict', text: () => 'This drawing was changed somewhere else (another tab or device) since this page read it, so your change was not saved. Reload it to see that version.' },
    ERR_NOT_FOUND: { kind: 'info', text: () => 'That drawing does not exist any more: it was deleted somewhere else.' },
    ERR_QUOTA_EXCEEDED: { kind: 'info', text: () => 'You keep as many drawings (or as much drawing data) as one user may: delete some drawings to save more. Your last stroke is not saved.' },
    ERR_TOO_LARGE: { kind: 'info', text: () => 'This drawing is too large to save (its actions may take at most 1 MiB): your last stroke was taken back. Start a new drawing to go on.' },
    ERR_RATE_LIMITED: { kind: 'retry', text: (e) => `Too many requests: wait ${e.retryAfter ? e.retryAfter + ' s' : 'a moment'} and try again.` },
    ERR_UNAVAILABLE: { kind: 'retry', text: (e) => `The service is busy or its store is unavailable: try again${e.retryAfter ? ' in ' + e.retryAfter + ' s' : ' in a moment'}. Your drawing is kept on this page meanwhile.` },
    ERR_WECHAT_UNAVAILABLE: { kind: 'retry', text: () => 'WeChat could not be reached (to sign in, or to check the title): try again later.' },
    ERR_CONTENT_RISKY: { kind: 'info', text: () => 'WeChat\'s content check refused that title: choose another one. The drawing keeps its stored title.' },
    ERR_INVALID_REQUEST: { kind: 'info', text: (e) => `The service refused the request as invalid${e.detail ? ': ' + e.detail : ''}. A title has at most 64 characters and no control characters.` },
    ERR_UNSUPPORTED_MEDIA_TYPE: { kind: 'info', text: () => 'The service refused the request\'s body type (this page sends JSON): a bug of the page.' },
    ERR_METHOD_NOT_ALLOWED: { kind: 'info', text: () => 'The service does not allow that request on this route: a bug of the page, or an older service.' },
    ERR_INTERNAL: { kind: 'retry', text: () => 'The service failed on this request (an internal error, in its log): try again.' },
    NETWORK: { kind: 'retry', text: () => 'The service could not be reached (network failure, or the service is down). Your drawing is kept on this page: try again.' },
    UNKNOWN: { kind: 'retry', text: (e) => `The service answered HTTP ${e.status} with no reason this page knows${e.detail ? ' (' + e.detail + ')' : ''}.` },
  };

  // ApiError is a failed request: reason is the envelope's (or NETWORK or
  // UNKNOWN), retryAfter the Retry-After header's seconds.
  class ApiError extends Error {
    constructor(reason, status, detail, retryAfter) {
      super(reason + (detail ? ': ' + detail : ''));
      this.reason = reason;
      this.status = status;
      this.detail = detail || '';
      this.retryAfter = retryAfter || 0;
    }
  }

  const $ = (id) => document.getElementById(id);
  const ui = {
    signin: $('signin'), user: $('user'), whoami: $('whoami'), who: $('who'), signout: $('signout'),
    message: $('message'), messageText: $('message-text'), messageActions: $('message-actions'), messageClose: $('message-close'),
    app: $('app'), signedOut: $('signed-out'), palette: $('palette'), width: $('width'), title: $('title'),
    newDrawing: $('new-drawing'), saveState: $('save-state'), canvas: $('canvas'),
    list: $('list'), count: $('count'), sentinel: $('sentinel'), listState: $('list-state'),
  };

  // ---- session ----------------------------------------------------------

  let session = readSession();

  function readSession() {
    try {
      const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
      return s && typeof s.token === 'string' ? s : null;
    } catch (_) {
      return null;
    }
  }

  function writeSession(s) {
    session = s;
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else localStorage.removeItem(SESSION_KEY);
  }

  // api calls a v2 route and returns {data, etag}; it throws an ApiError.
  async function api(method, path, { body, headers = {} } = {}) {
    const h = { ...headers };
    if (session) h.Authorization = 'Bearer ' + session.token;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(V2 + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      throw new ApiError('NETWORK', 0, e.message);
    }
    let env = null;
    try {
      env = await res.json();
    } catch (_) { /* not JSON: UNKNOWN below */ }
    if (res.ok && env && env.code === 0) return { data: env.data, etag: res.headers.get('ETag') };
    throw errorOf(res, env && env.error);
  }

  function errorOf(res, error) {
    const retryAfter = parseInt(res.headers.get('Retry-After') || '', 10) || 0;
    const reason = error && typeof error.reason === 'string' ? error.reason : 'UNKNOWN';
    return new ApiError(reason, res.status, error && error.message, retryAfter);
  }

  async function signIn(name) {
    clearMessage();
    let mint;
    try {
      mint = await fetch(MINT + '?user=' + encodeURIComponent(name), { method: 'POST', cache: 'no-store' });
    } catch (e) {
      throw new ApiError('NETWORK', 0, e.message);
    }
    if (!mint.ok) throw new ApiError('UNKNOWN', mint.status, (await mint.text()).trim());
    const device = await mint.json();
    writeSession(null);
    const { data } = await api('POST', '/login', { body: { code: device.code, device: 'web page' } });
    writeSession({ token: data.token, user: name, openId: data.openId, expiresAt: data.expiresAt });
    enter();
  }

  async function signOut() {
    if (session) {
      try { await api('POST', '/logout'); } catch (_) { /* the token is forgotten here anyway */ }
    }
    leave();
  }

  // leave forgets the session and shows the sign-in form. The open
  // drawing stays: signing in again as its owner goes on saving it.
  function leave() {
    writeSession(null);
    resetList();
    ui.app.hidden = true;
    ui.whoami.hidden = true;
    ui.signin.hidden = false;
    ui.signedOut.hidden = false;
  }

  function enter() {
    ui.who.textContent = session.user;
    ui.user.value = session.user;
    ui.signin.hidden = true;
    ui.whoami.hidden = false;
    ui.signedOut.hidden = true;
    ui.app.hidden = false;
    if (doc.owner !== session.openId) newDrawing();
    resizeCanvas();
    resetList();
    loadPage();
    if (unsaved() && doc.actions.length) save();
  }

  // ---- messages ---------------------------------------------------------

  // showError says what went wrong from the table; choices names the
  // buttons a kind of failure offers ({label: handler}).
  function showError(err, choices = {}) {
    if (!(err instanceof ApiError)) err = new ApiError('UNKNOWN', 0, String(err && err.message || err));
    const entry = MESSAGES[err.reason] || MESSAGES.UNKNOWN;
    if (entry.kind === 'signIn') {
      leave();
    }
    showMessage(entry.text(err), err.reason, 'error', entry.kind === 'signIn' ? {} : choices);
    if (entry.kind === 'signIn') ui.user.focus();
  }

  function showMessage(text, reason, kind, choices = {}) {
    ui.message.hidden = false;
    ui.message.dataset.reason = reason || '';
    ui.message.dataset.kind = kind;
    ui.messageText.textContent = text;
    ui.messageActions.replaceChildren(...Object.entries(choices).map(([label, fn]) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.addEventListener('click', () => { clearMessage(); fn(); });
      return b;
    }));
  }

  function clearMessage() {
    ui.message.hidden = true;
    ui.message.dataset.reason = '';
    ui.messageActions.replaceChildren();
  }

  // ---- the drawing ------------------------------------------------------

  // doc is the open drawing: its whole action list (every stroke so far),
  // how many of those actions the service has, the ETag of that version
  // (null: not created yet), and the stored title.
  let doc;
  let colour = COLOURS[1];
  let saving = null; // the save in flight
  let saveAgain = false;
  let conflicted = false;

  // newId makes an id as the seed's pages do: base36 of a timestamp and a
  // random number, about 12 characters.
  function newId() {
    return Date.now().toString(36) + Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
  }

  function newDrawing() {
    doc = { id: newId(), owner: session && session.openId, actions: [], saved: 0, etag: null, title: '', titleInReview: false };
    conflicted = false;
    ui.title.value = '';
    markCurrent();
    setSaveState('');
    redraw();
  }

  function unsaved() { return doc.actions.length > doc.saved || ui.title.value !== doc.title; }

  function setSaveState(state) {
    const text = { saving: 'Saving…', saved: 'Saved', unsaved: 'Not saved', '': '' }[state];
    ui.saveState.textContent = text + (state === 'saved' && doc.titleInReview ? ' (title in review)' : '');
    ui.saveState.dataset.state = state;
  }

  // save PUTs the whole action list (and the title when it changed), with
  // If-Match of the last ETag, or If-None-Match: * to create. Saves go one
  // at a time; strokes drawn meanwhile go with the next one.
  function save() {
    if (saving) {
      saveAgain = true;
      return saving;
    }
    if (conflicted || !session) return Promise.resolve();
    saving = saveOnce().finally(() => {
      saving = null;
      if (saveAgain) {
        saveAgain = false;
        if (unsaved()) save();
      }
    });
    return saving;
  }

  async function saveOnce() {
    const d = doc;
    const actions = d.actions.slice();
    const body = { actions };
    const title = ui.title.value;
    if (title !== d.title) body.title = title;
    const headers = d.etag ? { 'If-Match': d.etag } : { 'If-None-Match': '*' };
    setSaveState('saving');
    try {
      const { data, etag } = await api('PUT', '/drawings/' + encodeURIComponent(d.id), { body, headers });
      d.etag = etag || (data && data.etag) || d.etag;
      d.saved = actions.length;
      if (body.title !== undefined) d.title = body.title;
      d.titleInReview = !!(data && data.titleInReview);
      if (d === doc) setSaveState(unsaved() ? 'unsaved' : 'saved');
      savedItem(d, data);
    } catch (err) {
      if (d !== doc) return; // another drawing was opened meanwhile
      setSaveState('unsaved');
      saveFailed(err, body);
    }
  }

  function saveFailed(err, body) {
    const retry = { 'Try again': () => save() };
    switch (err.reason) {
      case 'ERR_CONFLICT':
        conflicted = true;
        showError(err, {
          'Reload the drawing': () => openDrawing(doc.id),
          'Save mine as a new drawing': () => {
            doc.id = newId();
            doc.etag = null;
            doc.saved = 0;
            conflicted = false;
            save();
          },
        });
        return;
      case 'ERR_CONTENT_RISKY':
      case 'ERR_INVALID_REQUEST':
        if (body.title !== undefined) {
          // Nothing was stored: the title goes back to the stored one,
          // and the strokes are saved without it.
          ui.title.value = doc.title;
          showError(err);
          if (unsaved()) saveAgain = true;
          return;
        }
        showError(err, retry);
        return;
      case 'ERR_TOO_LARGE':
        doc.actions.length = doc.saved;
        redraw();
        setSaveState('saved');
        showError(err);
        return;
      case 'ERR_NOT_FOUND':
        // Deleted elsewhere: what is here becomes a new drawing.
        doc.etag = null;
        doc.saved = 0;
        showError(err, { 'Save it as a new drawing': () => { doc.id = newId(); save(); } });
        return;
      default:
        showError(err, retry);
    }
  }

  async function openDrawing(id) {
    if (unsaved() && doc.id !== id && !confirm('The open drawing has changes that are not saved. Open the other one anyway?')) return;
    try {
      if (saving) await saving;
      const { data, etag } = await api('GET', '/drawings/' + encodeURIComponent(id));
      const actions = Array.isArray(data.actions) ? data.actions : [];
      doc = { id, owner: session.openId, actions, saved: actions.length, etag, title: data.title || '', titleInReview: !!data.titleInReview };
      conflicted = false;
      ui.title.value = doc.title;
      clearMessage();
      markCurrent();
      setSaveState('saved');
      redraw();
    } catch (err) {
      if (err.reason === 'ERR_NOT_FOUND') removeCard(id);
      showError(err, { 'Try again': () => openDrawing(id) });
    }
  }

  // ---- the canvas -------------------------------------------------------

  const ctx = ui.canvas.getContext('2d');
  let live = null; // the stroke being drawn: {pointerId, points}
  let frame = 0;

  // resizeCanvas matches the canvas's pixels to its CSS size (CSS pixels
  // are the coordinates of the actions, as on the phone).
  function resizeCanvas() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(ui.canvas.clientWidth * dpr), h = Math.round(ui.canvas.clientHeight * dpr);
    if (w > 0 && (ui.canvas.width !== w || ui.canvas.height !== h)) {
      ui.canvas.width = w;
      ui.canvas.height = h;
    }
    redraw();
  }

  function redraw() {
    frame = 0;
    const cw = ui.canvas.clientWidth;
    const scale = cw ? ui.canvas.width / cw : 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, ui.canvas.width, ui.canvas.height);
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    if (!doc) return;
    ctx.save();
    replay(ctx, doc.actions);
    ctx.restore();
    if (live && live.points.length > 1) {
      ctx.save();
      replay(ctx, stroke(live.points, colour, LINE_WIDTH));
      ctx.restore();
    }
  }

  function scheduleRedraw() {
    if (!frame) frame = requestAnimationFrame(redraw);
  }

  // point is where a pointer event is, in CSS pixels of the canvas's
  // content box (its border is not drawn on), to a tenth of a pixel.
  function point(e) {
    const r = ui.canvas.getBoundingClientRect();
    const round = (v) => Math.round(v * 10) / 10;
    return [round(e.clientX - r.left - ui.canvas.clientLeft), round(e.clientY - r.top - ui.canvas.clientTop)];
  }

  ui.canvas.addEventListener('pointerdown', (e) => {
    if (live || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    ui.canvas.setPointerCapture(e.pointerId);
    live = { pointerId: e.pointerId, points: [point(e)] };
  });
  ui.canvas.addEventListener('pointermove', (e) => {
    if (!live || e.pointerId !== live.pointerId) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) {
      const p = point(ev), last = live.points[live.points.length - 1];
      if (Math.abs(p[0] - last[0]) >= 1 || Math.abs(p[1] - last[1]) >= 1) live.points.push(p);
    }
    scheduleRedraw();
  });
  const finish = (keep) => (e) => {
    if (!live || e.pointerId !== live.pointerId) return;
    const points = live.points;
    live = null;
    if (keep && points.length > 1) {
      // One stroke as the seed's draw page records it; the drawing's
      // action list is every stroke so far.
      doc.actions.push(...stroke(points, colour, LINE_WIDTH));
      setSaveState('unsaved');
      save();
    }
    redraw();
  };
  ui.canvas.addEventListener('pointerup', finish(true));
  ui.canvas.addEventListener('pointercancel', finish(false));
  window.addEventListener('resize', () => { if (!ui.app.hidden) resizeCanvas(); });

  function buildPalette() {
    for (const c of COLOURS) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'swatch';
      b.style.backgroundColor = c;
      b.dataset.colour = c;
      b.setAttribute('role', 'radio');
      b.setAttribute('aria-label', 'Colour ' + c);
      b.setAttribute('aria-checked', String(c === colour));
      b.addEventListener('click', () => {
        colour = c;
        for (const o of ui.palette.children) o.setAttribute('aria-checked', String(o.dataset.colour === c));
      });
      ui.palette.append(b);
    }
    ui.width.textContent = String(LINE_WIDTH);
  }

  // ---- the list ---------------------------------------------------------

  // list holds the cards by id and the cursor of the next v2 page (null:
  // none left, undefined: the first page is still to load).
  const list = { cards: new Map(), next: undefined, loading: false, generation: 0 };
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadPage();
  }, { rootMargin: '200px' });

  function resetList() {
    list.generation++;
    for (const c of list.cards.values()) if (c.blobURL) URL.revokeObjectURL(c.blobURL);
    list.cards.clear();
    list.next = undefined;
    list.loading = false;
    ui.list.replaceChildren();
    updateCount();
    observer.disconnect();
  }

  // loadPage follows next; the sentinel under the list is observed again
  // after each page, so that a page that leaves it in view loads the next.
  async function loadPage() {
    if (list.loading || list.next === null || !session) return;
    list.loading = true;
    const gen = list.generation;
    ui.listState.textContent = 'Loading…';
    try {
      const q = '?limit=' + PAGE_SIZE + (list.next ? '&cursor=' + encodeURIComponent(list.next) : '');
      const { data } = await api('GET', '/drawings' + q);
      if (gen !== list.generation) return;
      for (const item of data.items || []) if (!list.cards.has(item.id)) addCard(item, false);
      list.next = data.next || null;
      ui.listState.textContent = list.next ? '' : (list.cards.size ? 'That is all of them.' : 'No drawings yet: draw one.');
      updateCount();
    } catch (err) {
      if (gen !== list.generation) return;
      ui.listState.textContent = 'The list could not be loaded.';
      showError(err, { 'Try again': () => loadPage() });
      return;
    } finally {
      if (gen === list.generation) list.loading = false;
    }
    observer.unobserve(ui.sentinel);
    if (list.next) observer.observe(ui.sentinel);
  }

  function updateCount() {
    ui.count.textContent = list.cards.size ? `(${list.cards.size}${list.next ? '+' : ''})` : '';
  }

  function addCard(item, first) {
    const li = document.createElement('li');
    li.className = 'card';
    li.dataset.id = item.id;
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'open';
    const thumb = document.createElement('span');
    thumb.className = 'thumb';
    thumb.textContent = 'loading…';
    const name = document.createElement('span');
    name.className = 'name';
    const meta = document.createElement('span');
    meta.className = 'meta';
    open.append(thumb, name, meta);
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'delete';
    del.textContent = 'Delete';
    li.append(open, del);
    const card = { item, li, thumb, name, meta, blobURL: null };
    open.addEventListener('click', () => openDrawing(card.item.id));
    del.addEventListener('click', () => deleteDrawing(card));
    list.cards.set(item.id, card);
    fillCard(card);
    if (first) ui.list.prepend(li);
    else ui.list.append(li);
    loadThumb(card);
    markCurrent();
  }

  function fillCard(card) {
    const it = card.item;
    card.name.textContent = it.title || 'Untitled';
    card.li.dataset.etag = it.etag || '';
    const when = it.updatedAt ? new Date(it.updatedAt).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '';
    card.meta.textContent = [when, it.bytes ? formatBytes(it.bytes) : ''].filter(Boolean).join(' · ');
    card.li.querySelector('.open').setAttribute('aria-label', 'Open ' + (it.title || 'the untitled drawing ' + it.id));
    card.li.querySelector('.delete').setAttribute('aria-label', 'Delete ' + (it.title || 'the untitled drawing ' + it.id));
  }

  function formatBytes(n) {
    return n < 1024 ? n + ' B' : (n / 1024).toFixed(1) + ' kB';
  }

  // savedItem brings the list up to date after a save of this page: a new
  // drawing's card goes first (v2 pages are in order of creation, newest
  // first), a known one gets its new ETag and thumbnail.
  function savedItem(d, data) {
    const now = new Date().toISOString();
    const item = { id: d.id, title: d.title, updatedAt: now, etag: d.etag, bytes: 0 };
    if (data && typeof data === 'object' && data.id === d.id) Object.assign(item, data);
    const card = list.cards.get(d.id);
    if (card) {
      card.item = { ...card.item, ...item };
      fillCard(card);
      loadThumb(card);
    } else {
      addCard({ createdAt: now, ...item }, true);
      updateCount();
    }
  }

  function removeCard(id) {
    const card = list.cards.get(id);
    if (!card) return;
    if (card.blobURL) URL.revokeObjectURL(card.blobURL);
    card.li.remove();
    list.cards.delete(id);
    updateCount();
  }

  function markCurrent() {
    for (const [id, c] of list.cards) c.li.setAttribute('aria-current', String(!!doc && id === doc.id));
  }

  // Thumbnails are the PNG route's (a Bearer route: fetched with the
  // header, shown through a blob URL), a few at a time. A thumbnail that
  // cannot be had leaves the card's text; the drawing still opens.
  const thumbQueue = [];
  let thumbsLoading = 0;

  function loadThumb(card) {
    card.thumbWanted = (card.thumbWanted || 0) + 1;
    if (!card.thumbQueued) {
      card.thumbQueued = true;
      thumbQueue.push(card);
    }
    pumpThumbs();
  }

  function pumpThumbs() {
    while (thumbsLoading < THUMBS_AT_ONCE && thumbQueue.length) {
      const card = thumbQueue.shift();
      card.thumbQueued = false;
      if (list.cards.get(card.item.id) !== card) continue;
      thumbsLoading++;
      fetchThumb(card).finally(() => { thumbsLoading--; pumpThumbs(); });
    }
  }

  async function fetchThumb(card) {
    const wanted = card.thumbWanted;
    const url = V2 + '/drawings/' + encodeURIComponent(card.item.id) + '.png?w=' + THUMB_WIDTH;
    try {
      // no-cache: revalidated by its ETag, never an older save's picture.
      const res = await fetch(url, { headers: { Authorization: 'Bearer ' + session.token }, cache: 'no-cache' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const blob = await res.blob();
      if (list.cards.get(card.item.id) !== card) return;
      if (card.blobURL) URL.revokeObjectURL(card.blobURL);
      card.blobURL = URL.createObjectURL(blob);
      const img = document.createElement('img');
      img.alt = card.item.title || 'drawing ' + card.item.id;
      img.src = card.blobURL;
      card.thumb.replaceChildren(img);
      card.li.dataset.thumb = 'loaded';
    } catch (e) {
      if (wanted !== card.thumbWanted) return;
      card.thumb.textContent = 'no preview';
      card.li.dataset.thumb = 'missing';
    }
  }

  async function deleteDrawing(card) {
    const it = card.item;
    if (!confirm(`Delete “${it.title || 'Untitled'}”? This cannot be undone.`)) return;
    try {
      await api('DELETE', '/drawings/' + encodeURIComponent(it.id), { headers: it.etag ? { 'If-Match': it.etag } : {} });
      removeCard(it.id);
      if (doc.id === it.id) newDrawing();
    } catch (err) {
      if (err.reason === 'ERR_NOT_FOUND') {
        removeCard(it.id);
        return;
      }
      if (err.reason === 'ERR_CONFLICT') {
        showError(err, { 'Reload the list': () => { resetList(); loadPage(); } });
        return;
      }
      showError(err, { 'Try again': () => deleteDrawing(card) });
    }
  }

  // ---- wiring -----------------------------------------------------------

  ui.signin.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = ui.user.value.trim();
    if (name) signIn(name).catch((err) => showError(err, { 'Try again': () => signIn(name).catch(showError) }));
  });
  ui.signout.addEventListener('click', () => signOut());
  ui.messageClose.addEventListener('click', clearMessage);
  ui.newDrawing.addEventListener('click', () => {
    if (unsaved() && !confirm('The open drawing has changes that are not saved. Start a new one anyway?')) return;
    clearMessage();
    newDrawing();
  });
  // A title is saved when it is left or Enter is pressed, with the
  // drawing's strokes (a drawing without strokes waits for its first).
  const saveTitle = () => { if (ui.title.value !== doc.title && doc.actions.length) save(); };
  ui.title.addEventListener('change', saveTitle);
  ui.title.addEventListener('keydown', (e) => { if (e.key === 'Enter') ui.title.blur(); });
  // Another tab signing in or out changes the shared session.
  window.addEventListener('storage', (e) => {
    if (e.key !== SESSION_KEY) return;
    const s = readSession();
    if (!s) leave();
    else if (!session || s.token !== session.token) { session = s; enter(); }
  });

  buildPalette();
  newDrawing();
  if (session) enter();
  else leave();
})();
