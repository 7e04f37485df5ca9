// A case's transcript: messages as the officer reads them, live additions.
import { $, AUTHORS, MESSAGE_TAGS, clock, el, fill, fullTime, show, state } from "./common.js";

// ---- transcript --------------------------------------------------------------------------------------------
function authorKind(m) {
  const author = m.author || (m.direction === "in" ? "person" : "bot");
  if (author.startsWith("staff")) return "staff";
  return AUTHORS[author] ? author : (m.direction === "in" ? "person" : "bot");
}
export function messageNode(m) {
  const kind = authorKind(m);
  const tag = MESSAGE_TAGS[m.status];
  const classes = ["msg", kind];
  if (m.status === "suppressed") classes.push("suppressed");
  return el("div", { class: classes.join(" "), dataset: { id: m.id, status: m.status || "" } },
    el("div", { class: "who" },
      el("span", { text: m.author_label || AUTHORS[kind] }),
      el("time", { datetime: m.created_at, title: fullTime(m.created_at), text: clock(m.created_at) }),
      tag ? el("span", { class: `tag ${tag[1]}`, text: tag[0] }) : null),
    el("div", { class: "text", text: m.text || "" }),
    (m.buttons || []).length ? el("div", { class: "chips" }, m.buttons.map((title) => el("span", { class: "chip", text: typeof title === "string" ? title : title.title }))) : null);
}
export function renderTranscript(first) {
  const box = $("transcript");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const messages = state.detail.messages;
  fill(box, ...(messages.length ? messages.map(messageNode) : [el("p", { class: "day", text: "暂无消息" })]));
  box.classList.toggle("hide-suppressed", !$("show-suppressed").checked);
  if (first || nearBottom) box.scrollTop = box.scrollHeight;
}
export function addMessage(message) {
  const messages = state.detail.messages;
  const box = $("transcript");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const index = messages.findIndex((m) => m.id === message.id);
  if (index >= 0) {
    messages[index] = message;
    const old = box.querySelector(`[data-id="${CSS.escape(String(message.id))}"]`);
    if (old) old.replaceWith(messageNode(message));
    return;
  }
  if (!messages.length) fill(box);
  messages.push(message);
  box.append(messageNode(message));
  if (nearBottom || authorKind(message) === "staff") box.scrollTop = box.scrollHeight;
}
$("show-suppressed").addEventListener("change", (event) =>
  $("transcript").classList.toggle("hide-suppressed", !event.target.checked));
