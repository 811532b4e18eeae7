"""pytest plugin entry point (corpus collection arrives with the corpus issue)."""
