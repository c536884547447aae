"""Intel TDX: DCAP quotes v4/v5, PCK chain, Intel PCS collateral and the Intel QVL TCB rules."""
