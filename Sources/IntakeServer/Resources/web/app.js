// Intake's page: upload, watch, browse, search. Plain JavaScript, no build step, nothing from
// another site. Everything the server or a client sent is put on the page as text
// (textContent, text nodes), never as markup.
"use strict";

const KEY_STORAGE = "intake-api-key";
const PAGE_SIZE = 20;
const PARALLEL_UPLOADS = 3;
const UPLOAD_ATTEMPTS = 5;

const page = {
  key: sessionStorage.getItem(KEY_STORAGE),
  keyRequired: false,
  documents: new Map(), // id -> { record, item }
  cursor: null,
  events: null, // AbortController of the event stream
  lastEventId: null,
  queue: [],
  running: 0,
};

const $ = (id) => document.getElementById(id);

/// An element with attributes and children (strings become text nodes).
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "hidden") node.hidden = true;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function announce(text) {
  $("upload-announcer").textContent = text;
}

// MARK: - The API

function headers(extra = {}) {
  const all = { ...extra };
  if (page.key) all.Authorization = `Bearer ${page.key}`;
  return all;
}

/// The server's message for a failed response: its {"error": {"message"}} or the status line.
async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return `${response.status}: ${body.error.message}`;
  } catch (_) {
    // not JSON
  }
  return `${response.status} ${response.statusText}`;
}

/// fetch with the key; a 401 asks for a key and throws.
async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  if (response.status === 401) {
    const message = await errorText(response);
    needKey(page.key ? `The key was refused (${message}).` : "This server needs an API key.");
    throw new Error(message);
  }
  return response;
}

function knowledgeBaseQuery(separator) {
  if (page.key) return "";
  const name = $("knowledge-base").value.trim();
  return name ? `${separator}knowledge_base=${encodeURIComponent(name)}` : "";
}

// MARK: - Keys

function needKey(message) {
  page.keyRequired = true;
  if (page.key) {
    page.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
  }
  $("key-message").textContent = message;
  $("key-section").hidden = false;
  showKeyState();
  $("key-input").focus();
}

function showKeyState() {
  $("forget-key").hidden = !page.key;
  $("knowledge-base-field").hidden = Boolean(page.key);
  $("key-state").textContent = page.key ? "Using an API key: its knowledge base only." : page.keyRequired ? "An API key is needed." : "";
}

function useKey(event) {
  event.preventDefault();
  const key = $("key-input").value.trim();
  if (!key) return;
  page.key = key;
  sessionStorage.setItem(KEY_STORAGE, key);
  $("key-input").value = "";
  $("key-section").hidden = true;
  showKeyState();
  start();
}

function forgetKey() {
  page.key = null;
  sessionStorage.removeItem(KEY_STORAGE);
  showKeyState();
  stopEvents();
  needKey("The key was forgotten.");
}

// MARK: - Upload

/// Every file under a dropped entry (folders walked), with its path inside the drop.
async function filesOf(entry) {
  if (entry.isFile) {
    return [await new Promise((resolve, reject) => entry.file((file) => resolve({ file, path: entry.fullPath.replace(/^\//, "") }), reject))];
  }
  if (!entry.isDirectory) return [];
  const reader = entry.createReader();
  const found = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) found.push(...(await filesOf(child)));
  }
  return found;
}

async function dropped(event) {
  event.preventDefault();
  $("drop-zone").classList.remove("dragging");
  const items = [...(event.dataTransfer.items || [])].filter((item) => item.kind === "file");
  const entries = items.map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  if (entries.length > 0 && entries.every(Boolean)) {
    const files = [];
    for (const entry of entries) files.push(...(await filesOf(entry)));
    enqueue(files);
  } else {
    enqueue([...event.dataTransfer.files].map((file) => ({ file, path: file.name })));
  }
}

function picked(event) {
  enqueue([...event.target.files].map((file) => ({ file, path: file.webkitRelativePath || file.name })));
  event.target.value = "";
}

function enqueue(files) {
  for (const { file, path } of files) {
    const upload = {
      file,
      path,
      idempotencyKey: crypto.randomUUID(),
      fields: { title: $("title").value, description: $("description").value },
      query: knowledgeBaseQuery("?"),
      request: null,
      cancelled: false,
      attempt: 0,
    };
    upload.view = uploadView(upload);
    $("upload-list").prepend(upload.view.item);
    page.queue.push(upload);
  }
  if (files.length > 0) announce(`${files.length} file${files.length === 1 ? "" : "s"} queued for upload`);
  pump();
}

function uploadView(upload) {
  const progress = el("progress", { max: upload.file.size || 1, value: 0, "aria-label": `Bytes of ${upload.path} sent` });
  const detail = el("span", { className: "quiet" }, `waiting · ${formatBytes(upload.file.size)}`);
  const outcome = el("p", { className: "outcome", role: "status" });
  const cancel = el("button", { type: "button" }, "Cancel");
  cancel.setAttribute("aria-label", `Cancel the upload of ${upload.path}`);
  cancel.addEventListener("click", () => cancelUpload(upload));
  const item = el("li", {}, el("div", { className: "line" }, el("span", { className: "name" }, upload.path), detail, cancel), progress, outcome);
  return { item, progress, detail, outcome, cancel };
}

function pump() {
  while (page.running < PARALLEL_UPLOADS && page.queue.length > 0) {
    const upload = page.queue.shift();
    if (upload.cancelled) continue;
    page.running += 1;
    send(upload).finally(() => {
      page.running -= 1;
      pump();
    });
  }
}

function cancelUpload(upload) {
  upload.cancelled = true;
  if (upload.request) upload.request.abort();
  finish(upload, false, "Cancelled.");
}

function finish(upload, good, text) {
  upload.view.cancel.disabled = true;
  upload.view.outcome.className = good ? "outcome outcome-good" : "outcome outcome-bad";
  upload.view.outcome.textContent = text;
  announce(`${upload.path}: ${text}`);
}

/// Sends one file, retrying network failures and 503s with the same Idempotency-Key, so that a
/// retry never makes a second document.
async function send(upload) {
  for (upload.attempt = 1; upload.attempt <= UPLOAD_ATTEMPTS && !upload.cancelled; upload.attempt += 1) {
    const result = await post(upload);
    if (upload.cancelled) return;
    if (result.status === 201) {
      const stored = result.body.documents[0];
      finish(upload, true, stored ? `Stored as document ${stored.id}: ${stored.detected_type}, ${stored.status}.` : "Stored (no file part).");
      for (const record of result.body.documents) showDocument(record, true);
      return;
    }
    if (result.status === 401) {
      finish(upload, false, result.message);
      return;
    }
    const retryable = result.status === 0 || result.status === 503 || result.status === 409;
    if (!retryable || upload.attempt === UPLOAD_ATTEMPTS) {
      finish(upload, false, result.message);
      return;
    }
    const seconds = 2 ** (upload.attempt - 1);
    upload.view.detail.textContent = `${result.message} · retrying in ${seconds} s`;
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
}

/// One POST /uploads by XMLHttpRequest (fetch cannot report upload progress).
function post(upload) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    upload.request = request;
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) if (value) form.append(name, value);
    form.append("file", upload.file, upload.path);
    request.open("POST", `/uploads${upload.query}`);
    for (const [name, value] of Object.entries(headers({ "Idempotency-Key": upload.idempotencyKey }))) request.setRequestHeader(name, value);
    const started = performance.now();
    request.upload.addEventListener("progress", (event) => {
      const seconds = (performance.now() - started) / 1000;
      upload.view.progress.max = event.total || 1;
      upload.view.progress.value = event.loaded;
      const speed = seconds > 0 ? `${formatBytes(event.loaded / seconds)}/s` : "";
      upload.view.detail.textContent = `${formatBytes(event.loaded)} of ${formatBytes(event.total)} · ${speed}`;
    });
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch (_) {
        // not JSON
      }
      const message = body && body.error ? `${request.status}: ${body.error.message}` : `${request.status} ${request.statusText}`;
      if (request.status === 401) needKey(page.key ? `The key was refused (${message}).` : "This server needs an API key.");
      resolve({ status: request.status, body, message });
    });
    request.addEventListener("error", () => resolve({ status: 0, body: null, message: "The connection failed" }));
    request.addEventListener("abort", () => resolve({ status: -1, body: null, message: "Cancelled" }));
    upload.view.detail.textContent = upload.attempt > 1 ? `retry ${upload.attempt - 1}` : "sending";
    request.send(form);
  });
}

// MARK: - Documents

function documentName(record) {
  return record.filename ?? record.filename_star ?? "(no name)";
}

function fact(term, value) {
  return [el("dt", {}, term), el("dd", {}, value)];
}

function documentView(record) {
  const state = el("span", { className: `state state-${record.status}` }, record.status);
  const error = el("p", { className: "outcome-bad" });
  const download = el("button", { type: "button" }, "Download");
  const reprocess = el("button", { type: "button" }, "Reprocess");
  const remove = el("button", { type: "button", className: "danger" }, "Delete");
  const name = documentName(record);
  download.setAttribute("aria-label", `Download ${name}`);
  reprocess.setAttribute("aria-label", `Reprocess ${name}`);
  remove.setAttribute("aria-label", `Delete ${name}`);
  download.addEventListener("click", () => downloadDocument(record));
  reprocess.addEventListener("click", () => reprocessDocument(record.id));
  remove.addEventListener("click", () => deleteDocument(record));
  const facts = el("dl", { className: "facts" },
    ...fact("Size", formatBytes(record.size)),
    ...fact("Type", `${record.detected_type} (declared: ${record.declared_type ?? "none"})`),
    ...fact("SHA-256", record.sha256),
    ...fact("Added", new Date(record.created_at).toLocaleString()));
  const item = el("li", { "data-document": record.id },
    el("div", { className: "line" }, el("span", { className: "name" }, name), state), facts, error,
    el("div", { className: "actions" }, download, reprocess, remove));
  return { item, state, error };
}

/// Shows a document (or updates it): new ones go on top, as the list is newest first.
function showDocument(record, isNew) {
  const known = page.documents.get(record.id);
  if (known) {
    known.record = { ...known.record, ...record };
    known.view.state.textContent = record.status;
    known.view.state.className = `state state-${record.status}`;
    return;
  }
  const filter = $("status-filter").value;
  if (filter && record.status !== filter) return;
  const view = documentView(record);
  page.documents.set(record.id, { record, view });
  if (isNew) $("document-list").prepend(view.item);
  else $("document-list").append(view.item);
}

async function loadDocuments(more) {
  const filter = $("status-filter").value;
  if (!more) {
    page.cursor = null;
    page.documents.clear();
    $("document-list").replaceChildren();
  }
  let query = `?order=newest&limit=${PAGE_SIZE}${knowledgeBaseQuery("&")}`;
  if (filter) query += `&status=${encodeURIComponent(filter)}`;
  if (more && page.cursor) query += `&cursor=${encodeURIComponent(page.cursor)}`;
  const response = await api(`/documents${query}`);
  if (!response.ok) {
    $("documents-message").textContent = await errorText(response);
    return false;
  }
  const body = await response.json();
  for (const record of body.documents) showDocument(record, false);
  page.cursor = body.next_cursor;
  $("older").hidden = !page.cursor;
  $("documents-message").textContent = page.documents.size === 0 ? "No documents yet." : "";
  return true;
}

async function downloadDocument(record) {
  const response = await api(`/documents/${encodeURIComponent(record.id)}/content`);
  if (!response.ok) {
    $("documents-message").textContent = await errorText(response);
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: documentName(record).split("/").pop() });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function reprocessDocument(id) {
  const response = await api(`/documents/${encodeURIComponent(id)}/reprocess`, { method: "POST" });
  if (!response.ok) {
    $("documents-message").textContent = await errorText(response);
    return;
  }
  showDocument(await response.json(), false);
  $("documents-message").textContent = "Queued for processing again.";
}

function confirmDelete(record) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = `Delete ${documentName(record)}? Its text leaves the search too.`;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

async function deleteDocument(record) {
  if (!(await confirmDelete(record))) return;
  const response = await api(`/documents/${encodeURIComponent(record.id)}`, { method: "DELETE" });
  if (!response.ok && response.status !== 404) {
    $("documents-message").textContent = await errorText(response);
    return;
  }
  const known = page.documents.get(record.id);
  if (known) known.view.item.remove();
  page.documents.delete(record.id);
  $("documents-message").textContent = `Deleted ${documentName(record)}.`;
}

// MARK: - Events (Server-Sent Events over fetch, so that the key goes in a header)

function stopEvents() {
  if (page.events) page.events.abort();
  page.events = null;
}

async function watchEvents() {
  stopEvents();
  const controller = new AbortController();
  page.events = controller;
  let delay = 2000;
  while (!controller.signal.aborted) {
    try {
      const extra = { Accept: "text/event-stream" };
      if (page.lastEventId !== null) extra["Last-Event-ID"] = page.lastEventId;
      const from = page.lastEventId === null ? "?after=latest" : "";
      const response = await api(`/events${from}${knowledgeBaseQuery(from ? "&" : "?")}`, { headers: extra, signal: controller.signal });
      if (!response.ok) throw new Error(await errorText(response));
      $("events-state").textContent = "Live";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const retry = eventBlock(block);
          if (retry) delay = retry;
        }
      }
    } catch (error) {
      if (controller.signal.aborted || page.keyRequired) return;
    }
    $("events-state").textContent = "Reconnecting…";
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/// Handles one event; returns the server's retry delay if the block sets one.
function eventBlock(block) {
  let id = null;
  let data = "";
  let retry = null;
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "data") data += (data ? "\n" : "") + value;
    else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
  }
  if (id !== null) page.lastEventId = id;
  if (data) {
    try {
      const record = JSON.parse(data);
      if (record && record.id) showDocument(record, true);
      if (record && record.error && page.documents.has(record.id)) page.documents.get(record.id).view.error.textContent = record.error;
    } catch (_) {
      // not a document
    }
  }
  return retry;
}

// MARK: - Search

/// The snippet with the words the search marked («…») as <mark> elements, all as text.
function markedSnippet(snippet) {
  const paragraph = el("p", {});
  const pieces = snippet.split(/[«»]/);
  pieces.forEach((piece, index) => paragraph.append(index % 2 === 1 ? el("mark", {}, piece) : document.createTextNode(piece)));
  return paragraph;
}

async function search(event) {
  event.preventDefault();
  const words = $("search-input").value.trim();
  if (!words) return;
  const response = await api(`/search?q=${encodeURIComponent(words)}${knowledgeBaseQuery("&")}`);
  const list = $("search-results");
  list.replaceChildren();
  if (!response.ok) {
    $("search-message").textContent = await errorText(response);
    return;
  }
  const body = await response.json();
  $("search-message").textContent = body.results.length === 0 ? "Nothing found." : `${body.results.length} passage${body.results.length === 1 ? "" : "s"} found.`;
  for (const result of body.results) {
    const name = (result.filename ?? "(no name)") + (Number.isInteger(result.page) ? ` · page ${result.page}` : "");
    list.append(el("li", {}, el("p", { className: "name" }, name), markedSnippet(result.snippet)));
  }
}

// MARK: - Start

async function start() {
  page.keyRequired = false;
  showKeyState();
  try {
    if (await loadDocuments(false)) watchEvents();
  } catch (_) {
    // needKey has said what to do
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", useKey);
  $("forget-key").addEventListener("click", forgetKey);
  $("file-picker").addEventListener("change", picked);
  $("folder-picker").addEventListener("change", picked);
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", dropped);
  $("documents-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadDocuments(false).catch(() => {});
  });
  $("older").addEventListener("click", () => loadDocuments(true).catch(() => {}));
  $("knowledge-base").addEventListener("change", () => start());
  $("search-form").addEventListener("submit", (event) => search(event).catch(() => {}));
  start();
});
