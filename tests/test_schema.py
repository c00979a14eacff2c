"""The canonical tables match the NHSA extraction templates, and their documentation is current."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fundguard.core.shared import shared_data_dir
from fundguard.data import schema

ROOT = Path(__file__).resolve().parents[1]


def test_national_tables_have_template_column_counts() -> None:
    counts = {
        name: len(schema.table(name).fields)
        for name in ("mdtrt_d", "setl_d", "fee_list_d", "setl_list_diag_d", "setl_list_oprn_d")
    }
    assert counts == {
        "mdtrt_d": 107,
        "setl_d": 100,
        "fee_list_d": 83,
        "setl_list_diag_d": 23,
        "setl_list_oprn_d": 31,
    }


def test_national_tables_match_the_templates_in_order() -> None:
    data = shared_data_dir()
    if data is None:
        pytest.skip("../shared/data is absent (a user's clone): nothing to compare the schema with")
    expected: dict[str, list[str]] = {}
    with (data / "national-tables" / "fields.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            expected.setdefault(r["table"], []).append(r["field"])
    later = {"fee_list_d": ["drug_trac_codg"], "mdtrt_d": ["inet_mdtrt_flag"]}  # platform additions since
    for name, fields in expected.items():
        assert list(schema.table(name).columns) == fields + later.get(name, []), name


def test_reference_tables_require_only_their_keys() -> None:
    for name in ("medins_info_b", "medins_staff_b", "psn_info_b", "hilist_b"):
        t = schema.table(name)
        assert t.required == t.key, name


def test_trace_code_and_death_date_headers_are_recognised() -> None:
    assert schema.aliases("fee_list_d")["trac_codg"] == "drug_trac_codg"
    assert schema.aliases("fee_list_d")["追溯码"] == "drug_trac_codg"
    assert schema.aliases("psn_info_b")["death_date"] == "die_date"
    assert "death_date" not in schema.aliases("fee_list_d")


def test_every_code_column_has_its_dictionary() -> None:
    dic = schema.dictionary()
    for t in schema.tables().values():
        assert t.key, t.name
        for f in t.fields:
            if f.kind == "code":
                assert f.dic_type in dic, (t.name, f.name, f.dic_type)
            if f.strict:
                assert f.dic_type, (t.name, f.name)


def test_codes_keep_leading_zeros_in_the_dictionary() -> None:
    dic = schema.dictionary()
    assert "01" in dic["HOSP_LV"] and "01" in dic["MED_CHRGITM_TYPE"] and "01" in dic["CHRGITM_LV"]


def test_aliases_cover_interface_names_and_chinese_headers() -> None:
    fee = schema.aliases("fee_list_d")
    assert (
        fee["bilg_dr_codg"] == "bilg_dr_code"
        and fee["feedetl_sn"] == "bkkp_sn"
        and fee["开单医生编码"] == "bilg_dr_code"
    )
    assert "dise_codg" not in fee  # fee_list_d has its own dise_codg column; the alias is mdtrt_d's only
    assert schema.aliases("mdtrt_d")["dise_codg"] == "dise_no"


def test_tables_doc_is_generated_from_the_schema() -> None:
    doc = (ROOT / "docs" / "tables.md").read_text("utf-8")
    assert doc == schema.markdown(), (
        "docs/tables.md is stale: run `fundguard schema --markdown > docs/tables.md`"
    )
