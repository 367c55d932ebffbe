// Overview: complaints per day by category, open / overdue / resolved, first response by
// destination, and the city map (kecamatan shaded by open complaints, points, incidents).
"use strict";

const CITIES = [["", "every city"], ["jakarta-pusat", "Jakarta Pusat"], ["jakarta-utara", "Jakarta Utara"],
  ["jakarta-barat", "Jakarta Barat"], ["jakarta-selatan", "Jakarta Selatan"], ["jakarta-timur", "Jakarta Timur"],
  ["kepulauan-seribu", "Kepulauan Seribu"]];

window.consolePages.overview = async function pageOverview(params) {
  const filters = { since: params.get("since") || "30d", city: params.get("city") || "",
    category: params.get("category") || "", destination: params.get("destination") || "" };
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  const [data, dests] = await Promise.all([api(`/v1/admin/reports/overview?${query}`), api("/v1/admin/destinations?health=false")]);
  const go = (key) => (ev) => {
    const next = new URLSearchParams(Object.entries({ ...filters, [key]: ev.target.value }).filter(([, v]) => v));
    location.hash = `#/overview?${next}`;
  };
  const categories = [...new Set([...data.per_day.series.map((s) => s.category), filters.category].filter(Boolean))].sort();
  const behind = h("section", { class: "card", id: "behind" });
  const t = data.totals;
  const ids = data.totals_complaints || {};
  const perDay = h("div", { class: "chart", id: "chart-per-day" });
  const firstResponse = h("div", { class: "chart", id: "chart-first-response",
    style: `height:${Math.max(220, 26 * data.first_response.length + 60)}px` });
  const mapBox = h("div", { class: "map", id: "overview-map" });
  show(h("h1", {}, "Overview"),
    h("section", { class: "card filters" }, h("div", { class: "row" },
      select("filter-since", "Time window", WINDOWS, filters.since, go("since")),
      select("filter-city", "City", CITIES, filters.city, go("city")),
      select("filter-category", "Category", [["", "every category"], ...categories.map((c) => [c, c])], filters.category, go("category")),
      select("filter-destination", "Destination", [["", "every destination"], ...dests.destinations.map((d) => [d.id, d.name])],
        filters.destination, go("destination")))),
    h("section", { class: "stats" },
      stat("total-open", "open", t.open, () => showBehind(behind, "Open", ids.open || [])),
      stat("total-overdue", "overdue (SLA breached)", t.overdue, () => showBehind(behind, "Overdue", ids.overdue || [])),
      stat("total-resolved", "resolved", t.resolved, () => showBehind(behind, "Resolved", ids.resolved || [])),
      stat("total-complaints", `received (${t.duplicates} repeats linked)`, t.complaints)),
    h("section", { class: "card" }, h("h2", {}, "Open complaints by kecamatan"),
      h("p", { class: "muted" }, "Darker: more open complaints. Dots are complaints with coordinates; red markers are incidents. Click a kecamatan for its complaints."),
      mapBox, h("div", { class: "legend", id: "map-legend" })),
    h("section", { class: "card" }, h("h2", {}, "Complaints per day by category (WIB)"), perDay),
    h("section", { class: "card" }, h("h2", {}, "Median time to first response by destination"),
      h("p", { class: "muted" }, "Hours from delivery to the destination's first answer; waiting ones are not counted in the median."),
      firstResponse),
    behind);

  const series = data.per_day.series.map((s, i) => ({ name: s.category, type: "bar", stack: "day", data: s.counts,
    itemStyle: { color: PALETTE[i % PALETTE.length] }, emphasis: { focus: "series" } }));
  chart(perDay, { tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 }, grid: { left: 36, right: 12, top: 40, bottom: 30 },
    xAxis: { type: "category", data: data.per_day.days.map((d) => d.slice(5)) }, yAxis: { type: "value", minInterval: 1 }, series },
  (p) => showBehind(behind, `${p.seriesName} on ${data.per_day.days[p.dataIndex]}`,
    data.per_day.complaints[`${data.per_day.days[p.dataIndex]}|${p.seriesName}`] || []));
  const fr = [...data.first_response].reverse();
  chart(firstResponse, { tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 8, right: 40, top: 10, bottom: 24, containLabel: true },
    xAxis: { type: "value", name: "h", nameLocation: "end" },
    yAxis: { type: "category", data: fr.map((d) => d.destination), axisLabel: { width: 170, overflow: "truncate" } },
    series: [{ type: "bar", data: fr.map((d) => d.median_hours ?? 0), itemStyle: { color: "#0b5cad" },
      label: { show: true, position: "right", formatter: (p) => `${fr[p.dataIndex].median_hours ?? "—"} h · ${fr[p.dataIndex].waiting} waiting` } }] });

  const open = Object.fromEntries(data.by_kecamatan.map((k) => [k.kode, k]));
  const most = Math.max(1, ...data.by_kecamatan.map((k) => k.open));
  const shade = (n) => (n ? `rgba(179, 38, 30, ${0.15 + 0.75 * n / most})` : "#eef1f5");
  const { map } = await cityMap(mapBox, (f) => ({ fillColor: shade((open[f.properties.kode_kecamatan] || {}).open || 0) }),
    (props) => { const k = open[props.kode_kecamatan];
      showBehind(behind, `Open in ${props.kecamatan} (${props.kota})`, k ? k.complaints : []); });
  for (const p of data.points) {
    L.circleMarker([p.lat, p.lon], { radius: 4, weight: 1, color: "#1c2430", fillColor: p.duplicate ? "#9aa4b1" : "#0b5cad",
      fillOpacity: 0.8, className: "complaint-point" })
      .bindTooltip(`${p.title} (${p.category}, ${p.state})`).on("click", () => { location.hash = `#/complaints/${p.id}`; }).addTo(map);
  }
  for (const inc of data.incidents) {
    if (!inc.centre) continue;
    L.marker([inc.centre[1], inc.centre[0]], { icon: L.divIcon({ className: "incident-marker", html: `<span>${inc.count}</span>`, iconSize: [28, 28] }) })
      .bindTooltip(`Incident: ${inc.count} ${inc.category} complaints in ${inc.kecamatan.split("/")[1]} since ${wib(inc.started_at)}`)
      .on("click", () => showBehind(behind, `Incident: ${inc.category} in ${inc.kecamatan.split("/")[1]}`, inc.complaints)).addTo(map);
  }
  document.getElementById("map-legend").replaceChildren(
    h("span", { class: "swatch", style: `background:${shade(most)}` }), ` ${most} open  `,
    h("span", { class: "swatch", style: `background:${shade(Math.ceil(most / 2))}` }), ` ${Math.ceil(most / 2)}  `,
    h("span", { class: "swatch", style: "background:#eef1f5" }), " none · ", wibNow());
};

function wibNow() { return `as of ${wib(new Date().toISOString())}`; }
