// The local preview: runs the add-on's triggers and actions through /preview/api and draws its cards
// (google.apps.card.v1) in a side panel, the way Gmail and Calendar would. Plain JS, no build step.
"use strict";

(() => {
  const LOCALE_NAMES = { en: "English", de: "Deutsch", fr: "Français" };
  const LIST_TITLES = { GMAIL: "Inbox", CALENDAR: "Upcoming events" };
  const EMPTY_HINTS = {
    GMAIL: "Pick an email on the left, or use “Open the add-on”, to see what the add-on shows.",
    CALENDAR: "Pick an event on the left, or use “Open the add-on”, to see what the add-on shows.",
  };
  // Material icon shapes (24×24) for the knownIcon values; anything else gets the generic dot.
  const ICONS = {
    EMAIL: "M20 4H4c-1.1 0-2 .9-2 2v12c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V6c0-1.1-.9-2-2-2zm0 4-8 5-8-5V6l8 5 8-5v2z",
    CLOCK:
      "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16zm.5-13H11v6l5.25 3.15.75-1.23-4.5-2.67z",
    PERSON: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z",
    MULTIPLE_PEOPLE:
      "M16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm0 2c-2.33 0-7 1.17-7 3.5V19h14v-2.5C15 14.17 10.33 13 8 13zm8 0c-.29 0-.62.02-.97.05C16.19 13.89 17 15.02 17 16.5V19h6v-2.5c0-2.33-4.67-3.5-7-3.5z",
    VIDEO_CAMERA: "M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z",
    PHONE:
      "M6.62 10.79a15.05 15.05 0 0 0 6.59 6.59l2.2-2.2a1 1 0 0 1 1.02-.24c1.12.37 2.33.57 3.57.57a1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1.02l-2.2 2.2z",
    INVITE:
      "M19 4h-1V2h-2v2H8V2H6v2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm0 16H5V9h14v11zm-7-9h5v5h-5z",
    EVENT_SEAT:
      "M19 4h-1V2h-2v2H8V2H6v2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm0 16H5V9h14v11z",
    CONFIRMATION_NUMBER_ICON:
      "M22 10V6a2 2 0 0 0-2-2H4a2 2 0 0 0-2 2v4a2 2 0 0 1 0 4v4a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-4a2 2 0 0 1 0-4zm-9 7.5h-2v-2h2v2zm0-4.5h-2v-2h2v2zm0-4.5h-2v-2h2v2z",
    DESCRIPTION: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z",
    STAR: "M12 17.27 18.18 21l-1.64-7.03L22 9.24l-7.19-.61L12 2 9.19 8.63 2 9.24l5.46 4.73L5.82 21z",
    BOOKMARK: "M17 3H7a2 2 0 0 0-2 2v16l7-3 7 3V5a2 2 0 0 0-2-2z",
    MAP_PIN: "M12 2a7 7 0 0 0-7 7c0 5.25 7 13 7 13s7-7.75 7-13a7 7 0 0 0-7-7zm0 9.5a2.5 2.5 0 1 1 0-5 2.5 2.5 0 0 1 0 5z",
  };
  const UNTITLED = "(No title)"; // what Calendar shows for an event without one
  const MESSAGE_TIME = { dateStyle: "medium", timeStyle: "short" };
  const EVENT_TIME = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  const GENERIC_ICON = "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z";
  const SVG = "http://www.w3.org/2000/svg";

  const state = {
    samples: null,
    host: "GMAIL",
    locale: "en",
    timeZone: browserZone(),
    context: null, // the trigger that is open: what /preview/api/open got, and what actions run with
    stack: [], // the navigation stack: {card, locale, el, footerEl, inputs} or {special, ...}
    notice: null, // an error box or a note shown above the top card
    lastRequest: null,
    busyCalls: 0,
    seq: 0,
    overlayTimer: 0,
    toastTimer: 0,
    editor: null, // the event editor's {key, zone, baseline}: what it showed when filled, to see what changed
  };
  let uidCounter = 0;
  const uid = (prefix) => `${prefix}-${++uidCounter}`;
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- DOM helpers

  const PROPERTIES = new Set(["value", "checked", "selected", "disabled", "hidden", "multiple", "htmlFor"]);

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (PROPERTIES.has(key)) node[key] = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function icon(path, className) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", className || "icon");
    const shape = document.createElementNS(SVG, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }

  // ---------------------------------------------------------------- the add-on HTML subset

  const COLOR = /^(#[0-9a-f]{3}|#[0-9a-f]{6}|#[0-9a-f]{8}|[a-z]{3,20})$/i;

  function safeHref(raw) {
    try {
      const url = new URL(String(raw || "").trim());
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch {
      return null;
    }
  }

  // Card text may hold <b> <i> <u> <br> <a href> <font color>; everything else is kept as its text.
  // The markup is parsed into an inert document (no scripts run, nothing loads) and rebuilt node by node.
  function richText(html) {
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

  // ---------------------------------------------------------------- time

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    } catch {
      return "UTC";
    }
  }

  function zoneNames() {
    let names = [];
    try {
      names = Intl.supportedValuesOf("timeZone");
    } catch {
      names = ["UTC", "Europe/Zurich"];
    }
    const all = new Set(["UTC", ...names, state.timeZone]);
    return [...all].sort();
  }

  // Minutes east of UTC that `zone` is at `ms`.
  function zoneOffsetMinutes(zone, ms) {
    try {
      const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
        .formatToParts(new Date(ms))
        .find((p) => p.type === "timeZoneName");
      const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(part ? part.value : "");
      if (!match) return 0;
      const minutes = Number(match[2]) * 60 + Number(match[3] || 0);
      return match[1] === "-" ? -minutes : minutes;
    } catch {
      return 0;
    }
  }

  function offsetLabel(minutes) {
    const sign = minutes < 0 ? "−" : "+";
    const abs = Math.abs(minutes);
    return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  }

  // What a datetime-local input shows for the instant `ms` in `zone`: "2026-12-24T10:00".
  function localInputValue(ms, zone) {
    return new Date(ms + zoneOffsetMinutes(zone, ms) * 60000).toISOString().slice(0, 16);
  }

  // The instant a datetime-local value means in `zone`; NaN if it is not one. The offset is looked up
  // twice because the first guess may fall on the other side of a daylight-saving change.
  function instantOf(value, zone) {
    const wall = Date.parse(`${value}Z`);
    if (Number.isNaN(wall)) return NaN;
    const guess = wall - zoneOffsetMinutes(zone, wall) * 60000;
    return wall - zoneOffsetMinutes(zone, guess) * 60000;
  }

  function formatWhen(value, options) {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return "";
    try {
      return new Intl.DateTimeFormat(state.locale, { ...options, timeZone: state.timeZone }).format(date);
    } catch {
      return date.toISOString();
    }
  }

  // ---------------------------------------------------------------- talking to the preview API

  function currentContext(extra) {
    return { host: state.host, locale: state.locale, timeZone: state.timeZone, ...extra };
  }

  function openTrigger(context, fresh = true) {
    if (fresh) state.context = context;
    renderOpened();
    renderList();
    return call("/preview/api/open", context, { spinner: false, fresh });
  }

  function reloadTrigger() {
    if (state.context) openTrigger({ ...state.context, locale: state.locale, timeZone: state.timeZone });
  }

  async function call(path, body, { spinner, fresh }) {
    const seq = ++state.seq;
    state.lastRequest = { path, body, spinner, fresh };
    setBusy(+1, spinner);
    let answer = null;
    let failure = null;
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      if (response.ok && json && typeof json === "object" && "status" in json) answer = json;
      else failure = { title: `The preview server answered HTTP ${response.status}`, detail: json ?? text };
    } catch (error) {
      failure = { title: "The preview server did not answer", detail: String(error) };
    } finally {
      setBusy(-1, spinner);
    }
    if (seq !== state.seq) return; // the user opened something else meanwhile
    if (failure) {
      if (fresh) state.stack = [];
      state.notice = { kind: "error", ...failure };
      render();
    } else {
      handleAnswer(answer, fresh);
    }
    refreshSamples();
  }

  function setBusy(delta, spinner) {
    state.busyCalls = Math.max(0, state.busyCalls + delta);
    const busy = state.busyCalls > 0;
    $("progress").hidden = !busy;
    if (spinner || !busy) $("spinner").hidden = !busy;
    $("panel").inert = busy;
    $("footer").inert = busy;
    document.querySelector(".sidepanel").setAttribute("aria-busy", String(busy));
  }

  // ---------------------------------------------------------------- the add-on's answers

  function handleAnswer({ status, body }, fresh) {
    state.notice = null;
    if (status !== 200 || !body || typeof body !== "object") {
      if (fresh) state.stack = [];
      state.notice = { kind: "error", title: `The add-on answered HTTP ${status}`, detail: body };
      render();
      return;
    }
    if (body.requesting_google_scopes) {
      showSpecial({ special: "consent", request: body.requesting_google_scopes }, fresh);
    } else if (body.basic_authorization_prompt) {
      showSpecial({ special: "basic-sign-in", prompt: body.basic_authorization_prompt }, fresh);
    } else if (body.custom_authorization_prompt && body.custom_authorization_prompt.action) {
      applyAction(body.custom_authorization_prompt.action, fresh);
    } else if (body.action) {
      applyAction(body.action, fresh);
    } else if (body.renderActions) {
      const { action, hostAppAction } = body.renderActions;
      if (action) applyAction(action, fresh && !hostAppAction);
      if (hostAppAction) {
        state.notice = { kind: "note", title: hostActionTitle(hostAppAction), detail: hostAppAction };
        renderPanel();
      }
      if (!action && !hostAppAction) unknownAnswer(body, fresh);
    } else {
      unknownAnswer(body, fresh);
    }
  }

  function unknownAnswer(body, fresh) {
    if (fresh) state.stack = [];
    state.notice = { kind: "error", title: "Google would not understand this answer", detail: body };
    render();
  }

  function hostActionTitle(hostAppAction) {
    const calendar = hostAppAction.calendarAction || {};
    if (calendar.editAttendeesActionMarkup) {
      const emails = calendar.editAttendeesActionMarkup.addAttendeeEmails || [];
      return `Calendar would add guests to the open event: ${emails.join(", ")}`;
    }
    if (calendar.addAttachmentsActionMarkup) return "Calendar would attach files to the open event";
    if (calendar.editConferenceDataActionMarkup) return "Calendar would set the event's conference";
    if (hostAppAction.gmailAction) return "Gmail would change the draft";
    return "The add-on asked the host app to act";
  }

  function showSpecial(entry, fresh) {
    if (fresh) state.stack = [];
    state.stack.push(entry);
    render();
  }

  function applyAction(action, fresh) {
    if (fresh) state.stack = [];
    const locale = (state.context && state.context.locale) || state.locale;
    for (const navigation of action.navigations || []) {
      if (navigation.pushCard) {
        state.stack.push({ card: navigation.pushCard, locale });
      } else if (navigation.updateCard) {
        const entry = { card: navigation.updateCard, locale };
        if (state.stack.length) state.stack[state.stack.length - 1] = entry;
        else state.stack.push(entry);
      } else if (navigation.pop || navigation.popCard) {
        if (state.stack.length > 1) state.stack.pop();
      } else if (navigation.popToRoot) {
        state.stack.length = Math.min(state.stack.length, 1);
      } else if (navigation.popToCard) {
        const at = state.stack.findLastIndex((e) => e.card && e.card.name === navigation.popToCard);
        if (at >= 0) state.stack.length = at + 1;
      }
    }
    render();
    if (action.notification && action.notification.text) toast(action.notification.text);
    if (action.link && action.link.url) openLink(action.link);
  }

  // ---------------------------------------------------------------- card actions

  function top() {
    return state.stack[state.stack.length - 1] || null;
  }

  function runAction(action, { withForm = true } = {}) {
    if (!action || !action.function) return;
    if (state.busyCalls > 0) return;
    const entry = top();
    const formInputs = withForm && entry && entry.inputs ? collectInputs(entry) : {};
    if (withForm && entry && entry.inputs && !requiredFilled(action, entry, formInputs)) return;
    const parameters = {};
    for (const p of action.parameters || []) parameters[p.key] = p.value;
    if (!state.context) state.context = currentContext({ trigger: "home" });
    const context = { ...state.context, trigger: state.context.trigger === "saved" ? "event" : state.context.trigger };
    call(
      "/preview/api/invoke",
      { function: action.function, parameters, formInputs, context },
      { spinner: action.loadIndicator === "SPINNER", fresh: false },
    );
  }

  function collectInputs(entry) {
    const inputs = {};
    for (const input of entry.inputs) {
      const value = input.read();
      if (value) inputs[input.name] = value;
    }
    return inputs;
  }

  function requiredFilled(action, entry, formInputs) {
    const required = action.allWidgetsAreRequired
      ? entry.inputs.map((i) => i.name)
      : action.requiredWidgets || [];
    let firstMissing = null;
    for (const input of entry.inputs) {
      const missing = required.includes(input.name) && !formInputs[input.name];
      input.setError(missing ? "Required" : null);
      if (missing && !firstMissing) firstMissing = input;
    }
    if (firstMissing) firstMissing.focus();
    return !firstMissing;
  }

  function handleClick(onClick) {
    if (!onClick) return;
    if (onClick.action) runAction(onClick.action);
    else if (onClick.openLink) openLink(onClick.openLink);
    else if (onClick.openDynamicLinkAction) runAction(onClick.openDynamicLinkAction);
    else if (onClick.card) {
      state.stack.push({ card: onClick.card, locale: state.locale });
      render();
    } else toast("This kind of click is not previewed");
  }

  function openLink(link) {
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
    const reload = link.onClose === "RELOAD";
    if (link.openAs !== "OVERLAY" && !reload) {
      window.open(url, "_blank", "noopener,noreferrer");
      return;
    }
    const features = link.openAs === "OVERLAY" ? "popup,width=520,height=640" : "";
    const opened = window.open(url, "addon-overlay", features);
    if (!opened) {
      toast("The browser blocked the window: allow pop-ups for this page");
      return;
    }
    if (reload) {
      clearInterval(state.overlayTimer);
      state.overlayTimer = setInterval(() => {
        if (!opened.closed) return;
        clearInterval(state.overlayTimer);
        reloadTrigger();
      }, 400);
    }
  }

  // ---------------------------------------------------------------- drawing the panel

  function render() {
    renderPanel();
    renderMenu();
  }

  function renderPanel() {
    const panel = $("panel");
    const footer = $("footer");
    const entry = top();
    $("back").hidden = state.stack.length <= 1;
    panel.replaceChildren();
    footer.replaceChildren();
    footer.hidden = true;
    if (state.notice) panel.append(noticeBox(state.notice));
    if (!entry) {
      if (!state.notice) panel.append(el("div", { class: "empty" }, el("p", {}, EMPTY_HINTS[state.host])));
      panel.removeAttribute("lang");
      return;
    }
    if (!entry.el) build(entry);
    panel.lang = entry.locale || state.locale;
    panel.append(entry.el);
    if (entry.footerEl) {
      footer.append(entry.footerEl);
      footer.hidden = false;
    }
    panel.scrollTop = 0;
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

  function build(entry) {
    if (entry.special === "consent") return buildConsent(entry);
    if (entry.special === "basic-sign-in") return buildBasicSignIn(entry);
    const card = entry.card || {};
    const inputs = [];
    const headingId = uid("card-title");
    const header = card.header || {};
    const article = el("article", {
      class: "card",
      "aria-labelledby": header.title ? headingId : null,
      "aria-label": header.title ? null : "Add-on card",
    });
    if (header.title) {
      article.append(
        el(
          "header",
          { class: "card-header" },
          safeHref(header.imageUrl)
            ? el("img", {
                src: header.imageUrl,
                alt: header.imageAltText || "",
                class: header.imageType === "CIRCLE" ? "header-image circle" : "header-image",
              })
            : null,
          el(
            "div",
            {},
            el("h2", { id: headingId, class: "card-title", tabindex: "-1" }, header.title),
            header.subtitle ? el("p", { class: "card-subtitle" }, header.subtitle) : null,
          ),
        ),
      );
    }
    for (const section of card.sections || []) article.append(buildSection(section, inputs));
    entry.el = article;
    entry.inputs = inputs;
    const footer = card.fixedFooter;
    entry.footerEl = null;
    if (footer && (footer.primaryButton || footer.secondaryButton)) {
      entry.footerEl = el(
        "div",
        { class: "footer-buttons" },
        footer.secondaryButton ? buildButton(footer.secondaryButton, "secondary") : null,
        footer.primaryButton ? buildButton(footer.primaryButton, "primary") : null,
      );
    }
  }

  function buildSection(section, inputs) {
    const widgets = (section.widgets || []).map((w) => buildWidget(w, inputs));
    const node = el(
      "section",
      { class: "card-section" },
      section.header ? el("h3", { class: "section-header" }, richText(section.header)) : null,
    );
    const shown = Number(section.uncollapsibleWidgetsCount || 0);
    if (!section.collapsible || widgets.length <= shown) {
      node.append(...widgets);
      return node;
    }
    const moreId = uid("more");
    const more = el("div", { id: moreId, hidden: true }, widgets.slice(shown));
    const toggle = el(
      "button",
      { type: "button", class: "link-button", lang: "en", "aria-expanded": "false", "aria-controls": moreId },
      "Show more",
    );
    toggle.addEventListener("click", () => {
      more.hidden = !more.hidden;
      toggle.setAttribute("aria-expanded", String(!more.hidden));
      toggle.textContent = more.hidden ? "Show more" : "Show less";
    });
    node.append(...widgets.slice(0, shown), more, toggle);
    return node;
  }

  function buildWidget(widget, inputs) {
    if (widget.decoratedText) return decoratedText(widget.decoratedText);
    if (widget.textParagraph) return el("div", { class: "widget paragraph" }, richText(widget.textParagraph.text));
    if (widget.buttonList) {
      return el("div", { class: "widget button-list" }, (widget.buttonList.buttons || []).map((b) => buildButton(b)));
    }
    if (widget.textInput) return textInput(widget.textInput, inputs);
    if (widget.selectionInput) return selectionInput(widget.selectionInput, inputs);
    if (widget.dateTimePicker) return dateTimePicker(widget.dateTimePicker, inputs);
    if (widget.divider) return el("hr", { class: "divider" });
    if (widget.image) {
      const image = widget.image;
      const src = safeHref(image.imageUrl);
      return el("div", { class: "widget image" }, src ? el("img", { src, alt: image.altText || "" }) : null);
    }
    if (widget.columns) {
      return el(
        "div",
        { class: "widget columns" },
        (widget.columns.columnItems || []).map((column) =>
          el("div", { class: "column" }, (column.widgets || []).map((w) => buildWidget(w, inputs))),
        ),
      );
    }
    const kind = Object.keys(widget).find((k) => k !== "horizontalAlignment") || "empty";
    const text = `This preview does not draw “${kind}” widgets.`;
    return el("div", { class: "widget unsupported", role: "note", lang: "en" }, text);
  }

  function widgetIcon(spec) {
    if (!spec) return null;
    if (safeHref(spec.iconUrl)) return el("img", { class: "icon", src: spec.iconUrl, alt: spec.altText || "" });
    const known = spec.knownIcon || (spec.materialIcon && spec.materialIcon.name && spec.materialIcon.name.toUpperCase());
    const svg = icon(ICONS[known] || GENERIC_ICON);
    svg.dataset.icon = known || "";
    return svg;
  }

  function decoratedText(d) {
    const body = el(
      "div",
      { class: "dt-body" },
      d.topLabel ? el("div", { class: "top-label" }, richText(d.topLabel)) : null,
      el("div", { class: d.wrapText ? "dt-text" : "dt-text nowrap" }, richText(d.text)),
      d.bottomLabel ? el("div", { class: "bottom-label" }, richText(d.bottomLabel)) : null,
    );
    const row = el("div", { class: "widget decorated" }, widgetIcon(d.startIcon || d.icon), body);
    if (d.button) row.append(buildButton(d.button, "text"));
    else if (d.switchControl) row.append(switchControl(d.switchControl));
    else if (d.endIcon) row.append(widgetIcon(d.endIcon));
    if (d.onClick) {
      row.classList.add("clickable");
      row.tabIndex = 0;
      row.setAttribute("role", "button");
      row.addEventListener("click", (e) => {
        if (!e.target.closest("a, button")) handleClick(d.onClick);
      });
      row.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          handleClick(d.onClick);
        }
      });
    }
    return row;
  }

  function switchControl(control) {
    const box = el("input", {
      type: "checkbox",
      role: control.controlType === "CHECKBOX" ? null : "switch",
      class: control.controlType === "CHECKBOX" ? null : "switch",
      name: control.name,
      value: control.value || "",
      checked: Boolean(control.selected),
      "aria-label": control.name,
    });
    if (control.onChangeAction) box.addEventListener("change", () => runAction(control.onChangeAction));
    return box;
  }

  function buildButton(button, kind) {
    const style = kind || (button.color ? "filled" : "text");
    const node = el("button", { type: "button", class: `btn ${style}`, disabled: Boolean(button.disabled) });
    if (button.icon) node.append(widgetIcon(button.icon));
    if (button.text) node.append(el("span", {}, button.text));
    else {
      const name = button.altText || (button.icon && button.icon.altText);
      if (name) node.setAttribute("aria-label", name);
    }
    if (button.color) {
      const { red = 0, green = 0, blue = 0 } = button.color;
      node.style.background = `rgb(${Math.round(red * 255)}, ${Math.round(green * 255)}, ${Math.round(blue * 255)})`;
      node.style.color = "#fff";
    }
    node.addEventListener("click", () => handleClick(button.onClick));
    return node;
  }

  // A form field: its label, the control, a hint and a place for an error, and how to read its value.
  function field(name, label, control, hint, inputs, read) {
    const errorId = uid("error");
    const hintId = hint ? uid("hint") : null;
    // The preview's own words inside a card are English, whatever language the card is in.
    const error = el("p", { class: "field-error", id: errorId, lang: "en", hidden: true });
    const focusable = control.matches("input, select, textarea") ? control : control.querySelector("input, select, textarea");
    if (hintId && focusable) focusable.setAttribute("aria-describedby", hintId);
    inputs.push({
      name,
      read,
      focus: () => focusable && focusable.focus(),
      setError(message) {
        error.hidden = !message;
        error.textContent = message || "";
        if (!focusable) return;
        focusable.toggleAttribute("aria-invalid", Boolean(message));
        const described = [hintId, message ? errorId : null].filter(Boolean).join(" ");
        if (described) focusable.setAttribute("aria-describedby", described);
        else focusable.removeAttribute("aria-describedby");
      },
    });
    const hintNode = hint ? el("p", { class: "hint", id: hintId, lang: "en" }, hint) : null;
    return el("div", { class: "widget field" }, label, control, hintNode, error);
  }

  function textInput(t, inputs) {
    const id = uid("text");
    const multiline = t.type === "MULTIPLE_LINE";
    const control = el(multiline ? "textarea" : "input", {
      id,
      name: t.name,
      type: multiline ? null : "text",
      value: t.value || "",
    });
    if (t.onChangeAction) control.addEventListener("change", () => runAction(t.onChangeAction));
    const label = el("label", { for: id, class: "field-label" }, t.label || t.name);
    return field(t.name, label, control, t.hintText, inputs, () =>
      control.value === "" ? null : { stringInputs: { value: [control.value] } },
    );
  }

  function selectionInput(s, inputs) {
    const items = s.items || [];
    const type = s.type || "CHECK_BOX";
    let control;
    let read;
    let label;
    if (type === "DROPDOWN" || type === "MULTI_SELECT") {
      const id = uid("select");
      const multiple = type === "MULTI_SELECT";
      control = el(
        "select",
        { id, name: s.name, multiple },
        items.map((item) => el("option", { value: item.value, selected: Boolean(item.selected) }, item.text)),
      );
      label = el("label", { for: id, class: "field-label" }, s.label || s.name);
      read = () => {
        const values = [...control.selectedOptions].map((o) => o.value);
        return values.length ? { stringInputs: { value: values } } : null;
      };
    } else {
      const group = uid("group");
      const inputType = type === "RADIO_BUTTON" ? "radio" : "checkbox";
      const boxes = items.map((item) =>
        el("input", {
          type: inputType,
          name: type === "RADIO_BUTTON" ? group : s.name,
          value: item.value,
          checked: Boolean(item.selected),
          role: type === "SWITCH" ? "switch" : null,
          class: type === "SWITCH" ? "switch" : null,
        }),
      );
      control = el(
        "fieldset",
        { class: `choices ${type.toLowerCase()}` },
        el("legend", { class: "field-label" }, s.label || s.name),
        items.map((item, i) => el("label", { class: "choice" }, boxes[i], el("span", {}, item.text))),
      );
      label = null;
      read = () => {
        const values = boxes.filter((b) => b.checked).map((b) => b.value);
        return values.length ? { stringInputs: { value: values } } : null;
      };
    }
    if (s.onChangeAction) control.addEventListener("change", () => runAction(s.onChangeAction));
    return field(s.name, label, control, null, inputs, read);
  }

  function dateTimePicker(p, inputs) {
    const id = uid("when");
    const type = p.type || "DATE_AND_TIME";
    const valueMs = p.valueMsEpoch === undefined || p.valueMsEpoch === null ? null : Number(p.valueMsEpoch);
    // Shown in the widget's own offset when it has one, otherwise in the user's zone (as Google does).
    const offset = Number.isFinite(Number(p.timezoneOffsetDate))
      ? Number(p.timezoneOffsetDate)
      : zoneOffsetMinutes((state.context && state.context.timeZone) || state.timeZone, valueMs ?? Date.now());
    const inputType = { DATE_AND_TIME: "datetime-local", DATE_ONLY: "date", TIME_ONLY: "time" }[type] || "datetime-local";
    let value = "";
    if (valueMs !== null && Number.isFinite(valueMs)) {
      const shifted = new Date(valueMs + (type === "DATE_ONLY" ? 0 : offset * 60000)).toISOString();
      value = { "datetime-local": shifted.slice(0, 16), date: shifted.slice(0, 10), time: shifted.slice(11, 16) }[inputType];
    }
    const control = el("input", { id, name: p.name, type: inputType, value });
    if (p.onChangeAction) control.addEventListener("change", () => runAction(p.onChangeAction));
    const label = el("label", { for: id, class: "field-label" }, p.label || p.name);
    const hint = type === "DATE_AND_TIME" ? `Time in ${offsetLabel(offset)}` : null;
    return field(p.name, label, control, hint, inputs, () => {
      if (!control.value) return null;
      if (inputType === "time") {
        const [hours, minutes] = control.value.split(":").map(Number);
        return { timeInput: { hours, minutes } };
      }
      const [date, time = "00:00"] = control.value.split("T");
      const [y, m, d] = date.split("-").map(Number);
      const [hh, mm] = time.split(":").map(Number);
      const local = Date.UTC(y, m - 1, d, hh, mm);
      if (inputType === "date") return { dateInput: { msSinceEpoch: local } };
      return { dateTimeInput: { msSinceEpoch: local - offset * 60000, hasDate: true, hasTime: true } };
    });
  }

  // What Google shows instead of a card: its own consent screen, or its own sign-in prompt.
  function buildConsent(entry) {
    const request = entry.request || {};
    const scopes = request.all_scopes ? ["every scope in the deployment"] : request.scopes || [];
    entry.el = el(
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
          el("button", { type: "button", class: "btn text", onclick: retryLast }, "Try again"),
        ),
      ),
    );
    entry.inputs = [];
    entry.footerEl = null;
  }

  function buildBasicSignIn(entry) {
    const prompt = entry.prompt || {};
    entry.el = el(
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
          el(
            "button",
            {
              type: "button",
              class: "btn text",
              onclick: () => openLink({ url: prompt.authorization_url, openAs: "OVERLAY", onClose: "RELOAD" }),
            },
            "Sign in",
          ),
        ),
      ),
    );
    entry.inputs = [];
    entry.footerEl = null;
  }

  function retryLast() {
    const last = state.lastRequest;
    if (last) call(last.path, last.body, { spinner: last.spinner, fresh: last.fresh });
  }

  // ---------------------------------------------------------------- ⋮ menu: universal and card actions

  function menuActions() {
    const actions = ((state.samples && state.samples.universalActions) || []).map((a) => ({
      label: a.label,
      run: () => runAction({ function: a.function }, { withForm: false }),
    }));
    const entry = top();
    for (const cardAction of (entry && entry.card && entry.card.cardActions) || []) {
      actions.push({ label: cardAction.actionLabel, run: () => handleClick(cardAction.onClick) });
    }
    return actions;
  }

  function renderMenu() {
    const menu = $("menu");
    menu.replaceChildren(
      ...menuActions().map((a) =>
        el(
          "li",
          { role: "none" },
          el(
            "button",
            {
              type: "button",
              role: "menuitem",
              tabindex: "-1",
              onclick: () => {
                closeMenu(false);
                a.run();
              },
            },
            a.label,
          ),
        ),
      ),
    );
    $("menu-button").disabled = menu.children.length === 0;
  }

  function openMenu() {
    renderMenu();
    const menu = $("menu");
    if (!menu.children.length) return;
    menu.hidden = false;
    $("menu-button").setAttribute("aria-expanded", "true");
    menu.querySelector("[role=menuitem]").focus();
  }

  function closeMenu(returnFocus) {
    $("menu").hidden = true;
    $("menu-button").setAttribute("aria-expanded", "false");
    if (returnFocus) $("menu-button").focus();
  }

  function menuKeys(event) {
    const items = [...$("menu").querySelectorAll("[role=menuitem]")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "Escape") closeMenu(true);
    else if (event.key === "ArrowDown") items[(at + 1) % items.length].focus();
    else if (event.key === "ArrowUp") items[(at - 1 + items.length) % items.length].focus();
    else if (event.key === "Tab") closeMenu(false);
    else return;
    if (event.key !== "Tab") event.preventDefault();
  }

  // ---------------------------------------------------------------- toast

  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(state.toastTimer);
    state.toastTimer = setTimeout(() => {
      box.hidden = true;
    }, 8000);
  }

  // ---------------------------------------------------------------- the list of emails or events

  async function refreshSamples() {
    try {
      const response = await fetch("/preview/api/samples");
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      state.samples = await response.json();
      $("list-problem").hidden = true;
    } catch (error) {
      $("list-problem").textContent = `Could not load the sample emails and events: ${error}`;
      $("list-problem").hidden = false;
    }
    renderList();
    renderOpened();
    renderMenu();
  }

  function isOpen(kind, id) {
    const c = state.context;
    if (!c || c.host !== state.host) return false;
    return kind === "message" ? c.messageId === id : c.eventId === id;
  }

  function senderName(from) {
    const match = /^\s*"?([^"<]*?)"?\s*<[^>]+>\s*$/.exec(from || "");
    return (match && match[1]) || from || "";
  }

  function renderList() {
    const list = $("items");
    const samples = state.samples;
    $("list-title").textContent = LIST_TITLES[state.host];
    // The list is drawn anew after every call; keep the keyboard where it was.
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    list.replaceChildren();
    if (!samples) return;
    if (state.host === "GMAIL") {
      for (const m of samples.messages || []) {
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
                onclick: () => openTrigger(currentContext({ trigger: "message", messageId: m.id })),
              },
              el("span", { class: "item-main" }, senderName(m.from)),
              el("span", { class: "item-sub" }, m.subject),
              el("time", { class: "item-when", datetime: m.sent }, formatWhen(m.sent, MESSAGE_TIME)),
            ),
          ),
        );
      }
    } else {
      for (const e of samples.events || []) {
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
                onclick: () => openTrigger(currentContext({ trigger: "event", calendarId: e.calendarId, eventId: e.id })),
              },
              el("span", { class: "item-main" }, e.title || UNTITLED),
              el("span", { class: "item-sub" }, e.repeats ? el("span", { class: "badge" }, "Repeats") : null),
              el(
                "time",
                { class: "item-when", datetime: e.start || "" },
                e.start ? formatWhen(e.start, EVENT_TIME) : "All day",
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

  function renderOpened() {
    const c = state.context;
    const samples = state.samples || {};
    let title = null;
    if (c && c.host === state.host && c.trigger === "message") {
      const m = (samples.messages || []).find((x) => x.id === c.messageId);
      title = m ? m.subject : c.messageId;
    } else if (c && c.host === state.host && (c.trigger === "event" || c.trigger === "saved")) {
      const e = (samples.events || []).find((x) => x.id === c.eventId);
      title = e ? e.title || UNTITLED : c.eventId;
    } else if (c && c.host === state.host && c.trigger === "home") {
      title = "the add-on's home page";
    }
    $("opened").hidden = title === null;
    $("opened-title").textContent = title || "";
    renderEditor();
  }

  // ---------------------------------------------------------------- the open event's editor
  // Stands in for Calendar's editor: "Save event" writes what changed to the sample event, then fires
  // the eventUpdate trigger, as Calendar does when the user saves an event with the add-on open.

  function renderEditor() {
    const c = state.context;
    const shown = Boolean(c && c.host === "CALENDAR" && state.host === "CALENDAR" && c.eventId);
    $("event-editor").hidden = !shown;
    if (!shown) {
      state.editor = null;
      $("edit-problem").hidden = true;
      return;
    }
    const key = `${c.calendarId}/${c.eventId}`;
    const editor = state.editor;
    // Refilled for another event or time zone, and when the event changed elsewhere; never over the user's typing.
    if (!editor || editor.key !== key || editor.zone !== state.timeZone || !editorTouched()) {
      const event = ((state.samples && state.samples.events) || []).find(
        (e) => e.id === c.eventId && e.calendarId === c.calendarId,
      );
      fillEditor(key, event || null);
    }
  }

  function fillEditor(key, event) {
    const start = event && event.start ? Date.parse(event.start) : NaN;
    const end = event && event.end ? Date.parse(event.end) : NaN;
    const timed = Number.isFinite(start);
    const values = {
      title: event ? event.title : "",
      start: timed ? localInputValue(start, state.timeZone) : "",
      minutes: timed && Number.isFinite(end) ? String(Math.round((end - start) / 60000)) : "",
    };
    $("edit-title").value = values.title;
    $("edit-start").value = values.start;
    $("edit-minutes").value = values.minutes;
    $("edit-title").disabled = !event;
    // An all-day event (or one the list does not know) keeps its time; only what can be sent is offered.
    $("edit-start").disabled = !timed;
    $("edit-minutes").disabled = !timed;
    const offset = zoneOffsetMinutes(state.timeZone, timed ? start : Date.now());
    $("edit-zone").textContent = timed ? `Time in ${state.timeZone} (${offsetLabel(offset)})` : "An all-day event";
    state.editor = { key, zone: state.timeZone, baseline: values };
  }

  function editorValues() {
    return { title: $("edit-title").value, start: $("edit-start").value, minutes: $("edit-minutes").value };
  }

  function editorTouched() {
    const now = editorValues();
    const base = state.editor ? state.editor.baseline : now;
    return now.title !== base.title || now.start !== base.start || now.minutes !== base.minutes;
  }

  // Only what the user changed is sent, so an untouched field never overwrites a change made elsewhere.
  function editorChanges() {
    if (!state.editor) return {};
    const now = editorValues();
    const base = state.editor.baseline;
    const changes = {};
    if (now.title !== base.title) changes.title = now.title;
    if (now.start !== base.start) changes.startMs = instantOf(now.start, state.timeZone);
    if (now.minutes !== base.minutes) changes.minutes = Number(now.minutes);
    return changes;
  }

  async function saveEvent(submit) {
    submit.preventDefault();
    let c = state.context;
    if (!c || !c.eventId || $("save-event").disabled) return;
    const changes = editorChanges();
    if (Object.keys(changes).length) {
      const edited = await editEvent(c, changes);
      const opened = c.eventId;
      c = state.context;
      if (!edited || !c || c.eventId !== opened) return; // refused, or the user opened something else meanwhile
      const events = (state.samples && state.samples.events) || [];
      const at = events.findIndex((e) => e.id === edited.id && e.calendarId === edited.calendarId);
      if (at >= 0) events[at] = edited;
      fillEditor(`${c.calendarId}/${c.eventId}`, edited);
    }
    openTrigger({ ...c, trigger: "saved", locale: state.locale, timeZone: state.timeZone }, false);
  }

  async function editEvent(c, changes) {
    const problem = $("edit-problem");
    const button = $("save-event");
    problem.hidden = true;
    button.disabled = true;
    setBusy(+1, false);
    try {
      const response = await fetch(`/preview/api/events/${encodeURIComponent(c.eventId)}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ calendarId: c.calendarId, ...changes }),
      });
      const json = await response.json().catch(() => null);
      if (response.ok && json) return json;
      problem.textContent = `Calendar would not save this: ${(json && json.error) || `HTTP ${response.status}`}`;
    } catch (error) {
      problem.textContent = `The preview server did not answer: ${error}`;
    } finally {
      button.disabled = false;
      setBusy(-1, false);
    }
    problem.hidden = false;
    return null;
  }

  // ---------------------------------------------------------------- page chrome

  function switchHost(host) {
    if (host === state.host) return;
    state.host = host;
    state.context = null;
    state.stack = [];
    state.notice = null;
    state.seq++;
    $("toast").hidden = true;
    for (const button of document.querySelectorAll(".host")) {
      button.setAttribute("aria-pressed", String(button.dataset.host === host));
    }
    document.body.dataset.host = host;
    render();
    renderList();
    renderOpened();
  }

  function fillPickers() {
    const locales = (state.samples && state.samples.locales) || ["en"];
    $("locale").replaceChildren(
      ...locales.map((l) => el("option", { value: l, selected: l === state.locale }, LOCALE_NAMES[l] || l)),
    );
    $("time-zone").replaceChildren(
      ...zoneNames().map((z) => el("option", { value: z, selected: z === state.timeZone }, z.replaceAll("_", " "))),
    );
  }

  async function start() {
    document.body.dataset.host = state.host;
    for (const button of document.querySelectorAll(".host")) {
      button.addEventListener("click", () => switchHost(button.dataset.host));
    }
    $("open-home").addEventListener("click", () => openTrigger(currentContext({ trigger: "home" })));
    $("event-editor").addEventListener("submit", saveEvent);
    $("back").addEventListener("click", () => {
      if (state.stack.length > 1) state.stack.pop();
      state.notice = null;
      render();
      const heading = document.querySelector("#panel .card-title");
      if (heading) heading.focus();
    });
    $("locale").addEventListener("change", (e) => {
      state.locale = e.target.value;
      renderList();
      reloadTrigger();
    });
    $("time-zone").addEventListener("change", (e) => {
      state.timeZone = e.target.value;
      renderList();
      reloadTrigger();
    });
    $("menu-button").addEventListener("click", () => ($("menu").hidden ? openMenu() : closeMenu(true)));
    $("menu").addEventListener("keydown", menuKeys);
    document.addEventListener("click", (e) => {
      if (!e.target.closest(".menu-wrap")) closeMenu(false);
    });
    render();
    await refreshSamples();
    fillPickers();
    if (state.samples && state.samples.user) {
      $("user").textContent = `${state.samples.user.name} · ${state.samples.user.email}`;
      $("user").title = $("user").textContent;
    }
  }

  start();
})();
