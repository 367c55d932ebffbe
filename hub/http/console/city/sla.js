// SLA: breaches summed per destination (hours overdue, worst first), then one line per late
// delivery with the complaint's title and category, each a click through to the complaint.
"use strict";

window.consolePages.sla = async function pageSla(params) {
  const only = params.get("destination") || "";
  const data = await api(`/v1/admin/reports/sla${only ? `?destination=${encodeURIComponent(only)}` : ""}`);
  const all = only ? await api("/v1/admin/reports/sla") : data;
  const perDest = h("div", { class: "chart", id: "chart-sla", style: `height:${Math.max(200, 28 * all.by_destination.length + 50)}px` });
  const pick = (dest) => { location.hash = dest ? `#/sla?destination=${encodeURIComponent(dest)}` : "#/sla"; };
  show(h("h1", {}, "SLA breaches"),
    h("section", { class: "stats" },
      stat("sla-total", "late deliveries", data.total.breaches), stat("sla-total-open", "still open", data.total.open),
      stat("sla-total-hours", "working hours overdue", hours(data.total.hours_overdue))),
    h("section", { class: "card" }, h("h2", {}, "By destination, worst first"),
      h("p", { class: "muted" }, `Working hours past the limit, as of ${wib(data.at)}. Click a destination to list its breaches.`),
      all.by_destination.length ? perDest : h("p", { class: "muted" }, "No breaches."),
      stackTable(["destination", "late", "open", "hours overdue", "worst"], all.by_destination.map((d) => h("tr", { "data-destination": d.destination, class: d.destination === only ? "selected" : "" },
        h("td", { "data-label": "destination" }, h("a", { href: `#/sla?destination=${encodeURIComponent(d.destination)}` }, d.name), h("div", { class: "muted" }, d.destination)),
        h("td", { "data-label": "late" }, String(d.breaches)), h("td", { "data-label": "open" }, String(d.open)),
        h("td", { "data-label": "hours overdue" }, hours(d.hours_overdue)), h("td", { "data-label": "worst" }, hours(d.worst_hours)))), "sla-destinations")),
    h("section", { class: "card" }, h("h2", { id: "sla-list-title" }, only ? `Breaches of ${only}` : "Every breach"),
      only ? h("button", { class: "secondary", onclick: () => pick("") }, "Show every destination") : "",
      stackTable(["complaint", "category", "destination", "late for", "level", "overdue", "since"], data.breaches.map((b) => h("tr", { "data-complaint": b.complaint_id },
        h("td", { "data-label": "complaint" }, h("a", { href: `#/complaints/${b.complaint_id}`, class: "breach-link" }, b.title || b.complaint_id)),
        h("td", { "data-label": "category" }, b.category || "—"), h("td", { "data-label": "destination" }, b.destination_name),
        h("td", { "data-label": "late for" }, b.limits.join(" + ")), h("td", { "data-label": "level" }, String(b.level)),
        h("td", { "data-label": "overdue" }, h("strong", {}, hours(b.hours_overdue)), b.open ? "" : h("span", { class: "muted" }, " (done)")),
        h("td", { "data-label": "since" }, wib(b.first_escalated_at)))), "sla-breaches"),
      data.breaches.length ? "" : h("p", { class: "muted" }, "No breaches.")));
  if (all.by_destination.length) {
    const rows = [...all.by_destination].reverse();
    chart(perDest, { tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 50, top: 10, bottom: 24, containLabel: true },
      xAxis: { type: "value", name: "h" }, yAxis: { type: "category", data: rows.map((d) => d.destination), axisLabel: { width: 170, overflow: "truncate" } },
      series: [{ type: "bar", data: rows.map((d) => d.hours_overdue), itemStyle: { color: "#b3261e" },
        label: { show: true, position: "right", formatter: (p) => `${rows[p.dataIndex].breaches}` } }] },
    (p) => pick(rows[p.dataIndex].destination));
  }
};
