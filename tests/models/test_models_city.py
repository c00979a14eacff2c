"""The models over a synthetic city with schemes and legitimate-but-unusual controls (``CityConfig.schemes``):
every planted scheme in the top 10 of its entity type with a true reason, no control in the top 20."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from fundguard.data.ingest import ingest
from fundguard.engine import run_batch
from fundguard.models import lead_rows, run_models
from fundguard.models.evaluate import EXPECTED, placements
from fundguard.rules import load_rules
from fundguard.synth import CityConfig, generate_city


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("models")
    out, ws = root / "city", root / "ws"
    generate_city(out, CityConfig(seed=11, fee_lines=60_000, schemes=True), progress=False)
    ingest([p for p in sorted(out.iterdir()) if p.is_dir()], ws, progress=False)
    audit = run_batch(ws, load_rules(), progress=False)
    return out, ws, run_models(ws, hits_path=audit.hits_path)


def _truth(city: Path, vtype: str) -> set[str]:
    rows = csv.DictReader((city / "ground_truth.csv").open(encoding="utf-8"))
    return {r["mdtrt_id"] for r in rows if r["violation_type"] == vtype}


def test_every_scheme_in_top_10_with_a_true_reason(city) -> None:
    out, _, run = city
    placed = [p for p in placements(out, run.leads_path) if p.scheme != "control"]
    assert {p.scheme for p in placed} == set(EXPECTED)
    for p in placed:
        assert p.lead is not None, f"{p.scheme}: no lead of model {EXPECTED[p.scheme][0]}"
        assert p.rank <= 10, f"{p.scheme} ranks {p.rank} among {p.entity_type}"
        words = EXPECTED[p.scheme][1]
        assert any(w in r for r in p.lead["reasons"] for w in words), (p.scheme, p.lead["reasons"])
    # the linked visits are the planted ones: a reason that is true of the data, not only of the score
    by = {p.scheme: p.lead for p in placed}
    for scheme in ("ghost_bed", "split_admission", "repeated_test"):
        linked = set(by[scheme]["visits"])
        assert linked and linked & _truth(out, scheme), scheme
    gang = set(by["phantom_inpatient_gang"]["related"])
    planted = next(
        r["entity_id"].split(";")
        for r in csv.DictReader((out / "schemes.csv").open(encoding="utf-8"))
        if r["entity_type"] == "group"
    )
    assert set(planted) <= gang and len(gang) <= len(planted) + 2
    assert by["inventory_mismatch"]["money"] > 0 and by["pharmacy_cashing"]["money"] > 0


def test_no_legitimate_unusual_institution_in_top_20(city) -> None:
    out, _, run = city
    controls = [p for p in placements(out, run.leads_path) if p.scheme == "control"]
    assert len(controls) == 4
    for p in controls:
        assert p.rank is None or p.rank > 20, (p.entity_id, p.rank, p.lead and p.lead["reasons"])


def test_leads_files_and_plain_rows(city) -> None:
    _, ws, run = city
    assert run.run_dir.parent == ws / "leads" and run.run_dir.name.startswith("run=")
    df = pl.read_parquet(run.leads_path)
    for col in ("entity_type", "entity_id", "score", "rank", "model", "reasons", "visits", "money"):
        assert col in df.columns
    assert set(df["entity_type"]) >= {"institution", "pharmacy", "person", "group"}
    # rank: the entity's place within its type by its best score
    best = df.group_by("entity_type", "entity_id").agg(pl.col("score").max(), pl.col("rank").first())
    for _, g in best.group_by("entity_type"):
        g = g.sort("rank")
        assert g["rank"].to_list() == list(range(1, g.height + 1))
        assert g["score"].to_list() == sorted(g["score"].to_list(), reverse=True)
    sheet = openpyxl.load_workbook(run.xlsx_path, read_only=True).active
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert header[:6] == ("排名", "对象类型", "对象编号", "对象名称", "模型", "风险分")
    second = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert second[1] in {"医疗机构", "科室", "医师", "参保人", "药店", "团伙"}
    rows = lead_rows(run.leads_path)
    assert len(rows) == df.height and isinstance(rows[0]["reasons"], list)
    months = pl.read_parquet(run.run_dir / "indicators_institution.parquet")
    assert months["month"].n_unique() == 12  # per institution × month


def test_rule_hits_feed_a_model(city) -> None:
    _, _, run = city
    assert run.hits_run is not None
    df = pl.read_parquet(run.leads_path)
    assert df.filter(pl.col("model") == "rule_hits").height > 0


def test_ordinary_city_unchanged_by_schemes(tmp_path: Path) -> None:
    """The schemes come after the ordinary blocks, which stay the same (other tests depend on them)."""
    plain, with_schemes = tmp_path / "a", tmp_path / "b"
    generate_city(plain, CityConfig(seed=3, fee_lines=5_000), progress=False)
    generate_city(with_schemes, CityConfig(seed=3, fee_lines=5_000, schemes=True), progress=False)
    a = pl.read_parquet(plain / "fee_list_d").drop("fixmedins_name")
    b = pl.read_parquet(with_schemes / "fee_list_d").head(a.height).drop("fixmedins_name")
    assert a.equals(b)
    assert not (plain / "schemes.csv").exists()
    gt_a = (plain / "ground_truth.csv").read_text("utf-8").splitlines()
    gt_b = (with_schemes / "ground_truth.csv").read_text("utf-8").splitlines()
    ordinary = [r for r in gt_a if ",inventory_mismatch," not in r]
    assert gt_b[: len(ordinary)] == ordinary


def test_isolation_forest_does_not_beat_the_peer_scores(city) -> None:
    """Why the models use no multivariate anomaly score: over the same institution indicators an Isolation
    Forest ranks the legitimate specialty hospitals among the most anomalous (they are unlike general
    hospitals), which the peer-group robust scores never do (test above)."""
    from sklearn.ensemble import IsolationForest

    from fundguard.data.store import Store
    from fundguard.models.indicators import frame, institution_month, prepare
    from fundguard.models.scenarios import INSTITUTION_MODELS

    out, ws, run = city
    con = Store(ws).connect()
    prepare(con)
    df = frame(con, institution_month(period=True))
    codes = sorted({t.code for ts in INSTITUTION_MODELS.values() for t in ts} - {"rule_hit_share"})
    x = df.select(codes).cast(pl.Float64).fill_null(0).fill_nan(0).to_numpy()
    score = -IsolationForest(n_estimators=300, random_state=0).fit(x).score_samples(x)
    ids = df["inst"].to_list()
    rank = {ids[int(i)]: r + 1 for r, i in enumerate(score.argsort()[::-1])}
    controls = [p.entity_id for p in placements(out, run.leads_path) if p.scheme == "control"]
    assert min(rank[c] for c in controls if c in rank) <= 20


def test_supervised_model_from_outcomes(city, tmp_path: Path) -> None:
    """Outcomes per institution (here: the scheme hospitals confirmed, twelve ordinary ones overturned) train
    the gradient-boosted model, validated with folds split by institution."""
    from typer.testing import CliRunner

    from fundguard.cli import app

    out, ws, _ = city
    schemes = list(csv.DictReader((out / "schemes.csv").open(encoding="utf-8")))
    bad = [s["entity_id"] for s in schemes if s["entity_type"] == "institution" and s["scheme"] != "control"]
    hospitals = pl.read_parquet(out / "medins_info_b").filter(pl.col("fixmedins_type") == "1")
    good = [c for c in hospitals["fixmedins_code"].sort() if c not in bad][:12]
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "entity_id,label\n" + "".join(f"{c},1\n" for c in bad) + "".join(f"{c},0\n" for c in good), "utf-8"
    )
    res = CliRunner().invoke(app, ["models", "run", "-w", str(ws), "--labels", str(labels)])
    assert res.exit_code == 0, res.output
    assert "ROC-AUC" in res.output and "有标签监督模型" in res.output
    run = sorted((ws / "leads").glob("run=*"), key=lambda p: p.stat().st_mtime)[-1]
    sup = pl.read_parquet(run / "leads.parquet").filter(pl.col("model") == "supervised")
    assert sup.height > 0 and "按机构分组" in sup["reasons"][0][0]
    labels.write_text("entity_id,label\nH1,maybe\n", "utf-8")
    res = CliRunner().invoke(app, ["models", "run", "-w", str(ws), "--labels", str(labels)])
    assert res.exit_code == 2 and "entity_id,label" in res.output


def test_peer_distributions_group_links_and_institutions(city) -> None:
    """The files behind the workbench's peer charts and group graph, and each lead's institutions."""
    out, _, run = city
    df = pl.read_parquet(run.leads_path)
    assert df.filter(pl.col("institutions").list.len() == 0).is_empty()  # every lead can be scoped by region
    own = df.filter(pl.col("entity_type").is_in(["institution", "pharmacy"]))
    assert (own["institutions"].list.first() == own["entity_id"]).all()
    peers = pl.read_parquet(run.run_dir / "peers.parquet")
    assert set(peers.select("entity_type", "entity_id").unique().rows()) <= set(
        df.select("entity_type", "entity_id").unique().rows()
    )
    ghost = next(p for p in placements(out, run.leads_path) if p.scheme == "ghost_bed")
    row = peers.filter(
        (pl.col("entity_id") == ghost.entity_id) & (pl.col("indicator") == "no_care_share")
    ).row(0, named=True)
    assert row["peer_group"] == ghost.lead["peer_group"] and row["n"] >= 5 and row["value"] > row["p90"]
    assert row["p10"] <= row["p25"] <= row["p50"] <= row["p75"] <= row["p90"]
    links = pl.read_parquet(run.run_dir / "group_links.parquet")
    gang = next(p for p in placements(out, run.leads_path) if p.scheme == "phantom_inpatient_gang")
    mine = links.filter(pl.col("group_id") == gang.lead["entity_id"])
    members = set(gang.lead["related"])
    pairs = mine.filter(pl.col("kind") == "person")
    assert set(pairs["source"]) | set(pairs["target"]) <= members and pairs["times"].max() >= 2
    stays = mine.filter(pl.col("kind") == "institution")
    assert set(stays["source"]) == members and set(stays["target"]) == set(gang.lead["institutions"])


def test_evaluate_reads_outcomes_from_the_service(city, tmp_path: Path) -> None:
    """`models evaluate`: the model clues in the service database by model (none decided yet), and the labels
    file it writes feeds `models run --labels`."""
    from typer.testing import CliRunner

    from fundguard.cli import app

    _, ws, _ = city
    url = f"sqlite:///{tmp_path / 'service.db'}"
    runner = CliRunner()
    r = runner.invoke(app, ["service", "import-leads", "-w", str(ws), "--database-url", url])
    assert r.exit_code == 0, r.output
    out = tmp_path / "labels.csv"
    r = runner.invoke(
        app, ["models", "evaluate", "-w", str(ws), "--database-url", url, "--labels-out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "虚假住院" in r.output and "机构标签 0 家" in r.output
    assert out.read_text(encoding="utf-8") == "entity_id,label\n"


def test_institution_risk_for_the_inspection_pool(city) -> None:
    """The planted institutions and pharmacies lead the pool's model risk; the legitimate-unusual controls add
    nothing; a person's lead is counted, never scored onto the place the person used."""
    from fundguard.models.risk import institution_risk, weight

    out, ws, run = city
    risk = institution_risk(ws, run.run_id)
    assert institution_risk(ws)  # the newest run (other tests of this module may have run the models again)
    ranked = sorted(risk, key=lambda c: -risk[c]["score"])
    for p in placements(out, run.leads_path):
        if p.entity_type not in ("institution", "pharmacy"):
            continue
        if p.scheme == "control":
            assert risk.get(p.entity_id, {"weight": 0})["weight"] == 0, p.entity_id
        else:
            assert ranked.index(p.entity_id) < 15 and risk[p.entity_id]["weight"] >= 3, p.scheme
    only_people = [c for c, r in risk.items() if r["leads"] == 0]
    assert all(risk[c]["person_leads"] > 0 and risk[c]["weight"] == 0 for c in only_people)
    assert (weight(0), weight(1.0), weight(3.0), weight(3.1), weight(100)) == (0, 1, 1, 2, 9)
    assert institution_risk(ws / "nowhere") == {}
