"""The synthetic city: determinism, size, schema, integrity, planted violations, formats."""

from __future__ import annotations

import csv
import filecmp
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fundguard import kb
from fundguard.data.schema import table as schema_table
from fundguard.synth import VIOLATION_TYPES, CityConfig, generate_city

SMALL = 40_000


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate_city(out, CityConfig(fee_lines=SMALL, seed=7), progress=False)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate_city(out, CityConfig(fee_lines=SMALL, seed=7, violation_scale=0), progress=False)
    return out


def _q(root: Path, sql: str) -> list[tuple]:
    con = duckdb.connect()
    for t in ("mdtrt_d", "fee_list_d", "setl_d", "psn_info_b", "setl_list_diag_d"):
        con.execute(f"create view {t} as select * from read_parquet('{root}/{t}/*.parquet')")
    return con.execute(sql).fetchall()


def test_deterministic(tmp_path: Path) -> None:
    for d in ("a", "b"):
        generate_city(tmp_path / d, CityConfig(fee_lines=5_000, seed=3), progress=False)
    cmp = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    assert not cmp.diff_files
    for sub in cmp.subdirs.values():
        assert not sub.diff_files


def test_counts_and_schema(city: Path) -> None:
    n = _q(city, "select count(*) from fee_list_d")[0][0]
    assert abs(n - SMALL) <= 0.05 * SMALL
    for name in ("mdtrt_d", "fee_list_d", "setl_d", "psn_info_b", "hilist_b", "invt_chg_d"):
        f = sorted((city / name).glob("*.parquet"))[0]
        got, want = pq.read_schema(f), schema_table(name).arrow_schema

        # Parquet has no second unit: timestamp[s] is stored (and read back) as timestamp[ms]
        def norm(t: pa.DataType) -> pa.DataType:
            return pa.timestamp("s") if pa.types.is_timestamp(t) else t

        assert [(x.name, norm(x.type)) for x in got] == [(x.name, x.type) for x in want]
    assert _q(city, "select min(length(chrgitm_lv)), min(length(hosp_lv)) from fee_list_d, mdtrt_d limit 1")[
        0
    ] == (2, 2)


def test_integrity(city: Path) -> None:
    assert _q(city, "select count(*) from fee_list_d f anti join mdtrt_d m using (mdtrt_id)")[0][0] == 0
    bad = _q(
        city,
        """select count(*) from setl_d s join (select setl_id, sum(det_item_fee_sumamt) t
                      from fee_list_d group by 1) f using (setl_id) where s.medfee_sumamt <> f.t""",
    )
    assert bad[0][0] == 0
    assert (
        _q(
            city,
            "select count(*) from setl_d where refd_setl_flag='1' and medfee_sumamt < 0 and init_setl_id is not null",
        )[0][0]
        > 0
    )
    # a bed charge on every day of every stay
    missing = _q(
        city,
        """select count(*) from mdtrt_d m where med_type='21' and ipt_days >
        (select count(distinct cast(fee_ocur_time as date)) from fee_list_d f
         where f.mdtrt_id=m.mdtrt_id and hilist_code='001109000010000')""",
    )
    assert missing[0][0] == 0
    codes = set(kb.codes.icd10()["code"])
    assert {r[0] for r in _q(city, "select distinct diag_code from setl_list_diag_d")} <= codes


def _gender_hits(root: Path) -> int:
    g = kb.limits.gender()
    con_sql = ",".join(f"('{c}','{s}')" for c, s in g.select("code", "allowed_gend").unique().iter_rows())
    return _q(
        root,
        f"""select count(*) from fee_list_d f join mdtrt_d m using (mdtrt_id)
        join (values {con_sql}) g(code, allowed) on f.hilist_code = g.code where m.gend <> g.allowed""",
    )[0][0]


def _dup_pair_hits(root: Path) -> int:
    p = kb.limits.duplicate_pairs()
    vals = ",".join(f"('{a}','{b}')" for a, b in p.select("main_code", "sub_code").iter_rows())
    return _q(
        root,
        f"""select count(*) from fee_list_d a join fee_list_d b using (mdtrt_id)
        join (values {vals}) p(m, s) on a.hilist_code = p.m and b.hilist_code = p.s""",
    )[0][0]


def _over_price(root: Path) -> int:
    return _q(root, "select count(*) from fee_list_d where pric > pric_uplmt_amt")[0][0]


def _after_death(root: Path) -> int:
    return _q(
        root,
        """select count(*) from mdtrt_d m join psn_info_b p using (psn_no)
                       where p.die_date is not null and cast(m.begntime as date) > p.die_date""",
    )[0][0]


def _split(root: Path) -> int:
    return _q(
        root,
        """select count(*) from mdtrt_d a join mdtrt_d b using (psn_no, fixmedins_code, dscg_maindiag_code)
        where a.med_type='21' and b.med_type='21' and b.begntime > a.endtime
          and b.begntime < a.endtime + interval 3 day""",
    )[0][0]


@pytest.mark.parametrize("check", [_gender_hits, _dup_pair_hits, _over_price, _after_death, _split])
def test_planted_present_and_clean_city_free(city: Path, clean: Path, check) -> None:
    assert check(city) > 0
    assert check(clean) == 0


def test_ground_truth(city: Path, clean: Path) -> None:
    rows = list(csv.DictReader((city / "ground_truth.csv").open(encoding="utf-8")))
    assert {r["violation_type"] for r in rows} == set(VIOLATION_TYPES)
    lines = {r[0] for r in _q(city, "select bkkp_sn from fee_list_d")}
    for r in rows:
        assert all(b in lines for b in r["bkkp_sn"].split(";") if b)
    genders = dict(_q(city, "select mdtrt_id, gend from mdtrt_d"))
    allowed = dict(kb.limits.gender().select("code", "allowed_gend").iter_rows())
    for r in rows:
        if r["violation_type"] == "gender_mismatch":
            assert genders[r["mdtrt_id"]] != allowed[r["hilist_code"]]
    assert list(csv.reader((clean / "ground_truth.csv").open(encoding="utf-8")))[1:] == []


@pytest.mark.parametrize("fmt", ["csv", "csv-gbk", "jsonl", "xlsx"])
def test_formats(tmp_path: Path, fmt: str) -> None:
    generate_city(tmp_path, CityConfig(fee_lines=2_000, fmt=fmt, seed=5), progress=False)
    f = next((tmp_path / "fee_list_d").iterdir())
    if fmt == "xlsx":
        ws = openpyxl.load_workbook(f, read_only=True).active
        header = next(ws.iter_rows(values_only=True))
        assert list(header) == list(schema_table("fee_list_d").columns)
        return
    text = f.read_bytes().decode("gb18030" if fmt == "csv-gbk" else "utf-8")
    assert "示例市" in text and "0011" in text


# --- recomputation checks of the stay-based and fraud types --------------------------------------------


def _ghost_bed(root: Path) -> int:
    """Stays billing nursing on fewer days than they last (bed only: 挂床, also the gang's stays)."""
    return _q(
        root,
        """select count(*) from mdtrt_d m where med_type='21' and ipt_days >
        (select count(distinct cast(fee_ocur_time as date)) from fee_list_d f
         where f.mdtrt_id=m.mdtrt_id and hilist_code='001201000040000')""",
    )[0][0]


def _gang(root: Path) -> int:
    """Eight or more persons admitted to one hospital on one day with one main diagnosis."""
    return _q(
        root,
        """select count(*) from (select fixmedins_code, cast(begntime as date) d, dscg_maindiag_code
           from mdtrt_d where med_type='21' group by all having count(distinct psn_no) >= 8)""",
    )[0][0]


def _concurrent(root: Path) -> int:
    """An outpatient visit inside the same person's stay at another institution."""
    return _q(
        root,
        """select count(*) from mdtrt_d i join mdtrt_d o using (psn_no)
        where i.med_type='21' and o.med_type='11' and o.fixmedins_code <> i.fixmedins_code
          and o.begntime between i.begntime and i.endtime""",
    )[0][0]


@pytest.mark.parametrize("check", [_ghost_bed, _gang, _concurrent])
def test_stay_checks_present_and_clean_city_free(city: Path, clean: Path, check) -> None:
    assert check(city) > 0
    assert check(clean) == 0


def test_every_type_in_a_small_city(tmp_path: Path) -> None:
    s = generate_city(tmp_path, CityConfig(fee_lines=20_000, seed=11), progress=False)
    assert set(s.violations) == set(VIOLATION_TYPES)
    assert all(n > 0 for n in s.violations.values())


def test_identities(city: Path) -> None:
    from fundguard.synth.identity import valid_certno

    rows = _q(city, "select certno, psn_name, gend, strftime(brdy, '%Y%m%d') from psn_info_b")
    assert rows
    for certno, name, gend, brdy in rows:
        assert valid_certno(certno) and certno.startswith("89")
        assert certno[6:14] == brdy
        assert int(certno[16]) % 2 == (1 if gend == "1" else 0)
        assert 2 <= len(name) <= 3
    assert _q(city, "select count(*) from mdtrt_d where certno is null or psn_name is null")[0][0] == 0
    assert valid_certno("11010519491231002X")  # the standard's own example


def test_compliant_restricted_uses(clean: Path) -> None:
    """Clean data holds restricted codes used compliantly (negatives for the audit engine)."""
    g = kb.limits.gender()
    vals = ",".join(f"('{c}','{s}')" for c, s in g.select("code", "allowed_gend").unique().iter_rows())
    ok = _q(
        clean,
        f"""select count(*) from fee_list_d f join mdtrt_d m using (mdtrt_id)
        join (values {vals}) g(code, allowed) on f.hilist_code = g.code where m.gend = g.allowed""",
    )[0][0]
    assert ok > 0
    child = ",".join(f"('{c}')" for c in kb.limits.age().filter(kb.limits.age()["target"] == "儿童")["code"])
    assert (
        _q(
            clean,
            f"""select count(*) from fee_list_d f join mdtrt_d m using (mdtrt_id)
            join (values {child}) a(code) on f.hilist_code = a.code where m.age < 14""",
        )[0][0]
        > 0
    )


def test_inventory_consistent(city: Path, clean: Path) -> None:
    sql = """with t as (select fixmedins_code, hilist_code,
                 sum(cnt) filter (where inv_chg_type='3503') buy,
                 sum(cnt) filter (where inv_chg_type='3505') sold,
                 sum(cnt) filter (where inv_chg_type='3501') stock
               from read_parquet('{root}/invt_chg_d/*.parquet') group by 1, 2)
             select count(*) filter (where stock < 0),
                    count(*) filter (where buy >= sold and stock <> buy - sold),
                    count(*) filter (where sold > buy and stock <> 0),
                    count(*) filter (where sold > buy)
             from t"""
    neg, bad, bad_short, short = duckdb.connect().execute(sql.format(root=city)).fetchone()
    assert (neg, bad, bad_short) == (0, 0, 0) and short > 0
    assert duckdb.connect().execute(sql.format(root=clean)).fetchone() == (0, 0, 0, 0)


def test_pharmacy_cashing_round_catalogue_price(city: Path) -> None:
    rows = list(csv.DictReader((city / "ground_truth.csv").open(encoding="utf-8")))
    sns = [r["bkkp_sn"] for r in rows if r["violation_type"] == "pharmacy_cashing"]
    assert sns
    got = _q(
        city,
        f"""select count(*) filter (where pric = pric_uplmt_amt and det_item_fee_sumamt % 100 = 0), count(*)
        from fee_list_d where bkkp_sn in ({",".join(f"'{s}'" for s in sns)})""",
    )[0]
    assert got[0] == got[1] == len(sns)
