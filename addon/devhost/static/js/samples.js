// The sample list: the inbox or the upcoming events to open, and the line that names what is open.

import { EVENT_TIME, LIST_TITLES, MESSAGE_TIME, UNTITLED } from "./constants.js";
import { fetchSamples } from "./api.js";
import { $, el } from "./dom.js";
import { formatWhen } from "./time.js";
import { picked } from "./topbar.js";
import { openContext } from "./trigger.js";

// What /preview/api/samples last gave: {user, locales, messages, events, universalActions}, or null.
const samples = { loaded: null };
const hooks = { open: () => {} };

// `open(what)` opens a trigger, e.g. {trigger: "message", messageId}, when the user picks an item or the home page.
export function initList({ open }) {
  hooks.open = open;
  $("open-home").addEventListener("click", () => hooks.open({ trigger: "home" }));
}

export function loaded() {
  return samples.loaded;
}

export async function loadSamples() {
  try {
    samples.loaded = await fetchSamples();
    $("list-problem").hidden = true;
  } catch (error) {
    $("list-problem").textContent = `Could not load the sample emails and events: ${error}`;
    $("list-problem").hidden = false;
  }
}

// Puts an event the editor saved in the list, before the list is loaded again.
export function replaceEvent(edited) {
  const events = (samples.loaded && samples.loaded.events) || [];
  const at = events.findIndex((e) => e.id === edited.id && e.calendarId === edited.calendarId);
  if (at >= 0) events[at] = edited;
}

function isOpen(kind, id) {
  const c = openContext();
  if (!c || c.host !== picked().host) return false;
  return kind === "message" ? c.messageId === id : c.eventId === id;
}

function senderName(from) {
  const match = /^\s*"?([^"<]*?)"?\s*<[^>]+>\s*$/.exec(from || "");
  return (match && match[1]) || from || "";
}

export function renderList() {
  const list = $("items");
  const shown = samples.loaded;
  const picks = picked();
  $("list-title").textContent = LIST_TITLES[picks.host];
  // The list is drawn anew after every call; keep the keyboard where it was.
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  list.replaceChildren();
  if (!shown) return;
  if (picks.host === "GMAIL") {
    for (const m of shown.messages || []) {
      const open = isOpen("message", m.id);
      list.append(
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              class: "item",
              "data-key": m.id,
              "aria-current": open ? "true" : null,
              onclick: () => hooks.open({ trigger: "message", messageId: m.id }),
            },
            el("span", { class: "item-main" }, senderName(m.from)),
            el("span", { class: "item-sub" }, m.subject),
            el("time", { class: "item-when", datetime: m.sent }, formatWhen(m.sent, MESSAGE_TIME, picks)),
          ),
        ),
      );
    }
  } else {
    for (const e of shown.events || []) {
      const open = isOpen("event", e.id);
      list.append(
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              class: "item",
              "data-key": e.id,
              "aria-current": open ? "true" : null,
              onclick: () => hooks.open({ trigger: "event", calendarId: e.calendarId, eventId: e.id }),
            },
            el("span", { class: "item-main" }, e.title || UNTITLED),
            el("span", { class: "item-sub" }, e.repeats ? el("span", { class: "badge" }, "Repeats") : null),
            el(
              "time",
              { class: "item-when", datetime: e.start || "" },
              e.start ? formatWhen(e.start, EVENT_TIME, picks) : "All day",
            ),
          ),
        ),
      );
    }
  }
  if (focused) {
    const again = [...list.querySelectorAll("button.item")].find((b) => b.dataset.key === focused);
    if (again) again.focus();
  }
}

export function renderOpened() {
  const c = openContext();
  const host = picked().host;
  const shown = samples.loaded || {};
  let title = null;
  if (c && c.host === host && c.trigger === "message") {
    const m = (shown.messages || []).find((x) => x.id === c.messageId);
    title = m ? m.subject : c.messageId;
  } else if (c && c.host === host && (c.trigger === "event" || c.trigger === "saved")) {
    const e = (shown.events || []).find((x) => x.id === c.eventId);
    title = e ? e.title || UNTITLED : c.eventId;
  } else if (c && c.host === host && c.trigger === "home") {
    title = "the add-on's home page";
  }
  $("opened").hidden = title === null;
  $("opened-title").textContent = title || "";
}
