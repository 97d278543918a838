// wa_sim page script: the simulated WhatsApp Web client.
// Keeps the device credential split across IndexedDB and localStorage, presents it on every load, and
// renders the QR, loading, main, conflict, banned and outdated screens. Settings come from window.WA_SIM;
// the attach menu, media editor and media bubbles come from media.js (window.WaSimMedia).
'use strict';
(function () {
  const CFG = window.WA_SIM;
  const S = CFG.selectors;
  const IDB_NAME = 'wawc';
  const IDB_STORE = 'user';
  const IDB_KEY = 'device';
  const LS_SECRET = 'WASecretBundle';
  const LS_WID = 'last-wid-md';
  const RETRY_MS = Math.max(200, CFG.status_poll_ms);
  const RECEIPT_POLL_MS = 250;
  const POST_LOGOUT_KEY = S.post_logout_param.split('=')[0];

  const app = document.getElementById('app');
  const state = {
    screen: 'startup',
    page: null,
    account: null,
    ended: false,
    conflict: false,
    pendingMain: false,
    pendingChat: null,
    poller: null,
    qrLoop: 0,
    chat: null,
    linksReady: false,
  };

  // ---------------------------------------------------------------- helpers

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const enc = encodeURIComponent;

  // Calls the page API; throws on a network failure or a reply cut short.
  async function api(method, path, body) {
    const init = { method, headers: {}, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    let data = null;
    try {
      data = await res.json();
    } catch (error) {
      if (res.ok) throw error;
    }
    return { ok: res.ok, status: res.status, data };
  }

  function randomId() {
    const bytes = new Uint8Array(10);
    crypto.getRandomValues(bytes);
    return '3EB0' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
  }

  // ---------------------------------------------------------------- credential storage

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(IDB_NAME, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(IDB_STORE)) request.result.createObjectStore(IDB_STORE);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('IndexedDB blocked'));
    });
  }

  async function withStore(mode, action) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(IDB_STORE, mode);
        let result;
        const request = action(tx.objectStore(IDB_STORE));
        request.onsuccess = () => { result = request.result; };
        tx.oncomplete = () => resolve(result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
      });
    } finally {
      db.close();
    }
  }

  // Both halves must be there and agree, or the stored keys are unreadable.
  async function readCredential() {
    let primary;
    try {
      primary = await withStore('readonly', (store) => store.get(IDB_KEY));
    } catch (error) {
      primary = 'broken';
    }
    const raw = localStorage.getItem(LS_SECRET);
    if (!primary && raw === null) return { kind: 'none' };
    let secret = null;
    try {
      secret = raw === null ? null : JSON.parse(raw);
    } catch (error) {
      secret = null;
    }
    const ok = primary && typeof primary === 'object' && secret && typeof secret === 'object'
      && typeof primary.device === 'string' && primary.device === secret.device
      && primary.generation === secret.generation
      && typeof primary.key_a === 'string' && typeof secret.key_b === 'string';
    if (!ok) return { kind: 'unreadable' };
    return {
      kind: 'stored',
      device: primary.device,
      generation: primary.generation,
      key_a: primary.key_a,
      key_b: secret.key_b,
    };
  }

  async function storeCredential(c) {
    await withStore('readwrite', (store) => store.put(
      { device: c.device, account: c.account, generation: c.generation, key_a: c.key_a }, IDB_KEY));
    localStorage.setItem(LS_SECRET, JSON.stringify({ device: c.device, generation: c.generation, key_b: c.key_b }));
    localStorage.setItem(LS_WID, c.account + '@c.us');
  }

  async function clearCredential() {
    try {
      await withStore('readwrite', (store) => store.clear());
    } catch (error) {
      // nothing stored, or storage broken: either way there is nothing left to use
    }
    localStorage.removeItem(LS_SECRET);
    localStorage.removeItem(LS_WID);
  }

  // ---------------------------------------------------------------- popups

  function closePopup() {
    document.querySelectorAll('.overlay').forEach((node) => node.remove());
  }

  function showPopup(kind, text, buttons) {
    closePopup();
    const controls = el('div', { class: 'popup-controls' });
    for (const [label, onClick] of buttons) {
      const button = el('button', { type: 'button', text: label });
      button.addEventListener('click', onClick);
      controls.append(button);
    }
    const popup = el('div', { class: 'popup', role: 'dialog', [S.popup_attribute]: 'true', 'data-popup-kind': kind }, [
      el('div', { class: 'popup-body', text }),
      controls,
    ]);
    document.body.append(el('div', { class: 'overlay' }, [popup]));
  }

  function showInvalidPhone() {
    showPopup('invalid-phone', S.invalid_phone_text, [[S.popup_ok_text, closePopup]]);
  }

  // ---------------------------------------------------------------- end screens

  function stopSession() {
    state.ended = true;
    state.conflict = false;
    if (state.poller) clearTimeout(state.poller);
    state.poller = null;
    closePopup();
    media.closeAll();
  }

  function showEndScreen(name, text) {
    stopSession();
    state.screen = name;
    app.replaceChildren(el('div', { class: 'landing-wrapper', 'data-screen': name }, [
      el('div', { class: 'landing-window' }, [el('div', { class: 'landing-title', text })]),
    ]));
  }

  const showBanned = () => showEndScreen('banned', S.banned_text);
  const showOutdated = () => showEndScreen('outdated', S.outdated_text);

  async function logOut(postLogout) {
    stopSession();
    await clearCredential();
    if (postLogout) {
      const url = new URL('/', location.href);
      url.search = S.post_logout_param;
      location.replace(url.toString());
      return;
    }
    await showQr();
  }

  // ---------------------------------------------------------------- QR login

  async function showQr() {
    stopSession();
    state.screen = 'qr';
    const loop = ++state.qrLoop;
    app.replaceChildren(el('div', { class: 'landing-wrapper', 'data-screen': 'qr' }, [
      el('div', { class: 'landing-window' }, [
        el('div', { class: 'landing-main' }, [
          el('div', { class: 'landing-title', text: 'Log into WhatsApp Web' }),
          el('ol', {}, [
            el('li', { text: 'Open WhatsApp on your phone' }),
            el('li', { text: 'Tap Menu or Settings and select Linked devices' }),
            el('li', { text: 'Tap Link a device' }),
            el('li', { text: 'Point your phone at this screen to scan the QR code' }),
          ]),
        ]),
        el('div', { class: 'qr-slot' }),
      ]),
    ]));
    let attempt = null;
    while (attempt === null) {
      try {
        const reply = await api('POST', '/api/login/start');
        if (reply.ok) attempt = reply.data;
      } catch (error) {
        // server unreachable: retry below
      }
      if (loop !== state.qrLoop) return;
      if (attempt === null) await sleep(RETRY_MS);
    }
    renderQr(attempt.qr);
    pollAttempt(attempt.attempt, loop);
  }

  function renderQr(payload) {
    const slot = app.querySelector('.qr-slot');
    if (!slot) return;
    let box = slot.querySelector('.qr-box');
    if (!box || !box.querySelector('canvas')) {
      box = el('div', { class: 'qr-box' }, [
        el('canvas', { width: 264, height: 264, role: 'img', 'aria-label': S.qr_canvas_label }),
      ]);
      slot.replaceChildren(box);
    }
    if (box.getAttribute(S.qr_ref_attribute) === payload) return;
    box.setAttribute(S.qr_ref_attribute, payload);
    drawQr(box.querySelector('canvas'), payload);
  }

  function renderIdle() {
    const slot = app.querySelector('.qr-slot');
    if (!slot) return;
    const button = el('button', { type: 'button' }, [
      el('span', { 'data-icon': 'refresh-large' }),
      el('div', { text: S.qr_reload_text }),
    ]);
    button.addEventListener('click', () => { showQr(); });
    const box = el('div', { class: 'qr-box idle' }, [el('span', {}, [button])]);
    box.setAttribute(S.qr_ref_attribute, '');
    slot.replaceChildren(box);
  }

  async function pollAttempt(id, loop) {
    for (;;) {
      await sleep(CFG.qr_poll_ms);
      if (loop !== state.qrLoop || state.screen !== 'qr') return;
      let reply;
      try {
        reply = await api('GET', '/api/login/poll?attempt=' + enc(id));
      } catch (error) {
        continue;
      }
      if (loop !== state.qrLoop || state.screen !== 'qr') return;
      if (!reply.ok) continue;
      const view = reply.data;
      if (view.state === 'waiting') {
        renderQr(view.qr);
      } else if (view.state === 'idle') {
        renderIdle();
        return;
      } else if (view.state === 'linked') {
        state.screen = 'linking';
        showLoading(0);
        await storeCredential(view.credential);
        reloadAfterLink();
        return;
      } else {
        showQr();
        return;
      }
    }
  }

  // WhatsApp reloads the page once right after a device is linked.
  function reloadAfterLink() {
    const url = new URL(location.href);
    if (url.searchParams.has(POST_LOGOUT_KEY)) {
      url.searchParams.delete(POST_LOGOUT_KEY);
      location.replace(url.toString());
    } else {
      location.reload();
    }
  }

  // A deterministic picture of the payload: finder squares plus modules from a hash of it.
  function drawQr(canvas, payload) {
    const ctx = canvas.getContext('2d');
    const n = 33;
    const cell = Math.floor(canvas.width / (n + 4));
    const offset = Math.floor((canvas.width - cell * n) / 2);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    let h = 2166136261;
    for (let i = 0; i < payload.length; i++) {
      h ^= payload.charCodeAt(i);
      h = Math.imul(h, 16777619) >>> 0;
    }
    if (h === 0) h = 1;
    const next = () => {
      h ^= h << 13; h >>>= 0;
      h ^= h >>> 17;
      h ^= h << 5; h >>>= 0;
      return h;
    };
    const inFinder = (x, y) => (x < 8 && y < 8) || (x >= n - 8 && y < 8) || (x < 8 && y >= n - 8);
    ctx.fillStyle = '#122e31';
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        if (!inFinder(x, y) && (next() & 1)) ctx.fillRect(offset + x * cell, offset + y * cell, cell, cell);
      }
    }
    for (const [fx, fy] of [[0, 0], [n - 7, 0], [0, n - 7]]) {
      ctx.fillStyle = '#122e31';
      ctx.fillRect(offset + fx * cell, offset + fy * cell, 7 * cell, 7 * cell);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(offset + (fx + 1) * cell, offset + (fy + 1) * cell, 5 * cell, 5 * cell);
      ctx.fillStyle = '#122e31';
      ctx.fillRect(offset + (fx + 2) * cell, offset + (fy + 2) * cell, 3 * cell, 3 * cell);
    }
  }

  // ---------------------------------------------------------------- authentication and sync

  function showLoading(percent) {
    let screen = app.querySelector('.startup[data-screen="loading"]');
    if (!screen) {
      screen = el('div', { class: 'startup', 'data-screen': 'loading' }, [
        el('progress', { value: 0, max: 100 }),
        el('div', { class: 'loading-text' }),
        el('div', { class: 'secure', text: 'End-to-end encrypted' }),
      ]);
      app.replaceChildren(screen);
    }
    screen.querySelector('progress').value = percent;
    screen.querySelector('.loading-text').textContent = S.loading_text + ' [' + percent + '%]';
  }

  async function authenticate(credential) {
    state.screen = 'loading';
    showLoading(0);
    let reply = null;
    for (;;) {
      try {
        const answer = await api('POST', '/api/auth', {
          device: credential.device,
          generation: credential.generation,
          key_a: credential.key_a,
          key_b: credential.key_b,
        });
        if (answer.ok && answer.data) reply = answer.data;
      } catch (error) {
        // unreachable or cut short: retry
      }
      if (reply !== null) break;
      app.querySelector('.loading-text').textContent = 'Connecting\u2026';
      await sleep(RETRY_MS);
    }
    switch (reply.result) {
      case 'ok':
        break;
      case 'revoked':
        await logOut(true);
        return;
      case 'banned':
        showBanned();
        return;
      case 'outdated':
        showOutdated();
        return;
      default: // unknown, expired, rejected, unreadable
        await logOut(false);
        return;
    }
    state.page = reply.page;
    state.account = reply.account;
    if (reply.next) await storeCredential(reply.next);
    startStatusPolling();
    if (reply.conflict) {
      state.pendingMain = true;
      showConflict();
      return;
    }
    await syncThenMain();
  }

  async function syncThenMain() {
    const total = Math.max(1, CFG.sync_ms);
    const start = performance.now();
    for (;;) {
      if (state.ended) return;
      const percent = Math.min(100, Math.floor(((performance.now() - start) * 100) / total));
      showLoading(percent);
      if (percent >= 100) break;
      await sleep(Math.min(50, total));
    }
    if (state.ended) return;
    await showMain();
  }

  // ---------------------------------------------------------------- session status

  function startStatusPolling() {
    if (state.poller) return;
    const tick = async () => {
      state.poller = null;
      if (state.ended) return;
      let status = null;
      try {
        const reply = await api('GET', '/api/status?page=' + enc(state.page));
        if (reply.ok && reply.data) status = reply.data.status;
      } catch (error) {
        // transient: poll again
      }
      if (state.ended) return;
      if (status) await applyStatus(status);
      if (!state.ended && !state.poller) state.poller = setTimeout(tick, CFG.status_poll_ms);
    };
    state.poller = setTimeout(tick, CFG.status_poll_ms);
  }

  async function applyStatus(status) {
    switch (status) {
      case 'active':
        return;
      case 'conflict':
        showConflict();
        return;
      case 'revoked':
        await logOut(true);
        return;
      case 'banned':
        showBanned();
        return;
      case 'outdated':
        showOutdated();
        return;
      default: // expired, unknown
        await logOut(false);
    }
  }

  function showConflict() {
    if (state.conflict || state.ended) return;
    state.conflict = true;
    showPopup('conflict', S.conflict_text, [
      ['Close', () => {
        showEndScreen('closed', S.conflict_text);
      }],
      [S.use_here_text, () => { useHere(); }],
    ]);
  }

  async function useHere() {
    let reply;
    try {
      reply = await api('POST', '/api/takeover', { page: state.page });
    } catch (error) {
      return;
    }
    if (!reply.ok || !reply.data) return;
    if (reply.data.status !== 'active') {
      await applyStatus(reply.data.status);
      return;
    }
    state.conflict = false;
    closePopup();
    if (state.pendingMain) {
      state.pendingMain = false;
      await syncThenMain();
    }
  }

  // ---------------------------------------------------------------- main UI

  async function showMain() {
    state.screen = 'main';
    const list = el('div', { id: S.chat_list_id, class: 'chat-list', role: 'grid', 'aria-label': 'Chat list' });
    app.replaceChildren(el('div', { class: 'app-wrapper-web', 'data-screen': 'main' }, [
      el('div', { id: S.side_id, class: 'side' }, [
        el('header', { class: 'side-header' }, [el('span', { title: state.account, text: state.account })]),
        list,
      ]),
      el('div', { class: 'main-slot' }, [
        el('div', { class: 'intro' }, [
          el('h1', { text: 'WhatsApp Web' }),
          el('p', { text: 'Send and receive messages without keeping your phone online.' }),
        ]),
      ]),
    ]));
    await refreshChats();
    // Like WhatsApp Web, the app may show its chat list before it intercepts chat links.
    if (CFG.links_ready_after_ms > 0) {
      setTimeout(() => { state.linksReady = true; }, CFG.links_ready_after_ms);
    } else {
      state.linksReady = true;
    }
    const pending = state.pendingChat;
    state.pendingChat = null;
    if (pending) {
      await openChat(pending.phone, pending.text);
    } else if (location.pathname.replace(/\/+$/, '') === '/send') {
      const query = new URLSearchParams(location.search);
      if (query.has('phone')) await openChat(query.get('phone'), query.get('text') || '');
    }
  }

  async function refreshChats() {
    let reply;
    try {
      reply = await api('GET', '/api/chats?page=' + enc(state.page));
    } catch (error) {
      return;
    }
    const list = document.getElementById(S.chat_list_id);
    if (!reply.ok || !list) return;
    list.replaceChildren(...reply.data.chats.map((chat) => {
      const row = el('div', { class: 'chat-row', role: 'listitem', 'data-phone': chat.phone }, [
        el('div', {}, [el('span', { title: '+' + chat.phone, dir: 'auto', text: '+' + chat.phone })]),
        el('div', { class: 'last', text: chat.last_text }),
      ]);
      row.addEventListener('click', () => { openChat(chat.phone, ''); });
      return row;
    }));
  }

  function ackLabel(which) {
    return { pending: ' Pending ', sent: ' Sent ', delivered: ' Delivered ', read: ' Read ' }[which];
  }

  function setAck(row, which) {
    const icon = row.querySelector('.msg-meta span[data-icon]');
    icon.setAttribute('data-icon', S['ack_' + which + '_icon']);
    icon.setAttribute('aria-label', ackLabel(which));
  }

  // An outgoing bubble. A media message (`attached`: kind, file_name, mime, size) shows its picture or
  // document first, then its caption, if any, as the bubble's one span.selectable-text; `file` is the
  // File just sent (a message loaded with the chat fetches its picture from the server).
  function bubble(phone, id, text, which, unixMs, attached, file) {
    const sentAt = new Date(unixMs);
    const time = sentAt.toTimeString().slice(0, 5);
    // As WhatsApp Web stamps a message for copying: "[10:42, 12/1/2026] You: " (en-US date).
    const stamp = '[' + time + ', ' + (sentAt.getMonth() + 1) + '/' + sentAt.getDate() + '/' + sentAt.getFullYear() + '] You: ';
    const parts = [];
    if (attached) parts.push(media.block(attached, file || null, () => loadPicture(id)));
    parts.push(el('div', { class: 'copyable-text', 'data-pre-plain-text': stamp },
      attached && !text ? [] : [el('span', { class: 'selectable-text copyable-text', dir: 'ltr', text })]));
    parts.push(el('div', { class: 'msg-meta' }, [
      el('span', { class: 'msg-time-text', text: time }),
      el('span', { 'data-icon': S['ack_' + which + '_icon'], 'aria-label': ackLabel(which) }),
    ]));
    return el('div', {
      class: S.outgoing_class + ' focusable-list-item',
      role: 'row',
      'data-id': 'true_' + phone + '@c.us_' + id,
    }, parts);
  }

  async function loadPicture(id) {
    try {
      const res = await fetch('/api/media?page=' + enc(state.page) + '&id=' + enc(id), { cache: 'no-store' });
      return res.ok ? await res.blob() : null;
    } catch (error) {
      return null;
    }
  }

  async function openChat(rawPhone, text) {
    if (state.screen !== 'main') {
      if (!state.ended) state.pendingChat = { phone: rawPhone, text };
      return;
    }
    let reply;
    try {
      reply = await api('GET', '/api/chat?page=' + enc(state.page) + '&phone=' + enc(rawPhone));
    } catch (error) {
      return;
    }
    if (!reply.ok || !reply.data) return;
    if (!reply.data.on_whatsapp) {
      showInvalidPhone();
      return;
    }
    renderChat(reply.data.phone, reply.data.messages, text);
  }

  function renderChat(phone, messages, text) {
    const slot = app.querySelector('.main-slot');
    if (!slot) return;
    media.closeAll();
    const conversation = el('div', { class: 'conversation', role: 'application' });
    const earlier = messages.map((m) => {
      const row = bubble(phone, m.id, m.text, m.status, m.unix_ms, m.media);
      conversation.append(row);
      return { row, m };
    });
    const composer = el('div', {
      class: 'composer',
      contenteditable: 'true',
      role: 'textbox',
      'aria-label': S.composer_label,
      title: S.composer_label,
      'data-tab': '10',
      spellcheck: 'true',
    });
    composer.textContent = text;
    const send = el('button', { type: 'button', class: 'send-button', 'aria-label': S.send_label, 'data-tab': '11' }, [
      el('span', { 'data-icon': S.send_icon, 'aria-hidden': 'true' }),
    ]);
    const chat = el('div', { id: S.main_id, class: 'chat', 'data-phone': phone }, [
      el('header', {}, [el('span', { title: '+' + phone, dir: 'auto', text: '+' + phone })]),
      conversation,
      el('footer', {}, [el('div', { class: 'attach-wrap' }), el('div', { class: 'composer-wrap' }, [composer]), send]),
    ]);
    chat.querySelector('.attach-wrap').append(media.attachButton(chat));
    composer.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        sendFromComposer(chat);
      }
    });
    send.addEventListener('click', () => { sendFromComposer(chat); });
    slot.replaceChildren(chat);
    state.chat = phone;
    for (const { row, m } of earlier) followReceipts(row, m.id, m.status);
    conversation.scrollTop = conversation.scrollHeight;
    composer.focus();
    const range = document.createRange();
    range.selectNodeContents(composer);
    range.collapse(false);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function sendFromComposer(chat) {
    const composer = chat.querySelector('[contenteditable="true"]');
    const text = composer.innerText.replace(/\n+$/, '');
    if (!text.trim()) return;
    composer.textContent = '';
    const phone = chat.getAttribute('data-phone');
    const id = randomId();
    await post(chat, id, text, null, null, () => api('POST', '/api/send', { page: state.page, to: phone, text, id }));
  }

  // The media editor's send (media.js): the bubble shows at once with its clock; the file goes up
  // base64 in JSON, and the server's answer acknowledges it as it does a text.
  async function sendMedia(chat, chosen) {
    if (!chat.isConnected) return;
    const phone = chat.getAttribute('data-phone');
    const id = randomId();
    const { kind, file, caption } = chosen;
    const attached = { kind, file_name: file.name, mime: file.type, size: file.size };
    await post(chat, id, caption, attached, file, async () => api('POST', '/api/send-media', {
      page: state.page,
      to: phone,
      caption,
      id,
      kind,
      file_name: file.name,
      mime: file.type,
      data: await media.base64(file),
    }));
  }

  // Adds the pending bubble, makes the request, and follows the receipts once the server has it.
  async function post(chat, id, text, attached, file, request) {
    const phone = chat.getAttribute('data-phone');
    const row = bubble(phone, id, text, 'pending', Date.now(), attached, file);
    const conversation = chat.querySelector('.conversation');
    conversation.append(row);
    conversation.scrollTop = conversation.scrollHeight;
    let reply;
    try {
      reply = await request();
    } catch (error) {
      row.setAttribute('data-send-error', 'network');
      return; // stays pending, as WhatsApp shows the clock until it hears back
    }
    if (!reply.ok) {
      row.setAttribute('data-send-error', String(reply.status));
      if (reply.status === 409) showConflict();
      if (reply.status === 404) {
        row.remove();
        showInvalidPhone();
      }
      return;
    }
    setAck(row, 'sent');
    refreshChats();
    await followReceipts(row, id, 'sent');
  }

  // While the bubble is on screen it shows the receipts the server has for it, as WhatsApp Web
  // updates the checks of an open chat (two checks, then blue ones).
  async function followReceipts(row, id, shown) {
    while (row.isConnected && !state.ended) {
      try {
        const receipt = await api('GET', '/api/receipt?page=' + enc(state.page) + '&id=' + enc(id));
        if (receipt.ok && receipt.data.ack !== shown) {
          shown = receipt.data.ack;
          setAck(row, shown);
        }
      } catch (error) {
        // no answer: keep what it shows
      }
      await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
    }
  }

  // ---------------------------------------------------------------- media (media.js)

  const media = window.WaSimMedia({ S, CFG, el, showPopup, closePopup, sendMedia });

  // ---------------------------------------------------------------- in-app chat links

  // WhatsApp Web opens wa.me and api.whatsapp.com/send links clicked inside the app without a page load,
  // once the loaded app intercepts them; before that a link does what a plain link does.
  function chatLinkTarget(href) {
    let url;
    try {
      url = new URL(href, location.href);
    } catch (error) {
      return null;
    }
    const host = url.hostname.toLowerCase();
    if (host === 'wa.me' || host === 'www.wa.me') {
      const phone = url.pathname.replace(/^\/+|\/+$/g, '');
      return phone ? { phone, text: url.searchParams.get('text') || '' } : null;
    }
    if ((host === 'api.whatsapp.com' || host === 'web.whatsapp.com') && /^\/send\/?$/.test(url.pathname)) {
      return { phone: url.searchParams.get('phone') || '', text: url.searchParams.get('text') || '' };
    }
    return null;
  }

  document.addEventListener('click', (event) => {
    const anchor = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!anchor || !state.linksReady) return;
    const target = chatLinkTarget(anchor.getAttribute('href'));
    if (!target) return;
    event.preventDefault();
    openChat(target.phone, target.text);
  }, true);

  // ---------------------------------------------------------------- boot

  async function boot() {
    if (CFG.outdated) {
      showOutdated();
      return;
    }
    const credential = await readCredential();
    if (credential.kind === 'none') {
      await showQr();
    } else if (credential.kind === 'unreadable') {
      await clearCredential();
      await showQr();
    } else {
      await authenticate(credential);
    }
  }

  boot().catch((error) => {
    console.error('wa_sim page failed', error);
  });
})();
