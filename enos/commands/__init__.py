"""One module per enos command; each defines a click command named ``command``."""
