"""Findings 8 and 9 of issue 10: the access log (kept six months, searched by administrators only) and
cross-check grants only by a common superior."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from fundguard.service import access, auth, clues
from fundguard.service.errors import PermissionDenied

if TYPE_CHECKING:
    from conftest import World

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_access_log_is_kept_six_months_and_searched_by_admins_only(world: World) -> None:
    with world.db.session() as s:
        access.log(s, "xian", "clue.read", "clue:1", "10.0.0.1", now=T0 - dt.timedelta(days=182))
        access.log(
            s, "xian", "login.failed", "", "10.0.0.1", "not_authenticated", now=T0 - dt.timedelta(days=200)
        )
        access.log(s, "shi", "case.read", "case:2", "10.0.0.2", now=T0)
    with world.db.session() as s:
        assert access.purge(s, now=T0) == 1  # only what is older than the retention (190 days)
    with world.db.session() as s:
        admin = world.actor("admin")
        found = access.search(s, admin, username="xian")
        assert [i["action_zh"] for i in found["items"]] == ["查看线索详情"]
        assert access.search(s, admin, action="case.")["total"] == 1
        with pytest.raises(PermissionDenied):
            access.search(s, world.actor("sheng"))


def test_access_log_never_keeps_less_than_six_months(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDGUARD_ACCESS_LOG_DAYS", "30")
    with world.db.session() as s:
        access.log(s, "xian", "clue.read", "clue:1", now=T0 - dt.timedelta(days=100))
        assert access.purge(s, now=T0) == 0 and access.keep_days() == access.MIN_KEEP_DAYS


def test_grants_only_by_a_common_superior(world: World) -> None:
    county, city = world.actor("xian"), world.actor("shi")
    with world.db.session() as s:
        others = [c for c in clues.list_clues(s, city, size=200)["items"] if c["admdvs"] != county.admdvs]
        target = others[0]
        # a county grants itself another county's institution, naming its own region: refused
        with pytest.raises(PermissionDenied):
            auth.grant_access(
                s, county, "xian", admdvs=county.admdvs, fixmedins_code=target["fixmedins_code"]
            )
        with pytest.raises(PermissionDenied):  # nor to itself at all
            auth.grant_access(s, city, "shi", admdvs=target["admdvs"])
        g = auth.grant_access(s, city, "xian", admdvs="", fixmedins_code=target["fixmedins_code"], days=7)
        assert g["admdvs"] == target["admdvs"]  # read from the institution, not from the caller
        assert [r["id"] for r in auth.list_grants(s, city)] == [g["id"]]
        assert auth.list_grants(s, county) == []
    with world.db.session() as s:  # the county, now holding a grant, cannot pass it on
        granted = auth.actor_for_token(s, auth.login(s, "xian", world.passwords["xian"])[0])
        assert clues.get_clue(s, granted, target["id"])["id"] == target["id"]
        with pytest.raises(PermissionDenied):
            auth.grant_access(s, granted, "xian", admdvs=target["admdvs"])
