// Calendar's event editor, in small: change the open event's title, start or length, then save it with the add-on open.
//
// "Save event" writes what changed to the sample event, then fires the eventUpdate trigger, as Calendar
// does when the user saves an event with the add-on open.

import { editSampleEvent } from "./api.js";
import { $ } from "./dom.js";
import { loaded, replaceEvent } from "./samples.js";
import { instantOf, localInputValue, offsetLabel, zoneOffsetMinutes } from "./time.js";
import { picked } from "./topbar.js";
import { openContext } from "./trigger.js";

// What the editor showed when last filled ({key, zone, baseline}), to tell what the user changed; null when hidden.
const editor = { filled: null };

// `saved(context)` opens the saved trigger once the event is written.
export function initEditor({ saved }) {
  $("event-editor").addEventListener("submit", (submit) => saveEvent(submit, saved));
}

export function renderEditor() {
  const c = openContext();
  const zone = picked().timeZone;
  const shown = Boolean(c && c.host === "CALENDAR" && picked().host === "CALENDAR" && c.eventId);
  $("event-editor").hidden = !shown;
  if (!shown) {
    editor.filled = null;
    $("edit-problem").hidden = true;
    return;
  }
  const key = `${c.calendarId}/${c.eventId}`;
  const filled = editor.filled;
  // Refilled for another event or time zone, and when the event changed elsewhere; never over the user's typing.
  if (!filled || filled.key !== key || filled.zone !== zone || !editorTouched()) {
    const samples = loaded();
    const event = ((samples && samples.events) || []).find((e) => e.id === c.eventId && e.calendarId === c.calendarId);
    fillEditor(key, event || null);
  }
}

function fillEditor(key, event) {
  const zone = picked().timeZone;
  const start = event && event.start ? Date.parse(event.start) : NaN;
  const end = event && event.end ? Date.parse(event.end) : NaN;
  const timed = Number.isFinite(start);
  const values = {
    title: event ? event.title : "",
    start: timed ? localInputValue(start, zone) : "",
    minutes: timed && Number.isFinite(end) ? String(Math.round((end - start) / 60000)) : "",
  };
  $("edit-title").value = values.title;
  $("edit-start").value = values.start;
  $("edit-minutes").value = values.minutes;
  $("edit-title").disabled = !event;
  // An all-day event (or one the list does not know) keeps its time; only what can be sent is offered.
  $("edit-start").disabled = !timed;
  $("edit-minutes").disabled = !timed;
  const offset = zoneOffsetMinutes(zone, timed ? start : Date.now());
  $("edit-zone").textContent = timed ? `Time in ${zone} (${offsetLabel(offset)})` : "An all-day event";
  editor.filled = { key, zone, baseline: values };
}

function editorValues() {
  return { title: $("edit-title").value, start: $("edit-start").value, minutes: $("edit-minutes").value };
}

function editorTouched() {
  const now = editorValues();
  const base = editor.filled ? editor.filled.baseline : now;
  return now.title !== base.title || now.start !== base.start || now.minutes !== base.minutes;
}

// Only what the user changed is sent, so an untouched field never overwrites a change made elsewhere.
function editorChanges() {
  if (!editor.filled) return {};
  const now = editorValues();
  const base = editor.filled.baseline;
  const changes = {};
  if (now.title !== base.title) changes.title = now.title;
  if (now.start !== base.start) changes.startMs = instantOf(now.start, picked().timeZone);
  if (now.minutes !== base.minutes) changes.minutes = Number(now.minutes);
  return changes;
}

async function saveEvent(submit, saved) {
  submit.preventDefault();
  let c = openContext();
  if (!c || !c.eventId || $("save-event").disabled) return;
  const changes = editorChanges();
  if (Object.keys(changes).length) {
    const edited = await editEvent(c, changes);
    const opened = c.eventId;
    c = openContext();
    if (!edited || !c || c.eventId !== opened) return; // refused, or the user opened something else meanwhile
    replaceEvent(edited);
    fillEditor(`${c.calendarId}/${c.eventId}`, edited);
  }
  const picks = picked();
  saved({ ...c, trigger: "saved", locale: picks.locale, timeZone: picks.timeZone });
}

async function editEvent(c, changes) {
  const problem = $("edit-problem");
  const button = $("save-event");
  problem.hidden = true;
  button.disabled = true;
  const result = await editSampleEvent(c.calendarId, c.eventId, changes);
  button.disabled = false;
  if (result.event) return result.event;
  problem.textContent =
    "refused" in result
      ? `Calendar would not save this: ${result.refused}`
      : `The preview server did not answer: ${result.unanswered}`;
  problem.hidden = false;
  return null;
}
