// A card's form inputs (text, selection, date and time), read back in Google's formInputs shape.
//
// `drawing` is what one card's widgets share while it is drawn: `inputs` (each field adds itself), `zone`
// (where times are shown without an offset of their own) and `run(action)` (an onChangeAction).

import { el, uid } from "./dom.js";
import { offsetLabel, zoneOffsetMinutes } from "./time.js";

// The formInputs Google would send: each filled field by name.
export function collectInputs(inputs) {
  const formInputs = {};
  for (const input of inputs) {
    const value = input.read();
    if (value) formInputs[input.name] = value;
  }
  return formInputs;
}

// Marks the required fields left empty and focuses the first; true if there is none.
export function requiredFilled(action, inputs, formInputs) {
  const required = action.allWidgetsAreRequired ? inputs.map((i) => i.name) : action.requiredWidgets || [];
  let firstMissing = null;
  for (const input of inputs) {
    const missing = required.includes(input.name) && !formInputs[input.name];
    input.setError(missing ? "Required" : null);
    if (missing && !firstMissing) firstMissing = input;
  }
  if (firstMissing) firstMissing.focus();
  return !firstMissing;
}

// A form field: its label, the control, a hint and a place for an error, and how to read its value.
function field(name, label, control, hint, drawing, read) {
  const errorId = uid("error");
  const hintId = hint ? uid("hint") : null;
  // The preview's own words inside a card are English, whatever language the card is in.
  const error = el("p", { class: "field-error", id: errorId, lang: "en", hidden: true });
  const focusable = control.matches("input, select, textarea") ? control : control.querySelector("input, select, textarea");
  if (hintId && focusable) focusable.setAttribute("aria-describedby", hintId);
  drawing.inputs.push({
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

export function textInput(t, drawing) {
  const id = uid("text");
  const multiline = t.type === "MULTIPLE_LINE";
  const control = el(multiline ? "textarea" : "input", {
    id,
    name: t.name,
    type: multiline ? null : "text",
    value: t.value || "",
  });
  if (t.onChangeAction) control.addEventListener("change", () => drawing.run(t.onChangeAction));
  const label = el("label", { for: id, class: "field-label" }, t.label || t.name);
  return field(t.name, label, control, t.hintText, drawing, () =>
    control.value === "" ? null : { stringInputs: { value: [control.value] } },
  );
}

export function selectionInput(s, drawing) {
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
  if (s.onChangeAction) control.addEventListener("change", () => drawing.run(s.onChangeAction));
  return field(s.name, label, control, null, drawing, read);
}

export function dateTimePicker(p, drawing) {
  const id = uid("when");
  const type = p.type || "DATE_AND_TIME";
  const valueMs = p.valueMsEpoch === undefined || p.valueMsEpoch === null ? null : Number(p.valueMsEpoch);
  // Shown in the widget's own offset when it has one, otherwise in the user's zone (as Google does).
  const offset = Number.isFinite(Number(p.timezoneOffsetDate))
    ? Number(p.timezoneOffsetDate)
    : zoneOffsetMinutes(drawing.zone, valueMs ?? Date.now());
  const inputType = { DATE_AND_TIME: "datetime-local", DATE_ONLY: "date", TIME_ONLY: "time" }[type] || "datetime-local";
  let value = "";
  if (valueMs !== null && Number.isFinite(valueMs)) {
    const shifted = new Date(valueMs + (type === "DATE_ONLY" ? 0 : offset * 60000)).toISOString();
    value = { "datetime-local": shifted.slice(0, 16), date: shifted.slice(0, 10), time: shifted.slice(11, 16) }[inputType];
  }
  const control = el("input", { id, name: p.name, type: inputType, value });
  if (p.onChangeAction) control.addEventListener("change", () => drawing.run(p.onChangeAction));
  const label = el("label", { for: id, class: "field-label" }, p.label || p.name);
  const hint = type === "DATE_AND_TIME" ? `Time in ${offsetLabel(offset)}` : null;
  return field(p.name, label, control, hint, drawing, () => {
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
