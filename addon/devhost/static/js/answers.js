// Shows the add-on's answer as Google would: navigations, consent and sign-in prompts, notices, notifications, links.

import { openLink } from "./links.js";
import { clearStack, navigate, push, render, renderPanel, setNotice, toast } from "./navigation.js";

// A fresh answer (to a trigger) replaces the stack; an action's answer works on it.
// `locale` is the language new cards are in; `reload()` runs the trigger again (after a sign-in window).
export function showAnswer({ status, body }, { fresh, locale, reload }) {
  setNotice(null);
  if (status !== 200 || !body || typeof body !== "object") {
    showError({ title: `The add-on answered HTTP ${status}`, detail: body }, fresh);
    return;
  }
  if (body.requesting_google_scopes) {
    showSpecial({ special: "consent", request: body.requesting_google_scopes }, fresh);
  } else if (body.basic_authorization_prompt) {
    showSpecial({ special: "basic-sign-in", prompt: body.basic_authorization_prompt }, fresh);
  } else if (body.custom_authorization_prompt && body.custom_authorization_prompt.action) {
    applyAction(body.custom_authorization_prompt.action, { fresh, locale, reload });
  } else if (body.action) {
    applyAction(body.action, { fresh, locale, reload });
  } else if (body.renderActions) {
    const { action, hostAppAction } = body.renderActions;
    if (action) applyAction(action, { fresh: fresh && !hostAppAction, locale, reload });
    if (hostAppAction) {
      setNotice({ kind: "note", title: hostActionTitle(hostAppAction), detail: hostAppAction });
      renderPanel();
    }
    if (!action && !hostAppAction) unknownAnswer(body, fresh);
  } else {
    unknownAnswer(body, fresh);
  }
}

// An error box above the top card (in place of every card, for a fresh answer).
export function showError({ title, detail }, fresh) {
  if (fresh) clearStack();
  setNotice({ kind: "error", title, detail });
  render();
}

function unknownAnswer(body, fresh) {
  showError({ title: "Google would not understand this answer", detail: body }, fresh);
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
  if (fresh) clearStack();
  push(entry);
  render();
}

function applyAction(action, { fresh, locale, reload }) {
  if (fresh) clearStack();
  navigate(action.navigations || [], locale);
  render();
  if (action.notification && action.notification.text) toast(action.notification.text);
  if (action.link && action.link.url) openLink(action.link, reload);
}
