"""``fundguard models ...`` commands and the Kaggle pipeline: on small tables in the Kaggle layout (fast), and
on the real labelled data when ``../shared/data`` has it (slow)."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fundguard.cli import app
from fundguard.core.shared import shared_data_dir

runner = CliRunner()
IPT_HEADER = (
    "BeneID,ClaimID,ClaimStartDt,ClaimEndDt,Provider,InscClaimAmtReimbursed,AttendingPhysician,"
    "OperatingPhysician,OtherPhysician,AdmissionDt,ClmAdmitDiagnosisCode,DeductibleAmtPaid,DischargeDt,"
    "DiagnosisGroupCode," + ",".join(f"ClmDiagnosisCode_{i}" for i in range(1, 11))
    + "," + ",".join(f"ClmProcedureCode_{i}" for i in range(1, 7))
)  # fmt: skip

BENE_HEADER = (
    "BeneID,DOB,DOD,Gender,Race,RenalDiseaseIndicator,State,County,NoOfMonths_PartACov,NoOfMonths_PartBCov,"
    "ChronicCond_Alzheimer,ChronicCond_Heartfailure,ChronicCond_KidneyDisease,ChronicCond_Cancer,"
    "ChronicCond_ObstrPulmonary,ChronicCond_Depression,ChronicCond_Diabetes,ChronicCond_IschemicHeart,"
    "ChronicCond_Osteoporasis,ChronicCond_rheumatoidarthritis,ChronicCond_stroke,IPAnnualReimbursementAmt,"
    "IPAnnualDeductibleAmt,OPAnnualReimbursementAmt,OPAnnualDeductibleAmt"
)


def _kaggle_like(d: Path, n: int = 120) -> Path:
    """Inpatient claims (zipped, as Kaggle ships them) and beneficiaries for ``n`` providers; the fraudulent
    third bills more and longer stays. Returns the labels file, which names only the first 100 providers."""
    rng = np.random.default_rng(1)
    d.mkdir(parents=True)
    fraud = rng.random(n) < 0.3
    lines, benes, c = [IPT_HEADER], [BENE_HEADER], 0
    for p in range(n):
        for _ in range(int(rng.integers(5, 15) * (2 if fraud[p] else 1))):
            c += 1
            los = int(rng.integers(2, 6) + (4 if fraud[p] else 0))
            fee = int(rng.normal(9000 if fraud[p] else 5000, 1500))
            b = f"BENE{c % 400}"
            lines.append(
                f"{b},CLM{c},2009-03-01,2009-03-{1 + los:02d},PRV{p:05d},{fee},PHY{p}A,NA,NA,2009-03-01,"
                f"7866,1068,2009-03-{1 + los:02d},201,1970,4019" + ",NA" * 8 + ",NA" * 6
            )
    for b in range(400):
        benes.append(f"BENE{b},1940-01-01,NA,1,1,0,{b % 5},230,12,12" + ",2" * 11 + ",0,0,0,0")
    with zipfile.ZipFile(d / "Train_Inpatientdata-1.csv.zip", "w") as z:
        z.writestr("Train_Inpatientdata-1.csv", "\n".join(lines) + "\n")
    (d / "Train_Beneficiarydata-1.csv").write_text("\n".join(benes) + "\n", encoding="utf-8")
    labels = d / "labels.csv"
    rows = [f"PRV{p:05d},{'Yes' if fraud[p] else 'No'}" for p in range(100)]
    labels.write_text("Provider,PotentialFraud\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return labels


def test_kaggle_command_scores_every_provider(tmp_path: Path) -> None:
    labels = _kaggle_like(tmp_path / "k")
    out = tmp_path / "pred.csv"
    res = runner.invoke(app, ["models", "kaggle", "--data", str(tmp_path / "k"), "--labels", str(labels),
                              "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    auc = float(re.search(r"ROC-AUC ([0-9.]+)", res.output).group(1))
    assert auc > 0.8 and "PR-AUC" in res.output and "precision@50" in res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [*rows[0]] == ["Provider", "score"]
    assert len(rows) == 120  # the 20 unlabelled providers are scored too
    assert all(0 <= float(r["score"]) <= 1 for r in rows)


def test_kaggle_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["models", "kaggle", "--data", str(tmp_path / "none"), "--labels", "x.csv"])
    assert res.exit_code == 2 and "错误" in res.output and "Error" in res.output
    (tmp_path / "empty").mkdir()
    (tmp_path / "l.csv").write_text("Provider,PotentialFraud\nPRV1,Yes\n", encoding="utf-8")
    res = runner.invoke(app, ["models", "kaggle", "--data", str(tmp_path / "empty"), "--labels",
                              str(tmp_path / "l.csv")])  # fmt: skip
    assert res.exit_code == 2 and "Inpatientdata" in res.output


def test_model_cards_and_run_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["models", "list"])
    assert res.exit_code == 0 and "ghost_bed" in res.output and "团伙" in res.output
    res = runner.invoke(app, ["models", "show", "upcoding"])
    assert res.exit_code == 0 and "已知盲区" in res.output and "验证" in res.output
    res = runner.invoke(app, ["models", "show", "nope"])
    assert res.exit_code == 2 and "未知模型" in res.output and "unknown model" in res.output
    res = runner.invoke(app, ["models", "run", "-w", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "ingest" in res.output


@pytest.mark.slow
def test_kaggle_real_data_provider_grouped_cv(tmp_path: Path) -> None:
    shared = shared_data_dir()
    data = shared / "kaggle-provider-fraud" if shared else None
    if data is None or not (data / "labels_dev.csv").exists():
        pytest.skip(
            "../shared/data/kaggle-provider-fraud 不存在，跳过 Kaggle 真实数据评估 (shared data absent)"
        )
    out = tmp_path / "predictions.csv"
    res = runner.invoke(app, ["models", "kaggle", "--data", str(data), "--labels", str(data / "labels_dev.csv"),
                              "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    auc = float(re.search(r"ROC-AUC ([0-9.]+)", res.output).group(1))
    assert auc >= 0.84, res.output  # measured 0.86 (see the supervised model card for why not 0.90)
    providers = {r["Provider"] for r in csv.DictReader(out.open(encoding="utf-8"))}
    labelled = {r["Provider"] for r in csv.DictReader((data / "labels_dev.csv").open(encoding="utf-8"))}
    assert labelled <= providers and len(providers) > len(labelled)
