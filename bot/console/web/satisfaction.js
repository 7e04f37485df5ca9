"use strict";
// The report page's satisfaction section (好差评, issue 13 item 6), the messages the assistant did not
// understand, and the CSV links of every table: added below the
// numbers admin.js draws in #report-body, for the same dates. Imported once by main.js.
(() => {
  const API = "/console/api";
  const CHANNELS = { wechat: "微信", telegram: "Telegram", web: "网页" };
  const GROUPS = [
    ["by_kind", "按类型"], ["by_topic", "按主题"], ["by_district", "按区"], ["by_channel", "按渠道"], ["by_officer", "按处理人"],
  ];
  const TABLES = [
    ["days", "每日"], ["by_reason", "转人工原因"], ["by_district", "案件按区"], ["by_channel", "案件按渠道"],
    ["by_language", "案件按语言"], ["top_topics", "热门主题"], ["satisfaction_by_level", "评价等级"],
    ...GROUPS.map(([key, label]) => [`satisfaction_${key}`, `满意度${label}`]), ["misunderstood", "没听懂的消息"],
  ];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat(Infinity)) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    return node;
  }
  const percent = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10}%`);
  const number = (x) => (x === null || x === undefined ? "—" : String(x));
  const table = (heads, rows) => el("table", {}, el("thead", {}, el("tr", {}, heads.map((h) => el("th", { text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", { text: String(c) }))))));

  async function render(body) {
    const section = el("section", { class: "satisfaction-section", id: "report-satisfaction" });
    body.append(section);
    const from = document.getElementById("report-from").value;
    const to = document.getElementById("report-to").value;
    const range = new URLSearchParams({ from, to });
    let report;
    try {
      const response = await fetch(`${API}/reports?${range}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      report = await response.json();
      if (!response.ok) throw new Error(report.error || `HTTP ${response.status}`);
    } catch (error) {
      section.append(el("p", { class: "error", text: error.message }));
      return;
    }
    const s = report.satisfaction;
    const row = (key) => (x) => [key === "by_channel" ? CHANNELS[x.key] || x.label : x.label,
      x.count, number(x.average), percent(x.satisfied_share), x.dissatisfied];
    section.append(...[
      el("h3", { text: "每日会话（按渠道）与转人工" }),
      el("img", { id: "report-chart", src: `${API}/reports/chart.svg?${range}`, alt: "每日会话（按渠道）与转人工", class: "report-chart" }),
      el("h3", { text: "满意度（好差评：人工服务与助手的个性化答复）" }),
      table(["评价数", "平均分（5 = 非常满意）", "满意率（基本满意及以上）", "不满意及以下（已开回访）", "各等级"],
        [[s.count, number(s.average), percent(s.satisfied_share), s.dissatisfied, s.by_level.map((l) => `${l.label} ${l.count}`).join("，")]]),
      GROUPS.map(([key, label]) => [el("h3", { text: `满意度${label}` }),
        s[key].length ? table([label.slice(1), "评价数", "平均分", "满意率", "不满意"], s[key].map(row(key))) : el("p", { class: "muted", text: "暂无评价" })]),
      el("h3", { text: "助手没听懂的消息（按相似归组，来自审核队列）" }),
      report.misunderstood.length
        ? table(["消息", "次数", "相似的说法"], report.misunderstood.map((m) => [m.example, m.count, m.others.join(" | ") || "—"]))
        : el("p", { class: "muted", text: "没有" }),
      el("h3", { text: "导出 CSV（本地时间）" }),
      el("div", { class: "satisfaction-links" },
        el("a", { class: "button", id: "report-ratings-csv", download: "", href: `${API}/reports/ratings.csv?${range}`, text: "每条评价一行" }),
        TABLES.map(([name, label]) => el("a", { class: "button", download: "", href: `${API}/reports/tables/${name}.csv?${range}`, text: label }))),
    ].flat(Infinity));
  }

  const admin = document.getElementById("admin-view");
  if (!admin) return;
  new MutationObserver(() => {
    const body = document.getElementById("report-body");
    if (body && body.firstChild && !body.querySelector("#report-satisfaction")) render(body);
  }).observe(admin, { childList: true, subtree: true });
})();
