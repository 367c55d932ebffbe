// Seeing the city: shared pieces of the overview, hand-offs, SLA and complaint pages.
// Loaded before console.js; page functions register in window.consolePages and use console.js's
// h(), api(), show(), badge() when they run. ECharts and Leaflet are vendored (no CDN).
"use strict";

window.consolePages = window.consolePages || {};

const WIB_FORMAT = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Jakarta", day: "numeric", month: "short",
  year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
// Jakarta works in WIB (UTC+7), whatever the browser's zone: every time is shown there, with the zone.
function wib(iso) { return iso ? `${WIB_FORMAT.format(new Date(iso))} WIB` : "—"; }
function hours(x) { return x === null || x === undefined ? "—" : `${Number(x).toLocaleString("en", { maximumFractionDigits: 1 })} h`; }

const SECTOR_COLOURS = { government: "#0b5cad", "state-owned": "#c77700", private: "#7b3fa0" };
const PALETTE = ["#0b5cad", "#c77700", "#1e7d32", "#b3261e", "#7b3fa0", "#00838f", "#6d4c41", "#ad1457",
  "#558b2f", "#5c6bc0", "#ef6c00", "#546e7a"];
const BOUNDARY_ATTRIBUTION = "Kecamatan/kelurahan boundaries: PetaJakarta.org, SMART Infrastructure Facility, " +
  "University of Wollongong (cognicity-schema), CC BY-SA 4.0, modified.";
const MAINLAND = [[-6.375, 106.685], [-6.085, 106.975]];

// A chart that follows its box's size (phones rotate; the console's columns reflow).
function chart(el, option, onClick) {
  const c = echarts.init(el, null, { renderer: "canvas" });
  c.setOption({ textStyle: { fontFamily: "system-ui, sans-serif" }, ...option });
  if (onClick) c.on("click", onClick);
  // Once the page is left, the box is detached (0 x 0): let the chart go instead of resizing it.
  const watch = new ResizeObserver(() => {
    if (el.isConnected) c.resize();
    else { watch.disconnect(); c.dispose(); }
  });
  watch.observe(el);
  el.chart = c;
  return c;
}

let boundaryCache = null;
async function boundaries() {
  if (!boundaryCache) boundaryCache = fetch("/admin/boundaries/kecamatan.geojson").then((r) => r.json());
  return boundaryCache;
}

// The kecamatan boundaries as the base layer (no tile server: the console works offline).
async function cityMap(el, style, onKecamatan) {
  const geo = await boundaries();
  const map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(BOUNDARY_ATTRIBUTION);
  const layer = L.geoJSON(geo, {
    style: (f) => ({ color: "#5b6675", weight: 0.8, fillColor: "#e9edf2", fillOpacity: 0.9, ...(style ? style(f) : {}) }),
    onEachFeature: (f, l) => {
      l.options.kode = f.properties.kode_kecamatan;
      if (l.getElement) l.on("add", () => l.getElement() && l.getElement().setAttribute("data-kode", f.properties.kode_kecamatan));
      if (onKecamatan) l.on("click", () => onKecamatan(f.properties));
    },
  }).addTo(map);
  map.fitBounds(MAINLAND);
  for (const l of layer.getLayers()) {
    const path = l.getElement && l.getElement();
    if (path) path.setAttribute("data-kode", l.feature.properties.kode_kecamatan);
  }
  new ResizeObserver(() => map.invalidateSize()).observe(el);
  return { map, layer };
}

// "The complaints behind this number": a list under the chart, each a link to its page.
async function showBehind(panel, title, ids) {
  panel.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  const found = ids.length ? (await api(`/v1/admin/reports/complaints?ids=${ids.map(encodeURIComponent).join(",")}`)).complaints : [];
  panel.replaceChildren(h("h2", { id: "behind-title" }, `${title}: ${found.length} complaint${found.length === 1 ? "" : "s"}`),
    stackTable(["received", "complaint", "category", "city", "state"], found.map((c) => [
      wib(c.received_at), h("a", { href: `#/complaints/${c.id}`, class: "behind-link" }, c.title || c.id),
      c.category || "—", c.city || "—", badge(c.state)]), "behind-table"));
  panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// A table that becomes one card per row on a phone, every cell labelled: no clipped columns.
function stackTable(headers, rows, id) {
  return h("table", { class: "stack", id }, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows.map((cells) => cells instanceof Node ? cells : h("tr", {},
      cells.map((c, i) => h("td", { "data-label": headers[i] }, c))))));
}

function stat(id, label, value, onClick) {
  return h("button", { class: "stat", id, type: "button", onclick: onClick }, h("span", { class: "stat-value" }, String(value)),
    h("span", { class: "stat-label" }, label));
}

function select(id, label, options, value, onchange) {
  const el = h("select", { id, onchange }, options.map(([v, text]) => h("option", { value: v }, text)));
  el.value = value || "";
  return h("label", {}, label, el);
}

const WINDOWS = [["7d", "last 7 days"], ["14d", "last 14 days"], ["30d", "last 30 days"], ["90d", "last 90 days"],
  ["365d", "last year"]];
