"""What each operation takes and answers, for the OpenAPI document (hub.http.contract): request
bodies by the JSON Schemas in schemas/ where one exists, success bodies with the fields clients
rely on, and the error answers beyond those every operation of its kind has."""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/"
STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
OPT_STR = {"type": ["string", "null"]}
LIST, OBJ = {"type": "array"}, {"type": "object"}


def obj(**props: Any) -> dict[str, Any]:
    """An object that has at least these fields (more may come: clients ignore what they do not know)."""
    return {"type": "object", "required": sorted(props), "properties": props}


def listing(name: str, item: dict[str, Any] = OBJ) -> dict[str, Any]:
    return obj(**{name: {"type": "array", "items": item}})


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


REASON = obj(reason={"type": "string", "minLength": 1, "description": "Why, for the audit"})
# The document is checked by the endpoint (against components/schemas/rules and the hub's
# destinations), which names every problem; here it need only be an object.
RULES = {"type": "object", "description": "The rules as `document` (JSON, see the rules schema) or `yaml` (text)",
         "properties": {"document": OBJ, "yaml": {"type": "string"}, "note": STR, "based_on": INT}}
LINKS = obj(id=STR, duplicate_of={"type": ["object", "null"]}, duplicates=LIST, incident=OPT_STR)
DESTINATION = obj(id=STR, name=STR, kind=STR, adapter=STR, options=OBJ, paused=BOOL)
KEY = obj(id=STR, name=STR, role=STR, scope=OPT_STR)
ISSUED = obj(id=STR, name=STR, role=STR, key={"type": "string", "description": "Shown this once only"})
PUBLISHED = obj(published=INT, label=STR, previous={"type": ["integer", "null"]}, generation=INT)
DRAFT = obj(id=INT, label=STR, valid=BOOL, errors=LIST)
REQUEST_311 = obj(service_request_id=STR, status={"enum": ["open", "closed"]}, service_code=STR,
                  requested_datetime=OPT_STR)
FORM_311 = {"type": "object", "required": ["service_code"], "properties": {
    "api_key": STR, "service_code": STR, "lat": STR, "long": STR, "address_string": STR, "address_id": STR,
    "description": {"type": "string", "maxLength": 4000}, "first_name": STR, "last_name": STR, "email": STR,
    "phone": STR, "media_url": STR, "attribute[kota]": STR, "attribute[kelurahan]": STR}}
UPDATE_311 = {"type": "object", "required": ["api_key", "service_request_id", "status"], "properties": {
    "api_key": STR, "service_request_id": STR, "update_id": STR, "status": STR, "description": STR,
    "updated_datetime": STR, "media_url": STR}}

# The destination portal and the e-mail destinations (issue 14).
TEXT = {"type": "string", "maxLength": 5000}
PORTAL_ACTION = {"type": "object", "required": ["action"], "properties": {
    "action": {"enum": ["acknowledge", "progress", "resolve", "not_ours", "transfer"]},
    "note": TEXT, "reason": {"type": "string", "maxLength": 2000}, "photo_url": {"type": "string", "maxLength": 2000},
    "suggested_destination": {"type": "string", "maxLength": 128}, "transfer_to": {"type": "string", "maxLength": 128},
    "update_id": {"type": "string", "minLength": 1, "maxLength": 200}}}
SINCE = {"type": "string", "minLength": 1, "description": "ISO 8601 time, e.g. 2026-12-07T02:00:00+07:00"}
RECOVER = {"type": "object", "required": ["since", "reason"], "properties": {
    "since": SINCE, "reason": {"type": "string", "minLength": 1, "description": "Why, for the audit"},
    "expected": {"type": "integer", "minimum": 0, "description": "The count you were shown; refused (409) if it changed"}}}
PREVIEW = obj(destination=STR, since=STR, count=INT, dead=INT, failing=INT, deliveries=LIST)
RECOVERED = obj(destination=STR, since=STR, resent=INT, delivery_ids=LIST, skipped=LIST)
ATTEMPTS = obj(destination=STR, attempts={"type": "array", "items": obj(
    at=STR, delivery_id=STR, attempt=INT, outcome=STR, status_code={"type": ["integer", "null"]},
    duration_ms={"type": ["number", "null"]}, response=OPT_STR, detail=STR)})
INBOUND = obj(id=STR, outcome={"enum": ["applied", "noted"]}, message=STR)

COMPONENTS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message", "errors"], "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. invalid_request, too_large"},
        "message": {"type": "string", "description": "What is wrong, for a person"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["field", "reason"], "properties": {
            "field": {"type": "string", "description": "Dotted path into the input ($ for all of it)"},
            "reason": {"type": "string"}}}}}},
    "Open311Errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}},
}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/complaints"): {
        "description": "A citizen channel submits a complaint; it is classified and routed after the answer. "
                       "The same channel and external_ref twice returns the first complaint (200).",
        "request": json_body(ref("complaint")),
        "responses": {"201": ("Accepted; routing follows", obj(id=STR, created=BOOL, url=STR)),
                      "200": ("Already submitted with this channel and external_ref", obj(id=STR, created=BOOL, url=STR))}},
    ("get", "/v1/complaints"): {
        "description": "The most recent complaints this key may see: a channel's own, a destination's deliveries, "
                       "or all for admins and auditors.",
        "responses": {"200": ("Newest first", listing("complaints"))}},
    ("get", "/v1/complaints/{complaint_id}"): {
        "description": "A complaint as its citizen sees it: state, who handles it and the public timeline. "
                       "A channel reads what it submitted, a destination what was delivered to it.",
        "responses": {"200": ("The public view", obj(id=STR, state=STR, timeline=LIST))}},
    ("post", "/v1/complaints/{complaint_id}/status"): {
        "request": json_body(ref("status-update")), "errors": ("401", "403", "404", "409"),
        "who": "Needs no key: signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) "
               "with the destination's secret.",
        "responses": {"200": ("Applied, or a repeat of an applied update_id",
                              obj(complaint_id=STR, state=STR, complaint_state=STR, duplicate=BOOL))}},
    ("post", "/v1/complaints/{complaint_id}/feedback"): {
        "description": "The citizen confirms a resolution, reopens it with a reason within the reopen window "
                       "(it goes back to the destination that resolved it), or rates it 1-5. Only the channel "
                       "the complaint came through speaks for its citizen.",
        "request": json_body(ref("feedback")), "errors": ("409",),
        "responses": {"200": ("Recorded", obj(id=STR, state=STR))}},
    ("get", "/v1/admin/complaints/{complaint_id}"): {
        "description": "A complaint in full: classification with its evidence, the routing decision, every "
                       "delivery and the internal timeline.",
        "responses": {"200": ("The full view", obj(id=STR, state=STR, deliveries=LIST, timeline=LIST,
                                                   duplicate_of={"type": ["object", "null"]}, duplicates=LIST))}},
    ("post", "/v1/admin/complaints/{complaint_id}/link"): {
        "description": "Link a complaint by hand to the original it repeats: it gets no delivery of its own, the "
                       "original's destinations get a \"+1 report\" with its text masked. Audited with the reason.",
        "request": json_body(obj(original={"type": "string", "minLength": 1, "description": "The original's id"},
                                 reason={"type": "string", "minLength": 1, "description": "Why, for the audit"})),
        "errors": ("404", "409"), "responses": {"200": ("Linked", LINKS)}},
    ("post", "/v1/admin/complaints/{complaint_id}/unlink"): {
        "description": "Undo a wrong duplicate link; a complaint never delivered is then routed under the published "
                       "rules and delivered. Audited with the reason.",
        "request": json_body(REASON), "errors": ("404", "409"), "responses": {"200": ("Unlinked", LINKS)}},
    ("get", "/v1/reports/handoffs"): {
        "description": "How complaints moved between destinations: rejections and transfers by pair and by "
                       "category, with the median time each hop cost the citizen.",
        "responses": {"200": ("The report", obj(hops=INT, by_pair=LIST, by_category=LIST))}},
    ("get", "/v1/admin/sla/breaches"): {
        "description": "Deliveries that went past their acknowledge or resolve target, with the escalations sent.",
        "responses": {"200": ("Newest first", listing("breaches"))}},
    ("get", "/v1/admin/whoami"): {
        "description": "Which key this is: its id, name, role and scope. Useful to check a key before using it.",
        "responses": {"200": ("The key", obj(key_id=STR, name=STR, role=STR, scope=OPT_STR))}},
    ("get", "/v1/admin/routing"): {
        "description": "Every routing version (drafts and published), which one is published, the publication "
                       "history and the version this API process runs.",
        "responses": {"200": ("The versions", obj(versions=LIST, history=LIST, running=STR))}},
    ("get", "/v1/admin/routing/versions/{vid}"): {
        "description": "One routing version: its rules document, the same as YAML, and when it was published.",
        "responses": {"200": ("The version", obj(id=INT, label=STR, status=STR, document=OBJ, yaml=STR))}},
    ("post", "/v1/admin/routing/validate"): {
        "description": "Check a rules document without saving it: schema errors, unknown destinations, "
                       "categories no rule reaches, shadowed rules.",
        "request": json_body(RULES),
        "responses": {"200": ("The findings", obj(valid=BOOL, errors=LIST, yaml=STR))}},
    ("post", "/v1/admin/routing/drafts"): {
        "description": "Save a full rules document as a new draft; it is checked, and a draft with errors "
                       "is kept but cannot be published.",
        "request": json_body(RULES), "errors": ("409",), "responses": {"201": ("Saved", DRAFT)}},
    ("put", "/v1/admin/routing/drafts/{vid}"): {
        "description": "Replace the document of a draft that was never published.",
        "request": json_body(RULES), "errors": ("409",), "responses": {"200": ("Saved", DRAFT)}},
    ("post", "/v1/admin/routing/versions/{vid}/preview"): {
        "description": "Route recent complaints with this version and list those that would go elsewhere, "
                       "by rule. Nothing is changed.",
        "responses": {"200": ("The impact", obj(examined=INT, changed=INT, moves=LIST))}},
    ("post", "/v1/admin/routing/versions/{vid}/publish"): {
        "description": "Publish a version; every router switches to it within seconds. The reason is audited.",
        "request": json_body(REASON), "errors": ("409",), "responses": {"200": ("Published", PUBLISHED)}},
    ("post", "/v1/admin/routing/rollback"): {
        "description": "Publish an earlier version again, with a reason for the audit.",
        "request": json_body(obj(version=INT, reason=STR)), "errors": ("404", "409"),
        "responses": {"200": ("Published", PUBLISHED)}},
    ("get", "/v1/admin/routing/routers"): {
        "description": "Every running router and dispatcher and the routing version it runs, so an admin can "
                       "see a publication arrive.",
        "responses": {"200": ("The processes", obj(routers=LIST, dispatchers=LIST))}},
    ("post", "/v1/admin/explain"): {
        "description": "Classify a complaint and decide where it would go and why, with the published rules "
                       "or a given version. Nothing is stored.",
        "request": json_body({"oneOf": [ref("complaint"), obj(complaint=ref("complaint"))]}),
        "errors": ("404",),
        "responses": {"200": ("The decision", obj(classification=OBJ, decision=OBJ, destinations=LIST))}},
    ("get", "/v1/admin/complaints"): {
        "description": "Search complaints by text, id, category, status, city, destination or channel.",
        "responses": {"200": ("Newest first", listing("complaints"))}},
    ("get", "/v1/admin/destinations"): {
        "description": "Every destination with its live settings, and its health (queue depth, failing "
                       "spells) unless health=false.",
        "responses": {"200": ("The destinations", listing("destinations", DESTINATION))}},
    ("get", "/v1/admin/destinations/{dest_id}"): {
        "description": "One destination with its live settings and health.",
        "responses": {"200": ("The destination", DESTINATION)}},
    ("put", "/v1/admin/destinations/{dest_id}"): {
        "description": "Add a destination or replace its definition (checked like destinations.yaml).",
        "request": json_body(obj(reason=STR, destination=OBJ)), "errors": ("409",),
        "responses": {"200": ("Saved", DESTINATION)}},
    ("post", "/v1/admin/destinations/{dest_id}/pause"): {
        "description": "Hold deliveries to a destination; they wait in its queue and nothing is lost.",
        "request": json_body(REASON), "errors": ("409",), "responses": {"200": ("Paused", DESTINATION)}},
    ("post", "/v1/admin/destinations/{dest_id}/resume"): {
        "description": "Deliver to a paused destination again, starting with what waited.",
        "request": json_body(REASON), "errors": ("409",), "responses": {"200": ("Resumed", DESTINATION)}},
    ("post", "/v1/admin/destinations/{dest_id}/rotate-secret"): {
        "description": "Give a webhook destination a new signing secret; the old one keeps signing for "
                       "overlap_hours (0 to 720, default 24).",
        "request": json_body({**REASON, "properties": {**REASON["properties"], "secret": STR,
                                                       "overlap_hours": {"type": "number", "minimum": 0, "maximum": 720}}}),
        "errors": ("409",), "responses": {"200": ("Rotated", obj(destination=STR, secret=STR))}},
    ("post", "/v1/admin/destinations/{dest_id}/test"): {
        "description": "Send a marked test delivery to the destination now and show the outcome.",
        "errors": ("409",), "responses": {"200": ("The outcome", obj(destination=STR, outcome=STR))}},
    ("get", "/v1/admin/keys"): {
        "description": "Every API key's id, name, role and scope (never the key itself).",
        "responses": {"200": ("The keys", obj(keys={"type": "array", "items": KEY}, roles=OBJ))}},
    ("post", "/v1/admin/keys"): {
        "description": "Create a key for a role (and a scope: a channel or destination id); the answer is "
                       "the only time the key is shown.",
        "request": json_body(obj(name=STR, role=STR, reason=STR)), "errors": ("409",),
        "responses": {"201": ("Created", ISSUED)}},
    ("post", "/v1/admin/keys/{key_id}/rotate"): {
        "description": "Replace a key with a new one; the old one stops working at once.",
        "request": json_body(REASON), "errors": ("409",), "responses": {"200": ("The new key", ISSUED)}},
    ("post", "/v1/admin/keys/{key_id}/revoke"): {
        "description": "Revoke a key; it stops working at once.",
        "request": json_body(REASON), "errors": ("409",), "responses": {"200": ("Revoked", KEY)}},
    ("get", "/v1/admin/changes"): {
        "description": "The audit: every administrative change with its actor, time, reason, before and after.",
        "responses": {"200": ("Newest first", listing("changes"))}},
    ("get", "/v1/admin/dead-letters"): {
        "description": "Messages no stage could handle, with the stage, the reason and the original body.",
        "responses": {"200": ("Newest first", listing("dead_letters"))}},
    ("delete", "/v1/admin/dead-letters"): {
        "description": "Purge dead letters: all, one stage's, or those with a status.",
        "responses": {"200": ("How many", obj(purged=INT))}},
    ("get", "/v1/admin/dead-letters/{dead_letter_id}"): {
        "description": "One dead letter with its reason, field errors and original body.",
        "responses": {"200": ("The dead letter", obj(id=STR, stage=STR))}},
    ("post", "/v1/admin/dead-letters/{dead_letter_id}/replay"): {
        "description": "Send the original message back to its stage's input; replaying twice sends it once.",
        "responses": {"202": ("Replayed", obj(replayed=BOOL)), "200": ("Already replayed", obj(replayed=BOOL))}},
    # -- the destination portal (a destination's own key) -----------------------------------------
    ("get", "/v1/portal/inbox"): {
        "description": "This destination's open deliveries, overdue first, each with its SLA clock and deadlines.",
        "errors": ("404",),
        "responses": {"200": ("The inbox", obj(destination=STR, open=LIST, failed=INT, at=STR))}},
    ("get", "/v1/portal/complaints/{complaint_id}"): {
        "description": "One complaint delivered to this destination, as privacy allows it to see it (text masked, "
                       "only the reporter fields it declares), with what it may do next. Another destination's "
                       "complaint is not found.",
        "responses": {"200": ("The complaint", obj(id=STR, state=STR, may=LIST, timeline=LIST))}},
    ("post", "/v1/portal/complaints/{complaint_id}/status"): {
        "description": "Acknowledge, report progress, resolve, say not ours or transfer one of this destination's "
                       "complaints: a status update through the lifecycle, as a status callback would be.",
        "request": json_body(PORTAL_ACTION), "errors": ("409",),
        "responses": {"200": ("Applied", obj(complaint_id=STR, delivery_id=STR, state=STR, complaint_state=STR))}},
    ("get", "/v1/portal/endpoint"): {
        "description": "This destination's endpoint: its URL (passwords hidden) or addresses, the secret overlap, "
                       "health and the attempt log (status and duration; never a webhook's answer body).",
        "errors": ("404",),
        "responses": {"200": ("The endpoint", obj(destination=STR, adapter=STR, attempts=LIST))}},
    ("post", "/v1/portal/endpoint/rotate-secret"): {
        "description": "A new signing secret (or, with option callback_secret, a new callback secret) for this "
                       "webhook destination, shown once; the old one keeps working for overlap_hours (0 to 720).",
        "request": json_body({**REASON, "properties": {
            **REASON["properties"], "overlap_hours": {"type": "number", "minimum": 0, "maximum": 720},
            "option": {"enum": ["secret", "callback_secret"]}}}),
        "errors": ("404", "409"), "responses": {"200": ("Rotated", obj(destination=STR, secret=STR))}},
    ("post", "/v1/portal/endpoint/test"): {
        "description": "Send a marked test delivery to this destination now; it shows in the attempt log.",
        "errors": ("404", "409"), "responses": {"200": ("The outcome", obj(destination=STR, outcome=STR))}},
    ("get", "/v1/portal/recover"): {
        "description": "How many of this destination's deliveries failed since `since` (dead, or waiting for a "
                       "retry): what a recover would re-send.",
        "errors": ("404",), "responses": {"200": ("The count", PREVIEW)}},
    ("post", "/v1/portal/recover"): {
        "description": "Re-send every failed delivery of this destination since `since`; confirm with `expected`, "
                       "the count shown. Audited.",
        "request": json_body(RECOVER), "errors": ("404", "409"), "responses": {"200": ("Re-sent", RECOVERED)}},
    ("get", "/v1/admin/destinations/{dest_id}/attempts"): {
        "description": "A destination's attempt log, newest first: time, outcome, status code and duration.",
        "responses": {"200": ("The attempts", ATTEMPTS)}},
    ("get", "/v1/admin/destinations/{dest_id}/recover"): {
        "description": "What a recover of this destination since `since` would re-send.",
        "responses": {"200": ("The count", PREVIEW)}},
    ("post", "/v1/admin/destinations/{dest_id}/recover"): {
        "description": "Re-send a destination's failed deliveries since a time (after an outage on its side). Audited.",
        "request": json_body(RECOVER), "errors": ("409",), "responses": {"200": ("Re-sent", RECOVERED)}},
    # -- replies by e-mail -------------------------------------------------------------------------
    ("post", "/v1/inbound/email"): {
        "description": "The city's mail gateway hands over a reply e-mail, raw (RFC 822), signed per Standard "
                       "Webhooks with LAPORHUB_INBOUND_EMAIL_SECRET. Its reply address names the delivery; its "
                       "words become a status update or a note. Refused mail is kept, with the reason, for an "
                       "administrator. Signed posts spend the gateway's allowance, unsigned ones a smaller one "
                       "of their own; over either, 429 and the message is not kept.",
        "who": "Needs no key: the body must be signed with the mail gateway's secret (webhook-* headers).",
        "request": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        "errors": ("401", "409", "429"),
        "responses": {"200": ("Applied, or kept as a note", INBOUND)}},
    ("get", "/v1/admin/inbound-mail"): {
        "description": "Reply e-mails received, newest first, with what became of each (refused ones with the reason).",
        "responses": {"200": ("Newest first", listing("inbound_mail"))}},
    ("get", "/healthz"): {"description": "The process is alive (for a liveness probe).",
                          "responses": {"200": ("Alive", obj(status=STR))}},
    ("get", "/readyz"): {
        "description": "The broker and the store answer (for a readiness probe); 503 names what does not.",
        "responses": {"200": ("Ready", obj(status=STR, checks=OBJ))}, "errors": ()},
    ("get", "/open311/v2/discovery"): {
        "description": "GeoReport v2 discovery: the endpoint's base url, formats and contact.",
        "responses": {"200": ("Discovery", obj(endpoints=LIST))}},
    ("get", "/open311/v2/services"): {
        "description": "GeoReport v2 service list: one service per complaint category.",
        "responses": {"200": ("Services", {"type": "array", "items": obj(service_code=STR, service_name=STR)})}},
    ("get", "/open311/v2/services/{service_code}"): {
        "description": "GeoReport v2 service definition: the extra attributes a request may carry.",
        "responses": {"200": ("Definition", obj(service_code=STR, attributes=LIST))}},
    ("post", "/open311/v2/requests"): {
        "description": "GeoReport v2: file a service request. It enters the normal intake as a complaint of "
                       "the key's channel.",
        "secured": True, "errors": ("400", "403", "413", "415", "429"),
        "who": "Needs a channel key as api_key (query string or form).",
        "request": {"application/x-www-form-urlencoded": {"schema": FORM_311}},
        "responses": {"200": ("Filed", {"type": "array", "items": obj(service_request_id=STR)})}},
    ("get", "/open311/v2/requests"): {
        "description": "GeoReport v2: service requests, by ids or by date range, service code and status "
                       "(the last 90 days by default).",
        "responses": {"200": ("Requests", {"type": "array", "items": REQUEST_311})}},
    ("get", "/open311/v2/requests/{request_id}"): {
        "description": "GeoReport v2: one service request (as a list of one).",
        "responses": {"200": ("The request", {"type": "array", "items": REQUEST_311})}},
    ("get", "/open311/v2/tokens/{token}"): {
        "description": "GeoReport v2: the request id for a token (here the token is the id itself).",
        "responses": {"200": ("The id", {"type": "array", "items": obj(service_request_id=STR, token=STR)})}},
    ("post", "/open311/v2/servicerequestupdates"): {
        "description": "Status changes pushed by a destination's own Open311 system (FixMyStreet's update "
                       "extension); api_key identifies the destination.",
        "secured": True, "errors": ("400", "403", "413", "415"),
        "who": "Needs the destination's api_key (form).",
        "request": {"application/x-www-form-urlencoded": {"schema": UPDATE_311}},
        "responses": {"200": ("Applied", {"type": "array", "items": obj(update_id=STR, applied=BOOL)})}},
}
