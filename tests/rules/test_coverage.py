"""``fundguard rules coverage``: every class of the 2025 catalogue, honestly classified."""

from __future__ import annotations

from fundguard.kb import knowledge
from fundguard.rules import load_rules
from fundguard.rules.coverage import coverage


def test_every_class_listed_once_with_a_reason() -> None:
    rows = coverage(load_rules())
    assert [c.seq for c in rows] == list(range(1, 89))
    assert all(c.reason_zh for c in rows)
    assert {c.status for c in rows} <= {"implemented", "knowledge_loaded", "not_yet"}


def test_every_published_class_is_applied() -> None:
    """The 21 classes with national knowledge points all have a rule (enabled, or shipped off pending config)."""
    rows = {c.name: c for c in coverage(load_rules())}
    published = set(knowledge.points()["rule_class"])
    assert len(published) == 21
    for name in published:
        assert rows[name].status != "not_yet", name
    # on out of the box: internet visits from the visit's flag or the institution's registry
    assert rows["超互联网医院药品支付范围"].status == "implemented"
    implemented = [c for c in rows.values() if c.status == "implemented"]
    ids = set(load_rules().rules)
    assert all(set(c.rules) <= ids for c in implemented)


def test_rules_doc_is_generated_from_the_rules() -> None:
    from pathlib import Path

    from fundguard.rules.spec import rules_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
    assert doc.read_text("utf-8") == rules_markdown(load_rules()) + "\n", (
        "docs/rules.md is stale: run `fundguard rules list --markdown > docs/rules.md`"
    )


def test_population_rules_are_batch_only() -> None:
    """进销存 and 集中住院 need the whole population: coverage says they run in batch only."""
    from fundguard.rules.plan import plan

    rules = load_rules()
    rows = coverage(rules)
    # of a catalogue class (集中住院 is a big-data model outside the 88 classes)
    pop = {r.id for r in rules.enabled() if plan(r).population and r.class_2025[:1].isdigit()}
    assert "GZ10000202001000" in pop
    said = {rid for c in rows for rid in pop if rid in c.reason_zh and "仅事后批量审核" in c.reason_zh}
    assert said == pop
