"""``fundguard inspections draw`` and ``verify-draw`` as a user runs them: a draw from a seeded workspace,
verified; any edit to the record file → exit 1; the same seed over the same registries → the same result."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fundguard.cli import app
from fundguard.data.ingest import ingest
from fundguard.synth import CityConfig, generate_city

runner = CliRunner(env={"COLUMNS": "200"})


def test_draw_and_verify(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("FUNDGUARD_DATABASE_URL", raising=False)
    city, ws = tmp_path / "city", tmp_path / "ws"
    generate_city(city, CityConfig(seed=3, fee_lines=3_000, fmt="parquet"), progress=False)
    ingest([city / "medins_info_b"], ws, progress=False)
    assert runner.invoke(app, ["service", "seed", "-w", str(ws)]).exit_code == 0
    out = tmp_path / "draw.json"
    r = runner.invoke(app, ["inspections", "draw", "-w", str(ws), "--seed", "体彩 2026-12-07 0815", "--out", str(out),
                            "--ratio", "0.3"])  # fmt: skip
    assert r.exit_code == 0, r.output
    ok = runner.invoke(app, ["inspections", "verify-draw", str(out)])
    assert ok.exit_code == 0 and "Draw verified" in ok.output
    rec = json.loads(out.read_text("utf-8"))
    assert rec["result"]["targets"] and all(len(t["team"]) == 2 for t in rec["result"]["targets"])

    # a redraw on the same registries and seed value gives the same result, and cites the first draw
    again = tmp_path / "again.json"
    r = runner.invoke(app, ["inspections", "draw", "-w", str(ws), "--seed", "体彩 2026-12-07 0815", "--out", str(again),
                            "--ratio", "0.3", "--redraw-of", "1", "--reason", "演示重抽"])  # fmt: skip
    assert r.exit_code == 0, r.output
    rec2 = json.loads(again.read_text("utf-8"))
    assert rec2["result"] == rec["result"] and rec2["previous"]["hash"] == rec["hash"]
    r = runner.invoke(app, ["inspections", "draw", "-w", str(ws), "--seed", "x", "--out", str(again),
                            "--redraw-of", "1", "--reason", "再次"])  # fmt: skip
    assert r.exit_code == 2 and "重抽" in r.output  # the first draw is already superseded

    tampered = dict(rec)
    tampered["result"] = {**rec["result"], "targets": rec["result"]["targets"][::-1]}
    out.write_text(json.dumps(tampered, ensure_ascii=False), "utf-8")
    bad = runner.invoke(app, ["inspections", "verify-draw", str(out)])
    assert bad.exit_code == 1 and "FAILS" in bad.output
    out.write_text("not json", "utf-8")
    assert runner.invoke(app, ["inspections", "verify-draw", str(out)]).exit_code == 2
