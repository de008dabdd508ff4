// Opens a card's links as Google would: https, mailto and tel only; an overlay may reload the add-on once closed.

import { toast } from "./navigation.js";

const overlay = { timer: 0 }; // the watch on an open overlay, until it closes

// `reload()` runs when a link with onClose RELOAD is closed.
export function openLink(link, reload) {
  let url = null;
  try {
    const parsed = new URL(String(link.url));
    if (["https:", "http:", "mailto:", "tel:"].includes(parsed.protocol)) url = parsed.href;
  } catch {
    url = null;
  }
  if (!url) {
    toast("Google would refuse this link: only https, mailto and tel links open");
    return;
  }
  const reloads = link.onClose === "RELOAD";
  if (link.openAs !== "OVERLAY" && !reloads) {
    window.open(url, "_blank", "noopener,noreferrer");
    return;
  }
  const features = link.openAs === "OVERLAY" ? "popup,width=520,height=640" : "";
  const opened = window.open(url, "addon-overlay", features);
  if (!opened) {
    toast("The browser blocked the window: allow pop-ups for this page");
    return;
  }
  if (reloads) {
    clearInterval(overlay.timer);
    overlay.timer = setInterval(() => {
      if (!opened.closed) return;
      clearInterval(overlay.timer);
      reload();
    }, 400);
  }
}
