// Log-in, start-up, live updates (server-sent events) and the session keep-alive.
import { $, API, CASE_VIEWS, CHANNELS, ROLES, api, banner, clock, el, fill, hooks, learnClock, paintAge, report, say, show, showDetail, state } from "./common.js";
import { addMessage } from "./transcript.js";
import { paintQuota, renderComposer, saveDraft } from "./composer.js";
import { addNote, refreshCase, scheduleCaseRefresh } from "./card.js";
import { loadList, refreshCounts, route, scheduleListRefresh } from "./queue.js";
import "./lookup.js";
import "./satisfaction.js"; // the report's satisfaction section: a self-contained addition, run once at start

// ---- log-in -----------------------------------------------------------------------------------------
function showLogin(notice) {
  stopEvents();
  state.me = null; state.csrf = ""; state.detail = null; state.caseId = null; state.lists = {};
  // Nothing of the last session stays on screen (drafts were saved): it is re-fetched after log-in.
  $("reply-text").value = "";
  fill($("list"));
  showDetail("placeholder");
  show($("app"), false);
  show($("login-screen"), true);
  say($("login-notice"), notice || "", "notice");
  say($("login-error"), "", "error");
  $("login-password").value = "";
  ($("login-name").value ? $("login-password") : $("login-name")).focus();
}
function sessionLost(error) {
  saveDraft();
  const text = error.code === "session_expired"
    ? `${error.message}（未发送的回复已保留，登录后可继续。）`
    : error.message;
  showLogin(text);
}
$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const login = $("login-name").value.trim(), password = $("login-password").value;
  if (!login || !password) { say($("login-error"), "请输入账号和密码。", "error"); return; }
  $("login-submit").disabled = true;
  say($("login-error"), "");
  try {
    const me = await api("POST", "/login", { login, password });
    startApp(me);
  } catch (error) {
    say($("login-error"), error.message, "error");
    $("login-password").select();
  } finally {
    $("login-submit").disabled = false;
  }
});
$("logout").addEventListener("click", async () => {
  // Logging out on purpose drops unsent drafts: the next person at this PC must not see them.
  Object.keys(sessionStorage).filter((key) => key.startsWith("console.draft.")).forEach((key) => sessionStorage.removeItem(key));
  state.detail = null;
  try { await api("POST", "/logout"); } catch (error) { /* logged out either way */ }
  showLogin("您已退出登录。");
});

function startApp(me) {
  state.me = me; state.csrf = me.csrf_token;
  show($("login-screen"), false);
  show($("app"), true);
  say($("banner"), "");
  $("me").textContent = `${me.display_name}（${ROLES[me.role] || me.role}）`;
  document.querySelectorAll(".admin-only").forEach((node) => show(node, me.role === "admin"));
  loadReference();
  loadDistricts();
  paintNotifyButton();
  startEvents();
  route();
}
// A browser notification for a new case in my districts or the shared queue, while the page is in the
// background: district, reason and channel only (never the person's words)
const canNotify = () => typeof Notification !== "undefined";
function notifyNewCase(c) {
  if (!c || !canNotify() || Notification.permission !== "granted" || !document.hidden) return;
  const mine = state.me && (!c.district || (state.me.districts || []).includes(c.district));
  if (!mine) return;
  new Notification("新的待处理案件", { body: `${c.district_label} · ${c.reason_label} · ${CHANNELS[c.channel] || c.channel}`, tag: `case-${c.id}` });
}
function paintNotifyButton() {
  show($("notify"), canNotify() && Notification.permission === "default");
}
$("notify").addEventListener("click", async () => {
  if (canNotify()) await Notification.requestPermission();
  paintNotifyButton();
});
async function loadDistricts() {
  try {
    const me = await api("GET", "/me");
    state.me.districts = me.districts || [];
    state.me.all_districts = me.all_districts || [];
    const select = $("filter-district");
    select.querySelectorAll("option.district").forEach((option) => option.remove());
    for (const d of state.me.all_districts) {
      select.append(el("option", { value: d, class: "district", text: state.me.districts.includes(d) ? `${d}（我的）` : d }));
    }
  } catch (error) { report(error); }
}
async function loadReference() {
  const [outcomes, officers, canned] = await Promise.allSettled([
    api("GET", "/outcomes"), api("GET", "/officers"), api("GET", "/canned"),
  ]);
  if (outcomes.status === "fulfilled") state.outcomes = outcomes.value.outcomes || [];
  if (officers.status === "fulfilled") state.officers = officers.value.officers || [];
  if (canned.status === "fulfilled") state.canned = canned.value.canned || [];
  if (state.detail) renderComposer();
}

// ---- live updates (server-sent events) ----------------------------------------------------------------------------
function startEvents() {
  stopEvents();
  const source = new EventSource(`${API}/events`);
  state.events = source;
  source.addEventListener("open", () => {
    const reconnected = state.retry > 0;
    state.retry = 0;
    setLive(true);
    if (reconnected) { loadList(); refreshCounts(); refreshCase(); }
  });
  source.addEventListener("error", () => {
    if (state.events !== source) return;
    source.close();
    state.events = null;
    setLive(false);
    state.retry += 1;
    // A stream that fails may mean the session ended: /me answers 401 and sends the officer to log in.
    api("GET", "/me").then(() => {
      const delay = Math.min(30000, 1000 * 2 ** Math.min(state.retry, 5));
      state.reconnectTimer = setTimeout(() => { if (state.me) startEvents(); }, delay);
    }, (error) => {
      if (error.status !== 401 && state.me) state.reconnectTimer = setTimeout(startEvents, 5000);
    });
  });
  const on = (name, handler) => source.addEventListener(name, (event) => {
    let data;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    handler(data);
  });
  on("case_opened", (data) => { learnClock(data.case); scheduleListRefresh(); notifyNewCase(data.case); });
  on("case_updated", (data) => {
    learnClock(data.case);
    scheduleListRefresh();
    if (state.detail && data.case && data.case.id === state.detail.case.id) scheduleCaseRefresh();
  });
  on("message", (data) => {
    const current = state.detail && state.detail.case;
    if (current && (data.case_id === current.id || data.conversation_id === current.conversation_id)) {
      addMessage(data.message);
      // A person's message opens a new WeChat quota window; staff replies use it.
      if (current.channel === "wechat") scheduleCaseRefresh();
    }
    if ((data.case_id && CASE_VIEWS.includes(state.view)) || state.view === "conversations") scheduleListRefresh();
  });
  on("note", (data) => {
    if (state.detail && data.case_id === state.detail.case.id) addNote(data.note);
  });
}
function stopEvents() {
  clearTimeout(state.reconnectTimer);
  if (state.events) { state.events.close(); state.events = null; }
}
function setLive(up) {
  const live = $("live");
  live.textContent = up ? "● 实时" : "○ 连接中断，正在重连…";
  live.classList.toggle("down", !up);
}

// ---- start ------------------------------------------------------------------------------------------------------

function tick() {
  document.querySelectorAll("[data-ts]").forEach(paintAge);
  if (state.detail) paintQuota();
}
/** The server's clock from a case (opened_at + age_seconds), so ages do not depend on this PC's clock. */
setInterval(tick, 15000);
// The session expires after a quiet spell (CONSOLE_SESSION_MINUTES). An officer who is at the desk —
// reading a transcript, moving the mouse — keeps it alive; an unattended screen still expires.
let lastActivity = Date.now();
["keydown", "mousemove", "mousedown", "wheel", "touchstart"].forEach((type) =>
  window.addEventListener(type, () => { lastActivity = Date.now(); }, { passive: true }));
setInterval(() => {
  if (state.me && Date.now() - lastActivity < 4 * 60 * 1000) api("GET", "/me").catch(() => {});
}, 4 * 60 * 1000);
window.addEventListener("beforeunload", saveDraft);
(async () => {
  try {
    startApp(await api("GET", "/me"));
  } catch (error) {
    showLogin(error.code === "session_expired" ? error.message : "");
  }
})();

// what modules loaded before this one call back into
Object.assign(hooks, { loadDistricts, sessionLost });
