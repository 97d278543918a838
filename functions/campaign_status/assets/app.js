// wacamp's status pages: the campaigns of an account, and one campaign's live progress.
// Served by campaign_status with a CSP that allows only this script; every value from the API
// is written with textContent, never as HTML. The API key is kept in sessionStorage (this tab
// only) and sent as the x-api-key header; it never goes into a URL.
"use strict";

const KEY = "wacamp-api-key";
const POLL_MS = 2000;
const SESSION_EVERY = 15; // polls between two reads of the session health

const $ = (id) => document.getElementById(id);
const base = new URL(document.querySelector('meta[name="wacamp-base"]').content + "/", location.href);

function show(el, on) { el.hidden = !on; }
function text(id, value) { $(id).textContent = value == null ? "" : String(value); }

class Unauthorised extends Error {}

async function api(path) {
  const key = sessionStorage.getItem(KEY);
  if (!key) throw new Unauthorised("Type the API key to continue.");
  const resp = await fetch(new URL(path, base), { headers: { "x-api-key": key }, cache: "no-store" });
  let body = null;
  try { body = await resp.json(); } catch (_) { body = null; }
  if (resp.status === 401) {
    sessionStorage.removeItem(KEY);
    throw new Unauthorised((body && body.message) || "The API key was refused.");
  }
  if (!resp.ok) {
    const what = body ? `${body.code}: ${body.message}` : `HTTP ${resp.status}`;
    throw new Error(body && body.hint ? `${what} (${body.hint})` : what);
  }
  return body;
}

function fail(err) {
  text("error", err.message);
  show($("error"), true);
  if (err instanceof Unauthorised) askForKey();
}

function clearError() { show($("error"), false); }

let started = null;
function askForKey() {
  const form = $("key-form");
  show(form, true);
  $("key").focus();
  form.onsubmit = (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $("key").value.trim());
    $("key").value = "";
    show(form, false);
    clearError();
    if (started) started();
  };
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c == null ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function duration(seconds) {
  if (!isFinite(seconds)) return "unknown";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// ---- one campaign ----------------------------------------------------------------------------

function campaignPage() {
  const id = decodeURIComponent(location.pathname.split("/").slice(-2)[0]);
  text("title", id);
  const seen = []; // [time ms, done] of recent polls, for the rate
  let polls = 0;
  let failedShown = -1;
  let failedCursor = null;
  let timer = null;

  async function loadFailed(more) {
    const q = new URLSearchParams({ status: "FAILED", limit: "20" });
    if (more && failedCursor) q.set("cursor", failedCursor);
    const page = await api(`campaigns/${encodeURIComponent(id)}/messages?${q}`);
    const body = $("failed").tBodies[0];
    if (!more) body.replaceChildren();
    for (const m of page.items) body.appendChild(row([m.row, m.phone, m.code, m.reason]));
    show($("failed"), body.rows.length > 0);
    show($("no-failed"), body.rows.length === 0);
    failedCursor = page.next_cursor;
    show($("failed-more"), failedCursor != null);
  }
  $("failed-more").onclick = () => loadFailed(true).catch(fail);

  async function loadSession(account) {
    const h = await api(`accounts/${encodeURIComponent(account)}/session`).catch((e) => {
      if (e instanceof Unauthorised) throw e;
      return null;
    });
    if (!h) { text("session", "no stored session"); return; }
    let line = `${h.state}; ${h.generations.count} stored generation(s), ${h.generations.bad} marked bad`;
    if (h.last_backup) line += `; last backup ${h.last_backup}`;
    if (h.warm_up) line += `; warming up: day ${h.warm_up.day}, at most ${h.warm_up.daily_cap} messages today`;
    if (h.warning) line += ` — ${h.warning.message} ${h.warning.hint}`;
    if (h.hint) line += ` — ${h.hint}`;
    text("session", line);
  }

  function render(s) {
    const c = s.counts;
    const done = c.sent + c.failed + c.cancelled;
    show($("campaign"), true);
    text("name", s.name);
    text("status", s.status);
    $("status").className = `badge ${s.status}`;
    text("account", `account ${s.account}`);
    $("bar").value = s.percent;
    text("progress", `${done} of ${c.total} done (${s.percent}%)`);
    const now = Date.now();
    seen.push([now, done]);
    while (seen.length > 30) seen.shift();
    const [t0, d0] = seen[0];
    const rate = now > t0 ? ((done - d0) * 60000) / (now - t0) : 0;
    const left = c.total - done - c.paused;
    if (s.status === "SCHEDULED") {
      text("rate", s.send_at ? `starts at ${new Date(s.send_at).toLocaleString()}` : "");
    } else if (s.status !== "RUNNING") {
      text("rate", "");
    } else if (s.waiting_until != null && c.sending === 0) {
      text("rate", "waiting for the recipients' sending hours");
    } else if (rate > 0) {
      text("rate", `${rate.toFixed(1)} messages/min, about ${duration((left / rate) * 60)} left`);
    } else {
      text("rate", seen.length < 2 ? "measuring the rate" : "waiting for the sender");
    }
    show($("paused"), s.status === "PAUSED" && s.reason != null);
    text("reason", s.reason ? `Paused: ${s.reason}` : "");
    text("hint", s.hint || "");
    const files = s.media || [];
    show($("media"), files.length > 0);
    text("media", files.length === 1
      ? `File: ${files[0].file_name} (${files[0].kind}, ${Math.ceil(files[0].size / 1024)} KB), sent with the text as its caption`
      : `${files.length} files, each recipient's own, sent with the text as their caption`);
    show($("waiting"), s.waiting_until != null);
    text("waiting", s.waiting_until
      ? `${c.queued} queued wait for their recipients' sending hours; the next window opens ${new Date(s.waiting_until).toLocaleString()}.`
      : "");
    show($("notice"), s.notice === "SESSION_RESTORED_FROM_BACKUP");
    text("notice", "The session did not log in; an older backup did and the campaign went on from it.");
    const counts = $("counts").tBodies[0];
    counts.replaceChildren();
    for (const k of ["queued", "sending", "sent", "delivered", "read", "failed", "paused", "cancelled", "total"]) {
      counts.appendChild(row([k, c[k]]));
    }
    return c.failed;
  }

  async function poll() {
    timer = null;
    try {
      const s = await api(`campaigns/${encodeURIComponent(id)}`);
      clearError();
      const failed = render(s);
      if (failed !== failedShown) { failedShown = failed; await loadFailed(false); }
      if (polls++ % SESSION_EVERY === 0) await loadSession(s.account);
      const settled = s.counts.queued === 0 && s.counts.sending === 0;
      if (!settled || s.status === "RUNNING" || s.status === "SCHEDULED") timer = setTimeout(poll, POLL_MS);
      else timer = setTimeout(poll, POLL_MS * 5);
    } catch (e) {
      fail(e);
      if (!(e instanceof Unauthorised)) timer = setTimeout(poll, POLL_MS * 2);
    }
  }
  started = () => { if (!timer) poll(); };
  if (sessionStorage.getItem(KEY)) poll(); else askForKey();
}

// ---- an account's campaigns -----------------------------------------------------------------

function campaignsPage() {
  let cursor = null;
  let account = new URLSearchParams(location.search).get("account") || "";
  $("account-input").value = account;

  async function load(more) {
    const q = new URLSearchParams({ account, limit: "20" });
    if (more && cursor) q.set("cursor", cursor);
    const page = await api(`campaigns?${q}`);
    clearError();
    const body = $("list").tBodies[0];
    if (!more) body.replaceChildren();
    for (const s of page.items) {
      const a = document.createElement("a");
      a.href = `campaigns/${encodeURIComponent(s.campaign_id)}/view`;
      a.textContent = `${s.name} (${s.campaign_id})`;
      body.appendChild(row([a, s.status, s.counts.sent, s.counts.failed, s.counts.total, s.created_at]));
    }
    show($("list"), true);
    cursor = page.next_cursor;
    show($("list-more"), cursor != null);
  }
  $("list-more").onclick = () => load(true).catch(fail);
  const form = $("account-form");
  show(form, true);
  form.onsubmit = (e) => {
    e.preventDefault();
    account = $("account-input").value.trim();
    load(false).catch(fail);
  };
  started = () => { if (account) load(false).catch(fail); };
  if (!sessionStorage.getItem(KEY)) askForKey(); else if (account) load(false).catch(fail);
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "campaign") campaignPage(); else campaignsPage();
});
