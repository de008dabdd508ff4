// Wires the modules to the page and starts it: top bar, list, editor, panel and menu, then the samples.

import { buildEntry, hostChanged, menuItems, openPicked, openTrigger, pickChanged, refreshSamples } from "./addon.js";
import { initEditor } from "./editor.js";
import { initMenu } from "./menu.js";
import { initPanel, render } from "./navigation.js";
import { initList, loaded } from "./samples.js";
import { fillPickers, initTopbar, showUser } from "./topbar.js";

async function start() {
  initTopbar({ hostChanged, pickChanged });
  initList({ open: openPicked });
  initEditor({ saved: (context) => openTrigger(context, false) });
  initPanel({ build: buildEntry });
  initMenu({ items: menuItems });
  render();
  await refreshSamples();
  const samples = loaded();
  fillPickers((samples && samples.locales) || ["en"]);
  if (samples && samples.user) showUser(samples.user);
}

start();
