// The policy look-up beside the reply box: search the knowledge base by words of a policy's title, topic or
// district; "插入" puts the policy's amount, cited conditions and how to apply (the server composes them with
// the engine's own formatters, judged on this case's corrected profile) into the reply for the officer to edit.
import { $, api, el, fill, report, say, state } from "./common.js";
import { paintQuota } from "./composer.js";

const query = el("input", { id: "lookup-q", type: "search", maxlength: "40", placeholder: "政策名称、主题或区，如“青浦 租房”", "aria-label": "政策查询" });
const find = el("button", { type: "button", id: "lookup-find", text: "查找" });
const status = el("p", { id: "lookup-status", hidden: true, dataset: { kind: "muted" } });
const results = el("ul", { id: "lookup-results", class: "lookup-results" });
const panel = el("details", { id: "lookup", class: "lookup" }, el("summary", { text: "政策查询" }),
  el("div", { class: "lookup-bar" }, query, find), status, results);

async function search() {
  const words = query.value.trim();
  if (!words) { say(status, "请输入查询词。", "error"); return; }
  find.disabled = true;
  try {
    const found = (await api("GET", `/policies?q=${encodeURIComponent(words)}`)).policies || [];
    say(status, found.length ? "" : "没有找到匹配的政策。", "muted");
    fill(results, found.map((p) => el("li", { dataset: { policyId: p.policy_id } },
      el("div", { class: "policy", text: p.title }),
      el("div", { class: "meta" }, el("span", { class: "district", text: p.district }), el("span", { class: "topic", text: p.topic_label })),
      el("button", { type: "button", class: "insert", text: "插入", onclick: (event) => insert(p, event.target) }))));
  } catch (error) { report(error, status); } finally { find.disabled = false; }
}

async function insert(policy, button) {
  const c = state.detail && state.detail.case;
  button.disabled = true;
  try {
    const data = await api("GET", `/policies/${encodeURIComponent(policy.policy_id)}/reply${c ? `?case=${c.id}` : ""}`);
    const box = $("reply-text");
    const start = box.selectionStart ?? box.value.length, end = box.selectionEnd ?? box.value.length;
    const before = box.value.slice(0, start);
    box.setRangeText((before && !before.endsWith("\n") ? "\n" : "") + data.text, start, end, "end");
    box.focus();
    paintQuota();
  } catch (error) { report(error, status); } finally { button.disabled = false; }
}

find.addEventListener("click", search);
query.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); search(); } });

// the reply box and the look-up side by side (stacked at phone width, console.css)
const reply = $("reply-text");
const row = el("div", { class: "compose-row" });
reply.replaceWith(row);
row.append(reply, panel);
