// One complaint: what it says, where it is on the map with its repeats, its deliveries, and a
// timeline in which repeated delivery attempts are one line with a count.
"use strict";

// Consecutive entries of one kind for one destination and reason are one line: "delivery failed ×15".
function groupTimeline(entries) {
  const out = [];
  for (const e of entries) {
    const key = [e.type, e.destination || "", e.reason || "", e.detail || ""].join("|");
    const last = out[out.length - 1];
    if (last && last.key === key) { last.count += 1; last.until = e.at; } else out.push({ key, entry: e, count: 1, until: e.at });
  }
  return out;
}

window.consolePages.complaint = async function pageComplaint(id) {
  const v = await api(`/v1/admin/complaints/${encodeURIComponent(id)}`);
  const c = v.classification || {};
  const area = c.area || {};
  const msg = h("div", { id: "link-message" });
  const act = async (fn) => {
    try { await fn(); route(); } catch (e) { msg.replaceChildren(h("div", { class: "notice bad" }, e.message)); }
  };
  const reason = h("input", { id: "link-reason", placeholder: "why (required; kept in the audit)" });
  const original = h("input", { id: "link-original", placeholder: "id of the complaint this repeats" });
  const linkBox = isAdmin() ? h("div", { class: "row" },
    v.duplicate_of ? null : h("label", {}, "Original", original), h("label", {}, "Reason", reason),
    v.duplicate_of
      ? h("button", { class: "secondary", id: "unlink", onclick: () => act(() => post(`/v1/admin/complaints/${v.id}/unlink`, { reason: reason.value })) }, "Not a repeat: unlink and deliver")
      : h("button", { class: "secondary", id: "link", onclick: () => act(() => post(`/v1/admin/complaints/${v.id}/link`, { original: original.value.trim(), reason: reason.value })) }, "Link as a repeat")) : "";
  const loc = (v.complaint || {}).location || {};
  const located = loc.latitude !== undefined && loc.longitude !== undefined;
  const others = v.duplicates.filter((d) => d.location && d.location.latitude !== undefined);
  const mapBox = h("div", { class: "map small", id: "complaint-map" });
  const grouped = groupTimeline(v.timeline);
  show(h("h1", {}, v.complaint.title || v.id),
    h("section", { class: "card" },
      h("p", {}, badge(v.status), " ", badge(v.state), ` ${v.id} from ${v.channel}, received ${wib(v.received_at)}`),
      h("p", {}, v.complaint.text),
      c.category ? h("p", { id: "complaint-area" }, `Category ${c.category} (${(c.confidence || 0).toFixed(2)}), ` +
        `${area.city || "city unknown"}${area.kecamatan ? ` / ${area.kecamatan}` : ""}${area.kelurahan ? ` / ${area.kelurahan}` : ""}` +
        `${area.source ? ` (from ${area.source})` : ""}, ${c.urgency}; rules ${v.decision ? v.decision.ruleset_version : "—"}`)
        : h("p", { class: "muted" }, "Not routed yet.")),
    h("section", { class: "card", id: "repeats" }, h("h2", {}, "Repeats"),
      v.duplicate_of ? h("p", { id: "duplicate-of" }, "A repeat of ", h("a", { href: `#/complaints/${v.duplicate_of.id}` }, v.duplicate_of.id),
        ` (${v.duplicate_of.method}${v.duplicate_of.distance_m !== null ? `, ${Math.round(v.duplicate_of.distance_m)} m away` : ""}, linked by ${v.duplicate_of.linked_by} ${wib(v.duplicate_of.linked_at)}). It is not delivered again; its reporter hears what happens to the original.`) : "",
      v.duplicates.length ? h("div", {}, h("p", {}, `${v.duplicates.length + 1} citizens reported this problem:`),
        h("ul", { id: "duplicates" }, v.duplicates.map((d) => h("li", {}, h("a", { href: `#/complaints/${d.id}` }, d.id),
          ` ${wib(d.received_at)}, ${d.method}${d.distance_m !== null ? ` ${Math.round(d.distance_m)} m` : ""}`)))) : "",
      !v.duplicate_of && !v.duplicates.length ? h("p", { class: "muted" }, "No repeats linked.") : "",
      v.incident ? h("p", {}, `Part of incident ${v.incident}.`) : "", linkBox, msg),
    located || others.length ? h("section", { class: "card" }, h("h2", {}, "Where"), mapBox) : "",
    h("section", { class: "card" }, h("h2", {}, "Deliveries"),
      stackTable(["destination", "status", "state", "rule", "why"], v.deliveries.map((d) => h("tr", { "data-destination": d.destination },
        h("td", { "data-label": "destination" }, d.destination), h("td", { "data-label": "status" }, badge(d.status)),
        h("td", { "data-label": "state" }, d.state ? badge(d.state) : "—"), h("td", { "data-label": "rule" }, d.rule_id),
        h("td", { "data-label": "why" }, d.reason, d.last_error ? h("div", { class: "error" }, d.last_error) : "")))),
      v.deliveries.length ? "" : h("p", { class: "muted" }, "No delivery of its own.")),
    h("section", { class: "card" }, h("h2", {}, `Timeline (${v.timeline.length} entries, ${grouped.length} lines)`),
      h("ol", { class: "timeline", id: "timeline" }, grouped.map(({ entry: e, count, until }) => h("li", { "data-count": count },
        h("strong", {}, e.type), count > 1 ? h("span", { class: "count" }, ` ×${count}`) : "",
        ` ${wib(e.at)}${count > 1 ? ` – ${wib(until)}` : ""} by ${e.actor}`,
        e.destination ? ` → ${e.destination}` : "", e.reason ? h("div", { class: "muted" }, e.reason) : "",
        e.detail ? h("div", { class: "muted" }, e.detail) : "")))));
  if (located || others.length) {
    const { map } = await cityMap(mapBox);
    const points = [];
    if (located) {
      points.push([loc.latitude, loc.longitude]);
      L.circleMarker(points[0], { radius: 8, color: "#b3261e", fillColor: "#b3261e", fillOpacity: 0.9, className: "this-complaint" })
        .bindTooltip("this complaint").addTo(map);
    }
    for (const d of others) {
      points.push([d.location.latitude, d.location.longitude]);
      L.circleMarker([d.location.latitude, d.location.longitude], { radius: 6, color: "#1c2430", fillColor: "#c77700", fillOpacity: 0.9, className: "repeat-point" })
        .bindTooltip(`repeat ${d.id}`).on("click", () => { location.hash = `#/complaints/${d.id}`; }).addTo(map);
    }
    // Close enough to tell the repeats apart, far enough to see the kecamatan's edges.
    map.fitBounds(L.latLngBounds(points).pad(0.5), { maxZoom: 15 });
  }
};
