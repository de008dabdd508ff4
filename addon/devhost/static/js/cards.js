// Draws one card (google.apps.card.v1) as the side panel would: header, sections, widgets and fixed footer.

import { GENERIC_ICON, ICONS } from "./constants.js";
import { el, icon, uid } from "./dom.js";
import { dateTimePicker, selectionInput, textInput } from "./forms.js";
import { richText, safeHref } from "./rich-text.js";

// {el, footerEl, inputs} for `card`. `zone` shows times without an offset of their own; `run(action)` runs
// an onChangeAction and `click(onClick)` a click, so the card itself calls nothing.
export function buildCard(card, { zone, run, click }) {
  const drawing = { inputs: [], zone, run, click };
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
  for (const section of card.sections || []) article.append(buildSection(section, drawing));
  const footer = card.fixedFooter;
  let footerEl = null;
  if (footer && (footer.primaryButton || footer.secondaryButton)) {
    footerEl = el(
      "div",
      { class: "footer-buttons" },
      footer.secondaryButton ? buildButton(footer.secondaryButton, drawing, "secondary") : null,
      footer.primaryButton ? buildButton(footer.primaryButton, drawing, "primary") : null,
    );
  }
  return { el: article, footerEl, inputs: drawing.inputs };
}

function buildSection(section, drawing) {
  const widgets = (section.widgets || []).map((w) => buildWidget(w, drawing));
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

function buildWidget(widget, drawing) {
  if (widget.decoratedText) return decoratedText(widget.decoratedText, drawing);
  if (widget.textParagraph) return el("div", { class: "widget paragraph" }, richText(widget.textParagraph.text));
  if (widget.buttonList) {
    return el(
      "div",
      { class: "widget button-list" },
      (widget.buttonList.buttons || []).map((b) => buildButton(b, drawing)),
    );
  }
  if (widget.textInput) return textInput(widget.textInput, drawing);
  if (widget.selectionInput) return selectionInput(widget.selectionInput, drawing);
  if (widget.dateTimePicker) return dateTimePicker(widget.dateTimePicker, drawing);
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
        el("div", { class: "column" }, (column.widgets || []).map((w) => buildWidget(w, drawing))),
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

function decoratedText(d, drawing) {
  const body = el(
    "div",
    { class: "dt-body" },
    d.topLabel ? el("div", { class: "top-label" }, richText(d.topLabel)) : null,
    el("div", { class: d.wrapText ? "dt-text" : "dt-text nowrap" }, richText(d.text)),
    d.bottomLabel ? el("div", { class: "bottom-label" }, richText(d.bottomLabel)) : null,
  );
  const row = el("div", { class: "widget decorated" }, widgetIcon(d.startIcon || d.icon), body);
  if (d.button) row.append(buildButton(d.button, drawing, "text"));
  else if (d.switchControl) row.append(switchControl(d.switchControl, drawing));
  else if (d.endIcon) row.append(widgetIcon(d.endIcon));
  if (d.onClick) {
    row.classList.add("clickable");
    row.tabIndex = 0;
    row.setAttribute("role", "button");
    row.addEventListener("click", (e) => {
      if (!e.target.closest("a, button")) drawing.click(d.onClick);
    });
    row.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        drawing.click(d.onClick);
      }
    });
  }
  return row;
}

function switchControl(control, drawing) {
  const box = el("input", {
    type: "checkbox",
    role: control.controlType === "CHECKBOX" ? null : "switch",
    class: control.controlType === "CHECKBOX" ? null : "switch",
    name: control.name,
    value: control.value || "",
    checked: Boolean(control.selected),
    "aria-label": control.name,
  });
  if (control.onChangeAction) box.addEventListener("change", () => drawing.run(control.onChangeAction));
  return box;
}

function buildButton(button, drawing, kind) {
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
  node.addEventListener("click", () => drawing.click(button.onClick));
  return node;
}
