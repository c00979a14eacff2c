"""Rule templates: the explicit registry name → template instance."""

from fundguard.rules.templates.attribute_restriction import AttributeRestriction
from fundguard.rules.templates.base import Param, Template
from fundguard.rules.templates.catalogue_scope import CatalogueScope
from fundguard.rules.templates.item_pair import ItemPair
from fundguard.rules.templates.price_limit import PriceLimit
from fundguard.rules.templates.same_item_repeat import SameItemRepeat

TEMPLATES: dict[str, Template] = {
    t.name: t for t in (AttributeRestriction(), ItemPair(), SameItemRepeat(), PriceLimit(), CatalogueScope())
}

__all__ = ["TEMPLATES", "Param", "Template"]
