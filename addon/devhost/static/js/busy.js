// Shows the side panel busy while calls run: the progress bar, the spinner if asked for, a panel that takes no input.

import { $ } from "./dom.js";

const busy = { calls: 0 };

export function isBusy() {
  return busy.calls > 0;
}

export function setBusy(delta, spinner) {
  busy.calls = Math.max(0, busy.calls + delta);
  const now = busy.calls > 0;
  $("progress").hidden = !now;
  if (spinner || !now) $("spinner").hidden = !now;
  $("panel").inert = now;
  $("footer").inert = now;
  document.querySelector(".sidepanel").setAttribute("aria-busy", String(now));
}
