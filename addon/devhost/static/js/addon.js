// Runs the add-on: opens its triggers and runs its card actions through /preview/api, and draws what comes back.

import { showAnswer, showError } from "./answers.js";
import { callAddon, supersede } from "./api.js";
import { isBusy } from "./busy.js";
import { buildCard } from "./cards.js";
import { renderEditor } from "./editor.js";
import { collectInputs, requiredFilled } from "./forms.js";
import { openLink } from "./links.js";
import { renderMenu } from "./menu.js";
import { clearStack, hideToast, push, render, setNotice, toast, top } from "./navigation.js";
import { consentPrompt, signInPrompt } from "./prompts.js";
import { loaded, loadSamples, renderList, renderOpened } from "./samples.js";
import { picked } from "./topbar.js";
import { openContext, setOpenContext } from "./trigger.js";

const last = { request: null }; // the latest call, which Google's consent screen tries again

function contextFor(what) {
  const picks = picked();
  return { host: picks.host, locale: picks.locale, timeZone: picks.timeZone, ...what };
}

// Opens a trigger (e.g. {trigger: "home"}) in the host app, language and time zone picked now.
export function openPicked(what) {
  return openTrigger(contextFor(what));
}

// A fresh trigger becomes the open one and replaces the cards; otherwise (an event saved) it works on them.
export function openTrigger(context, fresh = true) {
  if (fresh) setOpenContext(context);
  showOpened();
  renderList();
  return call("/preview/api/open", context, { spinner: false, fresh });
}

function reloadTrigger() {
  const opened = openContext();
  if (!opened) return;
  const picks = picked();
  openTrigger({ ...opened, locale: picks.locale, timeZone: picks.timeZone });
}

async function call(path, body, { spinner, fresh }) {
  last.request = { path, body, spinner, fresh };
  const result = await callAddon(path, body, { spinner });
  if (!result) return; // the user opened something else meanwhile
  if (result.failure) {
    showError(result.failure, fresh);
  } else {
    const opened = openContext();
    const locale = (opened && opened.locale) || picked().locale;
    showAnswer(result.answer, { fresh, locale, reload: reloadTrigger });
  }
  refreshSamples();
}

function retryLast() {
  const request = last.request;
  if (request) call(request.path, request.body, { spinner: request.spinner, fresh: request.fresh });
}

function runAction(action, { withForm = true } = {}) {
  if (!action || !action.function) return;
  if (isBusy()) return;
  const entry = top();
  const form = withForm && entry && entry.inputs;
  const formInputs = form ? collectInputs(entry.inputs) : {};
  if (form && !requiredFilled(action, entry.inputs, formInputs)) return;
  const parameters = {};
  for (const p of action.parameters || []) parameters[p.key] = p.value;
  if (!openContext()) setOpenContext(contextFor({ trigger: "home" }));
  const opened = openContext();
  // Calendar's saved trigger is an event trigger to the actions that follow it.
  const context = { ...opened, trigger: opened.trigger === "saved" ? "event" : opened.trigger };
  call(
    "/preview/api/invoke",
    { function: action.function, parameters, formInputs, context },
    { spinner: action.loadIndicator === "SPINNER", fresh: false },
  );
}

function handleClick(onClick) {
  if (!onClick) return;
  if (onClick.action) runAction(onClick.action);
  else if (onClick.openLink) openLink(onClick.openLink, reloadTrigger);
  else if (onClick.openDynamicLinkAction) runAction(onClick.openDynamicLinkAction);
  else if (onClick.card) {
    push({ card: onClick.card, locale: picked().locale });
    render();
  } else toast("This kind of click is not previewed");
}

// Draws a stack entry the first time it is on top: a card, or Google's consent or sign-in prompt.
export function buildEntry(entry) {
  if (entry.special === "consent") {
    Object.assign(entry, { el: consentPrompt(entry.request || {}, () => retryLast()), inputs: [], footerEl: null });
  } else if (entry.special === "basic-sign-in") {
    const prompt = entry.prompt || {};
    const link = { url: prompt.authorization_url, openAs: "OVERLAY", onClose: "RELOAD" };
    const signIn = () => openLink(link, reloadTrigger);
    Object.assign(entry, { el: signInPrompt(prompt, signIn), inputs: [], footerEl: null });
  } else {
    const opened = openContext();
    const zone = (opened && opened.timeZone) || picked().timeZone;
    Object.assign(entry, buildCard(entry.card || {}, { zone, run: (action) => runAction(action), click: handleClick }));
  }
}

// The ⋮ menu: the deployment's universal actions, then the top card's card actions.
export function menuItems() {
  const samples = loaded();
  const items = ((samples && samples.universalActions) || []).map((a) => ({
    label: a.label,
    run: () => runAction({ function: a.function }, { withForm: false }),
  }));
  const entry = top();
  for (const cardAction of (entry && entry.card && entry.card.cardActions) || []) {
    items.push({ label: cardAction.actionLabel, run: () => handleClick(cardAction.onClick) });
  }
  return items;
}

// After every call: the add-on may have changed the sample mailbox or calendar.
export async function refreshSamples() {
  await loadSamples();
  renderList();
  showOpened();
  renderMenu();
}

// The user switched between Gmail and Calendar: nothing is open there yet.
export function hostChanged() {
  setOpenContext(null);
  clearStack();
  setNotice(null);
  supersede();
  hideToast();
  render();
  renderList();
  showOpened();
}

// A new language or time zone: the list is redrawn, and the open trigger opened again in it.
export function pickChanged() {
  renderList();
  reloadTrigger();
}

function showOpened() {
  renderOpened();
  renderEditor();
}
