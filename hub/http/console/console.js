// LaporHub console: a single page calling the JSON API with the administrator's key.
// No build step. Each page is a function; each optional data source is one function in `sources`.
"use strict";

const KEY = "laporhub.key";
const main = document.getElementById("main");
const state = { who: null, editor: null };

const badge = (text) => h("span", { class: `badge ${text}` }, text);
// Times in Asia/Jakarta with "WIB" shown, whatever the browser's zone (city/common.js).
const when = (iso) => (iso ? wib(iso) : "—");
function show(...nodes) { main.replaceChildren(...nodes); }
function table(headers, rows) {
  const body = rows instanceof HTMLTableSectionElement ? rows : h("tbody", {}, rows);
  return h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), body));
}
function errorList(errors) {
  if (!errors || !errors.length) return null;
  return h("ul", { class: "errors" }, errors.map((e) => h("li", {}, `${e.field}: ${e.reason}`)));
}

// -- the API ---------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) { super(body.message || `HTTP ${status}`); this.status = status; this.body = body; }
}
async function api(path, options = {}) {
  const headers = { "authorization": `Bearer ${sessionStorage.getItem(KEY) || ""}` };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const resp = await fetch(path, { method: options.method || "GET", headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  let body = {};
  try { body = await resp.json(); } catch (_) { body = {}; }
  if (resp.status === 401) { signOut("Your key is no longer accepted: " + (body.message || "")); throw new ApiError(401, body); }
  if (!resp.ok) throw new ApiError(resp.status, body);
  return body;
}
const post = (path, body) => api(path, { method: "POST", body: body || {} });

// Pages whose data other parts of the hub provide: one function each. `null` means this
// version of the hub has no such data (the endpoint does not exist), shown as such, never faked.
async function optional(path) {
  try { return await api(path); } catch (e) { if (e.status === 404 || e.status === 405) return null; throw e; }
}
const sources = {
  deadLetters: () => optional("/v1/admin/dead-letters"),
  replayDeadLetter: (id) => post(`/v1/admin/dead-letters/${encodeURIComponent(id)}/replay`, {}),
};

// -- sign in ---------------------------------------------------------------------------------
function signOut(message) {
  sessionStorage.removeItem(KEY);
  state.who = null;
  document.getElementById("nav").hidden = true;
  document.getElementById("who").textContent = "";
  location.hash = "#/signin";
  pageSignIn(message);
}

function pageSignIn(message) {
  const input = h("input", { type: "password", id: "key", autocomplete: "off", placeholder: "lhk_…" });
  const out = h("div", { id: "signin-message", class: message ? "notice bad" : "" }, message || "");
  const form = h("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    try {
      const who = await api("/v1/admin/whoami");
      if (who.role === "destination") { location.href = "/portal#/inbox"; return; }  // its own portal
      if (!["admin", "auditor"].includes(who.role)) {
        sessionStorage.removeItem(KEY);
        out.className = "notice bad";
        out.textContent = `Refused: this is a ${who.role} key (${who.name}). The console needs an admin key (or an auditor key to look without changing).`;
        return;
      }
      signedIn(who);
      location.hash = "#/rules";
    } catch (e) {
      out.className = "notice bad";
      out.textContent = `Refused: ${e.message}`;
    }
  } },
  h("h1", {}, "Sign in"),
  h("p", { class: "muted" }, "Paste your administrator key. It stays in this browser tab only."),
  h("label", { for: "key" }, "API key"), input,
  h("div", { class: "row" }, h("button", { type: "submit", id: "signin" }, "Sign in")), out);
  show(h("section", { class: "card signin" }, form));
}

function signedIn(who) {
  state.who = who;
  document.getElementById("nav").hidden = false;
  document.getElementById("who").replaceChildren(`${who.name} (${who.role}) `,
    h("a", { href: "#/signin", onclick: () => signOut("") }, "sign out"));
}
const isAdmin = () => state.who && state.who.role === "admin";

// -- rules: list, editor, validate, preview, publish, roll back ----------------------------
async function pageRules() {
  const [routing, routers] = await Promise.all([api("/v1/admin/routing"), api("/v1/admin/routing/routers")]);
  const current = await api(`/v1/admin/routing/versions/${routing.published}`);
  state.editor = { doc: structuredClone(current.document), base: routing.published, draft: null, previewed: null };
  const reason = h("input", { id: "rollback-reason", placeholder: "why you are rolling back (required)" });
  const rollbackMsg = h("div", {});
  const versionRows = routing.versions.map((v) => h("tr", {},
    h("td", {}, v.label), h("td", {}, badge(v.status)), h("td", { class: "hide-narrow" }, v.note || ""),
    h("td", { class: "hide-narrow" }, `${v.created_by}, ${when(v.created_at)}`),
    h("td", {}, v.status === "retired" && isAdmin() ? h("button", { class: "secondary", "data-rollback": v.id, onclick: async () => {
      try {
        await post("/v1/admin/routing/rollback", { version: v.id, reason: reason.value });
        route();
      } catch (e) { rollbackMsg.replaceChildren(h("div", { class: "notice bad" }, e.message), errorList(e.body.errors) || ""); }
    } }, `Roll back to ${v.label}`) : "")));
  const routerRows = [...routers.routers, ...routers.dispatchers].map((r) => h("tr", {},
    h("td", {}, r.kind), h("td", {}, r.id), h("td", {}, r.routing_version,
      r.routing_version === routers.published ? "" : h("span", { class: "warn" }, " (behind)")),
    h("td", {}, r.stale ? h("span", { class: "error" }, `silent since ${when(r.seen_at)}`) : when(r.seen_at))));
  show(
    h("h1", {}, "Routing rules"),
    h("p", {}, "Published: ", h("strong", { id: "published-version" }, routing.published_label),
      h("span", { class: "muted" }, `; rules are tried in order and the first match decides (unless it says "stop: false").`)),
    editorCard(current),
    h("section", { class: "card" }, h("h2", {}, "Versions"), table(["version", "status", "note", "saved", ""], versionRows),
      isAdmin() ? h("div", { class: "row" }, h("label", {}, "Reason for a rollback", reason)) : "", rollbackMsg),
    h("section", { class: "card" }, h("h2", {}, "Running workers"), table(["kind", "worker", "routing version", "last report"], routerRows),
      routerRows.length ? "" : h("p", { class: "muted" }, "No worker has reported yet.")),
  );
}

function editorCard(current) {
  const ed = state.editor;
  const general = h("div", { id: "editor-errors" });
  const previewBox = h("div", { id: "preview" });
  const yaml = h("textarea", { id: "rules-yaml", hidden: true, spellcheck: "false" }, current.yaml);
  let mode = "table";
  const rows = h("tbody", {});
  function drawRows(errors) {
    const byRule = {};
    for (const e of errors || []) {
      const m = /^rules\[(\d+)\]/.exec(e.field);
      if (m) (byRule[m[1]] = byRule[m[1]] || []).push(e);
    }
    rows.replaceChildren(...ed.doc.rules.map((r, i) => {
      const mine = byRule[i] || [];
      const input = h("input", { class: "send-to", "data-rule": r.id, "aria-label": `send ${r.id} to`, value: (r.send_to || []).join(", "),
        disabled: !isAdmin(), oninput: () => { r.send_to = input.value.split(",").map((s) => s.trim()).filter(Boolean); ed.previewed = null; publishBtn.disabled = true; } });
      const cond = Object.entries(r.when || {}).map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ") || "every complaint";
      return h("tr", { class: mine.length ? "has-error" : "", id: `rule-${r.id}` },
        h("td", {}, i + 1), h("td", {}, h("strong", {}, r.id), h("div", { class: "muted" }, r.description || "")),
        h("td", { class: "hide-narrow" }, cond), h("td", {}, input, mine.map((e) => h("div", { class: "inline-error" }, `${e.field}: ${e.reason}`))),
        h("td", {}, r.stop === false ? "continue" : "stop"));
    }));
  }
  function source() { return mode === "yaml" ? { yaml: yaml.value } : { document: ed.doc }; }
  function showErrors(errors) {
    const hard = (errors || []).filter((e) => e.severity !== "warning");
    drawRows(hard);
    const rest = (errors || []).filter((e) => !/^rules\[\d+\]/.test(e.field) || mode === "yaml");
    general.replaceChildren(hard.length ? h("div", { class: "notice bad" }, `${hard.length} error(s): fix them before publishing.`) : h("div", { class: "notice" }, "No errors."),
      errorList(rest) || "");
  }
  const check = h("button", { class: "secondary", id: "validate", onclick: async () => {
    try { const r = await post("/v1/admin/routing/validate", source()); showErrors(r.errors); }
    catch (e) { showErrors(e.body.errors || [{ field: "$", reason: e.message }]); }
  } }, "Check");
  const note = h("input", { id: "draft-note", placeholder: "what this change does (kept with the version)" });
  const previewBtn = h("button", { id: "preview-impact", onclick: async () => {
    previewBox.replaceChildren(h("p", { class: "muted" }, "Saving the draft and re-running recent complaints…"));
    try {
      const body = { ...source(), note: note.value, based_on: ed.base };
      const saved = ed.draft ? await api(`/v1/admin/routing/drafts/${ed.draft}`, { method: "PUT", body })
        : await post("/v1/admin/routing/drafts", body);
      ed.draft = saved.id;
      showErrors(saved.errors);
      if (!saved.valid) { previewBox.replaceChildren(h("div", { class: "notice bad" }, `Draft ${saved.label} saved, but it has errors; no preview until they are fixed.`)); return; }
      const p = await post(`/v1/admin/routing/versions/${saved.id}/preview`);
      ed.previewed = saved.id;
      previewBox.replaceChildren(previewView(saved.label, p));
      publishBtn.disabled = false;
    } catch (e) { previewBox.replaceChildren(h("div", { class: "notice bad" }, e.message), errorList(e.body && e.body.errors) || ""); }
  } }, "Save draft and preview impact");
  const reason = h("input", { id: "publish-reason", placeholder: "why (required; kept in the audit)" });
  const publishMsg = h("div", { id: "publish-message" });
  const publishBtn = h("button", { id: "publish", disabled: true, onclick: async () => {
    if (!reason.value.trim()) { publishMsg.replaceChildren(h("div", { class: "notice bad" }, "Give a reason for publishing.")); return; }
    try {
      const r = await post(`/v1/admin/routing/versions/${ed.previewed}/publish`, { reason: reason.value });
      publishMsg.replaceChildren(h("div", { class: "notice" }, `Published ${r.label}. Routers switch within seconds.`));
      setTimeout(route, 800);
    } catch (e) { publishMsg.replaceChildren(h("div", { class: "notice bad" }, e.message), errorList(e.body.errors) || ""); }
  } }, "Publish");
  const tabs = h("div", { class: "row" },
    h("button", { class: "secondary", id: "mode-table", onclick: async () => {
      if (mode === "yaml") {
        const r = await post("/v1/admin/routing/validate", { yaml: yaml.value }).catch((e) => ({ errors: e.body.errors }));
        if (!r.document) { showErrors(r.errors); return; }
        ed.doc = r.document;
      }
      mode = "table"; yaml.hidden = true; tableBox.hidden = false; drawRows([]);
    } }, "Edit destinations"),
    h("button", { class: "secondary", id: "mode-yaml", onclick: async () => {
      if (mode === "table") {
        const r = await post("/v1/admin/routing/validate", { document: ed.doc }).catch(() => null);
        if (r && r.yaml) yaml.value = r.yaml;
      }
      mode = "yaml"; yaml.hidden = false; tableBox.hidden = true;
    } }, "Edit as YAML"));
  const tableBox = h("div", {}, table(["#", "rule", "when", "send to", ""], rows));
  drawRows([]);
  if (!isAdmin()) return h("section", { class: "card" }, h("h2", {}, `Rules in ${current.label}`), tableBox);
  return h("section", { class: "card" }, h("h2", {}, `Edit (starting from ${current.label})`),
    h("p", { class: "muted" }, "Change where complaints go, check, preview the impact on recent complaints, then publish with a reason."),
    tabs, tableBox, yaml, general,
    h("div", { class: "row" }, h("label", {}, "Note", note), check, previewBtn), previewBox,
    h("div", { class: "row" }, h("label", {}, "Reason for publishing", reason), publishBtn), publishMsg);
}

function previewView(label, p) {
  const moves = p.moves.map((m) => h("tr", {}, h("td", {}, m.from.join(", ")), h("td", {}, "→ ", m.to.join(", ")),
    h("td", {}, m.count), h("td", { class: "hide-narrow" }, m.examples.map((x) => h("div", {},
      h("a", { href: `#/complaints/${x.id}` }, x.title || x.id), h("span", { class: "muted" }, ` ${x.category}, ${x.city || "city unknown"}`))))));
  const rules = p.by_rule.filter((r) => r.changed || r.before !== r.after).map((r) => h("tr", {},
    h("td", {}, r.rule_id), h("td", {}, r.before), h("td", {}, r.after), h("td", {}, r.changed)));
  return h("div", { class: "card" },
    h("h2", {}, `Impact of ${label}`),
    h("p", { id: "preview-summary" }, h("strong", {}, `${p.changed} of ${p.examined}`),
      ` recent complaints would go somewhere else under ${label} (published: ${p.published}).`),
    p.changed ? table(["now goes to", "would go to", "complaints", "examples"], moves) : h("p", { class: "ok" }, "No recent complaint would change destination."),
    rules.length ? h("div", {}, h("h2", {}, "By rule"), table(["rule", "matched before", "matched after", "changed"], rules)) : "");
}

// -- explain -------------------------------------------------------------------------------
function pageExplain() {
  const text = h("textarea", { id: "explain-input", placeholder: '{"channel": "web", "text": "…", "location": {"kota": "Jakarta Timur"}}  — or just the complaint text' });
  const out = h("div", { id: "explain-output" });
  show(h("h1", {}, "Explain a complaint"), h("section", { class: "card" },
    h("p", { class: "muted" }, "Paste a complaint (JSON) or just its text: see its category, area, urgency, and where the published rules send it and why."),
    text, h("div", { class: "row" }, h("button", { id: "explain", onclick: async () => {
      let complaint;
      try { complaint = JSON.parse(text.value); } catch (_) { complaint = { channel: "console", text: text.value }; }
      try {
        const r = await post("/v1/admin/explain", { complaint });
        const c = r.classification;
        out.replaceChildren(h("section", { class: "card" },
          h("p", {}, "Category ", h("strong", {}, c.category), ` (confidence ${c.confidence.toFixed(2)}), area `,
            h("strong", {}, c.area ? c.area.city + (c.area.kecamatan ? " / " + c.area.kecamatan : "") : "unknown"), ", urgency ", h("strong", {}, c.urgency)),
          h("h2", {}, "What decided"),
          table(["", "why"], (r.why || []).map((w) => h("tr", { class: "why-" + w.label.replace(/ /g, "-") }, h("td", {}, w.label), h("td", {}, w.text)))),
          h("p", {}, `Rule set ${r.decision.ruleset_version}; matched: ${r.decision.matched_rules.join(", ") || "none"}`),
          table(["send to", "rule", "because"], r.destinations.map((d) => h("tr", {}, h("td", {}, d.name, h("div", { class: "muted" }, d.id)), h("td", {}, d.rule_id), h("td", {}, d.reason))))));
      } catch (e) { out.replaceChildren(h("div", { class: "notice bad" }, e.message), errorList(e.body.errors) || ""); }
    } }, "Explain")), out));
}

// -- complaints ----------------------------------------------------------------------------
async function pageComplaints(params) {
  const q = h("input", { type: "search", id: "search-q", placeholder: "id, reference or words", value: params.get("q") || "" });
  const category = h("input", { id: "search-category", placeholder: "category", value: params.get("category") || "" });
  const status = h("select", { id: "search-status" }, ["", "received", "routed", "delivered", "delivery_failed"].map((s) => h("option", { value: s }, s || "any status")));
  status.value = params.get("status") || "";
  const destination = h("input", { id: "search-destination", placeholder: "destination id", value: params.get("destination") || "" });
  const search = new URLSearchParams();
  for (const [k, v] of params) if (v) search.set(k, v);
  const found = await api(`/v1/admin/complaints?${search}`);
  show(h("h1", {}, "Complaints"), h("section", { class: "card" },
    h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault();
      const p = new URLSearchParams({ q: q.value, category: category.value, status: status.value, destination: destination.value });
      location.hash = `#/complaints?${p}`; } },
    h("label", {}, "Search", q), h("label", {}, "Category", category), h("label", {}, "Status", status),
    h("label", {}, "Destination", destination), h("button", { type: "submit" }, "Search")),
    table(["received", "complaint", "category", "city", "status", "rules"], found.complaints.map((c) => h("tr", {},
      h("td", {}, when(c.received_at)), h("td", {}, h("a", { href: `#/complaints/${c.id}` }, c.title || c.id), h("div", { class: "muted" }, `${c.channel} ${c.external_ref || ""}`)),
      h("td", {}, c.category || "—"), h("td", {}, c.city || "—"), h("td", {}, badge(c.status)), h("td", {}, c.ruleset_version || "—")))),
    found.complaints.length ? "" : h("p", { class: "muted" }, "No complaint matches.")));
}

// -- destinations --------------------------------------------------------------------------
async function pageDestinations() {
  const { destinations } = await api("/v1/admin/destinations");
  const reason = h("input", { id: "destination-reason", placeholder: "why (required for pause, resume, secret rotation)" });
  const msg = h("div", { id: "destination-message" });
  async function act(fn) {
    try { const r = await fn(); msg.replaceChildren(h("div", { class: "notice" }, r)); }
    catch (e) { msg.replaceChildren(h("div", { class: "notice bad" }, e.message), errorList(e.body.errors) || ""); }
  }
  const rows = destinations.map((d) => {
    const hl = d.health || {};
    const actions = isAdmin() ? [
      h("button", { class: "secondary", onclick: () => act(async () => { await post(`/v1/admin/destinations/${d.id}/${d.paused ? "resume" : "pause"}`, { reason: reason.value }); setTimeout(route, 300); return `${d.id} ${d.paused ? "resumed" : "paused"}.`; }) }, d.paused ? "Resume" : "Pause"),
      h("button", { class: "secondary", onclick: () => act(async () => { const r = await post(`/v1/admin/destinations/${d.id}/test`); return `Test delivery to ${d.id}: ${r.outcome}${r.status ? ` (HTTP ${r.status})` : ""}${r.detail ? `: ${r.detail}` : ""}.`; }) }, "Test"),
      d.adapter === "webhook" ? h("button", { class: "secondary", onclick: () => act(async () => { const r = await post(`/v1/admin/destinations/${d.id}/rotate-secret`, { reason: reason.value, overlap_hours: 24 }); return `New secret for ${d.id} (shown once): ${r.secret}; the old one also signs until ${when(r.old_secret_signs_until)}.`; }) }, "Rotate secret") : "",
    ] : [];
    return h("tr", { id: `destination-${d.id}` }, h("td", {}, h("strong", {}, d.name), h("div", { class: "muted" }, `${d.id} · ${d.kind} · ${d.adapter}`)),
      h("td", {}, d.paused ? badge("paused") : badge("running"), hl.circuit ? h("div", {}, `circuit ${hl.circuit}`) : ""),
      h("td", {}, when(hl.last_success)), h("td", { class: "hide-narrow" }, hl.last_error ? h("span", { class: "error" }, `${when(hl.last_error.at)}: ${hl.last_error.reason}`) : "—"),
      h("td", {}, `${hl.pending ?? "?"} pending`, hl.overdue ? h("div", { class: "error", title: "pending past their schedule with nothing in flight; the reconciler re-queues them" }, `${hl.overdue} overdue`) : "",
        hl.queue_depth !== null && hl.queue_depth !== undefined ? h("div", { class: "muted" }, `${hl.queue_depth} in queue`) : ""),
      h("td", {}, actions));
  });
  const filter = h("input", { type: "search", id: "destination-filter", placeholder: "name, id, kind or adapter", oninput: () => {
    const words = filter.value.toLowerCase();
    for (const tr of rows) tr.hidden = words && !tr.textContent.toLowerCase().includes(words);
  } });
  show(h("h1", {}, "Destinations"), h("section", { class: "card" },
    h("div", { class: "row" }, h("label", {}, "Find", filter), isAdmin() ? h("label", {}, "Reason", reason) : ""), msg,
    table(["destination", "state", "last success", "last error", "waiting", ""], rows),
    h("p", { class: "muted" }, "A paused destination's deliveries wait in its queue and go out, in order, when it resumes. Circuit state shows where the hub has a circuit breaker. \"Overdue\" counts deliveries pending past their schedule with nothing in flight (laporhub_deliveries_overdue); the reconciler re-queues them within minutes.")));
}

// -- pages backed by other parts of the hub ----------------------------------------------------
function unavailable(title, what) {
  show(h("h1", {}, title), h("div", { class: "unavailable", id: "unavailable" }, `${what} is not available in this version of the hub.`));
}
async function pageDeadLetters() {
  const data = await sources.deadLetters();
  if (data === null) return unavailable("Dead letters", "The dead-letter list");
  const items = data.dead_letters || data.items || [];
  const msg = h("div", {});
  show(h("h1", {}, "Dead letters"), msg, h("section", { class: "card" }, table(["when", "stage", "reason", "complaint", ""], items.map((d) => h("tr", {},
    h("td", {}, when(d.dead_at)), h("td", {}, d.stage), h("td", {}, d.reason), h("td", {}, d.complaint_id ? h("a", { href: `#/complaints/${d.complaint_id}` }, d.complaint_id) : "—"),
    h("td", {}, isAdmin() && d.id !== undefined ? h("button", { class: "secondary", onclick: async () => {
      try { await sources.replayDeadLetter(d.id); msg.replaceChildren(h("div", { class: "notice" }, `Replayed ${d.id}.`)); }
      catch (e) { msg.replaceChildren(h("div", { class: "notice bad" }, e.message)); } } }, "Replay") : "")))),
    items.length ? "" : h("p", { class: "muted" }, "No dead letters.")));
}
// -- keys and the audit --------------------------------------------------------------------
async function pageKeys() {
  if (!isAdmin()) return show(h("h1", {}, "Keys"), h("div", { class: "unavailable" }, "Only administrators manage keys."));
  const { keys, roles } = await api("/v1/admin/keys");
  const name = h("input", { id: "key-name", placeholder: "who or what uses it" });
  const role = h("select", { id: "key-role" }, Object.keys(roles).map((r) => h("option", { value: r }, r)));
  const scope = h("input", { id: "key-scope", placeholder: "channel or destination id" });
  const reason = h("input", { id: "key-reason", placeholder: "why (required)" });
  const msg = h("div", { id: "key-message" });
  const act = async (fn) => { try { await fn(); } catch (e) { msg.replaceChildren(h("div", { class: "notice bad" }, e.message), errorList(e.body.errors) || ""); } };
  show(h("h1", {}, "API keys"), h("section", { class: "card" },
    h("div", { class: "row" }, h("label", {}, "Name", name), h("label", {}, "Role", role), h("label", {}, "Scope", scope), h("label", {}, "Reason", reason),
      h("button", { onclick: () => act(async () => {
        const r = await post("/v1/admin/keys", { name: name.value, role: role.value, scope: scope.value || null, reason: reason.value });
        msg.replaceChildren(h("div", { class: "notice" }, "New key (shown once; copy it now): ", h("code", { id: "new-key" }, r.key)));
      }) }, "Create key")), msg,
    table(["name", "role", "scope", "created", ""], keys.map((k) => h("tr", {}, h("td", {}, k.name, h("div", { class: "muted" }, k.id)), h("td", {}, k.role),
      h("td", {}, k.scope || "—"), h("td", {}, `${when(k.created_at)} by ${k.created_by}`),
      h("td", {}, k.id === state.who.key_id ? h("span", { class: "muted" }, "this key") : h("button", { class: "danger", onclick: () => act(async () => {
        await post(`/v1/admin/keys/${k.id}/revoke`, { reason: reason.value }); route(); }) }, "Revoke")))))));
}
async function pageAudit() {
  const { changes } = await api("/v1/admin/changes?limit=200");
  show(h("h1", {}, "Administrative changes"), h("section", { class: "card" },
    table(["when", "who", "what", "reason", "before → after"], changes.map((c) => h("tr", {}, h("td", {}, when(c.at)), h("td", {}, c.actor),
      h("td", {}, `${c.action} ${c.target}`), h("td", {}, c.reason),
      h("td", { class: "hide-narrow" }, h("details", {}, h("summary", {}, "show"), h("pre", {}, JSON.stringify({ before: c.before, after: c.after }, null, 2)))))))));
}

// -- routing ---------------------------------------------------------------------------------
const pages = { rules: pageRules, explain: pageExplain, complaints: pageComplaints, destinations: pageDestinations,
  "dead-letters": pageDeadLetters, keys: pageKeys, audit: pageAudit,
  ...window.consolePages };  // pages in their own files: city/*.js (overview, handoff, sla, complaint)

async function route() {
  const [path, query] = (location.hash.slice(2) || "rules").split("?");
  const [name, arg] = path.split("/");
  if (name === "signin" || !sessionStorage.getItem(KEY)) return pageSignIn("");
  if (!state.who) {
    try { signedIn(await api("/v1/admin/whoami")); } catch (_) { return; }
  }
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("href") === `#/${name}`);
  try {
    if (name === "complaints" && arg) await pages.complaint(arg);
    else await (pages[name] || pageRules)(new URLSearchParams(query || ""));
    main.setAttribute("data-page", name);
  } catch (e) {
    if (e.status !== 401) show(h("div", { class: "notice bad" }, `Could not load this page: ${e.message}`));
  }
}
window.addEventListener("hashchange", route);
route();
