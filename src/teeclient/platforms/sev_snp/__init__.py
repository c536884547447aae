"""AMD SEV-SNP: report parsing (abi), KDS rules (kds), verification (verify), claims (claims)."""
