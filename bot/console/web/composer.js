// The reply box: canned replies, WeChat's quota and size, sending, drafts.
import { $, LANGUAGES, MAX_REPLY_CHARS, WECHAT_MAX_BYTES, api, el, fill, hooks, isMine, report, say, serverNow, show, state, utf8Bytes } from "./common.js";

// ---- composer ----------------------------------------------------------------------------------------------
export function renderComposer() {
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
export function paintQuota() {
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
    if (c.channel === "wechat") hooks.refreshCase();
  } catch (error) {
    say(status, "");
    report(error, $("case-message"));
    if (["not_yours", "closed"].includes(error.code)) hooks.refreshCase();
  } finally {
    state.sending = false;
    $("reply-send").disabled = false;
  }
}
// Drafts survive switching cases and a lost session (this tab only).
const draftKey = (id) => `console.draft.${id}`;
export function saveDraft() {
  if (!state.detail) return;
  const value = $("reply-text").value;
  if (value.trim()) sessionStorage.setItem(draftKey(state.detail.case.id), value);
  else sessionStorage.removeItem(draftKey(state.detail.case.id));
}
export function restoreDraft() {
  $("reply-text").value = sessionStorage.getItem(draftKey(state.detail.case.id)) || "";
  say($("reply-status"), "");
  paintQuota();
}
const clearDraft = (id) => sessionStorage.removeItem(draftKey(id));
