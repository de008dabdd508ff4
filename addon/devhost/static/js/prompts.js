// What Google shows instead of a card: its own consent screen, or its own sign-in prompt.

import { el } from "./dom.js";

// `retry()` runs the same trigger or action again, as Google does once the user agrees.
export function consentPrompt(request, retry) {
  const scopes = request.all_scopes ? ["every scope in the deployment"] : request.scopes || [];
  return el(
    "article",
    { class: "card google-prompt", "aria-label": "Google would ask for consent" },
    el("header", { class: "card-header" }, el("div", {}, el("h2", { class: "card-title" }, "Google would ask for consent"))),
    el(
      "section",
      { class: "card-section" },
      el("p", { class: "widget paragraph" }, "In Gmail or Calendar, Google would now ask the user to allow the add-on to:"),
      el("ul", { class: "scopes" }, scopes.map((s) => el("li", {}, el("code", {}, s)))),
      el(
        "p",
        { class: "widget paragraph muted" },
        "After the user agrees, Google runs the same trigger or action again. The preview grants every " +
          "scope, so an add-on that still asks may be asking for one its deployment lacks.",
      ),
      el(
        "div",
        { class: "widget button-list" },
        el("button", { type: "button", class: "btn text", onclick: retry }, "Try again"),
      ),
    ),
  );
}

// `signIn()` opens the prompt's authorization URL.
export function signInPrompt(prompt, signIn) {
  return el(
    "article",
    { class: "card google-prompt", "aria-label": "Google would ask to sign in" },
    el("header", { class: "card-header" }, el("div", {}, el("h2", { class: "card-title" }, "Google would ask to sign in"))),
    el(
      "section",
      { class: "card-section" },
      el("p", { class: "widget paragraph" }, `The add-on wants access to your ${prompt.resource || "account"}.`),
      el(
        "div",
        { class: "widget button-list" },
        el("button", { type: "button", class: "btn text", onclick: signIn }, "Sign in"),
      ),
    ),
  );
}
