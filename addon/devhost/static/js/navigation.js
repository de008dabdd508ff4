// What the side panel shows: the navigation stack of cards, a notice above the top card, and the toast.

import { EMPTY_HINTS } from "./constants.js";
import { $, el } from "./dom.js";
import { renderMenu } from "./menu.js";
import { picked } from "./topbar.js";

// The stack holds {card, locale} or {special, ...}; drawing an entry keeps its el, footerEl and inputs on it.
// The notice is {kind: "error" | "note", title, detail} or null.
const panel = { stack: [], notice: null };
const hooks = { build: null };
const toasts = { timer: 0 };

// `build(entry)` draws an entry the first time it is on top (addon.js knows what its clicks call).
export function initPanel({ build }) {
  hooks.build = build;
  $("back").addEventListener("click", back);
}

export function top() {
  return panel.stack[panel.stack.length - 1] || null;
}

export function clearStack() {
  panel.stack = [];
}

export function push(entry) {
  panel.stack.push(entry);
}

export function setNotice(notice) {
  panel.notice = notice;
}

// Google's navigations, in order; `locale` is the language the new cards are in.
export function navigate(navigations, locale) {
  const stack = panel.stack;
  for (const navigation of navigations) {
    if (navigation.pushCard) {
      stack.push({ card: navigation.pushCard, locale });
    } else if (navigation.updateCard) {
      const entry = { card: navigation.updateCard, locale };
      if (stack.length) stack[stack.length - 1] = entry;
      else stack.push(entry);
    } else if (navigation.pop || navigation.popCard) {
      if (stack.length > 1) stack.pop();
    } else if (navigation.popToRoot) {
      stack.length = Math.min(stack.length, 1);
    } else if (navigation.popToCard) {
      const at = stack.findLastIndex((e) => e.card && e.card.name === navigation.popToCard);
      if (at >= 0) stack.length = at + 1;
    }
  }
}

function back() {
  if (panel.stack.length > 1) panel.stack.pop();
  panel.notice = null;
  render();
  const heading = document.querySelector("#panel .card-title");
  if (heading) heading.focus();
}

// The panel and the ⋮ menu (which holds the top card's card actions).
export function render() {
  renderPanel();
  renderMenu();
}

export function renderPanel() {
  const shown = $("panel");
  const footer = $("footer");
  const entry = top();
  $("back").hidden = panel.stack.length <= 1;
  shown.replaceChildren();
  footer.replaceChildren();
  footer.hidden = true;
  if (panel.notice) shown.append(noticeBox(panel.notice));
  if (!entry) {
    if (!panel.notice) shown.append(el("div", { class: "empty" }, el("p", {}, EMPTY_HINTS[picked().host])));
    shown.removeAttribute("lang");
    return;
  }
  if (!entry.el) hooks.build(entry);
  shown.lang = entry.locale || picked().locale;
  shown.append(entry.el);
  if (entry.footerEl) {
    footer.append(entry.footerEl);
    footer.hidden = false;
  }
  shown.scrollTop = 0;
}

function noticeBox(notice) {
  const detail = typeof notice.detail === "string" ? notice.detail : JSON.stringify(notice.detail, null, 2);
  return el(
    "div",
    { class: `notice ${notice.kind}`, role: notice.kind === "error" ? "alert" : "note" },
    el("p", { class: "notice-title" }, notice.title),
    detail ? el("details", { open: notice.kind === "error" }, el("summary", {}, "Details"), el("pre", {}, detail)) : null,
  );
}

export function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toasts.timer);
  toasts.timer = setTimeout(() => {
    box.hidden = true;
  }, 8000);
}

export function hideToast() {
  $("toast").hidden = true;
}
