// The client for /preview/api: runs the add-on's triggers and actions, loads the samples, edits a sample event.

import { setBusy } from "./busy.js";

const calls = { latest: 0 }; // numbers the add-on calls: only the answer to the latest one counts

// Drop the answers of the calls still running (the user went somewhere else).
export function supersede() {
  calls.latest += 1;
}

// {answer: {status, body}} from the add-on, {failure: {title, detail}} if the preview server failed,
// or null if another call started meanwhile.
export async function callAddon(path, body, { spinner }) {
  calls.latest += 1;
  const seq = calls.latest;
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
  if (seq !== calls.latest) return null;
  return failure ? { failure } : { answer };
}

export async function fetchSamples() {
  const response = await fetch("/preview/api/samples");
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// {event} as the list shows it once saved, {refused: reason} if the server said no, {unanswered: error}.
export async function editSampleEvent(calendarId, eventId, changes) {
  setBusy(+1, false);
  try {
    const response = await fetch(`/preview/api/events/${encodeURIComponent(eventId)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ calendarId, ...changes }),
    });
    const json = await response.json().catch(() => null);
    if (response.ok && json) return { event: json };
    return { refused: (json && json.error) || `HTTP ${response.status}` };
  } catch (error) {
    return { unanswered: String(error) };
  } finally {
    setBusy(-1, false);
  }
}
