"""A product's options as a customer chooses them: a vest's size and added weight as two
choices (or the two together, one option, where the page has no script), the stock each
option shows, and the size guide.

Staff keep one variant per size and weight; the customer never sees its SKU.
"""

from dataclasses import dataclass

from blueprints.shop.errors import ShopError, SoldOut

# The vest's size guide: chest measured around its fullest part, in inches and
# centimetres. The one place these figures live: the product page's table reads them.
SIZE_GUIDE = (
    ("S", "32 to 35", "81 to 89"),
    ("M", "35 to 38", "89 to 97"),
    ("L", "38 to 42", "97 to 107"),
    ("XL", "42 to 46", "107 to 117"),
)
SIZE_ORDER = tuple(size for size, _inches, _cm in SIZE_GUIDE)


def stock_text(variant):
    """What the page says of an option's stock."""
    if variant.sold_out:
        return "Sold out"
    if variant.unlimited:
        return "Available now"
    if variant.low_stock:
        return f"Only {variant.stock} left"
    return "In stock"


def stock_class(variant):
    """The CSS class of an option's stock (its colour)."""
    if variant.sold_out:
        return "stock-out"
    return "stock-low" if variant.low_stock else "stock-ok"


def option_name(size, weight):
    return f"size {size} with {weight} lb"


def _size_key(size):
    return (SIZE_ORDER.index(size), size) if size in SIZE_ORDER else (len(SIZE_ORDER), size)


@dataclass(frozen=True)
class OptionGrid:
    """A product whose every option has a size and an added weight: the sizes and the
    weights offered, in order, and the option of each pair made."""

    sizes: tuple
    weights: tuple
    by_pair: dict

    def variant(self, size, weight):
        return self.by_pair.get((size, weight))

    @property
    def has_size_guide(self):
        return any(size in SIZE_ORDER for size in self.sizes)


def option_grid(variants):
    """The :class:`OptionGrid` of ``variants`` (a product's active options), or None when
    they are not all a size and a weight (a program, a one-option product)."""
    if len(variants) < 2 or any(v.size is None or v.added_weight_lb is None for v in variants):
        return None
    by_pair = {(v.size, v.added_weight_lb): v for v in variants}
    return OptionGrid(
        sizes=tuple(sorted({v.size for v in variants}, key=_size_key)),
        weights=tuple(sorted({v.added_weight_lb for v in variants})),
        by_pair=by_pair,
    )


def named_option(variants, grid, variant_id=None, size=None, weight=None):
    """The option of ``variants`` that a product page's form names (by its id, else by
    its size and weight when the product has a ``grid``), for sale or not; None when it
    names none."""
    if variant_id is not None:
        return next((v for v in variants if v.id == variant_id), None)
    if grid is None:
        return None
    return grid.variant((size or "").strip(), weight)


def resolve_option(variants, size, weight):
    """The option of ``variants`` (a product's active options) in ``size`` with
    ``weight`` pounds added, for sale now. Raises :class:`ShopError` (400) for a pair that
    is not made (or no longer sold), :class:`SoldOut` for one with no stock left."""
    grid = option_grid(variants)
    variant = grid.variant(size, weight) if grid is not None else None
    if variant is None:
        raise ShopError(
            f"Sorry, we do not offer {option_name(size, weight)}. "
            "Please choose another size or weight."
        )
    if variant.sold_out:
        raise SoldOut(
            f"Sorry, {option_name(size, weight)} is sold out. Please choose another size or weight."
        )
    return variant
