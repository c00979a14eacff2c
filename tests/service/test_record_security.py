"""Finding 3 of issue 10: the enforcement record under a key outside the database, its head exported to an
append-only file, the table append-only on PostgreSQL, and the rows replayed against it. Every tamper the
issue lists must be detected."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from fundguard.service import clues, record
from fundguard.service.models import Clue, RecordEntry, RecordHead

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture(autouse=True)
def _anchor_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "anchors" / "record-anchors.log"
    monkeypatch.setenv("FUNDGUARD_RECORD_ANCHOR", str(path))
    return path


def _clue_step(world: World) -> int:
    actor = world.actor("xian")
    with world.db.session() as s:
        cid = s.execute(
            sa.select(Clue.id)
            .where(Clue.status == "pending_initial", Clue.admdvs == actor.admdvs)
            .order_by(Clue.id)
        ).scalar()
        v = clues.get_clue(s, actor, cid)["version"]
        clues.act_on_clue(s, actor, cid, "initial_confirm", v, comment="疑点成立")
    return cid


def _anchor(world: World) -> dict:
    with world.db.session() as s:
        return record.anchor(s, world.db.url)


def test_intact_record_verifies_against_its_anchor(world: World, _anchor_file: Path) -> None:
    _clue_step(world)
    line = _anchor(world)
    assert json.loads(_anchor_file.read_text().splitlines()[-1])["seq"] == line["seq"]
    out = record.verify_database(world.db.url)
    assert out["ok"] and out["anchor"]["seq"] == line["seq"] and out["mismatches"] == []


def test_delete_last_entry_and_move_head_back(world: World, as_dba: Callable) -> None:
    _clue_step(world)
    _anchor(world)
    with world.db.engine.begin() as con:
        con = as_dba(con)
        last = con.execute(sa.select(sa.func.max(RecordEntry.seq))).scalar()
        prev = con.execute(sa.select(RecordEntry.hash).where(RecordEntry.seq == last - 1)).scalar()
        con.execute(sa.delete(RecordEntry).where(RecordEntry.seq == last))
        con.execute(sa.update(RecordHead).values(seq=last - 1, hash=prev))
    out = record.verify_database(world.db.url)
    assert not out["ok"] and "导出" in out["reason_zh"]


def test_delete_last_entry_without_anchor_is_caught_by_replay(world: World, as_dba: Callable) -> None:
    cid = _clue_step(world)  # no export: the clue's state still betrays the missing entry
    with world.db.engine.begin() as con:
        con = as_dba(con)
        last = con.execute(sa.select(sa.func.max(RecordEntry.seq))).scalar()
        prev = con.execute(sa.select(RecordEntry.hash).where(RecordEntry.seq == last - 1)).scalar()
        con.execute(sa.delete(RecordEntry).where(RecordEntry.seq == last))
        con.execute(sa.update(RecordHead).values(seq=last - 1, hash=prev))
    out = record.verify_database(world.db.url)
    assert not out["ok"]
    assert {"entity": "clue", "id": cid, "field": "status"} in [
        {k: m[k] for k in ("entity", "id", "field")} for m in out["mismatches"]
    ]


def test_edit_and_recompute_with_the_projects_own_hash(world: World, as_dba: Callable) -> None:
    """The attacker rewrites an entry and recomputes every hash with entry_hash — but without the key."""
    _clue_step(world)
    forged_key = b"0" * 64  # not the key: the attacker cannot read the key file
    with world.db.engine.begin() as con:
        con = as_dba(con)
        rows = con.execute(sa.select(RecordEntry).order_by(RecordEntry.seq)).all()
        prev = record.GENESIS
        for e in rows:
            payload = e.payload.replace("疑点成立", "无问题")
            h = record.entry_hash(
                forged_key, prev, e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, payload
            )
            con.execute(
                sa.update(RecordEntry)
                .where(RecordEntry.seq == e.seq)
                .values(payload=payload, prev_hash=prev, hash=h)
            )
            prev = h
        con.execute(sa.update(RecordHead).values(hash=prev))
    out = record.verify_database(world.db.url)
    assert not out["ok"] and out["first_bad"] == 1 and "篡改" in out["reason_zh"]


def test_direct_update_of_a_clue_is_reported(world: World) -> None:
    cid = _clue_step(world)
    assert record.verify_database(world.db.url)["ok"]
    with world.db.engine.begin() as con:
        con.execute(sa.text("UPDATE clues SET status = 'dismissed' WHERE id = :i"), {"i": cid})
        con.execute(sa.text("UPDATE clues SET amount = 1 WHERE id = :i"), {"i": cid + 1})
    out = record.verify_database(world.db.url)
    found = {(m["entity"], m["id"], m["field"]): m for m in out["mismatches"]}
    assert not out["ok"] and found[("clue", cid, "status")]["recorded"] == "pending_review"
    assert found[("clue", cid, "status")]["current"] == "dismissed" and ("clue", cid + 1, "amount") in found


def test_direct_update_of_a_role_is_reported(world: World) -> None:
    with world.db.engine.begin() as con:
        con.execute(sa.text("UPDATE users SET role = 'admin' WHERE username = 'yiyuan'"))
    out = record.verify_database(world.db.url)
    assert not out["ok"]
    assert [(m["entity"], m["field"], m["recorded"], m["current"]) for m in out["mismatches"]] == [
        ("user", "role", "hospital", "admin")
    ]


def test_forged_anchor_line_is_refused(world: World, _anchor_file: Path) -> None:
    _anchor(world)
    line = json.loads(_anchor_file.read_text())
    line["seq"] = 1
    _anchor_file.write_text(json.dumps(line) + "\n")
    with pytest.raises(Exception, match="伪造"):
        record.latest_anchor(world.db.url)


def test_postgres_record_is_append_only(world: World) -> None:
    if world.db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger and grants exist on PostgreSQL")
    for sql in (
        "UPDATE record_entries SET actor = 'x'",
        "DELETE FROM record_entries",
        "TRUNCATE record_entries",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), world.db.engine.begin() as con:
            con.execute(sa.text(sql))
    with world.db.engine.connect() as con:
        grants = (
            con.execute(
                sa.text(
                    "SELECT privilege_type FROM information_schema.role_table_grants "
                    "WHERE table_name = 'record_entries' AND grantee = 'PUBLIC'"
                )
            )
            .scalars()
            .all()
        )
    assert not {"UPDATE", "DELETE", "TRUNCATE"} & set(grants)
    assert record.verify_database(world.db.url)["ok"]


def test_the_key_lives_outside_the_database(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With another key the same chain no longer verifies: the key, not the database, vouches for it."""
    other = tmp_path / "other.key"
    other.write_text("f" * 64)
    monkeypatch.setenv("FUNDGUARD_RECORD_KEY", str(other))
    out = record.verify_database(world.db.url)
    assert not out["ok"] and out["first_bad"] == 1
    new = tmp_path / "keys" / "record.key"
    monkeypatch.setenv("FUNDGUARD_RECORD_KEY", str(new))
    record.record_key()
    assert new.stat().st_mode & 0o777 == 0o600 and len(new.read_text()) == 64
