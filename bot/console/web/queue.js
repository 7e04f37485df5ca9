// Navigation (#/view/case-id) and the case lists with their filters.
import { $, ADMIN_VIEWS, VIEWS, WIDE_VIEWS, ageNode, api, channelBadge, el, fill, fullTime, hooks, langBadge, learnClock, markDetail, report, say, show, showDetail, state, workingLeft } from "./common.js";
import { saveDraft } from "./composer.js";
import { openCase } from "./card.js";
import { renderConversation, renderConversationList } from "./conversations.js";
import { renderAudit, renderCannedAdmin, renderFollowUps, renderReports, renderStaffAdmin } from "./admin.js";

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

export function route() {
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
// ---- lists ------------------------------------------------------------------------------------------------
export async function loadList() {
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
export function scheduleListRefresh() {
  clearTimeout(state.listTimer);
  state.listTimer = setTimeout(() => { if (state.me) { loadList(); refreshCounts(); } }, 250);
}
/** The queue and "mine" counts in the tabs (the list on screen fetches its own). */
export async function refreshCounts() {
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
      // what they asked, in their words (the summary's first line), then their last words
      (c.asked || []).length ? el("div", { class: "row asked", title: "对方所问", text: `问：${c.asked[0]}` }) : null,
      (c.asked || [])[0] === c.last_message_preview ? null : el("div", { class: "row preview", text: c.last_message_preview || "" }),
      !waiting ? el("div", { class: "row preview", text: c.status === "closed" ? `已结案 · ${c.assignee_name || ""}` : `处理人：${c.assignee_name || c.assignee || ""}` }) : null));
}
function markActive() {
  document.querySelectorAll("#list .item").forEach((item) =>
    item.classList.toggle("active", Number(item.dataset.caseId) === state.caseId));
}


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

// what modules loaded before this one call back into
Object.assign(hooks, { go, markActive, scheduleListRefresh });
