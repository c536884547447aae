"""Public test fakes for teeclient's tests and its users': generated PKIs and evidence signers.

The library never imports this package, and nothing here is trusted unless a caller passes
it explicitly (for example ``AmdPki.trust_store()``).
"""
