// One case: its header, the card (summary, the assistant's profile and corrections, result), notes and actions.
import { $, API, ROLES, STATUSES, actorName, ageNode, api, channelBadge, clock, el, fill, fullTime, historyLine, hooks, isMine, langBadge, learnClock, outcomeLabel, report, say, show, showDetail, state, targetLine } from "./common.js";
import { renderTranscript } from "./transcript.js";
import { factSections, summarySection } from "./facts.js";
import { renderComposer, restoreDraft } from "./composer.js";

// ---- one case ---------------------------------------------------------------------------------------------
export async function openCase(id) {
  hooks.markActive();
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
export async function refreshCase() {
  if (!state.detail) return;
  const id = state.detail.case.id;
  try {
    const data = await api("GET", `/cases/${id}`);
    if (state.detail && state.detail.case.id === id) renderCase(data);
  } catch (error) { report(error, $("case-message")); }
}
export function scheduleCaseRefresh() {
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
  const sections = [summarySection(c)];
  sections.push(el("section", {},
    el("h3", { text: "案件信息" }),
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
  sections.push(...factSections(c, isMine(c) || (state.me.role === "admin" && c.status !== "closed")));
  sections.push(notesSection());
  if (state.detail.history.length) {
    sections.push(el("section", {}, el("h3", { text: "处理记录" }),
      el("ul", { class: "history" }, state.detail.history.map((entry) =>
        el("li", { text: historyLine(entry, c) })))));
  }
  fill($("case-card"), ...sections);
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
export function addNote(note) {
  if (!state.detail || state.detail.notes.some((n) => n.id === note.id)) return;
  state.detail.notes.push(note);
  const list = $("notes");
  if (list) list.append(noteNode(note));
}


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
    hooks.scheduleListRefresh();
  } catch (error) {
    report(error, $("case-message"));
    refreshCase();
    hooks.scheduleListRefresh();
  } finally {
    button.disabled = false;
  }
}
$("back-to-list").addEventListener("click", () => hooks.go(state.view));
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

// what modules loaded before this one call back into
Object.assign(hooks, { refreshCase });
