// Admin and office pages: canned replies, reports, staff and districts, follow-ups, the audit log.
import { $, API, AUDIT_ACTIONS, CHANNELS, LANGUAGES, actorName, api, detailText, el, fill, fullTime, hooks, report, say, show, state } from "./common.js";

// ---- admin: quick answers and audit log ----------------------------------------------------------------------------
export async function renderCannedAdmin() {
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
export async function renderReports() {
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
export async function renderStaffAdmin() {
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
          if (o.login === state.me.login) hooks.loadDistricts();
        } catch (error) { report(error, status); } finally { save.disabled = false; }
      });
      return el("tr", {}, el("td", { text: `${o.display_name}（${o.login}）` }), el("td", {}, boxes),
        el("td", { text: `${o.open_cases} / ${data.max_open_cases}` }), el("td", {}, save));
    }));
  } catch (error) { report(error, status); }
}
// 差评回访: cases a 不满意 or worse rating opened, soonest due first, until the callback is recorded
export async function renderFollowUps() {
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
export async function renderAudit() {
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
        el("td", {}, entry.case_id ? el("button", { type: "button", class: "link", text: `#${entry.case_id}`, onclick: () => hooks.go("all", entry.case_id) }) : ""),
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
