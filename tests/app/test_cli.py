"""The ``fundguard`` command as a user runs it: help in both languages, and the main job end to end."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from typer.testing import CliRunner

from fundguard.cli import app
from fundguard.data.store import Store

runner = CliRunner(env={"COLUMNS": "200"})


def test_help_is_bilingual() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "医保基金智能监管平台" in result.output and "supervision" in result.output
    for command in ("generate", "ingest", "quality", "store", "schema", "demo"):
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0, command


def test_schema_lists_tables_and_columns() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0 and "fee_list_d" in result.output and "费用明细" in result.output
    result = runner.invoke(app, ["schema", "fee_list_d"])
    assert "bilg_dr_code" in result.output and "开单医生编码" in result.output
    result = runner.invoke(app, ["schema", "no_such_table"])
    assert result.exit_code == 2


def test_ingest_bad_path_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing.csv"), "-w", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert "错误" in result.output and "Error" in result.output


def test_demo_end_to_end(tmp_path: Path) -> None:
    ws = tmp_path / "demo"
    args = ["demo", "-w", str(ws), "--lines", "20000", "--no-progress", "--no-serve"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    index = ws / "index.html"
    assert str(index) in result.output.replace("\n", "")
    html = index.read_text("utf-8")
    assert "演示结果" in html and "智能审核与植入违规对照" in html and "100%" in html
    for path in (
        "reports/ingest-latest.html",
        "reports/quality.html",
        "reports/quality.xlsx",
        "city/ground_truth.csv",
        "service.db",
        "rule_classes.html",
    ):
        assert (ws / path).exists(), path
    assert 'href="rule_classes.html"' in html  # the rule-class page (tests/web/test_demo_classes_web.py)
    assert "Clues:" in result.output and "yiyuan" in result.output and "第三方检查员" in result.output
    import sqlite3

    with sqlite3.connect(ws / "service.db") as con:  # the demo hospital has flags to appeal
        (notified,) = con.execute(
            "SELECT count(*) FROM clues c JOIN users u ON u.fixmedins_code = c.fixmedins_code "
            "WHERE u.username = 'yiyuan' AND c.status = 'pending_appeal'"
        ).fetchone()
        (model_clues,) = con.execute("SELECT count(*) FROM clues WHERE source = 'model'").fetchone()
    assert (
        notified > 0 and model_clues > 0 and "Model clues:" in result.output
    )  # the leads reached the service
    latest = json.loads((ws / "reports" / "ingest-latest.json").read_text("utf-8"))
    assert latest  # the ingest report is machine-readable too

    before = Store(ws).row_counts()
    assert before["fee_list_d"] > 0
    again = runner.invoke(app, args)  # re-running reuses the city and adds nothing
    assert again.exit_code == 0, again.output
    assert Store(ws).row_counts() == before
    with sqlite3.connect(ws / "service.db") as con:  # a second model run in the same month adds no clue
        assert con.execute("SELECT count(*) FROM clues WHERE source = 'model'").fetchone() == (model_clues,)
    assert "跳过生成" in again.output or "Reusing" in again.output


def _city_workspace(tmp_path: Path) -> Path:
    """``tmp_path/ws`` holding a 20k-line city generated and ingested through the CLI."""
    ws = tmp_path / "ws"
    assert (
        runner.invoke(app, ["generate", str(tmp_path / "city"), "-n", "20000", "--no-progress"]).exit_code
        == 0
    )
    tables = [str(p) for p in sorted((tmp_path / "city").iterdir()) if p.is_dir()]
    assert runner.invoke(app, ["ingest", *tables, "-w", str(ws), "--no-progress"]).exit_code == 0
    return ws


def test_rules_commands(tmp_path: Path) -> None:
    ws = _city_workspace(tmp_path)

    listed = runner.invoke(app, ["rules", "list"])
    assert listed.exit_code == 0 and "GZ10000301004000" in listed.output
    shown = runner.invoke(app, ["rules", "show", "GZ10000301004000"])
    assert shown.exit_code == 0 and "SELECT" in shown.output and "kb_gender" in shown.output
    coverage = runner.invoke(app, ["rules", "coverage"])
    assert coverage.exit_code == 0 and "共 88 类" in coverage.output

    wider = runner.invoke(app, ["rules", "backtest", "L-REPEAT-TEST", "-w", str(ws),
                                "--set", "L-REPEAT-TEST.window_days=30"])  # fmt: skip
    assert wider.exit_code == 0, wider.output
    row = next(line for line in wider.output.splitlines() if "命中 hits" in line)
    current, changed = (int(x) for x in re.findall(r"\d+", row))
    assert changed >= current  # a longer window can only find more repeats
    bad = runner.invoke(app, ["rules", "backtest", "L-REPEAT-TEST", "-w", str(ws), "--set", "window_days=30"])
    assert bad.exit_code == 2

    audit = runner.invoke(app, ["audit", "-w", str(ws), "--no-progress"])
    assert audit.exit_code == 0 and "hits.xlsx" in audit.output
    # a rule paused by a maintainer (the service writes <ws>/rules/paused.yaml) is not run
    (ws / "rules").mkdir()
    (ws / "rules" / "paused.yaml").write_text(
        "- override: GZ10000301004000\n  enabled: false\n", encoding="utf-8"
    )
    before = set((ws / "results").glob("run=*/run.json"))
    paused = runner.invoke(app, ["audit", "-w", str(ws), "--no-progress"])
    assert paused.exit_code == 0 and "paused.yaml" in paused.output
    (new,) = set((ws / "results").glob("run=*/run.json")) - before
    first, last = (json.loads(p.read_text(encoding="utf-8"))["rule_ids"] for p in (next(iter(before)), new))
    assert "GZ10000301004000" in first and "GZ10000301004000" not in last


def test_rules_test_runs_local_examples(tmp_path: Path) -> None:
    from tests.engine.test_templates import LOCAL_RULE

    local = tmp_path / "local.yaml"
    local.write_text(LOCAL_RULE, encoding="utf-8")
    args = ["rules", "test", "--local", str(local), "--rule", "L-8901-001", "--no-progress"]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "1 examples, 0 failed" in ok.output
    local.write_text(LOCAL_RULE.replace('amount: "120.00"', 'amount: "240.00"'), encoding="utf-8")
    failed = runner.invoke(app, args)
    assert failed.exit_code == 1 and "金额 amount 120.00 ≠ 240.00" in failed.output, failed.output
    local.write_text(LOCAL_RULE.split("  examples:")[0], encoding="utf-8")
    bare = runner.invoke(app, args)
    assert bare.exit_code == 1 and "lacks a positive and a negative example" in bare.output, bare.output


def test_service_commands_and_verify_log(tmp_path: Path) -> None:
    import sqlite3

    ws = _city_workspace(tmp_path)
    no_run = runner.invoke(app, ["service", "import", "-w", str(ws)])
    assert no_run.exit_code == 2 and "fundguard audit" in no_run.output
    assert runner.invoke(app, ["audit", "-w", str(ws), "--no-progress"]).exit_code == 0
    seeded = runner.invoke(app, ["service", "seed", "-w", str(ws)])
    assert seeded.exit_code == 0 and "sheng" in seeded.output and "医院医保办" in seeded.output
    first = json.loads(runner.invoke(app, ["service", "import", "-w", str(ws)]).output)
    again = json.loads(runner.invoke(app, ["service", "import", "-w", str(ws)]).output)
    assert first["clues_created"] > 0 and again["already_imported"] and again["clues_created"] == 0
    # real time from the CLI: a stored visit with a hit, in national form and as a 3101 message
    import duckdb

    from fundguard.engine.payload3101 import to_3101
    from fundguard.engine.realtime import claim_from_store

    with duckdb.connect() as con:
        visit, rule = con.execute(
            f"SELECT mdtrt_id, rule_id FROM read_parquet('{ws}/results/run=*/hits.parquet') "
            "WHERE rule_id LIKE 'GZ100003%' ORDER BY mdtrt_id LIMIT 1"
        ).fetchone()
    store = Store(ws).connect()
    claim = claim_from_store(store, visit)
    store.close()
    (tmp_path / "claim.json").write_text(json.dumps(claim, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "c3101.json").write_text(json.dumps(to_3101(claim), ensure_ascii=False), encoding="utf-8")
    national = runner.invoke(app, ["audit-claim", str(tmp_path / "claim.json"), "-w", str(ws)])
    assert national.exit_code == 0 and rule in {h["rule_id"] for h in json.loads(national.output)}
    answer = runner.invoke(app, ["audit-claim", str(tmp_path / "c3101.json"), "-w", str(ws)])
    assert answer.exit_code == 0 and rule in {
        r["rule_id"] for r in json.loads(answer.output)["output"]["result"]
    }
    (tmp_path / "bad.json").write_text('{"mdtrt_d": []}', encoding="utf-8")
    bad = runner.invoke(app, ["audit-claim", str(tmp_path / "bad.json"), "-w", str(ws)])
    assert bad.exit_code == 2 and "mdtrt_d must hold exactly one visit row" in bad.output

    os.environ["FUNDGUARD_RECORD_ANCHOR"] = str(tmp_path / "outside" / "anchors.log")
    try:
        anchored = runner.invoke(app, ["record", "anchor", "-w", str(ws)])
        assert anchored.exit_code == 0 and "anchors.log" in anchored.output
        intact = runner.invoke(app, ["verify-log", "-w", str(ws)])
    finally:
        del os.environ["FUNDGUARD_RECORD_ANCHOR"]
    assert intact.exit_code == 0 and "Record intact" in intact.output and "导出的链头一致" in intact.output
    with sqlite3.connect(ws / "service.db") as con:  # a role changed behind the service's back
        con.execute("UPDATE users SET role = 'admin' WHERE username = 'yiyuan'")
    promoted = runner.invoke(app, ["verify-log", "-w", str(ws)])
    assert promoted.exit_code == 1 and "user" in promoted.output and "admin" in promoted.output
    with sqlite3.connect(ws / "service.db") as con:  # tamper with one recorded step
        con.execute("UPDATE record_entries SET actor = 'someone-else' WHERE seq = 1")
    tampered = runner.invoke(app, ["verify-log", "-w", str(ws)])
    assert tampered.exit_code == 1 and "TAMPERED" in tampered.output
