// pipewise's pages are rendered on the server; this script only sends the changes a page
// offers to the JSON API (with the session's CSRF token and the record's version) and shows
// what the API answers. Rules live on the server: a refused move lists the criteria the
// server found unmet.
"use strict";

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";
const workspace = meta("workspace");
const api = (path) => `/api/v1/workspaces/${workspace}${path}`;

/** Sends one change; resolves to the parsed answer, or throws the API's problem. */
async function send(method, path, body, version) {
  const headers = { "content-type": "application/json", "x-csrf-token": meta("csrf-token") };
  if (version !== undefined) headers["if-match"] = `"${version}"`;
  const response = await fetch(api(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const answer = text ? JSON.parse(text) : null;
  if (!response.ok) throw answer ?? { detail: `The server answered ${response.status}.` };
  return answer;
}

/** Writes a problem into `box` (a role="alert" element): its detail, unmet criteria and fields. */
function showProblem(box, problem, intro) {
  box.replaceChildren();
  const lead = document.createElement("p");
  lead.textContent = intro ?? problem.detail ?? "The change was refused.";
  box.append(lead);
  const items = [
    ...(problem.unmet ?? []).map((u) => u.label),
    ...(problem.errors ?? []).map((e) => `${e.field}: ${e.expected}`),
  ];
  if (items.length) {
    const list = document.createElement("ul");
    for (const text of items) {
      const li = document.createElement("li");
      li.textContent = text;
      list.append(li);
    }
    box.append(list);
  }
}

function toast(text) {
  const box = document.getElementById("toast");
  if (box) box.textContent = text;
}

// ---- Sign in and out --------------------------------------------------------------------

document.querySelector('form[data-form="sign-in"]')?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = form.querySelector('[role="alert"]');
  try {
    await send("POST", "/session", { email: form.email.value, password: form.password.value });
    const next = new URLSearchParams(location.search).get("next");
    location.assign(next && next.startsWith(`/app/${workspace}/`) ? next : `/app/${workspace}/board`);
  } catch (problem) {
    showProblem(box, problem);
  }
});

document.querySelector('[data-action="sign-out"]')?.addEventListener("click", async () => {
  try { await send("DELETE", "/session"); } finally { location.assign(`/app/${workspace}/sign-in`); }
});

// ---- Board ------------------------------------------------------------------------------

const board = document.querySelector(".board");
const money = (minor) => new Intl.NumberFormat(undefined, {
  style: "currency", currency: board?.dataset.currency || "USD", notation: "compact", maximumFractionDigits: 1,
}).format(minor / 10 ** Number(board?.dataset.minorDigits ?? 2));

/** Moves `card` to `stage` through the API; on success the card changes column. */
async function moveCard(card, stage) {
  const box = card.querySelector('[role="alert"]');
  const from = card.closest(".column");
  const to = board.querySelector(`.column[data-stage="${CSS.escape(stage)}"]`);
  if (!to || to === from) return;
  box.replaceChildren();
  // Moving a deal back needs a reason; forward moves need the buyer's evidence instead.
  const columns = [...board.querySelectorAll(".column")];
  const body = { to: stage };
  if (columns.indexOf(to) < columns.indexOf(from)) {
    const reason = window.prompt(`Why is the deal going back to ${to.querySelector("h2").textContent}?`);
    if (!reason) return;
    body.reason = reason;
  }
  try {
    const deal = await send("POST", `/opportunities/${card.dataset.deal}/moves`, body, card.dataset.version);
    card.dataset.version = deal.version;
    to.querySelector(".cards").prepend(card);
    for (const column of [from, to]) recount(column);
    const category = card.querySelector(".category");
    if (category && deal.forecast_category) category.dataset.category = deal.forecast_category;
    toast(`Moved ${card.querySelector("h3").textContent} to ${to.querySelector("h2").textContent}.`);
    card.querySelector("a")?.focus();
  } catch (problem) {
    const name = to.querySelector("h2").textContent;
    const intro = problem.unmet?.length ? `Cannot move to ${name}. Still needed:` : undefined;
    showProblem(box, problem, intro);
  }
}

/** A column's count and total after a move: deals not drawn as cards, plus the cards now in it. */
function recount(column) {
  const cards = [...column.querySelectorAll(".card")];
  const count = column.querySelector("[data-count]");
  const total = column.querySelector("[data-total]");
  const deals = Number(count.dataset.hidden) + cards.length;
  const amount = Number(total.dataset.hidden) + cards.reduce((sum, c) => sum + Number(c.dataset.amount), 0);
  count.textContent = deals.toLocaleString();
  total.textContent = money(amount);
}

if (board) {
  // What the totals count beyond the cards drawn, so a move can update them.
  for (const column of board.querySelectorAll(".column")) {
    const cards = [...column.querySelectorAll(".card")];
    const count = column.querySelector("[data-count]");
    const total = column.querySelector("[data-total]");
    count.dataset.hidden = Number(count.dataset.count) - cards.length;
    total.dataset.hidden = Number(total.dataset.total) - cards.reduce((s, c) => s + Number(c.dataset.amount), 0);
  }
  // A card's "Move…" button opens the board's one dialog with every stage but the card's.
  const dialog = document.getElementById("move-dialog");
  let moving = null;
  board.addEventListener("click", (event) => {
    const button = event.target.closest('[data-action="choose"]');
    if (!button || !dialog) return;
    moving = button.closest(".card");
    const here = moving.closest(".column").dataset.stage;
    const select = dialog.querySelector("select");
    select.replaceChildren(...[...board.querySelectorAll(".column")]
      .filter((c) => c.dataset.stage !== here)
      .map((c) => new Option(c.querySelector("h2").textContent, c.dataset.stage)));
    dialog.querySelector("[data-name]").textContent = moving.querySelector("h3").textContent;
    dialog.returnValue = "";
    dialog.showModal();
    select.focus();
  });
  dialog?.addEventListener("close", () => {
    const card = moving;
    moving = null;
    if (!card) return;
    card.querySelector('[data-action="choose"]')?.focus();
    if (dialog.returnValue === "move") moveCard(card, dialog.querySelector("select").value);
  });
  board.addEventListener("dragstart", (event) => {
    const card = event.target.closest(".card[draggable]");
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.id);
    event.dataTransfer.effectAllowed = "move";
  });
  board.addEventListener("dragover", (event) => {
    if (event.target.closest(".column")) event.preventDefault();
  });
  board.addEventListener("drop", (event) => {
    const column = event.target.closest(".column");
    const card = document.getElementById(event.dataTransfer.getData("text/plain"));
    if (!column || !card) return;
    event.preventDefault();
    moveCard(card, column.dataset.stage);
  });
}

// ---- Deal room --------------------------------------------------------------------------

const dealHeading = document.querySelector("h1[data-deal]");
if (dealHeading) {
  const deal = dealHeading.dataset.deal;
  const alertBox = () => document.querySelector('.panel [role="alert"]');
  /** Records one change to the deal's evidence, then shows the page as it now stands. */
  const record = async (evidence, box) => {
    try {
      await send("POST", `/opportunities/${deal}/evidence`, evidence, dealHeading.dataset.version);
      location.reload();
    } catch (problem) {
      showProblem(box ?? alertBox(), problem);
    }
  };
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input.dataset.evidence === "checked") record({ evidence: "checked", item: input.dataset.item, done: input.checked });
    if (input.dataset.evidence === "scored") record({ evidence: "scored", item: input.dataset.item, value: Number(input.value) });
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.form !== "gate") return;
    event.preventDefault();
    record({ evidence: "gate_decided", gate: form.dataset.gate, decision: { outcome: "pass", next_step: form.next_step.value } });
  });
  // Milestones, stakeholders and success criteria: one form each, sent as one evidence change.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset.evidenceForm) return;
    event.preventDefault();
    const change = { evidence: form.dataset.evidenceForm, ...Object.fromEntries(new FormData(form)) };
    if (form.dataset.keyPrefix) change.key = `${form.dataset.keyPrefix}_${Date.now().toString(36)}`;
    record(change, form.querySelector('[role="alert"]'));
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-milestone]");
    if (button) record({ evidence: "milestone_set", ...JSON.parse(button.dataset.milestone), status: "done" });
  });
  // The deal's fields: only those changed are sent.
  document.querySelector('form[data-form="deal-fields"]')?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const changed = (name) => form.elements[name].value !== form.elements[name].defaultValue;
    const value = (name) => form.elements[name].value.trim() || null;
    const body = {};
    for (const name of ["amount", "close_date", "competitor", "source", "segment"]) {
      if (changed(name)) body[name] = value(name);
    }
    if (changed("next_step_text") || changed("next_step_due")) {
      body.next_step = value("next_step_text") ? { text: value("next_step_text"), due: value("next_step_due") } : null;
    }
    try {
      await send("PATCH", `/opportunities/${deal}`, body, dealHeading.dataset.version);
      location.reload();
    } catch (problem) {
      showProblem(form.querySelector('[role="alert"]'), problem);
    }
  });
  document.addEventListener("click", async (event) => {
    const button = event.target.closest('[data-action="move-deal"], [data-action="close-won"]');
    if (!button) return;
    const box = button.parentElement.querySelector('[role="alert"]');
    const moving = button.dataset.action === "move-deal";
    try {
      await send("POST", `/opportunities/${deal}/${moving ? "moves" : "close-won"}`, moving ? { to: button.dataset.to } : {}, dealHeading.dataset.version);
      location.reload();
    } catch (problem) {
      showProblem(box, problem, problem.unmet?.length ? "Still needed:" : undefined);
    }
  });
}

// ---- Forecast ---------------------------------------------------------------------------

document.querySelector('form[data-form="call"]')?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const lines = [...form.querySelectorAll("tr[data-line]")].map((row) => {
    const note = row.querySelector('input[name="note"]').value.trim();
    return { opportunity_id: row.dataset.line, include: row.querySelector('input[name="include"]').checked, ...(note ? { note } : {}) };
  });
  try {
    await send("POST", "/forecast/calls", { period: form.dataset.period, lines });
    location.reload();
  } catch (problem) {
    showProblem(form.querySelector('[role="alert"]'), problem);
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.dataset.form !== "adjust") return;
  event.preventDefault();
  try {
    await send("POST", "/forecast/adjustments", {
      period: form.dataset.period, subject_id: form.dataset.subject, amount: form.amount.value, note: form.note.value,
    });
    location.reload();
  } catch (problem) {
    showProblem(form.querySelector('[role="alert"]'), problem);
  }
});

document.querySelector('[data-action="snapshot"]')?.addEventListener("click", async (event) => {
  const period = new URLSearchParams(location.search).get("period");
  try {
    await send("POST", "/forecast/snapshots", period ? { period } : {});
    location.reload();
  } catch (problem) {
    toast(problem.detail ?? "The snapshot failed.");
  }
});

// ---- Sortable tables --------------------------------------------------------------------

for (const table of document.querySelectorAll("table.sortable")) {
  const headers = [...table.tHead.rows[0].cells];
  headers.forEach((th, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.append(...th.childNodes);
    th.append(button);
    th.setAttribute("aria-sort", "none");
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach((h) => h.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const body = table.tBodies[0];
      const key = (row) => {
        const cell = row.cells[index];
        const sort = cell?.dataset.sort;
        return sort !== undefined && sort !== "" ? Number(sort) : (cell?.textContent ?? "").trim().toLowerCase();
      };
      const rows = [...body.rows].sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
}

// ---- Lead queue clocks ------------------------------------------------------------------

/** "in 3 h 20 min" or "overdue by 1 d 2 h", as the server first drew it. */
function until(due, now) {
  const minutes = Math.trunc((due - now) / 60000);
  const size = Math.abs(minutes);
  const [days, hours, mins] = [Math.floor(size / 1440), Math.floor((size % 1440) / 60), size % 60];
  const span = days > 0 ? `${days} d ${hours} h` : hours > 0 ? `${hours} h ${mins} min` : `${mins} min`;
  return minutes >= 0 ? `in ${span}` : `overdue by ${span}`;
}

const clocks = document.querySelectorAll("time.clock");
if (clocks.length) {
  setInterval(() => {
    for (const clock of clocks) clock.textContent = until(new Date(clock.dateTime), new Date());
  }, 30_000);
}

// ---- Administration ---------------------------------------------------------------------

document.querySelector('form[data-form="process"]')?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const files = [...form.querySelectorAll("textarea")].map((area) => ({ name: area.name, text: area.value }));
  try {
    await send("PUT", "/process", { files }, form.dataset.version);
    location.reload();
  } catch (problem) {
    showProblem(form.querySelector('[role="alert"]'), problem);
  }
});

/** A form's fields as a JSON body: empty fields left out; `owner` ("kind:id") split in two. */
function bodyOf(form) {
  const body = {};
  for (const [name, value] of new FormData(form)) {
    if (value === "") continue;
    if (name === "owner") {
      const [kind, id] = value.split(":");
      body.owner_kind = kind;
      if (id) body.owner_id = id;
    } else {
      body[name] = value;
    }
  }
  return body;
}

// Forms and buttons that name their API call: `data-api` (path), `data-method`, and for
// changes to an existing record `data-version`.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.dataset.api) return;
  event.preventDefault();
  try {
    const answer = await send(form.dataset.method, form.dataset.api, bodyOf(form), form.dataset.version);
    if (form.dataset.shows === "secret") {
      form.querySelector("output").textContent = `Copy the token now; it is not shown again: ${answer.secret}`;
    } else {
      location.reload();
    }
  } catch (problem) {
    showProblem(form.querySelector('[role="alert"]'), problem);
  }
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-api]");
  if (!button) return;
  try {
    await send(button.dataset.method, button.dataset.api, undefined, button.dataset.version);
    location.reload();
  } catch (problem) {
    toast(problem.detail ?? "The change was refused.");
  }
});
