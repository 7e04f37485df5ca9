// What the case card knows beyond the transcript: the summary written from the conversation, the assistant's
// profile of the person (a takeover's read from the assistant), the officer's corrections and the engine's
// re-run, and results.
import { $, RESULT_STATUSES, api, displayValue, el, fill, hooks, report, say } from "./common.js";

/** The case in ten seconds: what they asked, what they said, what the assistant answered, what went wrong. */
export function summarySection(c) {
  const parts = c.summary_parts;
  if (!parts) return el("section", {}, el("h3", { text: "案情摘要" }), el("div", { class: "summary", text: c.summary || "（无摘要）" }));
  const labels = parts.labels || {};
  const list = (items, cls) => el("ul", { class: cls || "" }, items.map((text) => el("li", { text })));
  return el("section", { class: "case-summary", id: "case-summary" }, el("h3", { text: "案情摘要" }),
    el("dl", {},
      el("dt", { text: labels.asked }), el("dd", {}, parts.asked.length ? list(parts.asked, "asked") : el("span", { class: "muted", text: labels.nothing_asked })),
      parts.facts.length ? [el("dt", { text: labels.facts }), el("dd", {}, list(parts.facts, "facts"))] : null,
      parts.answered.length ? [el("dt", { text: labels.answered }), el("dd", {}, list(parts.answered, "answered"))] : null,
      parts.went_wrong.length ? [el("dt", { text: labels.went_wrong }), el("dd", {},
        parts.went_wrong.map((text) => el("span", { class: "badge signal", text })))] : null,
      el("dt", { text: labels.handed_off }), el("dd", { text: parts.handed_off })));
}

/** The assistant's profile (corrected facts marked), the correction form, the result and the re-run. */
export function factSections(c, mayCorrect) {
  const profile = c.profile || [];
  const empty = c.assistant_view === "unavailable"
    ? "暂时无法读取助手掌握的资料（助手服务未响应），稍后刷新页面重试。"
    : "助手尚未收集到资料。";
  const facts = el("section", { id: "case-profile" }, el("h3", { text: "助手掌握的资料" }),
    profile.length
      ? el("dl", {}, profile.map((row) => [
        el("dt", { text: row.label || row.field }),
        el("dd", { class: row.corrected ? "corrected" : "" }, displayValue(row.value),
          row.corrected ? el("span", { class: "badge corrected", text: "已更正" }) : null)]))
      : el("p", { class: "muted", text: empty }),
    mayCorrect && c.status !== "closed" ? correctionForm(c) : null);
  const sections = [facts, el("section", { id: "case-result" }, el("h3", { text: "助手给出的测算结果" }), resultNode(c.result))];
  if (c.rechecked) {
    const handed = (c.corrections || []).map((x) => `${x.label}：${x.value}`).join("；");
    sections.push(el("section", { id: "case-rechecked", class: "rechecked" }, el("h3", { text: "更正后重新测算" }),
      resultNode(c.rechecked),
      el("p", { class: "muted", text: `交还助手时，更正后的资料（${handed}）会一并交给助手，助手据此继续答复。` })));
  }
  return sections;
}

let fieldChoices = null;  // GET /profile-fields, once per page
async function loadFieldChoices() {
  if (!fieldChoices) fieldChoices = (await api("GET", "/profile-fields")).fields || [];
  return fieldChoices;
}

/** One fact at a time: a select of the profile's fields, then a select (yes/no, the vocabulary) or a number. */
function correctionForm(c) {
  const field = el("select", { id: "fact-field", "aria-label": "要更正的资料项" }, el("option", { value: "", text: "更正一项资料…" }));
  const slot = el("span", { class: "fact-value" });
  const run = el("button", { type: "button", id: "fact-rerun", class: "primary", text: "重新测算", disabled: true });
  const status = el("p", { id: "fact-status", hidden: true, dataset: { kind: "error" } });
  let value = null;
  let choices = [];
  loadFieldChoices().then((loaded) => {
    choices = loaded;
    const known = new Set((c.profile || []).map((p) => p.field));
    const ordered = [...choices.filter((f) => known.has(f.field)), ...choices.filter((f) => !known.has(f.field))];
    field.append(...ordered.map((f) => el("option", { value: f.field, text: known.has(f.field) ? f.label : `${f.label}（未收集）` })));
  }, (error) => report(error, status));
  field.addEventListener("change", () => {
    const chosen = choices.find((f) => f.field === field.value);
    value = !chosen ? null : chosen.values
      ? el("select", { id: "fact-value", "aria-label": "更正后的值" }, el("option", { value: "", text: "请选择…" }),
        chosen.values.map((v, i) => el("option", { value: String(i), text: v.label })))
      : el("input", { id: "fact-value", type: "number", "aria-label": "更正后的值", step: chosen.type === "int" ? "1" : "any",
        min: chosen.minimum ?? null, max: chosen.maximum ?? null });
    fill(slot, value);
    run.disabled = !chosen;
  });
  run.addEventListener("click", async () => {
    const chosen = choices.find((f) => f.field === field.value);
    if (!chosen || !value || value.value === "") { say(status, "请选择资料项并给出更正后的值。", "error"); return; }
    const corrected = chosen.values ? chosen.values[Number(value.value)].value : Number(value.value);
    run.disabled = true;
    try {
      await api("POST", `/cases/${c.id}/facts`, { field: chosen.field, value: corrected });
      say(status, "");
      await hooks.refreshCase();
      const shown = $("case-rechecked");
      if (shown) shown.scrollIntoView({ block: "nearest" });
    } catch (error) { report(error, status); run.disabled = false; }
  });
  return el("div", { class: "fact-form" }, field, slot, run, status);
}

export function resultNode(result) {
  if (!result || !(result.results || []).length) return el("p", { class: "muted", text: "本次对话没有个性化测算结果。" });
  return el("div", {},
    result.title && !(result.results.length === 1 && result.results[0].policy === result.title)
      ? el("p", { class: "result-title", text: result.title }) : null,
    result.results.map((r) => {
      const facts = [["档次", r.tier], ["金额", r.amount], ["发放方式", r.payout], ["期限", r.duration]].filter(([, v]) => v !== null && v !== undefined && v !== "");
      const cite = r.citation || {};
      const citeText = cite.text || [cite.document ? `《${cite.document}》` : "", cite.number || "", cite.article || ""].filter(Boolean).join(" ");
      const status = r.status_label || RESULT_STATUSES[r.status];
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
