// The ⋮ menu: its items (universal actions, then the top card's card actions), opened, closed, moved through by keys.

import { $, el } from "./dom.js";

const hooks = { items: () => [] };

// `items()` gives the menu's [{label, run}] as they are now.
export function initMenu({ items }) {
  hooks.items = items;
  $("menu-button").addEventListener("click", () => ($("menu").hidden ? openMenu() : closeMenu(true)));
  $("menu").addEventListener("keydown", menuKeys);
  document.addEventListener("click", (e) => {
    if (!e.target.closest(".menu-wrap")) closeMenu(false);
  });
}

export function renderMenu() {
  const menu = $("menu");
  menu.replaceChildren(
    ...hooks.items().map((a) =>
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
