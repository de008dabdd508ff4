// Card text in the add-on HTML subset (<b> <i> <u> <br> <a href> <font color>), rebuilt safely; other tags keep text.

import { el } from "./dom.js";

const COLOR = /^(#[0-9a-f]{3}|#[0-9a-f]{6}|#[0-9a-f]{8}|[a-z]{3,20})$/i;

// The URL if it is an http or https one, else null.
export function safeHref(raw) {
  try {
    const url = new URL(String(raw || "").trim());
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

// The markup is parsed into an inert document (no scripts run, nothing loads) and rebuilt node by node.
export function richText(html) {
  const fragment = document.createDocumentFragment();
  const parsed = new DOMParser().parseFromString(String(html ?? ""), "text/html");
  copySafe(parsed.body, fragment);
  return fragment;
}

function copySafe(from, to) {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.append(document.createTextNode(node.data));
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const tag = node.localName;
    if (["script", "style", "template", "noscript", "iframe", "object", "svg", "math"].includes(tag)) continue;
    let copy = null;
    if (tag === "b" || tag === "i" || tag === "u") copy = document.createElement(tag);
    else if (tag === "br") {
      to.append(document.createElement("br"));
      continue;
    } else if (tag === "a") {
      const href = safeHref(node.getAttribute("href"));
      if (href) copy = el("a", { href, target: "_blank", rel: "noopener noreferrer" });
    } else if (tag === "font") {
      const color = (node.getAttribute("color") || "").trim();
      if (COLOR.test(color)) {
        copy = document.createElement("span");
        copy.style.color = color;
      }
    }
    copySafe(node, copy || to);
    if (copy) to.append(copy);
  }
}
