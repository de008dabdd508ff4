// The trigger that is open: the context /preview/api/open last got, which card actions run with (addon.js changes it).

const opened = { context: null };

export function openContext() {
  return opened.context;
}

export function setOpenContext(context) {
  opened.context = context;
}
