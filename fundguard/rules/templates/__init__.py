"""Rule templates: the explicit registry name → template instance."""

from fundguard.rules.templates.attribute_restriction import AttributeRestriction
from fundguard.rules.templates.base import Param, Template
from fundguard.rules.templates.catalogue_scope import CatalogueScope
from fundguard.rules.templates.code_consistency import CodeConsistency
from fundguard.rules.templates.department_restriction import DepartmentRestriction
from fundguard.rules.templates.drug_safety import DrugSafety
from fundguard.rules.templates.ghost_bed import GhostBed
from fundguard.rules.templates.group_admission import GroupAdmission
from fundguard.rules.templates.indication import Indication
from fundguard.rules.templates.inventory_balance import InventoryBalance
from fundguard.rules.templates.item_pair import ItemPair
from fundguard.rules.templates.knowledge_review import KnowledgeReview
from fundguard.rules.templates.overlapping_supply import OverlappingSupply
from fundguard.rules.templates.pharmacy_cashing import PharmacyCashing
from fundguard.rules.templates.prescription_size import PrescriptionSize
from fundguard.rules.templates.price_limit import PriceLimit
from fundguard.rules.templates.quantity_outlier import QuantityOutlier
from fundguard.rules.templates.readmission import Readmission
from fundguard.rules.templates.same_item_repeat import SameItemRepeat
from fundguard.rules.templates.secondary_operation import SecondaryOperation
from fundguard.rules.templates.service_consumable import ServiceConsumable
from fundguard.rules.templates.stay_quantity_cap import StayQuantityCap
from fundguard.rules.templates.trace_code import TraceCodeCount, TraceCodeReuse
from fundguard.rules.templates.visit_frequency import VisitFrequency
from fundguard.rules.templates.visit_overlap import VisitOverlap
from fundguard.rules.templates.windowed_aggregate import WindowedAggregate

TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        AttributeRestriction(),
        ItemPair(),
        SameItemRepeat(),
        PriceLimit(),
        CatalogueScope(),
        VisitOverlap(),
        Readmission(),
        GhostBed(),
        GroupAdmission(),
        InventoryBalance(),
        PharmacyCashing(),
        WindowedAggregate(),
        Indication(),
        DepartmentRestriction(),
        SecondaryOperation(),
        KnowledgeReview(),
        # issue 12: new rule classes
        CodeConsistency(),
        DrugSafety(),
        VisitFrequency(),
        PrescriptionSize(),
        QuantityOutlier(),
        OverlappingSupply(),
        TraceCodeCount(),
        TraceCodeReuse(),
        ServiceConsumable(),
        StayQuantityCap(),
    )
}

__all__ = ["TEMPLATES", "Param", "Template"]
