"""Supervised ranking where labels exist: gradient boosting validated by entity-grouped cross-validation.

Labels are outcomes per entity (a clue confirmed or overturned; a provider known to be fraudulent or not).
The unit of a row is the entity, and folds are split by entity (``StratifiedGroupKFold``), so one entity's
claims are never on both sides of a split — the leak that makes many published notebooks look better than
they are. Figures are computed on out-of-fold scores only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from fundguard.core.errors import InputError

PRECISION_AT = (50, 100, 200)


@dataclass
class CVResult:
    folds: int
    n: int
    positives: int
    roc_auc: float
    pr_auc: float
    precision_at: dict[int, float]
    oof: np.ndarray

    def lines_zh(self) -> list[str]:
        out = [
            f"按实体分组 {self.folds} 折交叉验证（{self.n} 个有标签实体，其中阳性 {self.positives} 个）"
            f" / entity-grouped {self.folds}-fold CV ({self.n} labelled, {self.positives} positive)",
            f"ROC-AUC {self.roc_auc:.4f}",
            f"PR-AUC {self.pr_auc:.4f}",
        ]
        out += [f"precision@{k} {v:.3f}" for k, v in self.precision_at.items()]
        return out


def make_model(seed: int = 0) -> HistGradientBoostingClassifier:
    # stumps of depth 2 and large leaves: a few hundred positives overfit deeper trees (on the Kaggle
    # labels depth 2 gave ROC-AUC 0.867 out of fold, 15-leaf trees with early stopping 0.856)
    return HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=150,
        max_depth=2,
        min_samples_leaf=40,
        early_stopping=False,
        random_state=seed,
    )


def precision_at(y: np.ndarray, score: np.ndarray, k: int) -> float:
    order = np.argsort(-score, kind="stable")[:k]
    return float(np.mean(y[order])) if len(order) else float("nan")


def cross_validate(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, *, folds: int = 5, seed: int = 0
) -> CVResult:
    """Out-of-fold scores of ``make_model`` with folds split by ``groups`` (and stratified by ``y``)."""
    oof = np.zeros(len(y))
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in cv.split(x, y, groups):
        model = make_model(seed).fit(x[train], y[train])
        oof[test] = model.predict_proba(x[test])[:, 1]
    return CVResult(
        folds,
        len(y),
        int(y.sum()),
        float(roc_auc_score(y, oof)),
        float(average_precision_score(y, oof)),
        {k: precision_at(y, oof, k) for k in PRECISION_AT},
        oof,
    )


def fit_and_score(x_train: np.ndarray, y: np.ndarray, x_all: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Train on every labelled entity and score every entity, labelled or not."""
    return make_model(seed).fit(x_train, y).predict_proba(x_all)[:, 1]


def read_entity_labels(path: Path) -> dict[str, int]:
    """``entity_id,label`` (1/0, 是/否, yes/no): outcomes of earlier leads or clues (confirmed = 1,
    overturned = 0), e.g. exported from the supervision service."""
    yes, no = {"1", "yes", "y", "true", "是", "确认"}, {"0", "no", "n", "false", "否", "撤销"}
    out: dict[str, int] = {}
    try:
        rows = list(csv.DictReader(Path(path).read_text(encoding="utf-8-sig").splitlines()))
    except OSError as err:
        raise InputError(f"无法读取标签文件 {path}：{err}", f"cannot read labels file {path}: {err}") from err
    for i, r in enumerate(rows, start=2):
        value = (r.get("label") or "").strip().lower()
        if not r.get("entity_id") or value not in yes | no:
            raise InputError(
                f"标签文件 {path} 第{i}行应为 entity_id,label（label 为 1/0 或 是/否）",
                f"labels file {path} line {i}: expected entity_id,label with label 1/0 or yes/no",
            )
        out[r["entity_id"].strip()] = int(value in yes)
    return out
