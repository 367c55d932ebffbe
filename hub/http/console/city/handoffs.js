// Hand-offs: where complaints bounce between government, state-owned and private destinations.
// A Sankey (sector -> destination that passed it on -> destination that got it -> sector), the
// hours lost per border, the weekly trend, and the complaints behind every number.
"use strict";

window.consolePages.handoff = async function pageHandoffs(params) {
  const since = params.get("since") || "90d";
  const data = await api(`/v1/admin/reports/handoffs?since=${encodeURIComponent(since)}`);
  const behind = h("section", { class: "card", id: "behind" });
  const sankeyBox = h("div", { class: "chart tall", id: "chart-sankey" });
  const weeklyBox = h("div", { class: "chart", id: "chart-weekly" });
  const csv = h("button", { class: "secondary", id: "handoffs-csv", type: "button", onclick: async () => {
    const resp = await fetch(`/v1/admin/reports/handoffs?since=${encodeURIComponent(since)}&format=csv`,
      { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` } });
    const url = URL.createObjectURL(await resp.blob());
    h("a", { href: url, download: `handoffs-${since}.csv` }).click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } }, "Download CSV");
  const crossing = data.by_border.filter((b) => b.crosses);
  show(h("h1", {}, "Hand-offs between government and operators"),
    h("section", { class: "card filters" }, h("div", { class: "row" },
      select("handoffs-since", "Time window", WINDOWS, since, (ev) => { location.hash = `#/handoff?since=${ev.target.value}`; }),
      h("div", { class: "legend" }, Object.entries(SECTOR_COLOURS).map(([s, c]) => h("span", {}, h("span", { class: "swatch", style: `background:${c}` }), ` ${s} `))),
      csv)),
    h("section", { class: "stats" },
      stat("handoffs-total", "rejections and transfers", data.hops, () => showBehind(behind, "Every hand-off",
        [...new Set(data.by_pair.flatMap((p) => p.complaints))])),
      stat("handoffs-crossing", "crossed a sector border", crossing.reduce((n, b) => n + b.hops, 0),
        () => showBehind(behind, "Crossed a border", [...new Set(crossing.flatMap((b) => b.complaints))])),
      stat("handoffs-hours", "hours lost at borders", hours(crossing.reduce((n, b) => n + b.total_hours_lost, 0)))),
    h("section", { class: "card" }, h("h2", {}, "Who passes complaints to whom"),
      h("p", { class: "muted" }, "Left to right: the sector a complaint leaves, the destination that rejected or transferred it, the one that got it, its sector. Click a band for its complaints."),
      data.hops ? sankeyBox : h("p", { class: "muted", id: "no-handoffs" }, "No hand-offs in this window.")),
    h("section", { class: "card" }, h("h2", {}, "Hours lost per border"),
      stackTable(["border", "hand-offs", "median hours lost", "total hours lost", ""], data.by_border.map((b) => h("tr", { "data-border": b.border },
        h("td", { "data-label": "border" }, h("strong", {}, b.border), b.crosses ? "" : h("span", { class: "muted" }, " (same sector)")),
        h("td", { "data-label": "hand-offs" }, String(b.hops)), h("td", { "data-label": "median hours lost" }, hours(b.median_hours_lost)),
        h("td", { "data-label": "total hours lost" }, hours(b.total_hours_lost)),
        h("td", { "data-label": "" }, h("button", { class: "secondary", onclick: () => showBehind(behind, b.border, b.complaints) }, "complaints")))), "borders")),
    h("section", { class: "card" }, h("h2", {}, "Week by week"), weeklyBox),
    h("section", { class: "card" }, h("h2", {}, "Between destinations"),
      stackTable(["from", "to", "hand-offs", "rejected", "transferred", "median hours lost", ""], data.by_pair.map((p) => h("tr", {},
        h("td", { "data-label": "from" }, p.from, " ", sectorBadge(p.from_sector)), h("td", { "data-label": "to" }, p.to, " ", sectorBadge(p.to_sector)),
        h("td", { "data-label": "hand-offs" }, String(p.hops)), h("td", { "data-label": "rejected" }, String(p.rejected)),
        h("td", { "data-label": "transferred" }, String(p.transferred)), h("td", { "data-label": "median hours lost" }, hours(p.median_hours_lost)),
        h("td", { "data-label": "" }, h("button", { class: "secondary", onclick: () => showBehind(behind, `${p.from} → ${p.to}`, p.complaints) }, "complaints")))), "pairs")),
    behind);

  if (data.hops) {
    const nodes = data.sankey.nodes.map((n) => ({ name: n.name, depth: n.depth, itemStyle: { color: SECTOR_COLOURS[n.sector] || "#888" },
      label: { formatter: n.depth === 0 || n.depth === 3 ? n.label : n.label } }));
    chart(sankeyBox, { tooltip: { trigger: "item", formatter: (p) => p.dataType === "edge"
      ? `${p.data.source} → ${p.data.target}: ${p.data.value}` : `${p.name}` },
    series: [{ type: "sankey", data: nodes, links: data.sankey.links, nodeAlign: "justify", left: 8, right: 110,
      emphasis: { focus: "adjacency" }, lineStyle: { color: "gradient", curveness: 0.5, opacity: 0.45 },
      label: { fontSize: 11 } }] },
    (p) => { if (p.dataType === "edge") showBehind(behind, `${p.data.source} → ${p.data.target}`, p.data.complaints);
      else { const ids = data.sankey.links.filter((l) => l.source === p.name || l.target === p.name).flatMap((l) => l.complaints);
        showBehind(behind, p.name, [...new Set(ids)]); } });
  }
  const weeks = [...new Set(data.weekly.map((w) => w.week))];
  const borders = [...new Set(data.weekly.map((w) => w.border))];
  chart(weeklyBox, { tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 40, top: 40, bottom: 30 },
    xAxis: { type: "category", data: weeks }, yAxis: [{ type: "value", name: "hand-offs", minInterval: 1 }, { type: "value", name: "h lost" }],
    series: borders.flatMap((b, i) => [
      { name: `${b}`, type: "bar", stack: "hops", data: weeks.map((w) => (data.weekly.find((x) => x.week === w && x.border === b) || {}).hops || 0),
        itemStyle: { color: PALETTE[i % PALETTE.length] } },
      { name: `${b} (hours)`, type: "line", yAxisIndex: 1, data: weeks.map((w) => (data.weekly.find((x) => x.week === w && x.border === b) || {}).total_hours_lost || 0),
        itemStyle: { color: PALETTE[i % PALETTE.length] }, lineStyle: { type: "dashed" } }]) });
};

function sectorBadge(sector) {
  return sector ? h("span", { class: "badge sector", style: `border-color:${SECTOR_COLOURS[sector]};color:${SECTOR_COLOURS[sector]}` }, sector) : "";
}
