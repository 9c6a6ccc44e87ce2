"""The page-cache tags of the shop's pages, built here only, so a mistyped tag is a
NameError rather than a page that never clears."""

# Names, prices, descriptions, which products are for sale: the shop page and every
# product page.
CATALOGUE = "catalogue"
# What is sold out or nearly gone: the shop page's marks (product pages have their own).
STOCK = "shop:stock"


def product_page(slug):
    """The tag of one product's page (its stock, options and prices)."""
    return f"product:{slug}"


# The shipping rates (and so the free threshold's wording): every product page shows them.
SHIPPING = "shop:shipping"
