// The console's shared parts: wording tables, page state, DOM and time helpers, the API client.

export const API = "/console/api";
export const VIEWS = {
  queue: "待处理", mine: "我的案件", all: "全部进行中", closed: "已结案",
  conversations: "会话", canned: "快捷回复管理", audit: "审计日志", staff: "人员与辖区", reports: "报表",
  followups: "差评回访",
};
export const CASE_VIEWS = ["queue", "mine", "all", "closed"];
export const ADMIN_VIEWS = ["canned", "audit", "staff", "reports"];
// full-width views without the case list: the admin pages, and the 差评回访 follow-ups (every officer)
export const WIDE_VIEWS = [...ADMIN_VIEWS, "followups"];
export const CHANNELS = { wechat: "微信", telegram: "Telegram", web: "网页" };
export const LANGUAGES = { zh: "中文", en: "English" };
export const STATUSES = { waiting: "等待认领", assigned: "处理中", closed: "已结案", followup: "待回访" };
export const ROLES = { admin: "管理员", officer: "工作人员" };
export const AUTHORS = { person: "对方", bot: "助手", gateway: "系统通知", staff: "工作人员" };
export const MESSAGE_TAGS = {
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
export const AUDIT_ACTIONS = {
  login: "登录", logout: "退出", login_failed: "登录失败", login_refused_locked: "登录被拒（此地址已锁定）",
  claim: "认领", reply: "回复", note: "备注", transfer: "转交", close: "结案", takeover: "接管",
  case_opened: "开启案件", export: "导出记录",
  canned_add: "新增快捷回复", canned_edit: "修改快捷回复", canned_retire: "停用快捷回复",
  login_throttled: "登录被拒（该地址失败过多）", search: "搜索会话", reveal: "查看完整号码",
  view_conversation: "查看会话（只读）", districts: "设置负责区", report_export: "导出报表",
  rating: "用户评价", callback: "登记差评回访", correct_fact: "更正资料",
};
// the policy engine's result statuses (policies/ README), as the officer reads them
export const RESULT_STATUSES = {
  eligible: "符合条件", can_register: "可申请登记（按年度排名）", review: "由办理部门个案审核", referral: "需咨询主管部门", needs_info: "尚缺信息", ineligible: "不符合", superseded: "就高不重复：已有更高待遇",
};
// Mirrors of the backend's limits (console.yml `replies`), for warnings while typing; the backend decides
// and its refusal is shown as it words it. A WeChat reply must fit one customer-service message.
export const MAX_REPLY_CHARS = 2000;
export const WECHAT_MAX_BYTES = 2000;
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

// Functions of modules loaded later that earlier ones call (navigation, refreshing the open case, the log-in
// screen), registered by their own module: the modules import each other in one direction only.
export const hooks = {};

export const $ = (id) => document.getElementById(id);
export const state = {
  me: null, csrf: "", view: "queue", caseId: null, detail: null, lists: {}, canned: [], outcomes: [],
  officers: [], skewMs: 0, events: null, retry: 0, reconnectTimer: null, listTimer: null, caseTimer: null,
  conversation: null, searchTimer: null, routeToken: 0, listSeq: 0, countSeq: { queue: 0, mine: 0, all: 0, closed: 0 }, sending: false,
};

// ---- small helpers ------------------------------------------------------------------------------
/** Build an element; children are nodes or text (never parsed as HTML). */
export function el(tag, attrs, ...children) {
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
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}
export const show = (node, on = true) => { node.hidden = !on; };
export function say(node, text, kind) {
  node.textContent = text || "";
  if (kind) node.className = kind;
  node.hidden = !text;
}
export const serverNow = () => Date.now() + state.skewMs;
const secondsSince = (iso) => Math.max(0, (serverNow() - Date.parse(iso)) / 1000);
function ago(seconds) {
  if (seconds < 60) return "刚刚";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} 分钟前`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} 小时前`;
  return `${Math.floor(hours / 24)} 天前`;
}
export function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso), now = new Date();
  const hm = d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
  return d.toDateString() === now.toDateString() ? hm : `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
}
export function fullTime(iso) {
  return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "";
}
/** A live relative time ("3 分钟前"), refreshed by tick(). */
export function ageNode(iso, extraClass) {
  const node = el("span", { class: "age " + (extraClass || ""), title: fullTime(iso), dataset: { ts: iso || "" } });
  paintAge(node);
  return node;
}
export function paintAge(node) {
  if (!node.dataset.ts) return;
  const seconds = secondsSince(node.dataset.ts);
  node.textContent = ago(seconds);
  if (node.classList.contains("waiting-age")) {
    node.classList.toggle("long", seconds >= 15 * 60 && seconds < 60 * 60);
    node.classList.toggle("very-long", seconds >= 60 * 60);
  }
}
export function learnClock(summary) {
  if (summary && summary.opened_at && typeof summary.age_seconds === "number") {
    state.skewMs = Date.parse(summary.opened_at) + summary.age_seconds * 1000 - Date.now();
  }
}
export const channelBadge = (channel) => el("span", { class: `badge ch-${channel}`, text: CHANNELS[channel] || channel || "?" });
export const langBadge = (language) => el("span", { class: `badge lang-${language}`, text: LANGUAGES[language] || language || "?" });
export const utf8Bytes = (text) => new TextEncoder().encode(text).length;

// ---- HTTP -----------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status; this.code = code; this.body = body || {};
  }
}
export async function api(method, path, body) {
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
    if (response.status === 401 && path !== "/login" && state.me) hooks.sessionLost(error);
    throw error;
  }
  return data;
}
/** Show an error where it happened; a lost session has already sent the officer to the log-in. */
export function report(error, node) {
  if (error instanceof ApiError && error.status === 401) return;
  const text = error instanceof ApiError ? error.message : `页面出错：${error && error.message}`;
  if (node) say(node, text, node.dataset.kind || "error");
  else banner(text);
}
export function banner(text) { say($("banner"), text, "banner"); }

export function historyLine(entry, c) {
  const detail = detailText(entry.detail, c);
  return `${clock(entry.at)} ${actorName(entry.actor)} ${AUDIT_ACTIONS[entry.action] || entry.action}${detail ? "：" + detail : ""}`;
}
/** Audit actors are logins (or "assistant"): show the officer's name where we know it. */
export function actorName(actor) {
  if (!actor) return "";
  if (actor === "assistant") return "智能助手";
  const officer = state.officers.find((o) => o.login === actor);
  return officer ? officer.display_name : actor;
}
export function displayValue(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "是" : "否";
  if (Array.isArray(value)) return value.map(displayValue).join("、");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
const DETAIL_KEYS = { outcome: "结果", to: "转交给", previous: "原处理人", reason: "原因", channel: "渠道", statuses: "发送", chars: "字数", conversation: "会话", title: "标题", language: "语言", minutes: "分钟", messages: "消息数", canned_id: "快捷回复", failures: "失败次数", locked_minutes: "锁定分钟", address: "地址", to_district: "转至区队列", q: "查询", results: "结果数", person: "对方", officer: "工作人员", districts: "区", score: "评分", label: "资料项", old: "原为", new: "更正为" };
const DELIVERY = { sent: "已发送", sent_passive: "已发送", held: "暂存", failed: "失败", suppressed: "未发出" };
/** An audit entry's detail ({outcome: "answered", chars: 12} …) as a short Chinese phrase. */
export function detailText(detail, c) {
  if (detail === null || detail === undefined) return "";
  if (typeof detail !== "object") return String(detail);
  // Conversation ids are left out: the case names the person, and a web chat's id is its session key.
  return Object.entries(detail).filter(([key]) => key !== "conversation" && !(key === "field" && detail.label)).map(([key, value]) => {
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
export function outcomeLabel(tag) {
  const found = state.outcomes.find((o) => o.tag === tag);
  return found ? found.label : tag;
}

// ---- shared by several views ----------------------------------------------------------------------------
export const isMine = (c) => c.status === "assigned" && state.me && c.assignee === state.me.login;
export function workingLeft(seconds) {
  const minutes = Math.round(Math.abs(seconds) / 60);
  const text = minutes >= 60 ? `${Math.floor(minutes / 60)} 小时 ${minutes % 60} 分` : `${minutes} 分`;
  return seconds < 0 ? `超时 ${text}` : `剩 ${text}`;
}
export function targetLine(t) {
  const states = { running: "进行中", due_soon: "即将到期", met: "已达成", breached: "已超时" };
  return el("span", { class: `target ${t.state}`, text: `${fullTime(t.due_at)}（${states[t.state] || t.state}${t.state === "met" ? "" : "，" + workingLeft(t.left_seconds)}）` });
}
// At phone width the page shows the list or the detail, never both (console.css)
export function markDetail() {
  const view = state.view;
  const open = Boolean(state.caseId) || WIDE_VIEWS.includes(view) || (view === "conversations" && Boolean(state.conversation));
  $("app").classList.toggle("has-detail", open);
}
export function showDetail(which) {
  for (const id of ["placeholder", "case-view", "conv-view", "admin-view"]) show($(id), id === which);
}
