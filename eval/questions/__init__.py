"""The development question sets (JSON lines); data only, a package so that the files ship."""
