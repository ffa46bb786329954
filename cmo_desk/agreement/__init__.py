"""Agreement between coders (per-study code agreement, kappa, alpha) and CMOC pairing for
reconciliation. Pure: no database, no Qt. Merging change logs lives in ``cmo_desk.store``."""
