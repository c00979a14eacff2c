"""医保支付资格记分 (一人一档): the staff registry with the 服务承诺 and practice sites, points from decided cases and
协议处理 apportioned to the responsible staff, the 告知 → 陈述申辩 → 生效 → 修复 process, the qualification on any
day (suspension at 9 points, termination at 12 with the re-registration bars, nationwide through the exchange
file), the settlement check (``settles``) and the batch snapshot.

``process`` binds ``POINTS_FLOW`` to the ``point_records`` table; ``service`` holds the functions; ``exchange``
the files (staff import, exchange file, snapshot); ``schemas`` the API's response models. The rules are
``supervision.points`` with the province's file (``FUNDGUARD_POINTS_RULES``). May import the shared machinery of
``fundguard.service``, never the other concepts.
"""

from __future__ import annotations

from fundguard.service.points.documents import points_document
from fundguard.service.points.exchange import export_exchange, import_exchange, import_staff, write_snapshot
from fundguard.service.points.process import POINTS, rules
from fundguard.service.points.service import (
    act_on_record,
    add_site,
    check_lines,
    get_record,
    get_staff,
    list_records,
    list_staff,
    lookup,
    qualification_status,
    register_staff,
    score,
    score_case,
    settles,
)

__all__ = [
    "POINTS",
    "act_on_record",
    "add_site",
    "check_lines",
    "export_exchange",
    "get_record",
    "get_staff",
    "import_exchange",
    "import_staff",
    "list_records",
    "list_staff",
    "lookup",
    "points_document",
    "qualification_status",
    "register_staff",
    "rules",
    "score",
    "score_case",
    "settles",
    "write_snapshot",
]
