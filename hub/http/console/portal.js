// LaporHub destination portal: a destination's key works its own complaints here.
// Same sign-in storage as the console (a destination key signing in there is sent here).
// No build step; text is always set as text, never parsed as HTML.
"use strict";

const KEY = "laporhub.key";
const main = document.getElementById("main");
const state = { who: null, adapter: null };

const el = h;  // dom.js
const put = (...nodes) => main.replaceChildren(...nodes);
const wib = (iso) => (iso ? new Date(iso).toLocaleString("id-ID", { timeZone: "Asia/Jakarta", dateStyle: "medium", timeStyle: "short" }) + " WIB" : "—");
const grid = (heads, rows) => el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, heads.map((x) => el("th", {}, x)))), el("tbody", {}, rows)));
const problems = (e) => el("div", { class: "notice bad" }, e.message, (e.body && e.body.errors || []).length
  ? el("ul", { class: "errors" }, e.body.errors.map((x) => el("li", {}, `${x.field}: ${x.reason}`))) : "");

class Refusal extends Error { constructor(status, body) { super(body.message || `HTTP ${status}`); this.status = status; this.body = body; } }
async function call(path, method = "GET", body) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = {};
  try { data = await resp.json(); } catch (_) { data = {}; }
  if (resp.status === 401) { signOut(`Kunci tidak diterima lagi: ${data.message || ""}`); throw new Refusal(401, data); }
  if (!resp.ok) throw new Refusal(resp.status, data);
  return data;
}

// -- SLA clocks --------------------------------------------------------------------------------
function clock(item) {
  if (!item.due) return el("span", { class: "muted" }, "tanpa batas");
  const ms = new Date(item.due) - Date.now();
  const hours = Math.abs(ms) / 3.6e6;
  const text = hours >= 48 ? `${Math.round(hours / 24)} hari` : `${Math.floor(hours)} j ${Math.round((hours % 1) * 60)} m`;
  if (item.overdue) return el("span", { class: "badge overdue clock" }, `terlambat ${text}`);
  return el("span", { class: `badge clock ${hours < 4 ? "due-soon" : ""}` }, `sisa ${text}`);
}

// -- sign in -------------------------------------------------------------------------------------
function signOut(message) {
  sessionStorage.removeItem(KEY);
  state.who = null;
  document.getElementById("nav").hidden = true;
  document.getElementById("who").textContent = "";
  location.hash = "#/signin";
  pageSignIn(message);
}

function pageSignIn(message) {
  const input = el("input", { type: "password", id: "key", autocomplete: "off", placeholder: "lhk_…" });
  const out = el("div", { id: "signin-message", class: message ? "notice bad" : "" }, message || "");
  put(el("section", { class: "card signin" }, el("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    try {
      const who = await call("/v1/admin/whoami");
      if (who.role !== "destination") {
        sessionStorage.removeItem(KEY);
        out.className = "notice bad";
        out.textContent = `Ditolak: ini kunci ${who.role}. Portal ini untuk kunci tujuan (destination); administrator memakai /admin.`;
        return;
      }
      location.hash = "#/inbox";
      route();
    } catch (e) { out.className = "notice bad"; out.textContent = `Ditolak: ${e.message}`; }
  } }, el("h1", {}, "Masuk ke portal"),
  el("p", { class: "muted" }, "Tempel kunci API instansi Anda. Kunci hanya disimpan di tab ini."),
  el("label", { for: "key" }, "Kunci API"), input,
  el("div", { class: "row" }, el("button", { type: "submit", id: "signin" }, "Masuk")), out)));
}

async function whoami() {
  const who = await call("/v1/admin/whoami");
  if (who.role !== "destination") { location.href = "/admin"; throw new Refusal(403, { message: "not a destination key" }); }
  const inbox = await call("/v1/portal/inbox");
  state.who = who; state.adapter = inbox.adapter;
  document.getElementById("nav").hidden = false;
  document.getElementById("nav-endpoint").hidden = !["webhook", "email"].includes(inbox.adapter);
  document.getElementById("who").replaceChildren(`${inbox.name} (${who.scope}) `,
    el("a", { href: "#/signin", onclick: () => signOut("") }, "keluar"));
}

// -- inbox -----------------------------------------------------------------------------------------
async function pageInbox() {
  const data = await call("/v1/portal/inbox");
  const rows = data.open.map((i) => el("tr", { class: i.overdue ? "overdue" : "", "data-complaint": i.complaint_id },
    el("td", {}, clock(i)),
    el("td", {}, el("a", { href: `#/complaints/${i.complaint_id}` }, i.title || i.complaint_id), el("div", { class: "muted" }, i.complaint_id)),
    el("td", {}, i.category_name || i.category || "—", el("div", { class: "muted" }, i.urgency || "")),
    el("td", {}, el("span", { class: "badge" }, i.state)),
    el("td", { class: "hide-narrow" }, wib(i.acknowledge_by)), el("td", { class: "hide-narrow" }, wib(i.resolve_by))));
  put(el("h1", {}, `Kotak masuk · ${data.name}`),
    data.failed ? el("div", { class: "notice bad", id: "failed-notice" }, `${data.failed} kiriman ke Anda gagal. `,
      el("a", { href: "#/recover" }, "Kirim ulang")) : "",
    el("section", { class: "card" },
      el("p", { class: "muted" }, `${data.open.length} aduan terbuka; yang terlambat di atas. Batas waktu dihitung dalam jam kerja.`),
      grid(["batas", "aduan", "kategori", "status", "tanggapi sebelum", "selesaikan sebelum"], rows),
      data.open.length ? "" : el("p", { class: "muted", id: "inbox-empty" }, "Tidak ada aduan terbuka.")));
}

// -- one complaint -------------------------------------------------------------------------------
const LABELS = { acknowledge: "Terima", progress: "Laporkan perkembangan", resolve: "Selesai", not_ours: "Bukan wewenang kami", transfer: "Alihkan" };

function actionForm(view, action, msg) {
  const f = {};
  const field = (name, label, area) => { f[name] = el(area ? "textarea" : "input", { id: `f-${name}`, name }); return el("label", {}, label, f[name]); };
  const parts = [];
  if (["acknowledge", "progress", "resolve"].includes(action)) parts.push(field("note", action === "resolve" ? "Apa yang sudah dikerjakan (dibaca warga)" : "Catatan untuk warga", true));
  if (["progress", "resolve"].includes(action)) parts.push(field("photo_url", "Tautan foto (opsional, http/https)"));
  if (action === "not_ours") parts.push(field("reason", "Alasan", true), field("suggested_destination", "Seharusnya ke (opsional)"));
  if (action === "transfer") {
    f.transfer_to = el("select", { id: "f-transfer_to" }, view.transfer_to.map((t) => el("option", { value: t.id }, `${t.name} (${t.id})`)));
    parts.push(el("label", {}, "Alihkan ke", f.transfer_to), field("reason", "Alasan", true));
  }
  return el("form", { class: "action-form", id: `form-${action}`, onsubmit: async (ev) => {
    ev.preventDefault();
    const body = { action };
    for (const [k, input] of Object.entries(f)) if (input.value) body[k] = input.value;
    try {
      const r = await call(`/v1/portal/complaints/${encodeURIComponent(view.id)}/status`, "POST", body);
      msg.replaceChildren(el("div", { class: "notice", id: "action-done" }, `Tercatat: ${r.state}.`,
        r.rerouted_to.length ? ` Diteruskan ke ${r.rerouted_to.join(", ")}.` : ""));
      setTimeout(route, 600);
    } catch (e) { msg.replaceChildren(problems(e)); }
  } }, el("h2", {}, LABELS[action]), parts, el("div", { class: "row" }, el("button", { type: "submit", id: `submit-${action}` }, LABELS[action])));
}

async function pageComplaint(id) {
  const v = await call(`/v1/portal/complaints/${encodeURIComponent(id)}`);
  const msg = el("div", { id: "action-message" });
  const box = el("div", {});
  const loc = v.location || {};
  const place = [loc.address, loc.kelurahan, loc.kecamatan, loc.kota].filter(Boolean).join(", ");
  const hasPoint = loc.latitude !== undefined && loc.longitude !== undefined;
  const d = 0.004;
  // The map loads from OpenStreetMap only when asked: the complaint's place is not sent to a
  // third party just by opening the page.
  const frame = el("div", { id: "map-frame" }, el("button", { class: "secondary", id: "show-map", onclick: () => frame.replaceChildren(
    el("iframe", { class: "map", title: "peta", referrerpolicy: "no-referrer",
      src: `https://www.openstreetmap.org/export/embed.html?bbox=${loc.longitude - d},${loc.latitude - d},${loc.longitude + d},${loc.latitude + d}&marker=${loc.latitude},${loc.longitude}` })) },
    "Tampilkan peta OpenStreetMap"));
  const map = hasPoint ? el("div", {}, frame,
    el("a", { href: `https://www.openstreetmap.org/?mlat=${loc.latitude}&mlon=${loc.longitude}#map=18/${loc.latitude}/${loc.longitude}`, target: "_blank", rel: "noopener" },
      `Buka peta (${loc.latitude}, ${loc.longitude})`)) : el("p", { class: "muted" }, "Tanpa koordinat.");
  put(el("h1", {}, v.title || v.id),
    el("div", { class: "grid" },
      el("section", { class: "card" },
        el("p", {}, el("span", { class: "badge", id: "delivery-state" }, v.state), " ", clock(v.delivery), el("span", { class: "muted" }, ` ${v.id} · ${v.channel} ${v.external_ref || ""}`)),
        el("p", { class: "complaint-text", id: "complaint-text" }, v.text),
        el("p", {}, el("strong", {}, "Lokasi: "), place || "—"),
        el("p", {}, el("strong", {}, "Kategori: "), v.category_name || v.category || "—", " · ", el("strong", {}, "Urgensi: "), v.urgency || "—"),
        v.reporter ? el("p", {}, el("strong", {}, "Pelapor: "), Object.values(v.reporter).join(", ")) : "",
        v.attachments.length ? el("p", {}, "Lampiran: ", v.attachments.map((a) => el("a", { href: a, target: "_blank", rel: "noopener" }, a.split("/").pop() || a))) : "",
        el("div", { class: "actions" }, v.may.map((a) => el("button", { class: a === "not_ours" ? "danger" : "secondary", "data-action": a,
          onclick: () => { box.replaceChildren(actionForm(v, a, msg)); msg.replaceChildren(); } }, LABELS[a]))),
        v.may.length ? "" : el("p", { class: "muted" }, "Tidak ada tindakan lagi untuk aduan ini."),
        box, msg),
      el("section", { class: "card" }, el("h2", {}, "Peta"), map,
        el("p", { class: "muted" }, `Tanggapi sebelum ${wib(v.delivery.acknowledge_by)}; selesaikan sebelum ${wib(v.delivery.resolve_by)}.`))),
    el("section", { class: "card" }, el("h2", {}, "Riwayat"),
      el("ol", { class: "timeline", id: "timeline" }, v.timeline.map((e) => el("li", {}, el("strong", {}, e.type), ` ${wib(e.at)}`,
        e.by ? ` · ${e.by}` : "", e.note || e.resolution_note || e.reason || e.detail ? el("div", { class: "muted" }, e.note || e.resolution_note || e.reason || e.detail) : "")))));
}

// -- endpoint: URL, secret, test send, attempt log ------------------------------------------------
async function pageEndpoint() {
  const ep = await call("/v1/portal/endpoint");
  const msg = el("div", { id: "endpoint-message" });
  const reason = el("input", { id: "rotate-reason", placeholder: "alasan (wajib, dicatat)" });
  const act = async (fn) => { try { msg.replaceChildren(el("div", { class: "notice" }, await fn())); } catch (e) { msg.replaceChildren(problems(e)); } };
  const rows = ep.attempts.map((a) => el("tr", {}, el("td", {}, wib(a.at)), el("td", {}, el("span", { class: `badge ${a.outcome}` }, a.outcome)),
    el("td", {}, a.status_code ?? "—"), el("td", {}, a.duration_ms !== null ? `${Math.round(a.duration_ms)} ms` : "—"),
    el("td", { class: "snippet" }, el("code", {}, a.response || a.detail)), el("td", { class: "muted hide-narrow" }, a.delivery_id)));
  put(el("h1", {}, "Endpoint"), el("section", { class: "card" },
    ep.url ? el("p", {}, el("strong", {}, "URL: "), el("code", { id: "endpoint-url" }, ep.url)) : el("p", {}, el("strong", {}, "E-mail: "), [].concat(ep.to || []).join(", ")),
    ep.secret_overlap.length ? el("p", { class: "muted" }, `Rahasia lama masih menandatangani sampai ${wib(ep.secret_overlap[0].until)}.`) : "",
    el("div", { class: "row" },
      el("button", { class: "secondary", id: "test-send", onclick: () => act(async () => { const r = await call("/v1/portal/endpoint/test", "POST", {}); setTimeout(route, 800); return `Kiriman uji: ${r.outcome}` + (r.status ? ` (HTTP ${r.status})` : "") + (r.detail ? `: ${r.detail}` : "") + "."; }) }, "Kirim uji"),
      ep.url ? el("label", {}, "Alasan rotasi", reason) : "",
      ep.url ? el("button", { class: "secondary", id: "rotate-secret", onclick: () => act(async () => { const r = await call("/v1/portal/endpoint/rotate-secret", "POST", { reason: reason.value }); return `Rahasia baru (hanya ditampilkan sekali): ${r.secret}`; }) }, "Ganti rahasia") : ""),
    msg),
    el("section", { class: "card" }, el("h2", {}, "Log percobaan"),
      grid(["waktu", "hasil", "kode", "durasi", "keterangan", "kiriman"], rows),
      rows.length ? "" : el("p", { class: "muted" }, "Belum ada percobaan.")));
}

// -- recover ---------------------------------------------------------------------------------------
function pageRecover() {
  const since = el("input", { type: "datetime-local", id: "recover-since" });
  since.value = new Date(Date.now() - 6 * 3.6e6 + 7 * 3.6e6).toISOString().slice(0, 16);
  const reason = el("input", { id: "recover-reason", placeholder: "alasan (wajib, dicatat)" });
  const out = el("div", { id: "recover-result" });
  const iso = () => `${since.value}:00+07:00`;
  const count = el("button", { class: "secondary", id: "recover-count", onclick: async () => {
    try {
      const p = await call(`/v1/portal/recover?since=${encodeURIComponent(iso())}`);
      const confirm = el("button", { id: "recover-confirm", disabled: !p.count, onclick: async () => {
        try {
          const r = await call("/v1/portal/recover", "POST", { since: iso(), expected: p.count, reason: reason.value });
          out.replaceChildren(el("div", { class: "notice", id: "recover-done" }, `${r.resent} kiriman dikirim ulang.`));
        } catch (e) { out.replaceChildren(problems(e)); }
      } }, `Kirim ulang ${p.count}`);
      out.replaceChildren(el("p", { id: "recover-preview" }, `${p.count} kiriman gagal sejak ${wib(p.since)} (${p.dead} mati, ${p.failing} sedang dicoba ulang).`),
        grid(["kiriman", "aduan", "status", "kesalahan terakhir"], p.deliveries.map((x) => el("tr", {}, el("td", {}, x.id), el("td", {}, x.complaint_id), el("td", {}, x.status), el("td", {}, x.last_error || "")))),
        el("div", { class: "row" }, confirm));
    } catch (e) { out.replaceChildren(problems(e)); }
  } }, "Hitung");
  put(el("h1", {}, "Kirim ulang yang gagal"), el("section", { class: "card" },
    el("p", { class: "muted" }, "Setelah gangguan di sisi Anda: kirim ulang semua kiriman yang gagal sejak waktu tertentu. Yang sudah terkirim tidak dikirim lagi."),
    el("div", { class: "row" }, el("label", {}, "Sejak (WIB)", since), el("label", {}, "Alasan", reason), count), out));
}

// -- routing ---------------------------------------------------------------------------------------
async function route() {
  const [name, arg] = (location.hash.slice(2) || "inbox").split("/");
  if (name === "signin" || !sessionStorage.getItem(KEY)) return pageSignIn("");
  try {
    if (!state.who) await whoami();
    for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("href") === `#/${name}`);
    if (name === "complaints" && arg) await pageComplaint(decodeURIComponent(arg));
    else if (name === "endpoint") await pageEndpoint();
    else if (name === "recover") pageRecover();
    else await pageInbox();
    main.setAttribute("data-page", name);
  } catch (e) {
    if (e.status !== 401) put(el("div", { class: "notice bad", id: "page-error" }, `Halaman tidak dapat dimuat: ${e.message}`));
  }
}
window.addEventListener("hashchange", route);
route();
