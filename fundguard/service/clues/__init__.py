"""Clues (线索): import from audit runs, the flagged-item flow (初审 → 复审 → 申诉 → 调查核实 → 处理),
the big-data models' leads (``leads``: source 大数据模型, one clue per institution × month),
appeals with evidence uploads, lists, detail with evidence lines from the store, and the dashboard.

An audit run's hits are grouped per institution × rule × month (the visit's month) into one clue each;
importing the same run twice adds nothing, and a later run only adds hits not seen before to clues still
waiting for 初审. Evidence lines are read from the workspace store through DuckDB when a clue is opened.

``process`` binds the flag process (``supervision.workflow.FLAG_FLOW``) to the ``clues`` table with its effects
and writes outcomes back; ``service`` holds the service functions; ``schemas`` the API's response models. May
import the shared machinery of ``fundguard.service`` (``workflow``, ``scope``, ``record``, ``models``…), never the
other concepts (cases and referrals build on clues, not the other way round).
"""

from __future__ import annotations

from fundguard.service.clues.leads import import_leads
from fundguard.service.clues.process import (
    CONFIRMED_OUTCOMES,
    FLAG,
    OUTCOME_ZH,
    REFUTED_OUTCOMES,
    penalty_measure,
    set_outcome,
)
from fundguard.service.clues.service import (
    HOSPITAL_VISIBLE_COMMENTS,
    INTERNAL_STEPS,
    MAX_EVIDENCE,
    MAX_FILE_BYTES,
    MAX_FILES,
    SOURCES,
    UPLOAD_TYPES,
    act_on_clue,
    appeal_file,
    check_upload,
    dashboard,
    get_clue,
    import_run,
    latest_run,
    list_clues,
    measure_items,
    register_clue,
    rule_set,
    submit_appeal,
    text_masker,
)

__all__ = [
    "CONFIRMED_OUTCOMES",
    "FLAG",
    "HOSPITAL_VISIBLE_COMMENTS",
    "INTERNAL_STEPS",
    "MAX_EVIDENCE",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "OUTCOME_ZH",
    "REFUTED_OUTCOMES",
    "SOURCES",
    "UPLOAD_TYPES",
    "act_on_clue",
    "appeal_file",
    "check_upload",
    "dashboard",
    "get_clue",
    "import_leads",
    "import_run",
    "latest_run",
    "list_clues",
    "measure_items",
    "penalty_measure",
    "register_clue",
    "rule_set",
    "set_outcome",
    "submit_appeal",
    "text_masker",
]
