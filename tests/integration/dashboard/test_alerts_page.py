"""The Alerts page and the alert colours and marks on the Overview."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from dashboard.loaders import alerts, marks
from ingest.alerts.rules import SEVERITY_RANK
from ingest.alerts.tables import history, states
from tests.integration.dashboard.apptest import app, open_page, run
from tests.integration.dashboard.world import ALERT_HISTORY, NOW, World

# the 8 evaluated hours, in Shanghai time
HISTORY_RANGE = {"range": "custom", "from": "2024-06-30T06:00", "to": "2024-06-30T14:05"}


def alerts_page():
    return open_page(run(app(**HISTORY_RANGE)), "alerts")


def test_every_rule_is_listed_with_its_stored_state_firing_first(world: World):
    test = alerts_page()
    table = test.dataframe[0].value
    with world.engine.connect() as conn:
        stored = {row.rule: row.state for row in conn.execute(select(states))}
    rules = {rule.name: rule for rule in world.settings.alerts.rules}
    calm = sorted((n for n, s in stored.items() if s == "normal"),
                  key=lambda n: (-SEVERITY_RANK[rules[n].severity], n))  # fmt: skip
    assert list(table["rule"]) == ["aum_above_one_yuan", "approval_rate_high", *calm]
    assert list(table["state"]) == [stored[r] for r in table["rule"]]
    assert [m.value for m in test.metric] == ["1", "1", "0"]  # firing, pending, silenced


def test_the_history_shows_when_each_rule_left_normal(world: World):
    test = alerts_page()
    start, end = NOW - ALERT_HISTORY, NOW + timedelta(minutes=5)
    with world.engine.connect() as conn:
        rows = conn.execute(select(history).order_by(history.c.id)).mappings().all()
    fired = [r for r in rows if r["to_state"] == "firing" and r["from_state"] != "recovering"]
    assert {r["rule"] for r in fired} >= {"aum_above_one_yuan", "withdrawal_failure_spike"}
    spans = alerts.periods(alerts.transitions(world.engine, start, end), start, end)
    firing = spans[(spans["rule"] == "withdrawal_failure_spike") & (spans["state"] == "firing")]
    assert list(firing["start"]) == [
        r["at"] for r in fired if r["rule"] == "withdrawal_failure_spike"
    ]
    (timeline,) = test.get("plotly_chart")
    axis = json.loads(timeline.proto.spec)["layout"]["xaxis"]
    assert axis["range"] == ["2024-06-30T06:00:00", "2024-06-30T14:05:00"]  # the range chosen
    shown = test.dataframe[1].value
    assert len(shown) == len([r for r in rows if r["at"] >= start])


def test_running_silences_are_listed(world: World):
    test = alerts_page()
    silences = test.dataframe[-1].value
    assert list(silences["rule"]) == ["deposits_stopped"]
    assert list(silences["reason"]) == ["payment channel maintenance"]
    assert list(silences["matchers"]) == ["team=payments"]


def test_tiles_carry_the_worst_state_of_the_rules_on_their_metric(world: World):
    worst = alerts.tile_states(world.engine, tuple(world.settings.alerts.rules))
    assert worst["aum"] == "firing" and worst["approval_rate"] == "pending"
    assert worst["deposits"] == "ok"
    test = run(app(**HISTORY_RANGE))
    helps = {m.label: m.help for m in test.metric}
    assert "Alert state: firing." in helps["管理资产规模 AUM"]
    assert "Alert state: pending." in helps["批准率 Approval rate"]
    assert "Alert state" not in helps["放款额 Disbursed"]  # no rule watches it


def test_thresholds_are_drawn_only_where_they_compare_with_the_points(world: World):
    rules, query = tuple(world.settings.alerts.rules), world.query
    ratio = marks.thresholds(query, rules, "withdrawal_failure_rate", None, 3600)
    assert [(t.value, t.label) for t in ratio] == [(0.1, "withdrawal_failure_spike > 0.1")]
    assert marks.thresholds(query, rules, "deposit_count", None, 3600) == []  # 10m sums
    assert [t.value for t in marks.thresholds(query, rules, "deposit_count", None, 600)] == [0]
    assert marks.thresholds(query, rules, "deposits", None, 600) == []  # a drop judges change
    test = run(app(**HISTORY_RANGE))
    labels = [
        [note.get("text") for note in json.loads(chart.proto.spec)["layout"].get("annotations", [])]
        for chart in test.get("plotly_chart")
    ]
    assert sorted(found for found in labels if found) == [["approval_rate_high > 0.01"],
                                                          ["aum_above_one_yuan > 1"]]  # fmt: skip


def test_firing_periods_shade_the_charts_of_their_metric(world: World):
    start, end = NOW - ALERT_HISTORY, NOW
    changes = alerts.transitions(world.engine, start, end)
    rules = tuple(world.settings.alerts.rules)
    shaded = alerts.active_by_metric(changes, rules, start, end)
    failures = shaded["withdrawal_failure_rate"]
    assert failures and all(p.label == "withdrawal_failure_spike" for p in failures)
    assert all(start <= p.start and (p.end is None or p.end > p.start) for p in failures)
    assert "loans_disbursed" not in shaded  # no rule watches it
    assert [p.end for p in shaded["aum"]] == [None]  # still firing
