"""AWS Nitro Enclaves: document parsing (abi), verification (verify), claims (claims)."""
