"use strict";
// The review queue (issue 13, item 7): bot/console/review.py, GET/POST /console/api/review.
// A page of its own beside the console (same session cookie); console.js is not involved.
(() => {
  const API = "/console/api";
  const CHANNELS = { wechat: "微信", telegram: "Telegram", web: "网页" };
  const state = { csrf: null, status: "open", intents: [], entities: [] };
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  function say(node, text, kind) {
    node.textContent = text || "";
    node.className = kind || "";
    node.hidden = !text;
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
    let response;
    try {
      response = await fetch(API + path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new Error("无法连接服务器，请检查网络后重试。");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const problem = new Error(data.error || `HTTP ${response.status}`);
      problem.status = response.status;
      throw problem;
    }
    return data;
  }

  function entityRow(item) {
    const kind = el("select", { class: "review-entity-kind", "aria-label": "实体类型" },
      el("option", { value: "", text: "实体类型…" }), state.entities.map((name) => el("option", { value: name, text: name })));
    const span = el("input", { type: "text", class: "review-entity-text", placeholder: "消息中的文字，如：松江", "aria-label": "实体文字" });
    const row = el("div", { class: "review-entity" }, kind, span);
    row.append(el("button", { type: "button", text: "删除", "aria-label": "删除此实体", onclick: () => row.remove() }));
    // selecting text in the message fills the span
    span.addEventListener("focus", () => {
      const picked = String(window.getSelection() || "").trim();
      if (picked && !span.value && item.text.includes(picked)) span.value = picked;
    });
    return row;
  }

  function itemNode(item) {
    const reasons = item.reasons.map((r) => el("span", { class: "pill", text: r.label }));
    const understood = item.intent ? `助手理解为 ${item.intent}（${Math.round(item.confidence * 100)}%）` : "";
    const meta = el("div", { class: "muted" }, `${CHANNELS[item.channel] || item.channel} · ${item.language || "—"} · ${new Date(item.created_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" })}`, understood ? ` · ${understood}` : "");
    const head = el("div", { class: "review-head" }, el("q", { class: "review-text", text: item.text }), reasons);
    if (item.status !== "open") {
      const decided = item.status === "out_of_scope" ? "超出范围" : item.reviewed_intent;
      const spans = (item.reviewed_entities || []).map((e) => `${e.text} → ${e.entity}`).join("，");
      return el("li", { class: "review-item" }, head, meta,
        el("p", {}, `结论：${decided}${spans ? `；实体：${spans}` : ""}（${item.reviewer}${item.exported ? "，已导出" : ""}）`));
    }
    const intent = el("select", { class: "review-intent", "aria-label": "正确的意图" },
      el("option", { value: "", text: "选择意图…" }), state.intents.map((name) => el("option", { value: name, text: name })));
    if (item.intent && state.intents.includes(item.intent)) intent.value = item.intent;
    const entities = el("div", { class: "review-entities" });
    const status = el("p", { hidden: true, role: "status" });
    const node = el("li", { class: "review-item", "data-id": item.id });
    async function decide(body) {
      try {
        await api("POST", `/review/${item.id}`, body);
        node.remove();
        refreshCount();
      } catch (error) { say(status, error.message, "error"); }
    }
    const save = el("button", { type: "button", class: "primary review-save", text: "保存标注", onclick: () => {
      const chosen = [...entities.querySelectorAll(".review-entity")].map((row) => ({
        entity: row.querySelector(".review-entity-kind").value, text: row.querySelector(".review-entity-text").value.trim(),
      })).filter((e) => e.entity || e.text);
      decide({ intent: intent.value, entities: chosen });
    } });
    const addEntity = el("button", { type: "button", class: "review-add-entity", text: "＋ 实体", onclick: () => entities.append(entityRow(item)) });
    const outOfScope = el("button", { type: "button", class: "review-out", text: "超出范围", onclick: () => decide({ out_of_scope: true }) });
    node.append(head, meta, el("div", { class: "review-form" }, intent, addEntity, save, outOfScope), entities, status);
    return node;
  }

  async function refreshCount() {
    try {
      const open = await api("GET", "/review?status=open&limit=1");
      $("review-count").textContent = open.total ? ` ${open.total}` : "";
    } catch (error) { /* the list shows the problem */ }
  }

  async function load() {
    document.querySelectorAll("#review-tabs button").forEach((b) => {
      if (b.dataset.status === state.status) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
    });
    try {
      const page = await api("GET", `/review?status=${state.status}&limit=100`);
      state.intents = page.intents;
      state.entities = page.entities;
      $("review-list").replaceChildren(...page.items.map(itemNode));
      $("review-empty").hidden = page.items.length > 0;
      if (state.status === "open") $("review-count").textContent = page.total ? ` ${page.total}` : "";
      say($("review-status"), "");
    } catch (error) {
      say($("review-status"), error.status === 401 ? "请先在工作台登录（管理员）。" : error.message, "error");
    }
  }

  async function start() {
    try {
      const me = await api("GET", "/me");
      state.csrf = me.csrf_token;
    } catch (error) {
      say($("review-status"), "请先在工作台登录（管理员）。", "error");
      return;
    }
    document.querySelectorAll("#review-tabs button").forEach((button) =>
      button.addEventListener("click", () => { state.status = button.dataset.status; load(); }));
    load();
  }
  start();
})();
