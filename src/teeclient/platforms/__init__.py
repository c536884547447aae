"""Platform verifiers. Each platform package has abi (bytes ↔ structures), verify, claims."""
