"""Generated vendor PKIs (AMD today) with per-certificate overrides."""
