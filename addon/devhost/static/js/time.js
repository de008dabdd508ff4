// Time zones and times: zone names and offsets, datetime-local values, and dates as the user's locale writes them.

export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

// Every zone the browser knows, with UTC and `current` among them, sorted.
export function zoneNames(current) {
  let names = [];
  try {
    names = Intl.supportedValuesOf("timeZone");
  } catch {
    names = ["UTC", "Europe/Zurich"];
  }
  const all = new Set(["UTC", ...names, current]);
  return [...all].sort();
}

// Minutes east of UTC that `zone` is at `ms`.
export function zoneOffsetMinutes(zone, ms) {
  try {
    const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(new Date(ms))
      .find((p) => p.type === "timeZoneName");
    const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(part ? part.value : "");
    if (!match) return 0;
    const minutes = Number(match[2]) * 60 + Number(match[3] || 0);
    return match[1] === "-" ? -minutes : minutes;
  } catch {
    return 0;
  }
}

export function offsetLabel(minutes) {
  const sign = minutes < 0 ? "−" : "+";
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

// What a datetime-local input shows for the instant `ms` in `zone`: "2026-12-24T10:00".
export function localInputValue(ms, zone) {
  return new Date(ms + zoneOffsetMinutes(zone, ms) * 60000).toISOString().slice(0, 16);
}

// The instant a datetime-local value means in `zone`; NaN if it is not one. The offset is looked up
// twice because the first guess may fall on the other side of a daylight-saving change.
export function instantOf(value, zone) {
  const wall = Date.parse(`${value}Z`);
  if (Number.isNaN(wall)) return NaN;
  const guess = wall - zoneOffsetMinutes(zone, wall) * 60000;
  return wall - zoneOffsetMinutes(zone, guess) * 60000;
}

export function formatWhen(value, options, { locale, timeZone }) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(date);
  } catch {
    return date.toISOString();
  }
}
