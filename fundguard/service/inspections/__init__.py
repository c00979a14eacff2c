"""Inspections (监督检查): the registries (名录库: targets, inspectors/experts/third-party staff, agencies) with
their history and Excel/CSV import (``registries``), and 双随机一公开 draws — reproducible, sealed, redrawn
only by a new record, published (``draws``; the computation itself is ``supervision.draws``), and flight inspections (飞行检查,
令第6号) on the workflow engine (``process`` binds ``FLIGHT_FLOW``; ``flight`` the functions), whose findings
become clues and 清零 problems at handover; the annual plan with full coverage and the 问题清零 ledger
(``plans``).

May import ``clues`` (handover), ``workflow``, ``record``, ``scope``, ``timing``, ``models``, ``errors`` and ``supervision``; nothing in
``service`` imports it but the demo seed.
"""

from __future__ import annotations

from fundguard.service.inspections.documents import flight_document, plan_item_document
from fundguard.service.inspections.draws import (
    draw_record,
    get_draw,
    list_draws,
    make_draw,
    publish_draw,
    verify_draw,
)
from fundguard.service.inspections.flight import (
    act_on_flight,
    create_flight,
    flight_leads,
    get_flight,
    list_flights,
)
from fundguard.service.inspections.plans import (
    FOCUS_AREAS,
    PlanConfig,
    add_problem,
    close_problem,
    complete_item,
    coverage,
    create_plan,
    list_items,
    list_problems,
    problem_ledger,
)
from fundguard.service.inspections.registries import (
    history,
    import_inspectors,
    import_targets,
    list_agencies,
    list_inspectors,
    list_targets,
    save_agency,
    save_inspector,
    update_target,
)

__all__ = [
    "FOCUS_AREAS",
    "PlanConfig",
    "act_on_flight",
    "add_problem",
    "close_problem",
    "complete_item",
    "coverage",
    "create_flight",
    "create_plan",
    "draw_record",
    "flight_document",
    "flight_leads",
    "get_draw",
    "get_flight",
    "history",
    "import_inspectors",
    "import_targets",
    "list_agencies",
    "list_draws",
    "list_flights",
    "list_inspectors",
    "list_items",
    "list_problems",
    "list_targets",
    "make_draw",
    "plan_item_document",
    "problem_ledger",
    "publish_draw",
    "save_agency",
    "save_inspector",
    "update_target",
    "verify_draw",
]
