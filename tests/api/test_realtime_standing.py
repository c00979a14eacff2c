"""The real-time endpoint's cache of flagged doctors and insured persons on file (issue 11): a change committed
in this process (the workbench) applies to the next claim, bulk deletes included; a rollback changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fundguard.api.realtime_standing import StandingCache
from fundguard.service.db import Database, migrate
from fundguard.service.models import ExternalQualification


def _who(psn_no: str, *doctors: str) -> list[dict]:
    return [{"psn_no": psn_no, "doctors": set(doctors)}]


def test_a_suspension_applies_to_the_next_claim(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    migrate(url)
    db = Database(url)
    try:
        cache = StandingCache(db)
        cache.refresh()
        assert cache.fresh() and not cache.may_concern(_who("P1", "D110105001"))
        with db.session() as s:
            s.add(ExternalQualification(national_code="D110105001", status="suspended", since=dt.date(2020, 1, 1),
                                        source_admdvs="320102", imported_by="test"))  # fmt: skip
        assert not cache.fresh()  # committed here: reloaded before the next claim, not in seconds
        cache.refresh()
        assert cache.may_concern(_who("P1", "D110105002", "D110105001"))
        assert not cache.may_concern(_who("P1", "D110105002"))
        with db.session() as s:
            s.query(ExternalQualification).delete()  # a bulk delete skips the flush: seen all the same
        assert not cache.fresh()
        cache.refresh()
        assert not cache.may_concern(_who("P1", "D110105001"))
        try:
            with db.session() as s:
                s.add(ExternalQualification(national_code="D110105003", status="suspended",
                                            since=dt.date(2020, 1, 1), source_admdvs="320102", imported_by="t"))  # fmt: skip
                s.flush()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert cache.fresh()  # nothing committed: the sets stand
    finally:
        db.dispose()
