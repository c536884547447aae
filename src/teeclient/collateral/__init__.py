"""Collateral: the certificates, CRLs and signed statements that verification needs."""
