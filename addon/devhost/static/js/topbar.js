// The top bar: the host app, language and time zone the user picked (only this module changes them), and the user.

import { LOCALE_NAMES } from "./constants.js";
import { $, el } from "./dom.js";
import { browserZone, zoneNames } from "./time.js";

const picks = { host: "GMAIL", locale: "en", timeZone: browserZone() };

// What is picked now, as a copy: change it through the top bar's own controls.
export function picked() {
  return Object.freeze({ ...picks });
}

// `hostChanged()` runs after a switch to the other host app, `pickChanged()` after a new language or time zone.
export function initTopbar({ hostChanged, pickChanged }) {
  document.body.dataset.host = picks.host;
  for (const button of document.querySelectorAll(".host")) {
    button.addEventListener("click", () => {
      if (pickHost(button.dataset.host)) hostChanged();
    });
  }
  $("locale").addEventListener("change", (e) => {
    picks.locale = e.target.value;
    pickChanged();
  });
  $("time-zone").addEventListener("change", (e) => {
    picks.timeZone = e.target.value;
    pickChanged();
  });
}

function pickHost(host) {
  if (host === picks.host) return false;
  picks.host = host;
  for (const button of document.querySelectorAll(".host")) {
    button.setAttribute("aria-pressed", String(button.dataset.host === host));
  }
  document.body.dataset.host = host;
  return true;
}

export function fillPickers(locales) {
  $("locale").replaceChildren(
    ...locales.map((l) => el("option", { value: l, selected: l === picks.locale }, LOCALE_NAMES[l] || l)),
  );
  $("time-zone").replaceChildren(
    ...zoneNames(picks.timeZone).map((z) =>
      el("option", { value: z, selected: z === picks.timeZone }, z.replaceAll("_", " ")),
    ),
  );
}

export function showUser(user) {
  $("user").textContent = `${user.name} · ${user.email}`;
  $("user").title = $("user").textContent;
}
