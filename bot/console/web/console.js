"use strict";
(() => {
  const API = "/console/api";
  const VIEWS = {
    queue: "待处理", mine: "我的案件", all: "全部进行中", closed: "已结案",
    conversations: "会话", canned: "快捷回复管理", audit: "审计日志", staff: "人员与辖区", reports: "报表",
    followups: "差评回访",
  };
  const CASE_VIEWS = ["queue", "mine", "all", "closed"];
  const ADMIN_VIEWS = ["canned", "audit", "staff", "reports"];
  // full-width views without the case list: the admin pages, and the 差评回访 follow-ups (every officer)
  const WIDE_VIEWS = [...ADMIN_VIEWS, "followups"];
  const CHANNELS = { wechat: "微信", telegram: "Telegram", web: "网页" };
  const LANGUAGES = { zh: "中文", en: "English" };
  const STATUSES = { waiting: "等待认领", assigned: "处理中", closed: "已结案", followup: "待回访" };
  const ROLES = { admin: "管理员", officer: "工作人员" };
  const AUTHORS = { person: "对方", bot: "助手", gateway: "系统通知", staff: "工作人员" };
  const MESSAGE_TAGS = {
    suppressed: ["未发出 · 人工处理期间助手静默", ""],
    held: ["暂存 · 待对方再次留言后发出", "held"],
    failed: ["发送失败", "failed"],
    sending: ["发送中", ""],
    rasa_unavailable: ["助手暂不可用", "failed"],
    received: ["待答复", ""],
    answered: ["系统直接答复", ""],
    handed_off: ["助手无法答复 · 已转人工", "failed"],
    before_replay: ["旧版本时未答复", ""],
  };
  const AUDIT_ACTIONS = {
    login: "登录", logout: "退出", login_failed: "登录失败", login_refused_locked: "登录被拒（此地址已锁定）",
    claim: "认领", reply: "回复", note: "备注", transfer: "转交", close: "结案", takeover: "接管",
    case_opened: "开启案件", export: "导出记录",
    canned_add: "新增快捷回复", canned_edit: "修改快捷回复", canned_retire: "停用快捷回复",
    login_throttled: "登录被拒（该地址失败过多）", search: "搜索会话", reveal: "查看完整号码",
    view_conversation: "查看会话（只读）", districts: "设置负责区", report_export: "导出报表",
    rating: "用户评价", callback: "登记差评回访",
  };
  // the policy engine's result statuses (policies/ README), as the officer reads them
  const RESULT_STATUSES = {
    eligible: "符合条件", referral: "需咨询主管部门", needs_info: "尚缺信息", ineligible: "不符合", superseded: "就高不重复：已有更高待遇",
  };
  // Mirrors of the backend's limits (console.yml `replies`), for warnings while typing; the backend decides
  // and its refusal is shown as it words it. A WeChat reply must fit one customer-service message.
  const MAX_REPLY_CHARS = 2000;
  const WECHAT_MAX_BYTES = 2000;
  const FALLBACK_ERRORS = {
    network: "无法连接服务器，请检查网络后重试。",
    bad_credentials: "账号或密码不正确。",
    locked: "尝试次数过多，账号已被暂时锁定，请稍后再试。",
    not_logged_in: "请先登录。",
    session_expired: "登录已超时，请重新登录。",
    csrf: "安全校验失败，请刷新页面后重试。",
    forbidden: "您没有权限执行此操作。",
    not_yours: "该案件不由您负责，不能执行此操作。",
    already_claimed: "该案件已被其他同事认领。",
    closed: "该案件已结案。",
    empty: "请输入内容。",
    too_long: "内容过长，请精简后再发送。",
  };

  const $ = (id) => document.getElementById(id);
  const state = {
    me: null, csrf: "", view: "queue", caseId: null, detail: null, lists: {}, canned: [], outcomes: [],
    officers: [], skewMs: 0, events: null, retry: 0, reconnectTimer: null, listTimer: null, caseTimer: null,
    conversation: null, searchTimer: null, routeToken: 0, listSeq: 0, countSeq: { queue: 0, mine: 0, all: 0, closed: 0 }, sending: false,
  };

  // ---- small helpers ------------------------------------------------------------------------------
  /** Build an element; children are nodes or text (never parsed as HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  /** Replace a node's children (nested arrays flattened, null/false skipped). */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
    return node;
  }
  const show = (node, on = true) => { node.hidden = !on; };
  function say(node, text, kind) {
    node.textContent = text || "";
    if (kind) node.className = kind;
    node.hidden = !text;
  }
  const serverNow = () => Date.now() + state.skewMs;
  const secondsSince = (iso) => Math.max(0, (serverNow() - Date.parse(iso)) / 1000);
  function ago(seconds) {
    if (seconds < 60) return "刚刚";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} 分钟前`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return `${hours} 小时前`;
    return `${Math.floor(hours / 24)} 天前`;
  }
  function clock(iso) {
    if (!iso) return "";
    const d = new Date(iso), now = new Date();
    const hm = d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
    return d.toDateString() === now.toDateString() ? hm : `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
  }
  function fullTime(iso) {
    return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "";
  }
  /** A live relative time ("3 分钟前"), refreshed by tick(). */
  function ageNode(iso, extraClass) {
    const node = el("span", { class: "age " + (extraClass || ""), title: fullTime(iso), dataset: { ts: iso || "" } });
    paintAge(node);
    return node;
  }
  function paintAge(node) {
    if (!node.dataset.ts) return;
    const seconds = secondsSince(node.dataset.ts);
    node.textContent = ago(seconds);
    if (node.classList.contains("waiting-age")) {
      node.classList.toggle("long", seconds >= 15 * 60 && seconds < 60 * 60);
      node.classList.toggle("very-long", seconds >= 60 * 60);
    }
  }
  function tick() {
    document.querySelectorAll("[data-ts]").forEach(paintAge);
    if (state.detail) paintQuota();
  }
  /** The server's clock from a case (opened_at + age_seconds), so ages do not depend on this PC's clock. */
  function learnClock(summary) {
    if (summary && summary.opened_at && typeof summary.age_seconds === "number") {
      state.skewMs = Date.parse(summary.opened_at) + summary.age_seconds * 1000 - Date.now();
    }
  }
  const channelBadge = (channel) => el("span", { class: `badge ch-${channel}`, text: CHANNELS[channel] || channel || "?" });
  const langBadge = (language) => el("span", { class: `badge lang-${language}`, text: LANGUAGES[language] || language || "?" });
  const utf8Bytes = (text) => new TextEncoder().encode(text).length;

  // ---- HTTP -----------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message, body) {
      super(message);
      this.status = status; this.code = code; this.body = body || {};
    }
  }
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
    let response;
    try {
      response = await fetch(API + path, {
        method, headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, "network", FALLBACK_ERRORS.network);
    }
    if (response.status === 204) return null;
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    if (!response.ok) {
      const code = (data && data.code) || `http_${response.status}`;
      const message = (data && data.error) || FALLBACK_ERRORS[code] || `操作失败（HTTP ${response.status}），请稍后重试。`;
      const error = new ApiError(response.status, code, message, data);
      if (response.status === 401 && path !== "/login" && state.me) sessionLost(error);
      throw error;
    }
    return data;
  }
  /** Show an error where it happened; a lost session has already sent the officer to the log-in. */
  function report(error, node) {
    if (error instanceof ApiError && error.status === 401) return;
    const text = error instanceof ApiError ? error.message : `页面出错：${error && error.message}`;
    if (node) say(node, text, node.dataset.kind || "error");
    else banner(text);
  }
  function banner(text) { say($("banner"), text, "banner"); }

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

  // ---- navigation (#/view or #/view/case-id) ---------------------------------------------------------------
  function go(view, caseId) {
    const hash = caseId ? `#/${view}/${caseId}` : `#/${view}`;
    if (location.hash === hash) route(); else location.hash = hash;
  }
  function parseHash() {
    const [, view, id] = location.hash.split("/");
    return { view: VIEWS[view] ? view : "queue", caseId: id ? Number(id) || null : null };
  }
  window.addEventListener("hashchange", () => { if (state.me) route(); });
  document.querySelectorAll("#nav button").forEach((button) =>
    button.addEventListener("click", () => go(button.dataset.view)));

  // At phone width the page shows the list or the detail, never both (console.css)
  function markDetail() {
    const view = state.view;
    const open = Boolean(state.caseId) || WIDE_VIEWS.includes(view) || (view === "conversations" && Boolean(state.conversation));
    $("app").classList.toggle("has-detail", open);
  }
  function route() {
    const { view, caseId } = parseHash();
    const admin = state.me.role === "admin";
    if (ADMIN_VIEWS.includes(view) && !admin) { go("queue"); return; }
    const viewChanged = view !== state.view || !state.lists[view];
    if (state.caseId !== caseId) saveDraft();
    state.view = view;
    state.caseId = caseId;
    document.querySelectorAll("#nav button").forEach((button) => {
      if (button.dataset.view === view) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    });
    show($("sidebar"), !WIDE_VIEWS.includes(view));
    $("list-title").textContent = VIEWS[view];
    show($("search"), view === "conversations");
    show($("filters"), view === "queue" || view === "all");
    markDetail();
    if (WIDE_VIEWS.includes(view)) {
      showDetail("admin-view");
      if (view === "followups") renderFollowUps(); else if (view === "canned") renderCannedAdmin(); else if (view === "staff") renderStaffAdmin(); else if (view === "reports") renderReports(); else renderAudit();
      return;
    }
    if (viewChanged || view === "conversations") loadList();
    else markActive();
    refreshCounts();
    if (caseId) openCase(caseId);
    else if (view === "conversations" && state.conversation) renderConversation(state.conversation);
    else { state.detail = null; showDetail("placeholder"); $("placeholder").textContent = view === "conversations" ? "搜索并选择一个会话，可主动接管。" : "从左侧选择一个案件"; }
  }
  function showDetail(which) {
    for (const id of ["placeholder", "case-view", "conv-view", "admin-view"]) show($(id), id === which);
  }

  // ---- lists ------------------------------------------------------------------------------------------------
  async function loadList() {
    const view = state.view;
    const seq = ++state.listSeq;  // an older answer arriving late must not overwrite a newer one
    try {
      if (view === "conversations") {
        if ($("going-wrong").checked) {
          const data = await api("GET", "/going-wrong");
          if (state.view !== view || seq !== state.listSeq) return;
          $("search-note").textContent = "最近 7 天出现问题、尚无人工处理的会话";
          state.lists.conversations = data.conversations || [];
          renderConversationList();
          return;
        }
        const q = $("search-q").value.trim();
        const reason = $("search-reason").value.trim();
        const query = `q=${encodeURIComponent(q)}` + (q && reason ? `&reason=${encodeURIComponent(reason)}` : "");
        let data;
        try { data = await api("GET", `/conversations?${query}`); } catch (error) {
          if (error.code !== "reason_required") throw error;
          say($("search-note"), error.message, "error"); return;
        }
        $("search-note").textContent = q ? (data.matched === "clear" ? "按完整内容匹配（已记入审计）" : "按遮蔽后的内容匹配") : "";
        if (state.view !== view || seq !== state.listSeq) return;
        state.lists.conversations = data.conversations || [];
        renderConversationList();
      } else {
        const counted = ++state.countSeq[view];
        const data = await api("GET", `/cases?view=${view}${filterQuery(view)}`);
        const cases = data.cases || [];
        cases.forEach(learnClock);
        // The tab's count is updated even when the officer has moved on to another view meanwhile.
        if (counted === state.countSeq[view]) setCount(view, cases);
        if (state.view !== view || seq !== state.listSeq) return;
        state.lists[view] = cases;
        renderCaseList();
      }
    } catch (error) {
      report(error);
    }
  }
  function scheduleListRefresh() {
    clearTimeout(state.listTimer);
    state.listTimer = setTimeout(() => { if (state.me) { loadList(); refreshCounts(); } }, 250);
  }
  /** The queue and "mine" counts in the tabs (the list on screen fetches its own). */
  async function refreshCounts() {
    for (const view of ["queue", "mine"]) {
      if (view === state.view) continue;
      const counted = ++state.countSeq[view];
      try {
        const data = await api("GET", `/cases?view=${view}`);
        if (counted === state.countSeq[view]) setCount(view, data.cases || []);
      } catch (error) { report(error); return; }
    }
  }
  function setCount(view, cases) {
    if (!$(`count-${view}`)) return;
    $(`count-${view}`).textContent = cases.length ? String(cases.length) : "";
    if (view === "queue") document.title = cases.length ? `(${cases.length}) 人才直达车 · 工作台` : "人才直达车 · 工作台";
  }
  function renderCaseList() {
    const cases = state.lists[state.view] || [];
    fill($("list"), ...cases.map(caseItem));
    $("list-note").textContent = cases.length ? `${cases.length} 件` : "";
    const empty = { queue: "暂无等待中的案件。", mine: "您目前没有负责的案件。", all: "暂无进行中的案件。", closed: "暂无已结案的案件。" };
    say($("list-empty"), cases.length ? "" : empty[state.view], "empty");
  }
  function filterQuery(view) {
    if (view !== "queue" && view !== "all") return "";
    const params = new URLSearchParams();
    for (const name of ["district", "channel", "language", "topic", "sort"]) {
      const value = $(`filter-${name}`).value.trim();
      if (value && !(name === "sort" && value === "waiting")) params.set(name, value);
    }
    const query = params.toString();
    return query ? `&${query}` : "";
  }
  function workingLeft(seconds) {
    const minutes = Math.round(Math.abs(seconds) / 60);
    const text = minutes >= 60 ? `${Math.floor(minutes / 60)} 小时 ${minutes % 60} 分` : `${minutes} 分`;
    return seconds < 0 ? `超时 ${text}` : `剩 ${text}`;
  }
  function targetLine(t) {
    const states = { running: "进行中", due_soon: "即将到期", met: "已达成", breached: "已超时" };
    return el("span", { class: `target ${t.state}`, text: `${fullTime(t.due_at)}（${states[t.state] || t.state}${t.state === "met" ? "" : "，" + workingLeft(t.left_seconds)}）` });
  }
  function targetNode(c) {
    const targets = c.targets;
    if (!targets || c.status === "closed") return null;
    const t = c.first_response_at ? targets.resolution : targets.first_response;
    const label = c.first_response_at ? "办结" : "首次回复";
    return el("span", { class: `target ${t.state}`, title: `${label}时限：${fullTime(t.due_at)}（按工作时间计算）`,
      text: `${label}${workingLeft(t.left_seconds)}` });
  }
  function caseItem(c) {
    const waiting = c.status === "waiting";
    const age = waiting ? ageNode(c.opened_at, "waiting-age") : ageNode(c.last_message_at || c.opened_at);
    return el("li", { class: "item" + (c.id === state.caseId ? " active" : ""), dataset: { caseId: c.id } },
      el("button", { type: "button", onclick: () => go(state.view, c.id) },
        el("div", { class: "row" }, el("span", { class: "reason", text: c.reason_label || c.reason }),
          c.unread ? el("span", { class: "badge unread", title: `${c.unread} 条未读消息`, text: String(c.unread) }) : null, age),
        el("div", { class: "row meta" },
          el("span", { class: "person", text: c.person }), channelBadge(c.channel), langBadge(c.language)),
        el("div", { class: "row meta" },
          el("span", { class: "district" + (c.district ? "" : " shared"), text: c.district_label || "共享队列" }),
          c.topic_label ? el("span", { class: "topic", text: c.topic_label }) : null, targetNode(c)),
        el("div", { class: "row preview", text: c.last_message_preview || "" }),
        !waiting ? el("div", { class: "row preview", text: c.status === "closed" ? `已结案 · ${c.assignee_name || ""}` : `处理人：${c.assignee_name || c.assignee || ""}` }) : null));
  }
  function markActive() {
    document.querySelectorAll("#list .item").forEach((item) =>
      item.classList.toggle("active", Number(item.dataset.caseId) === state.caseId));
  }

  // ---- one case ---------------------------------------------------------------------------------------------
  async function openCase(id) {
    markActive();
    const token = ++state.routeToken;
    if (!state.detail || state.detail.case.id !== id) {
      // Nothing actionable until the case is loaded: the buttons would act on the previous case.
      state.detail = null;
      showDetail("case-view");
      $("case-title").textContent = "正在加载…";
      say($("case-status"), "", "pill");
      fill($("case-sub"));
      for (const id of ["btn-claim", "btn-transfer", "btn-close", "btn-handback", "btn-export", "composer"]) show($(id), false);
      fill($("case-card"));
      fill($("transcript"));
      closePanels();
      say($("case-message"), "");
    }
    try {
      const data = await api("GET", `/cases/${id}`);
      if (token !== state.routeToken) return;
      showDetail("case-view");
      renderCase(data);
    } catch (error) {
      if (token !== state.routeToken) return;
      if (error.status === 404) { state.detail = null; showDetail("placeholder"); $("placeholder").textContent = "没有这个案件。"; return; }
      report(error, $("case-message"));
    }
  }
  async function refreshCase() {
    if (!state.detail) return;
    const id = state.detail.case.id;
    try {
      const data = await api("GET", `/cases/${id}`);
      if (state.detail && state.detail.case.id === id) renderCase(data);
    } catch (error) { report(error, $("case-message")); }
  }
  function scheduleCaseRefresh() {
    clearTimeout(state.caseTimer);
    state.caseTimer = setTimeout(refreshCase, 250);
  }
  function renderCase(data) {
    const first = !state.detail || state.detail.case.id !== data.case.id;
    state.detail = { case: data.case, messages: data.messages || [], notes: data.notes || [], history: data.history || [] };
    learnClock(data.case);
    renderHeader();
    renderCard();
    renderTranscript(first);
    renderComposer();
    show($("composer"), true);
    if (first) restoreDraft();
  }
  const isMine = (c) => c.status === "assigned" && state.me && c.assignee === state.me.login;

  function renderHeader() {
    const c = state.detail.case;
    $("case-title").textContent = `${c.reason_label || c.reason} · ${c.person}`;
    const status = $("case-status");
    status.hidden = false;
    status.className = `pill ${c.status}`;
    status.textContent = c.status === "assigned" ? `处理中 · ${c.assignee_name || c.assignee}` : STATUSES[c.status] || c.status;
    fill($("case-sub"), 
      channelBadge(c.channel), langBadge(c.language),
      el("span", { text: `案件 #${c.id}` }),
      el("span", { text: "开启于" }), ageNode(c.opened_at),
      c.status === "closed" ? el("span", { text: `· ${actorName(String(c.closed_by || "").replace(/^staff:/, ""))} 于 ${fullTime(c.closed_at)} 结案` }) : null);
    const mine = isMine(c);
    // Admins may transfer and close any open case (the backend allows it); replying is the holder's alone.
    const manage = mine || (state.me.role === "admin" && c.status !== "closed");
    show($("btn-claim"), c.status === "waiting");
    show($("btn-transfer"), manage);
    show($("btn-close"), manage);
    show($("btn-handback"), manage);
    $("btn-handback").title = "结束人工处理，助手恢复自动回复";
    const exportLink = $("btn-export");
    show(exportLink, state.me.role === "admin");
    exportLink.href = c.transcript_url || `${API}/cases/${c.id}/export`;
    if (!manage) closePanels();
  }

  function revealSection(c) {
    const reason = el("input", { type: "text", id: "reveal-reason", placeholder: "理由（至少 4 个字，记入审计）", "aria-label": "查看完整号码的理由" });
    const button = el("button", { type: "button", id: "reveal", text: "显示完整号码" });
    const status = el("p", { hidden: true });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        renderCase(await api("POST", `/cases/${c.id}/reveal`, { reason: reason.value.trim() }));
      } catch (error) { report(error, status); } finally { button.disabled = false; }
    });
    return el("section", { class: "reveal" }, el("h3", { text: "号码已遮蔽" }),
      el("p", { class: "muted", text: "对话中的身份证号、手机号已遮蔽。确需查看请说明理由。" }),
      el("div", { class: "takeover-row" }, reason, button), status);
  }
  function renderCard() {
    const c = state.detail.case;
    const sections = [];
    sections.push(el("section", {},
      el("h3", { text: "转人工原因" }),
      el("dl", {},
        el("dt", { text: "原因" }), el("dd", { text: c.reason_label || c.reason }),
        el("dt", { text: "渠道" }), el("dd", {}, channelBadge(c.channel)),
        el("dt", { text: "语言" }), el("dd", {}, langBadge(c.language)),
        el("dt", { text: "对方" }), el("dd", { text: c.person }),
        el("dt", { text: "开启时间" }), el("dd", { text: fullTime(c.opened_at) }),
        el("dt", { text: "区" }), el("dd", { text: c.district_label || "共享队列" }),
        c.topic_label ? [el("dt", { text: "主题" }), el("dd", { text: c.topic_label })] : null,
        c.targets ? [
          el("dt", { text: "首次回复时限" }), el("dd", {}, targetLine(c.targets.first_response)),
          el("dt", { text: "办结时限" }), el("dd", {}, targetLine(c.targets.resolution))] : null,
        c.outcome ? [el("dt", { text: "结案结果" }), el("dd", { text: c.outcome_label || outcomeLabel(c.outcome) })] : null)));
    if (!c.unmasked && c.status !== "closed" && (isMine(c) || state.me.role === "admin")) sections.push(revealSection(c));
    sections.push(el("section", {}, el("h3", { text: "助手摘要" }),
      el("div", { class: "summary", text: c.summary || "（无摘要）" })));
    const profile = c.profile || [];
    sections.push(el("section", {}, el("h3", { text: "已收集的资料" }),
      profile.length
        ? el("dl", {}, profile.map((row) => [el("dt", { text: row.label || row.field }), el("dd", { text: displayValue(row.value) })]))
        : el("p", { class: "muted", text: "助手尚未收集到资料。" })));
    sections.push(el("section", {}, el("h3", { text: "测算结果" }), resultNode(c.result)));
    sections.push(notesSection());
    if (state.detail.history.length) {
      sections.push(el("section", {}, el("h3", { text: "处理记录" }),
        el("ul", { class: "history" }, state.detail.history.map((entry) =>
          el("li", { text: historyLine(entry, c) })))));
    }
    fill($("case-card"), ...sections);
  }
  function historyLine(entry, c) {
    const detail = detailText(entry.detail, c);
    return `${clock(entry.at)} ${actorName(entry.actor)} ${AUDIT_ACTIONS[entry.action] || entry.action}${detail ? "：" + detail : ""}`;
  }
  /** Audit actors are logins (or "assistant"): show the officer's name where we know it. */
  function actorName(actor) {
    if (!actor) return "";
    if (actor === "assistant") return "智能助手";
    const officer = state.officers.find((o) => o.login === actor);
    return officer ? officer.display_name : actor;
  }
  function displayValue(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (typeof value === "boolean") return value ? "是" : "否";
    if (Array.isArray(value)) return value.map(displayValue).join("、");
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }
  const DETAIL_KEYS = { outcome: "结果", to: "转交给", previous: "原处理人", reason: "原因", channel: "渠道", statuses: "发送", chars: "字数", conversation: "会话", title: "标题", language: "语言", minutes: "分钟", messages: "消息数", canned_id: "快捷回复", failures: "失败次数", locked_minutes: "锁定分钟", address: "地址", to_district: "转至区队列", q: "查询", results: "结果数", person: "对方", officer: "工作人员", districts: "区", score: "评分" };
  const DELIVERY = { sent: "已发送", sent_passive: "已发送", held: "暂存", failed: "失败", suppressed: "未发出" };
  /** An audit entry's detail ({outcome: "answered", chars: 12} …) as a short Chinese phrase. */
  function detailText(detail, c) {
    if (detail === null || detail === undefined) return "";
    if (typeof detail !== "object") return String(detail);
    // Conversation ids are left out: the case names the person, and a web chat's id is its session key.
    return Object.entries(detail).filter(([key]) => key !== "conversation").map(([key, value]) => {
      let shown = value;
      if (key === "outcome") shown = outcomeLabel(value);
      else if (key === "reason" && c && value === c.reason) shown = c.reason_label || value;
      else if (key === "channel") shown = CHANNELS[value] || value;
      else if (key === "to" || key === "previous") shown = actorName(value);
      else if (key === "statuses" && Array.isArray(value)) shown = value.map((v) => DELIVERY[v] || v).join("、");
      else if (key === "language") shown = LANGUAGES[value] || value;
      else if (Array.isArray(value)) shown = value.join("、") || "—";
      else if (typeof value === "object" && value !== null) shown = JSON.stringify(value);
      return `${DETAIL_KEYS[key] || key} ${shown}`;
    }).join("，");
  }
  function outcomeLabel(tag) {
    const found = state.outcomes.find((o) => o.tag === tag);
    return found ? found.label : tag;
  }
  function resultNode(result) {
    if (!result || !(result.results || []).length) return el("p", { class: "muted", text: "本次对话没有个性化测算结果。" });
    return el("div", {},
      result.title && !(result.results.length === 1 && result.results[0].policy === result.title)
        ? el("p", { class: "result-title", text: result.title }) : null,
      result.results.map((r) => {
        const facts = [["档次", r.tier], ["金额", r.amount], ["发放方式", r.payout], ["期限", r.duration]].filter(([, v]) => v !== null && v !== undefined && v !== "");
        const cite = r.citation || {};
        const citeText = cite.text || [cite.document ? `《${cite.document}》` : "", cite.number || "", cite.article || ""].filter(Boolean).join(" ");
        const status = RESULT_STATUSES[r.status];
        return el("div", { class: "result" },
          el("div", { class: "policy" }, r.policy || "", status ? el("span", { class: `badge result-${r.status}`, text: status }) : null),
          facts.length ? el("dl", {}, facts.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: displayValue(v) })])) : null,
          (r.conditions || []).length ? el("ul", {}, r.conditions.map(conditionNode)) : null,
          r.how_to_apply ? el("div", {}, el("span", { class: "muted", text: "如何申请：" }), r.how_to_apply) : null,
          citeText ? el("div", { class: "cite", text: `依据：${citeText}` }) : null);
      }));
  }
  function conditionNode(condition) {
    if (typeof condition === "string") return el("li", { text: condition });
    const text = condition.label || condition.text || condition.name || JSON.stringify(condition);
    const status = condition.status || (condition.met === true ? "passed" : condition.met === false ? "failed" : "");
    const mark = { passed: "（符合）", met: "（符合）", failed: "（不符合）", unmet: "（不符合）", unknown: "（待确认）" }[status] || "";
    return el("li", { class: /pass|^met/.test(status) ? "cond-ok" : /fail|unmet/.test(status) ? "cond-bad" : "", text: text + mark });
  }

  function notesSection() {
    const list = el("ul", { class: "notes", id: "notes" }, state.detail.notes.map(noteNode));
    const text = el("textarea", { id: "note-text", placeholder: "内部备注（对方看不到）", "aria-label": "内部备注", maxlength: "2000" });
    const status = el("p", { id: "note-status", hidden: true, dataset: { kind: "error" } });
    const add = el("button", { type: "button", id: "note-add", text: "添加备注" });
    add.addEventListener("click", async () => {
      const value = text.value.trim();
      if (!value) { say(status, "请输入备注内容。", "error"); return; }
      add.disabled = true;
      try {
        const data = await api("POST", `/cases/${state.detail.case.id}/notes`, { text: value });
        addNote(data.note);
        text.value = "";
        say(status, "");
      } catch (error) { report(error, status); } finally { add.disabled = false; }
    });
    return el("section", {}, el("h3", { text: "内部备注" }), list,
      el("div", { class: "note-form" }, text, status, add));
  }
  function noteNode(note) {
    return el("li", { dataset: { noteId: note.id } },
      el("div", { class: "meta", text: `${note.author_name || note.author} · ${clock(note.created_at)}` }),
      note.text);
  }
  function addNote(note) {
    if (!state.detail || state.detail.notes.some((n) => n.id === note.id)) return;
    state.detail.notes.push(note);
    const list = $("notes");
    if (list) list.append(noteNode(note));
  }

  // ---- transcript --------------------------------------------------------------------------------------------
  function authorKind(m) {
    const author = m.author || (m.direction === "in" ? "person" : "bot");
    if (author.startsWith("staff")) return "staff";
    return AUTHORS[author] ? author : (m.direction === "in" ? "person" : "bot");
  }
  function messageNode(m) {
    const kind = authorKind(m);
    const tag = MESSAGE_TAGS[m.status];
    const classes = ["msg", kind];
    if (m.status === "suppressed") classes.push("suppressed");
    return el("div", { class: classes.join(" "), dataset: { id: m.id, status: m.status || "" } },
      el("div", { class: "who" },
        el("span", { text: m.author_label || AUTHORS[kind] }),
        el("time", { datetime: m.created_at, title: fullTime(m.created_at), text: clock(m.created_at) }),
        tag ? el("span", { class: `tag ${tag[1]}`, text: tag[0] }) : null),
      el("div", { class: "text", text: m.text || "" }),
      (m.buttons || []).length ? el("div", { class: "chips" }, m.buttons.map((title) => el("span", { class: "chip", text: typeof title === "string" ? title : title.title }))) : null);
  }
  function renderTranscript(first) {
    const box = $("transcript");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const messages = state.detail.messages;
    fill(box, ...(messages.length ? messages.map(messageNode) : [el("p", { class: "day", text: "暂无消息" })]));
    box.classList.toggle("hide-suppressed", !$("show-suppressed").checked);
    if (first || nearBottom) box.scrollTop = box.scrollHeight;
  }
  function addMessage(message) {
    const messages = state.detail.messages;
    const box = $("transcript");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const index = messages.findIndex((m) => m.id === message.id);
    if (index >= 0) {
      messages[index] = message;
      const old = box.querySelector(`[data-id="${CSS.escape(String(message.id))}"]`);
      if (old) old.replaceWith(messageNode(message));
      return;
    }
    if (!messages.length) fill(box);
    messages.push(message);
    box.append(messageNode(message));
    if (nearBottom || authorKind(message) === "staff") box.scrollTop = box.scrollHeight;
  }
  $("show-suppressed").addEventListener("change", (event) =>
    $("transcript").classList.toggle("hide-suppressed", !event.target.checked));

  // ---- composer ----------------------------------------------------------------------------------------------
  function renderComposer() {
    if (!state.detail) return;
    const c = state.detail.case;
    let locked = "";
    if (c.status === "closed") locked = "案件已结案，不能再回复。对方再次求助时会生成新的案件。";
    else if (c.status === "waiting") locked = "认领后即可回复。点击右上角的“认领”。";
    else if (!isMine(c)) locked = `此案件由 ${c.assignee_name || c.assignee} 负责，您不能回复。如需接手，请对方在案件中“转交”给您。`;
    say($("composer-locked"), locked, "locked-note");
    show($("composer-open"), !locked);
    const options = state.canned.filter((item) => !item.language || item.language === c.language);
    const others = state.canned.filter((item) => item.language && item.language !== c.language);
    const select = $("canned-select");
    fill(select, el("option", { value: "", text: options.length || others.length ? "快捷回复…" : "（暂无快捷回复）" }),
      ...options.map((item) => el("option", { value: String(item.id), text: item.title })),
      others.length ? el("optgroup", { label: "其他语言" }, others.map((item) => el("option", { value: String(item.id), text: `${item.title}（${LANGUAGES[item.language] || item.language}）` }))) : null);
    $("lang-hint").textContent = c.language === "en" ? "对方使用英文，请用英文回复。" : "";
    paintQuota();
  }
  /** WeChat: remaining customer-service messages and deadline, and help to write one complete message. */
  function paintQuota() {
    const c = state.detail && state.detail.case;
    const badge = $("quota"), warning = $("quota-warning");
    const text = $("reply-text").value;
    const bytes = utf8Bytes(text);
    const tooLong = text.length > MAX_REPLY_CHARS ? `内容 ${text.length} 字，超过单条回复上限 ${MAX_REPLY_CHARS} 字，请精简。` : "";
    if (!c || c.channel !== "wechat" || !c.quota) {
      show(badge, false);
      say(warning, tooLong, "warn");
      $("reply-meta").textContent = `${text.length}/${MAX_REPLY_CHARS} 字 · Ctrl+Enter 发送`;
      return;
    }
    const q = c.quota;
    const secondsLeft = q.expires_at ? (Date.parse(q.expires_at) - serverNow()) / 1000 : 0;
    const open = q.window_open !== false && secondsLeft > 0;
    const remaining = open ? q.remaining : 0;
    const validity = secondsLeft >= 3600 ? `${Math.floor(secondsLeft / 3600)} 小时内有效` : `${Math.max(1, Math.ceil(secondsLeft / 60))} 分钟内有效`;
    badge.textContent = !open ? "微信客服消息窗口已关闭" : remaining > 0 ? `剩余 ${remaining} 条 · ${validity}` : "本轮客服消息额度已用完";
    badge.title = `微信规定：对方每留言一次，可在 48 小时内回复最多 ${q.limit || 5} 条客服消息。`;
    badge.className = "quota " + (remaining <= 0 ? "none" : remaining <= 2 ? "low" : "");
    show(badge, true);
    const notes = [];
    if (remaining <= 0) notes.push("现在发送的回复不会立即送达：会被保存，待对方再次留言后随即发出。");
    else if (remaining === 1) notes.push("只剩最后 1 条：请把答复、所需材料和办理方式写成一条完整的消息再发送。");
    if (bytes > WECHAT_MAX_BYTES) {
      notes.push(`这段文字 ${bytes} 字节，超过微信单条消息上限（${WECHAT_MAX_BYTES} 字节，约 ${Math.floor(WECHAT_MAX_BYTES / 3)} 个汉字），拆开发送会多占额度：请精简为一条完整的消息。`);
    } else if (tooLong) notes.push(tooLong);
    say(warning, notes.join(" "), "warn");
    $("reply-meta").textContent = `${text.length} 字 · ${bytes}/${WECHAT_MAX_BYTES} 字节 · 建议一次写完整 · Ctrl+Enter 发送`;
  }
  $("reply-text").addEventListener("input", () => { paintQuota(); say($("reply-status"), ""); });
  $("reply-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); sendReply(); }
  });
  $("reply-send").addEventListener("click", sendReply);
  $("canned-select").addEventListener("change", (event) => {
    const item = state.canned.find((c) => String(c.id) === event.target.value);
    event.target.value = "";
    if (!item) return;
    const box = $("reply-text");
    const start = box.selectionStart ?? box.value.length, end = box.selectionEnd ?? box.value.length;
    box.setRangeText(item.text, start, end, "end");
    box.focus();
    paintQuota();
  });

  async function sendReply() {
    if (!state.detail || state.sending || state.detail.case.status !== "assigned") return;
    const box = $("reply-text"), status = $("reply-status");
    const text = box.value.trim();
    if (!text) { say(status, "请先输入回复内容。", "status-bad"); return; }
    const c = state.detail.case;
    state.sending = true;
    $("reply-send").disabled = true;
    say(status, "发送中…", "muted");
    try {
      const data = await api("POST", `/cases/${c.id}/reply`, { text });
      box.value = "";
      clearDraft(c.id);
      paintQuota();
      const deliveries = data.deliveries || [];
      const held = deliveries.filter((d) => d.status === "held");
      const failed = deliveries.filter((d) => d.status === "failed");
      if (held.length) {
        say(status, "");
        // The backend's explanation says why and that the reply is kept; without one, the page says so.
        say($("case-message"), data.explanation || "未能立即发出：回复已保存，对方再次留言后会自动发出。", "warn");
      } else if (failed.length) {
        say(status, "");
        say($("case-message"), `${data.explanation || "发送失败。"} 回复已记录在对话中，请稍后重试或改用其他方式联系。`, "error");
      } else {
        say(status, "已发送", "status-ok");
        say($("case-message"), "");
      }
      if (c.channel === "wechat") refreshCase();
    } catch (error) {
      say(status, "");
      report(error, $("case-message"));
      if (["not_yours", "closed"].includes(error.code)) refreshCase();
    } finally {
      state.sending = false;
      $("reply-send").disabled = false;
    }
  }
  // Drafts survive switching cases and a lost session (this tab only).
  const draftKey = (id) => `console.draft.${id}`;
  function saveDraft() {
    if (!state.detail) return;
    const value = $("reply-text").value;
    if (value.trim()) sessionStorage.setItem(draftKey(state.detail.case.id), value);
    else sessionStorage.removeItem(draftKey(state.detail.case.id));
  }
  function restoreDraft() {
    $("reply-text").value = sessionStorage.getItem(draftKey(state.detail.case.id)) || "";
    say($("reply-status"), "");
    paintQuota();
  }
  const clearDraft = (id) => sessionStorage.removeItem(draftKey(id));

  // ---- case actions ---------------------------------------------------------------------------------------------
  function closePanels() {
    for (const id of ["panel-transfer", "panel-close", "panel-handback"]) show($(id), false);
  }
  document.querySelectorAll(".panel-cancel").forEach((button) => button.addEventListener("click", closePanels));
  async function caseAction(button, path, body, done) {
    if (!state.detail) return;
    const c = state.detail.case;
    button.disabled = true;
    say($("case-message"), "");
    try {
      const data = await api("POST", `/cases/${c.id}/${path}`, body);
      closePanels();
      if (done) done(data);
      await refreshCase();
      scheduleListRefresh();
    } catch (error) {
      report(error, $("case-message"));
      refreshCase();
      scheduleListRefresh();
    } finally {
      button.disabled = false;
    }
  }
  $("back-to-list").addEventListener("click", () => go(state.view));
  $("btn-claim").addEventListener("click", () =>
    caseAction($("btn-claim"), "claim", undefined, () => {
      say($("case-message"), "");
      setTimeout(() => $("reply-text").focus(), 0);
    }));
  $("btn-transfer").addEventListener("click", () => {
    closePanels();
    const targets = state.officers.filter((o) => o.login !== state.me.login);
    const districts = ["shared", ...(state.me.all_districts || [])];
    fill($("transfer-to"),
      el("optgroup", { label: "工作人员" }, targets.map((o) => el("option", { value: o.login,
        text: `${o.display_name}（${ROLES[o.role] || o.role}${o.districts && o.districts.length ? " · " + o.districts.join("、") : ""}）` }))),
      el("optgroup", { label: "转回区队列" }, districts.map((d) => el("option", { value: `district:${d}`,
        text: d === "shared" ? "共享队列" : `${d}队列` }))));
    $("transfer-reason").value = "";
    show($("panel-transfer"), true);
  });
  $("transfer-ok").addEventListener("click", () => {
    const to = $("transfer-to").value;
    const name = $("transfer-to").selectedOptions[0] ? $("transfer-to").selectedOptions[0].textContent : to;
    const reason = $("transfer-reason").value.trim();
    const body = to.startsWith("district:") ? { to_district: to.slice(9), reason } : { to, ...(reason ? { reason } : {}) };
    caseAction($("transfer-ok"), "transfer", body, () => say($("case-message"), `已转交给 ${name}。`, "notice"));
  });
  $("btn-close").addEventListener("click", () => {
    closePanels();
    const outcomes = state.outcomes.filter((o) => o.tag !== "handed_back");
    fill($("close-outcome"), el("option", { value: "", text: "请选择…" }),
      ...outcomes.map((o) => el("option", { value: o.tag, text: o.label })));
    show($("panel-close"), true);
  });
  $("close-ok").addEventListener("click", () => {
    const outcome = $("close-outcome").value;
    if (!outcome) { say($("case-message"), "请选择结案结果。", "error"); return; }
    caseAction($("close-ok"), "close", { outcome }, () => say($("case-message"), "案件已结案，助手已恢复自动回复。", "notice"));
  });
  $("btn-handback").addEventListener("click", () => { closePanels(); show($("panel-handback"), true); });
  $("handback-ok").addEventListener("click", () =>
    caseAction($("handback-ok"), "close", { outcome: "handed_back" }, () => say($("case-message"), "已交还助手，助手恢复自动回复。", "notice")));

  // ---- conversations (proactive takeover) --------------------------------------------------------------------------
  for (const name of ["district", "channel", "language", "sort"]) $(`filter-${name}`).addEventListener("change", loadList);
  $("filter-topic").addEventListener("input", () => { clearTimeout(state.searchTimer); state.searchTimer = setTimeout(loadList, 600); });
  $("going-wrong").addEventListener("change", () => {
    for (const id of ["search-q", "search-reason"]) $(id).disabled = $("going-wrong").checked;
    loadList();
  });
  for (const id of ["search-q", "search-reason"]) {
    $(id).addEventListener("input", () => {
      clearTimeout(state.searchTimer);
      state.searchTimer = setTimeout(loadList, 600);
    });
  }
  function renderConversationList() {
    const rows = state.lists.conversations || [];
    fill($("list"), ...rows.map((conv) =>
      el("li", { class: "item" + (state.conversation && state.conversation.conversation_id === conv.conversation_id ? " active" : ""), dataset: { conversation: conv.conversation_id } },
        el("button", { type: "button", onclick: () => selectConversation(conv) },
          el("div", { class: "row" }, el("span", { class: "reason", text: conv.person }), ageNode(conv.last_message_at)),
          el("div", { class: "row" }, channelBadge(conv.channel), langBadge(conv.language),
            conv.open_case_id ? el("span", { class: "badge", text: `案件 #${conv.open_case_id} 进行中` }) : null),
          conv.signals ? el("div", { class: "row meta" }, conv.signals.map((sig) =>
            el("span", { class: "badge signal", text: `${sig.label}${sig.count > 1 ? " ×" + sig.count : ""}` }))) : null,
          el("div", { class: "row preview", text: conv.last_message_preview || "" })))));
    $("list-note").textContent = rows.length ? `${rows.length} 个` : "";
    say($("list-empty"), rows.length ? "" : "没有找到会话。", "empty");
  }
  function selectConversation(conv) {
    state.conversation = conv;
    if (conv.open_case_id) { go("conversations", conv.open_case_id); return; }
    if (state.caseId) { go("conversations"); return; }
    renderConversation(conv);
  }
  async function loadReadOnly(conversationId) {
    try {
      const data = await api("GET", `/conversations/${encodeURIComponent(conversationId)}/messages`);
      const box = $("conv-transcript");
      if (!box || !state.conversation || state.conversation.conversation_id !== conversationId) return;
      const messages = data.messages || [];
      fill(box, ...(messages.length ? messages.map(messageNode) : [el("p", { class: "day", text: "暂无消息" })]));
      box.scrollTop = box.scrollHeight;
    } catch (error) { report(error); }
  }
  function renderConversation(conv) {
    state.detail = null;
    document.querySelectorAll("#list .item").forEach((item) =>
      item.classList.toggle("active", item.dataset.conversation === conv.conversation_id));
    const status = el("p", { hidden: true });
    const take = el("button", { type: "button", class: "primary", id: "takeover", text: "接管对话" });
    const reason = el("input", { type: "text", id: "takeover-reason", placeholder: "查看完整号码的理由（可选，记入审计）", "aria-label": "查看完整号码的理由" });
    take.addEventListener("click", async () => {
      take.disabled = true;
      try {
        const stated = reason.value.trim();
        const data = await api("POST", `/conversations/${encodeURIComponent(conv.conversation_id)}/takeover`, stated ? { reason: stated } : {});
        state.conversation = null;
        scheduleListRefresh();
        go("mine", data.case.id);
      } catch (error) {
        const openId = error.body && (error.body.case_id || error.body.open_case_id || (error.body.case && error.body.case.id));
        report(error, status);
        if (error.code === "case_open" && openId) {
          status.append(" ", el("button", { type: "button", class: "link", text: `查看案件 #${openId}`, onclick: () => go("conversations", openId) }));
        }
      } finally { take.disabled = false; }
    });
    const view = $("conv-view");
    markDetail();
    fill(view, el("div", { class: "conv-detail" },
      el("button", { type: "button", class: "back", text: "← 列表", onclick: () => { state.conversation = null; markDetail(); } }),
      el("h2", { text: `会话 · ${conv.person}` }),
      el("div", { class: "row" }, channelBadge(conv.channel), " ", langBadge(conv.language), " ",
        el("span", { class: "muted", text: "最新消息 " }), ageNode(conv.last_message_at)),
      el("div", { class: "preview", text: conv.last_message_preview || "" }),
      el("p", { class: "muted", text: "接管后助手暂停自动回复，由您直接答复对方；处理完毕请点“交还助手”，助手恢复回复并告知对方。" }),
      el("p", { class: "muted", text: "接管后对话中的身份证号、手机号默认遮蔽；如确需查看，请填写理由（记入审计）。" }),
      el("div", { class: "takeover-row" }, reason, take), status,
      el("h3", { class: "readonly-title", text: "对话记录（只读，号码已遮蔽）" }),
      el("div", { id: "conv-transcript", class: "transcript readonly", "aria-label": "只读对话记录" },
        el("p", { class: "day", text: "正在载入…" }))));
    showDetail("conv-view");
    loadReadOnly(conv.conversation_id);
  }

  // ---- admin: quick answers and audit log ----------------------------------------------------------------------------
  async function renderCannedAdmin() {
    const view = $("admin-view");
    const status = el("p", { hidden: true });
    const title = el("input", { id: "canned-title", placeholder: "标题（列表中显示）", maxlength: "60", "aria-label": "标题" });
    const language = el("select", { id: "canned-language", "aria-label": "语言" },
      el("option", { value: "zh", text: "中文" }), el("option", { value: "en", text: "English" }));
    const text = el("textarea", { id: "canned-text", placeholder: "回复内容", maxlength: "2000", "aria-label": "回复内容" });
    let editing = null;
    const save = el("button", { type: "button", class: "primary", id: "canned-save", text: "新增" });
    const cancel = el("button", { type: "button", text: "取消修改", hidden: true });
    const table = el("tbody");
    function reset() {
      editing = null; title.value = ""; text.value = ""; language.value = "zh";
      save.textContent = "新增"; cancel.hidden = true;
    }
    async function reload() {
      try {
        state.canned = (await api("GET", "/canned")).canned || [];
        fill(table, ...state.canned.map((item) => el("tr", {},
          el("td", { text: item.title }), el("td", { text: LANGUAGES[item.language] || item.language }),
          el("td", { class: "text", text: item.text }),
          el("td", {},
            el("button", { type: "button", class: "link", text: "修改", onclick: () => {
              editing = item; title.value = item.title; text.value = item.text; language.value = item.language || "zh";
              save.textContent = "保存修改"; cancel.hidden = false; title.focus();
            } }),
            el("button", { type: "button", class: "link danger", text: "停用", onclick: async () => {
              try { await api("DELETE", `/canned/${item.id}`); say(status, `已停用“${item.title}”。`, "notice"); reload(); }
              catch (error) { report(error, status); }
            } })))));
        if (!state.canned.length) fill(table, el("tr", {}, el("td", { colspan: "4", class: "muted", text: "暂无快捷回复。" })));
      } catch (error) { report(error, status); }
    }
    save.addEventListener("click", async () => {
      const body = { title: title.value.trim(), text: text.value.trim(), language: language.value };
      if (!body.title || !body.text) { say(status, "请填写标题和内容。", "error"); return; }
      save.disabled = true;
      try {
        if (editing) await api("PUT", `/canned/${editing.id}`, body);
        else await api("POST", "/canned", body);
        say(status, editing ? "已保存修改。" : "已新增。", "notice");
        reset();
        reload();
      } catch (error) { report(error, status); } finally { save.disabled = false; }
    });
    cancel.addEventListener("click", reset);
    fill(view, 
      el("h2", { text: "快捷回复管理" }),
      el("p", { class: "muted", text: "工作人员在回复框上方的“快捷回复”中选用；停用的条目保留在数据库中。" }),
      el("div", { class: "form-grid" }, title, language, text, el("div", { class: "buttons" }, save, cancel)),
      status,
      el("table", {}, el("thead", {}, el("tr", {}, ["标题", "语言", "内容", "操作"].map((h) => el("th", { text: h })))), table));
    reload();
  }
  // Admin: numbers for a date range (local days), with the one-row-per-case CSV
  async function renderReports() {
    const view = $("admin-view");
    const status = el("p", { hidden: true });
    const from = el("input", { type: "date", id: "report-from", "aria-label": "起始日期" });
    const to = el("input", { type: "date", id: "report-to", "aria-label": "结束日期" });
    const showButton = el("button", { type: "button", class: "primary", id: "report-show", text: "查看" });
    const csvLink = el("a", { class: "button", id: "report-csv", text: "导出 CSV（每案一行）", download: "" });
    const out = el("div", { id: "report-body" });
    fill(view, el("h2", { text: "报表" }),
      el("p", { class: "muted", text: "按本地日期统计；时长按工作时间（含调休、扣除节假日）计算。" }),
      el("div", { class: "takeover-row" }, from, to, showButton, csvLink), status, out);
    const percent = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10}%`);
    const minutes = (x) => (x === null || x === undefined ? "—" : `${x} 分钟`);
    const table = (heads, rows) => el("table", {}, el("thead", {}, el("tr", {}, heads.map((h) => el("th", { text: h })))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", { text: String(c) }))))));
    async function load() {
      const params = new URLSearchParams();
      if (from.value) params.set("from", from.value);
      if (to.value) params.set("to", to.value);
      csvLink.href = `${API}/reports/cases.csv?${params}`;
      try {
        const r = await api("GET", `/reports?${params}`);
        from.value = r.from; to.value = r.to;
        csvLink.href = `${API}/reports/cases.csv?from=${r.from}&to=${r.to}`;
        say(status, "");
        const counts = (list, names) => list.map((x) => `${(names && names[x.key]) || x.label || x.key || "—"} ${x.count}`).join("，") || "—";
        const duration = (d) => [minutes(d.median_minutes), minutes(d.p90_minutes), `${d.met}/${d.done}`, percent(d.met_share), d.breached];
        fill(out,
          el("h3", { text: "总览" }),
          table(["会话", "无需人工", "案件", "按原因", "按区", "按渠道", "按语言", "热门主题"],
            [[r.conversations, `${r.answered_without_staff}（${percent(r.answered_without_staff_share)}）`, r.cases,
              counts(r.by_reason), counts(r.by_district), counts(r.by_channel, CHANNELS), counts(r.by_language, LANGUAGES), counts(r.top_topics)]]),
          el("h3", { text: "响应与办结（工作时间）" }),
          table(["", "中位数", "P90", "达标/已完成", "达标率", "超时"],
            [["首次回复", ...duration(r.first_response)], ["办结", ...duration(r.resolution)]]),
          el("h3", { text: "每日" }),
          table(["日期", "会话", "按渠道", "按语言", "案件", "转人工", "转人工率"],
            r.days.map((d) => [d.date, d.conversations,
              Object.entries(d.by_channel).map(([k, v]) => `${CHANNELS[k] || k} ${v}`).join("，") || "—",
              Object.entries(d.by_language).map(([k, v]) => `${LANGUAGES[k] || k} ${v}`).join("，") || "—",
              d.cases, d.handoffs, percent(d.handoff_rate)])));
      } catch (error) { report(error, status); }
    }
    showButton.addEventListener("click", load);
    load();
  }
  // Admin: which districts each officer serves (their queue shows those and the shared queue first)
  async function renderStaffAdmin() {
    const view = $("admin-view");
    const status = el("p", { hidden: true });
    const body = el("tbody");
    fill(view, el("h2", { text: "人员与辖区" }),
      el("p", { class: "muted", text: "勾选每位工作人员负责的区：其待处理列表先显示这些区和共享队列的案件。" }),
      status, el("table", { id: "staff" }, el("thead", {}, el("tr", {}, ["工作人员", "负责区", "进行中案件", ""].map((h) => el("th", { text: h })))), body));
    try {
      const data = await api("GET", "/officers");
      const all = state.me.all_districts || [];
      fill(body, ...(data.officers || []).map((o) => {
        const boxes = all.map((d) => el("label", { class: "district-choice" },
          el("input", { type: "checkbox", value: d, checked: (o.districts || []).includes(d) }), ` ${d}`));
        const save = el("button", { type: "button", text: "保存", dataset: { login: o.login } });
        save.addEventListener("click", async () => {
          save.disabled = true;
          const districts = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
          try {
            await api("PUT", `/officers/${encodeURIComponent(o.login)}/districts`, { districts });
            say(status, `已保存：${o.display_name} 负责 ${districts.join("、") || "（仅共享队列）"}。`, "notice");
            if (o.login === state.me.login) loadDistricts();
          } catch (error) { report(error, status); } finally { save.disabled = false; }
        });
        return el("tr", {}, el("td", { text: `${o.display_name}（${o.login}）` }), el("td", {}, boxes),
          el("td", { text: `${o.open_cases} / ${data.max_open_cases}` }), el("td", {}, save));
      }));
    } catch (error) { report(error, status); }
  }
  // 差评回访: cases a 不满意 or worse rating opened, soonest due first, until the callback is recorded
  async function renderFollowUps() {
    const view = $("admin-view");
    const status = el("p", { hidden: true });
    const body = el("tbody");
    fill(view, el("h2", { text: "差评回访" }),
      el("p", { class: "muted", text: "用户评价为“不满意”或“非常不满意”的案件：核实、整改并回访，登记回访结果后移出此列表。" }),
      status, el("table", { id: "followups" }, el("thead", {}, el("tr", {}, ["评价", "原案件 · 处理人", "区 · 渠道", "意见", "回访期限", "回访结果"].map((h) => el("th", { text: h })))), body));
    try {
      const data = await api("GET", "/followups");
      if (!(data.follow_ups || []).length) { fill(body, el("tr", {}, el("td", { colspan: 6, class: "muted", text: "没有待回访的差评。" }))); return; }
      fill(body, ...data.follow_ups.map((f) => {
        const outcome = el("textarea", { rows: 2, maxlength: 2000, placeholder: "回访情况与整改措施" });
        const save = el("button", { type: "button", text: "登记回访" });
        save.addEventListener("click", async () => {
          save.disabled = true;
          try {
            await api("POST", `/followups/${f.id}/callback`, { outcome: outcome.value });
            say(status, "已登记回访结果。", "notice");
            renderFollowUps();
          } catch (error) { report(error, status); save.disabled = false; }
        });
        return el("tr", {}, el("td", { text: f.level || String(f.score) }),
          el("td", {}, el("a", { href: `#/closed/${f.rated_case}`, text: `#${f.rated_case}` }), ` · ${actorName(f.officer || "") || "—"}`),
          el("td", { text: `${f.district || "共享"} · ${CHANNELS[f.channel] || f.channel}` }),
          el("td", { text: f.comment || "—" }),
          el("td", { text: fullTime(f.due_at) }),
          el("td", {}, outcome, save));
      }));
    } catch (error) { report(error, status); }
  }
  async function renderAudit() {
    const view = $("admin-view");
    const status = el("p", { hidden: true });
    const body = el("tbody");
    const actor = el("select", { id: "audit-actor", "aria-label": "按工作人员筛选" },
      el("option", { value: "", text: "全部人员" }), el("option", { value: "assistant", text: "智能助手" }),
      state.officers.map((o) => el("option", { value: o.login, text: o.display_name })));
    const action = el("select", { id: "audit-action", "aria-label": "按操作筛选" },
      el("option", { value: "", text: "全部操作" }),
      Object.entries(AUDIT_ACTIONS).map(([key, label]) => el("option", { value: key, text: label })));
    const more = el("button", { type: "button", id: "audit-more", text: "更早的记录", hidden: true });
    let before = null;
    fill(view, el("h2", { text: "审计日志" }),
      el("p", { class: "muted", text: "每一次工作人员操作：谁、做了什么、何时（每页 100 条，最新在前）。" }),
      el("div", { class: "takeover-row" }, actor, action), status,
      el("table", { id: "audit" }, el("thead", {}, el("tr", {}, ["时间", "工作人员", "操作", "案件", "详情"].map((h) => el("th", { text: h })))), body),
      more);
    async function load(reset) {
      if (reset) { before = null; fill(body); }
      const params = new URLSearchParams({ limit: "100" });
      if (before) params.set("before", String(before));
      if (actor.value) params.set("actor", actor.value);
      if (action.value) params.set("action", action.value);
      try {
        const data = await api("GET", `/audit?${params}`);
        const entries = data.entries || [];
        body.append(...entries.map((entry) => el("tr", {},
          el("td", { text: fullTime(entry.at) }), el("td", { text: actorName(entry.actor) }),
          el("td", { text: AUDIT_ACTIONS[entry.action] || entry.action }),
          el("td", {}, entry.case_id ? el("button", { type: "button", class: "link", text: `#${entry.case_id}`, onclick: () => go("all", entry.case_id) }) : ""),
          el("td", { class: "text", text: entry.detail ? detailText(entry.detail) : "" }))));
        if (!body.children.length) fill(body, el("tr", {}, el("td", { colspan: "5", class: "muted", text: "暂无记录。" })));
        before = data.next_before;
        show(more, Boolean(before));
      } catch (error) { report(error, status); }
    }
    actor.addEventListener("change", () => load(true));
    action.addEventListener("change", () => load(true));
    more.addEventListener("click", () => load(false));
    load(true);
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
})();
