"""The lifecycle state machine and the re-routing plan, as plain functions."""

from __future__ import annotations

import pytest

from hub.aftercare.reroute import plan
from hub.core.lifecycle import Feedback, IllegalTransition, complaint_state, transition
from hub.core.rules import Target


def test_a_delivery_moves_from_sent_through_acknowledged_to_resolved() -> None:
    assert transition(transition(transition("sent", "acknowledged"), "in_progress"), "resolved") == "resolved"


def test_an_illegal_transition_names_the_current_state_and_the_allowed_next_ones() -> None:
    with pytest.raises(IllegalTransition) as err:
        transition("rejected", "resolved")
    assert err.value.current == "rejected" and err.value.allowed == ()
    with pytest.raises(IllegalTransition) as err:
        transition("acknowledged", "acknowledged")
    assert "in_progress" in err.value.allowed and "acknowledged" in str(err.value)


def test_a_complaint_is_done_only_when_every_delivery_is_done_or_released() -> None:
    assert complaint_state(["resolved", "acknowledged"]) == "in_progress"
    assert complaint_state(["resolved", "released"]) == "resolved"
    assert complaint_state(["resolved", "rejected"]) == "resolved"
    assert complaint_state(["resolved"], Feedback(confirmed=True)) == "closed"
    assert complaint_state(["needs_info", "sent"]) == "needs_info"
    assert complaint_state(["rejected", "sent"]) == "open"


def _plan(named=None, refused=frozenset(), holding=frozenset(), hop=1, rules=()):
    return plan(named, set(refused), set(holding), hop, 3, lambda d: d in {"a", "b", "c", "triage"},
                lambda exclude: tuple(t for t in rules if t.destination not in exclude), "triage", "a")


def test_a_named_destination_gets_it_unless_it_refused_it_before() -> None:
    assert [t.destination for t in _plan("b", {"a"}).targets] == ["b"]
    rule = Target("c", "r", "rule")
    assert [t.destination for t in _plan("b", {"a", "b"}, rules=(rule,)).targets] == ["c"]


def test_unknown_or_no_name_falls_back_to_the_next_rule_then_triage() -> None:
    assert [t.destination for t in _plan("zzz", {"a"}, rules=(Target("c", "r", "x"),)).targets] == ["c"]
    assert [t.destination for t in _plan(None, {"a"}).targets] == ["triage"]


def test_the_hop_limit_sends_it_to_triage_for_a_supervisor_whatever_was_named() -> None:
    p = _plan("b", {"a"}, hop=3)
    assert [t.destination for t in p.targets] == ["triage"] and p.supervisor


def test_nothing_new_is_sent_while_another_destination_still_has_it() -> None:
    assert _plan(None, {"a"}, holding={"c"}).targets == ()
