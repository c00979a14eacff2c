"""Migrations, login, lockout, session timeout, and per role what each user can and cannot see or do."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from fundguard.service import auth, cases, clues, scorecard
from fundguard.service.db import Database, current_revision, migrate
from fundguard.service.errors import AccountLocked, NotAuthenticated, PermissionDenied
from fundguard.service.models import Clue, User
from fundguard.service.scope import region_prefix

if TYPE_CHECKING:
    from conftest import World

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_migrations_up_and_idempotent(db_url: str) -> None:
    migrate(db_url)
    migrate(db_url)  # a second upgrade is a no-op
    assert current_revision(db_url) == "0005_points_credit"
    engine = sa.create_engine(db_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"clues", "cases", "record_entries", "fund_refunds", "treasury_fines", "users"} <= tables


def test_models_match_migrations(db_url: str) -> None:
    """Autogenerate finds nothing to change: the ORM and the migration chain describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from fundguard.service.models import Base

    migrate(db_url)
    engine = sa.create_engine(db_url)
    with engine.connect() as con:
        assert compare_metadata(MigrationContext.configure(con), Base.metadata) == []
    engine.dispose()


def test_upgrade_keeps_and_backfills_rows(db_url: str) -> None:
    """A database at the first revision with a clue in it upgrades to head with the clue's group key."""
    migrate(db_url, "0001")
    engine = sa.create_engine(db_url)
    with engine.begin() as con:
        con.execute(
            sa.text(
                "INSERT INTO clues (source, rule_id, rule_version, rule_name, result_type, fixmedins_code, "
                "fixmedins_name, admdvs, period, hits, amount, status, step_started, overturned, notified, "
                "department, description, created_at, updated_at, version) VALUES ('rule', 'R1', '1', 'r', '可疑', "
                "'H1', 'h', '890102', '2025-01', 1, 100, 'pending_initial', '2026-03-02', false, false, '医保局', '', "
                "'2026-03-02 00:00:00', '2026-03-02 00:00:00', 1)"
            )
        )
    migrate(db_url)
    with engine.connect() as con:
        assert con.execute(sa.text("SELECT group_key FROM clues")).scalar_one() == "rule|R1|H1|2025-01"
    engine.dispose()
    assert current_revision(db_url) == "0005_points_credit"


def _user(db: Database) -> None:
    with db.session() as s:
        auth.create_user(s, "wang", "correct-horse-1", "county_supervisor", "890103", display_name="王科长")


def test_login_hashes_and_tokens(db: Database) -> None:
    _user(db)
    with db.session() as s:
        stored = s.execute(sa.select(User.password_hash).where(User.username == "wang")).scalar_one()
        assert stored.startswith("scrypt$") and "correct-horse-1" not in stored
        token, user = auth.login(s, "wang", "correct-horse-1", now=T0)
        assert user["role_zh"] == "县级监管员" and user["admdvs"] == "890103"
        assert auth.actor_for_token(s, token, now=T0).username == "wang"
        with pytest.raises(NotAuthenticated):
            auth.login(s, "wang", "wrong", now=T0)
        with pytest.raises(NotAuthenticated):
            auth.login(s, "nobody", "correct-horse-1", now=T0)
        with pytest.raises(NotAuthenticated):
            auth.actor_for_token(s, "forged-token", now=T0)
        auth.logout(s, token)
        with pytest.raises(NotAuthenticated):
            auth.actor_for_token(s, token, now=T0)


def test_lockout_after_five_failures(db: Database) -> None:
    _user(db)
    for i in range(4):
        with db.session() as s, pytest.raises(NotAuthenticated):
            auth.login(s, "wang", f"bad{i}", now=T0)
    with db.session() as s, pytest.raises(AccountLocked) as exc:
        auth.login(s, "wang", "bad5", now=T0)
    assert "锁定" in exc.value.zh and exc.value.http_status == 423
    # locked: even the right password is refused for 15 minutes
    with db.session() as s, pytest.raises(AccountLocked):
        auth.login(s, "wang", "correct-horse-1", now=T0 + dt.timedelta(minutes=14))
    with db.session() as s:
        token, _ = auth.login(s, "wang", "correct-horse-1", now=T0 + dt.timedelta(minutes=16))
        assert token


def test_session_timeout_slides(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _user(db)
    monkeypatch.setenv("FUNDGUARD_SESSION_MINUTES", "30")
    with db.session() as s:
        token, _ = auth.login(s, "wang", "correct-horse-1", now=T0)
    for minutes in (25, 50, 75):  # each use slides the 30-minute window
        with db.session() as s:
            auth.actor_for_token(s, token, now=T0 + dt.timedelta(minutes=minutes))
    with db.session() as s, pytest.raises(NotAuthenticated) as exc:
        auth.actor_for_token(s, token, now=T0 + dt.timedelta(minutes=75 + 31))
    assert "超时" in exc.value.zh


def _clue_in(world: World, admdvs: str) -> int:
    with world.db.session() as s:
        return s.execute(sa.select(Clue.id).where(Clue.admdvs == admdvs).order_by(Clue.id)).scalars().first()


def test_region_scope_per_level(world: World) -> None:
    county, city, province = world.actor("xian"), world.actor("shi"), world.actor("sheng")
    with world.db.session() as s:
        total = s.execute(sa.select(sa.func.count()).select_from(Clue)).scalar_one()
        own = s.execute(
            sa.select(sa.func.count()).select_from(Clue).where(Clue.admdvs == county.admdvs)
        ).scalar_one()
        assert 0 < own < total
        seen = clues.list_clues(s, county, size=500)
        assert seen["total"] == own and {c["admdvs"] for c in seen["items"]} == {county.admdvs}
        assert clues.list_clues(s, city, size=1)["total"] == total  # the city sees all its counties
        assert clues.list_clues(s, province, size=1)["total"] == total
        other = next(c for c in clues.list_clues(s, city, size=500)["items"] if c["admdvs"] != county.admdvs)
        with pytest.raises(PermissionDenied):
            clues.get_clue(s, county, other["id"])
        assert clues.get_clue(s, city, other["id"])["id"] == other["id"]
        # filters cannot widen the scope
        assert clues.list_clues(s, county, admdvs=other["admdvs"])["total"] == 0
        dash = clues.dashboard(s, county)
        assert dash["totals"]["clues"] == own and [r["admdvs"] for r in dash["by_region"]] == [county.admdvs]
    assert (
        region_prefix("890000") == "89"
        and region_prefix("890100") == "8901"
        and region_prefix("890102") == "890102"
    )


def test_hospital_sees_only_its_notified_clues(world: World) -> None:
    hosp, county, city = world.actor("yiyuan"), world.actor("xian"), world.actor("shi")
    with world.db.session() as s:
        own = s.execute(sa.select(Clue).where(Clue.fixmedins_code == hosp.fixmedins_code)).scalars().first()
        assert own is not None, "the seeded hospital has clues in the synthetic city"
        assert clues.list_clues(s, hosp)["total"] == 0  # nothing is shown before 复审 tells the institution
        with pytest.raises(Exception, match="不存在"):
            clues.get_clue(s, hosp, own.id)
        clues.act_on_clue(s, county, own.id, "initial_confirm", own.version)
        c = clues.act_on_clue(s, city, own.id, "review_confirm", clues.get_clue(s, county, own.id)["version"])
        assert c["status_zh"] == "待申诉"
        seen = clues.list_clues(s, hosp)
        assert [i["id"] for i in seen["items"]] == [own.id]
        other = (
            s.execute(
                sa.select(Clue.id).where(
                    Clue.fixmedins_code != hosp.fixmedins_code, Clue.admdvs == hosp.admdvs
                )
            )
            .scalars()
            .first()
        )
        with pytest.raises(PermissionDenied):
            clues.get_clue(s, hosp, other)
        with pytest.raises(PermissionDenied):  # a hospital cannot review flags or see cases
            clues.act_on_clue(s, hosp, own.id, "appeal_expired", c["version"])
        with pytest.raises(PermissionDenied):
            cases.list_cases(s, hosp)


def test_third_party_sees_masked_patients(world: World) -> None:
    inspector, city = world.actor("disanfang"), world.actor("shi")
    with world.db.session() as s:
        cid = clues.list_clues(s, city, size=1)["items"][0]["id"]
        plain = clues.get_clue(s, city, cid)["evidence"][0]
        masked = clues.get_clue(s, inspector, cid)["evidence"][0]
        assert plain["psn_name"] and "*" not in plain["psn_name"]
        assert masked["psn_name"] == plain["psn_name"][0] + "*" * (len(plain["psn_name"]) - 1)
        assert masked["psn_no"] != plain["psn_no"] and masked["psn_no"][:4] == plain["psn_no"][:4]
        assert masked["amount"] == plain["amount"]  # the money and the evidence stay readable
        assert clues.get_clue(s, inspector, cid)["actions"] == []
        with pytest.raises(PermissionDenied):
            clues.act_on_clue(
                s, inspector, cid, "initial_confirm", plain and clues.get_clue(s, city, cid)["version"]
            )


@pytest.mark.parametrize(
    ("username", "action", "allowed"),
    [
        ("jingban", "initial_confirm", True),  # the agency reviews flags
        ("fazhi", "initial_confirm", False),  # the legal reviewer does not
        ("admin", "initial_confirm", False),
        ("disanfang", "initial_confirm", False),
    ],
)
def test_who_may_review(world: World, username: str, action: str, allowed: bool) -> None:
    actor = world.actor(username)
    with world.db.session() as s:
        c = clues.list_clues(s, world.actor("shi"), size=1)["items"][0]
        if allowed:
            assert clues.act_on_clue(s, actor, c["id"], action, c["version"])["status"] == "pending_review"
        else:
            with pytest.raises(PermissionDenied):
                clues.act_on_clue(s, actor, c["id"], action, c["version"])


def test_only_maintainers_pause_rules(world: World) -> None:
    with world.db.session() as s, pytest.raises(PermissionDenied):
        scorecard.pause_rule(s, world.actor("xian"), "L-GHOST-BED", "too many false flags", world.workspace)


def test_cross_check_grant_is_scoped_and_expires(world: World) -> None:
    county = world.actor("xian")
    other = "890104"
    target = _clue_in(world, other)
    with world.db.session() as s:
        with pytest.raises(PermissionDenied):
            clues.get_clue(s, county, target)
        with pytest.raises(PermissionDenied):  # a county cannot grant what it cannot see
            auth.grant_access(s, county, "xian", admdvs=other, days=7)
        g = auth.grant_access(s, world.actor("shi"), "xian", admdvs=other, days=7, reason="交叉检查", now=T0)
        assert g["valid_to"].startswith("2026-03-09")
    with world.db.session() as s:
        user = s.execute(sa.select(User).where(User.username == "xian")).scalar_one()
        during = auth.actor_for_user(s, user, T0 + dt.timedelta(days=3))
        assert clues.get_clue(s, during, target)["admdvs"] == other
        assert clues.list_clues(s, during, size=1)["total"] > clues.list_clues(s, county, size=1)["total"]
        after = auth.actor_for_user(s, user, T0 + dt.timedelta(days=8))
        with pytest.raises(PermissionDenied):
            clues.get_clue(s, after, target)
