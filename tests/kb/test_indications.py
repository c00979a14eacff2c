"""药品限适应症 → ICD-10 mapping: parsing, known mappings, overrides, reproducibility, coverage."""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path

import polars as pl
import pytest

from fundguard.kb import indications
from fundguard.kb._files import DATA_DIR

TOOL = Path(__file__).resolve().parents[2] / "tools" / "derive_indications.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("derive_indications", TOOL)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _kp(item_name: str) -> str:
    df = indications.derived().filter(pl.col("item_name") == item_name)
    assert df.height, item_name
    return df["kp_id"][0]


def test_parse_payment_condition_kept_apart(tool) -> None:
    items = tool.parse_indication("限新发的急性血栓性脑梗死，支付不超过14天。")
    assert len(items) == 1
    assert items[0]["phrases"][0] == "新发急性血栓性脑梗死"
    assert items[0]["conditions"] == ["支付不超过14天"]


def test_parse_numbered_items_and_aliases(tool) -> None:
    items = tool.parse_indication("限：1.需要雄激素去势治疗的前列腺癌患者；2.子宫内膜异位症(Ⅰ至Ⅳ期)。")
    assert len(items) == 2
    assert "需要雄激素去势治疗前列腺癌" in items[0]["phrases"]
    assert items[1]["phrases"] == ["子宫内膜异位症"] and items[1]["aliases"] == ["Ⅰ至Ⅳ期"]
    items = tool.parse_indication("限转移性激素敏感性前列腺癌(mHSPC)患者。")
    assert items[0]["phrases"] == ["转移性激素敏感性前列腺癌"] and items[0]["aliases"] == ["mHSPC"]
    items = tool.parse_indication("限肾细胞癌、黑色素瘤、癌性胸腹腔积液。")
    assert items[0]["phrases"] == ["肾细胞癌", "黑色素瘤", "癌性胸腹腔积液"]


@pytest.mark.parametrize(
    ("item_name", "prefix"),
    [
        ("注射用醋酸地加瑞克", "C61"),  # 需要雄激素去势治疗的前列腺癌
        ("瑞维鲁胺片", "C61"),  # 转移性激素敏感性前列腺癌(mHSPC)
        ("奥扎格雷钠注射液", "I63"),  # 新发的急性血栓性脑梗死
        ("阿利沙坦酯片", "I10"),  # 轻、中度原发性高血压
        ("吡非尼酮胶囊", "J84.1"),  # 特发性肺纤维化
        ("布格替尼片", "C34"),  # ALK 阳性非小细胞肺癌 (not lymphoma: 间变性淋巴瘤激酶 is a gene)
        ("艾拉莫德片", "M05"),  # 活动性类风湿关节炎
        ("非那雄胺片", "N40"),  # 前列腺增生
        ("恩替卡韦颗粒", "B18.1"),  # 乙型肝炎
    ],
)
def test_known_mappings(item_name: str, prefix: str) -> None:
    kp = _kp(item_name)
    assert prefix in indications.prefixes(kp)
    rows = indications.derived().filter((pl.col("kp_id") == kp) & (pl.col("icd10") == prefix))
    assert set(rows["confidence"]) <= {"high", "medium"}


def test_alk_is_not_lymphoma() -> None:
    assert not set(indications.prefixes(_kp("布格替尼片"))) & {"C81", "C83", "C84", "C85"}


def test_matches_semantics() -> None:
    kp = _kp("奥扎格雷钠注射液")
    assert indications.matches(kp, ["I63.900"]) is True
    assert indications.matches(kp, ["I10.x00", "E11.900"]) is False
    rows = indications.derived().filter(pl.col("kp_id") == kp)
    assert rows["conditions"].str.contains("支付不超过14天").all()
    unmapped = indications.unmapped()
    kp_un = unmapped.filter(pl.col("item_name") == "注射用厄他培南")["kp_id"][0]  # 头孢菌素耐药或重症感染
    assert indications.matches(kp_un, ["J18.900"]) is None
    assert not set(unmapped["kp_id"]) & set(indications.derived()["kp_id"])


def test_overrides_add_and_remove(tmp_path: Path) -> None:
    kp_un = indications.unmapped()["kp_id"][0]
    kp = _kp("注射用醋酸地加瑞克")
    ov = tmp_path / "overrides.csv"
    ov.write_text(
        "kp_id,icd10,action,reviewer,note\n"
        f"{kp_un},J18,add,张三,肺炎 reviewed\n"
        f"{kp},C61,remove,李四,test removal\n",
        encoding="utf-8",
    )
    m = indications.mapping(ov)
    added = m.filter(pl.col("kp_id") == kp_un)
    assert added.height == 1 and added["match_kind"][0] == "override" and added["reviewer"][0] == "张三"
    assert indications.matches(kp_un, ["J18.900"], overrides=ov) is True
    assert "C61" not in indications.prefixes(kp, overrides=ov)
    assert indications.matches(kp, ["C61.x00"], overrides=ov) is None
    bad = tmp_path / "bad.csv"
    bad.write_text("kp_id,icd10,action,reviewer,note\nKP-x,C61,replace,王五,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="add\\|remove"):
        indications.mapping(bad)


def test_derivation_is_reproducible(tool, tmp_path: Path) -> None:
    tool.derive(tmp_path)
    names = ["indication_icd10.csv", "indication_unmapped.csv", "indication_clauses.csv"]
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, DATA_DIR, names, shallow=False)
    assert not mismatch and not errors, "re-run tools/derive_indications.py"


def test_coverage_printed(tool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tool.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "high/medium:" in out and "unmapped:" in out
    m = indications.derived()
    assert set(m["confidence"]) <= {"high", "medium", "low"}
    assert set(m["match_kind"]) <= {"exact", "synonym", "prefix", "fuzzy", "name"}
    n = m["kp_id"].n_unique() + indications.unmapped().height
    hm = m.filter(pl.col("confidence").is_in(["high", "medium"]))["kp_id"].n_unique()
    assert n == 510 and hm / n >= 0.9


def test_every_icd10_name_naming_the_disease_is_mapped() -> None:
    """菌血症 maps to A49.901 (named 菌血症), not only to the curated A40/A41 range; 非小细胞肺癌 is not 小细胞肺癌."""
    kp = _kp("注射用盐酸万古霉素")
    assert indications.matches(kp, ["A49.901"]) is True
    assert indications.matches(kp, ["O98.804"]) is True  # 妊娠合并菌血症
    rows = indications.derived().filter((pl.col("kp_id") == kp) & (pl.col("icd10") == "A49.901"))
    assert rows["match_kind"].to_list() == ["name"] and rows["confidence"].to_list() == ["medium"]
    names = indications.derived().filter(pl.col("match_kind") == "name")
    assert not names["icd10"].str.starts_with("Z").any()
    small = names.filter(pl.col("term") == "小细胞肺癌")
    assert not small["icd10_name"].str.contains("非小细胞").any()


def test_history_diagnosis_and_clauses(tool) -> None:
    kp = _kp("聚乙二醇化人粒细胞刺激因子注射液")  # 前次化疗曾发生重度中性粒细胞减少
    rows = indications.derived().filter(pl.col("kp_id") == kp)
    assert set(rows["scope"]) == {"history"} and "D70" in set(rows["icd10"])
    clauses = indications.clauses()
    albumin = clauses.filter(pl.col("item_name") == "人血白蛋白")
    assert {"lab", "alternative"} <= set(albumin["kind"])
    assert "白蛋白低于30g/L" in "".join(albumin["clause"])
    assert tool.clause_kind("支付不超过14天") is None
    assert tool.clause_kind("≥12岁青少年") is None
    assert tool.clause_kind("HER2阳性乳腺癌") == "lab"
    assert tool.clause_kind("既往接受过含铂化疗治疗失败的宫颈癌") == "history"


def test_bureau_override_reaches_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fundguard.rules.knowledge import KNOWLEDGE

    kp = _kp("注射用醋酸地加瑞克")
    (tmp_path / "indication_icd10.csv").write_text(
        f"kp_id,icd10,action,reviewer,note\n{kp},N40,add,张三,本地复核\n", encoding="utf-8"
    )
    load = KNOWLEDGE["kb_indication_icd10"][0]
    assert "N40" not in set(load().filter(pl.col("kp_id") == kp)["icd10"])
    monkeypatch.setenv("FUNDGUARD_KB_OVERRIDES", str(tmp_path))
    assert "N40" in set(load().filter(pl.col("kp_id") == kp)["icd10"])
