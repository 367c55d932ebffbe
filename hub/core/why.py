"""What decided a classification, in lines an administrator reads to fix the vocabulary.

Shared by `laporhub rules explain` and the console's Explain page (through POST /v1/admin/explain),
so both show the same: the words that counted (and how much), the negations and sentence cues, the
typos read, the emergency cues, the place found in the text, the scope and the model's opinion.
"""

from __future__ import annotations

from typing import Any

from hub.core.classify import Classification


def lines(c: Classification) -> list[dict[str, str]]:
    e: dict[str, Any] = c.evidence
    out: list[dict[str, str]] = []

    def add(label: str, text: str) -> None:
        out.append({"label": label, "text": text})

    words = e.get("matches", {}).get(c.category, [])
    add("words", f"{c.category}: {', '.join(words) if words else 'no term of its own'}")
    others = [f"{cat} {score}" for cat, score in e.get("scores", {}).items() if cat != c.category]
    if others:
        add("runners-up", ", ".join(others))
    if e.get("negated"):
        add("negated", ", ".join(e["negated"]) + " (did not count)")
    for cue in e.get("cues", []):
        add("sentence", cue)
    if e.get("corrections"):
        add("typos", ", ".join(f"{k} -> {v}" for k, v in e["corrections"].items()))
    alarm = e.get("emergency")
    if alarm:
        if alarm.get("cues"):
            add("emergency", f"{alarm['level']}: " + ", ".join(alarm["cues"]))
        if alarm.get("cancelled"):
            add("not an emergency", ", ".join(alarm["cancelled"]))
    if e.get("urgency_terms"):
        add("urgency", f"{c.urgency}: " + ", ".join(e["urgency_terms"]))
    if e.get("place"):
        add("place", e["place"])
    if e.get("out_of_scope"):
        o = e["out_of_scope"]
        add("out of scope", f"{o['matter']} ('{o['term']}'): {o['reason']}")
    model = e.get("model")
    if model:
        top = ", ".join(f"{cat} {p:.2f}" for cat, p in model["top"].items())
        add("model", f"{top} ({'blended, weight ' + str(model['weight']) if model['used'] else 'not used: emergency or rescue'})")
    return out
