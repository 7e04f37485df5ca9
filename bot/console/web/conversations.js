// Conversations: the read-only look and the proactive takeover.
import { $, ageNode, api, channelBadge, el, fill, hooks, langBadge, markDetail, report, say, showDetail, state } from "./common.js";
import { messageNode } from "./transcript.js";

// ---- conversations (proactive takeover) --------------------------------------------------------------------------
export function renderConversationList() {
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
  if (conv.open_case_id) { hooks.go("conversations", conv.open_case_id); return; }
  if (state.caseId) { hooks.go("conversations"); return; }
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
export function renderConversation(conv) {
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
      hooks.scheduleListRefresh();
      hooks.go("mine", data.case.id);
    } catch (error) {
      const openId = error.body && (error.body.case_id || error.body.open_case_id || (error.body.case && error.body.case.id));
      report(error, status);
      if (error.code === "case_open" && openId) {
        status.append(" ", el("button", { type: "button", class: "link", text: `查看案件 #${openId}`, onclick: () => hooks.go("conversations", openId) }));
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
