"""信息公开 (issue 16): typical cases (典型案例曝光), the annual 飞行检查 announcement, 双随机 draw records,
定点医药机构医保基金使用情况公示 and the joint-punishment list, each published only after approval on the
``disclosure`` process (draft → 待负责人审批 → 已批准 → 已发布 → 已撤回; the head approves, not the drafter).

``compose`` builds each kind's content once, masked per PIPL (persons' names, IDs and phone numbers, free text
too), from closed cases, published draws, flight inspections, the claims store and the credit list; the
snapshot is stored with the item, so what was approved is what the public sees. ``process`` binds the
machine to the ``disclosures`` table; ``service`` drafts, lists and acts; ``export`` writes the published
pages as static HTML for the bureau's website. May import ``inspections``, ``credit``, ``cases`` and below.
"""

from __future__ import annotations

from fundguard.service.disclosure.compose import KINDS
from fundguard.service.disclosure.export import export_site, render_item_html
from fundguard.service.disclosure.process import DISCLOSURE
from fundguard.service.disclosure.service import (
    act_on_disclosure,
    create_disclosure,
    get_disclosure,
    list_disclosures,
    public_item,
    public_items,
)

__all__ = [
    "DISCLOSURE",
    "KINDS",
    "act_on_disclosure",
    "create_disclosure",
    "export_site",
    "get_disclosure",
    "list_disclosures",
    "public_item",
    "public_items",
    "render_item_html",
]
