"""Byte-level protocols for the encrypted transport, without I/O.

``hpke`` (RFC 9180 contexts), ``keyconfig`` (RFC 9458 key configurations and suite
selection), ``bhttp`` (RFC 9292 Binary HTTP), ``ohttp`` (RFC 9458 and chunked OHTTP) and
``ehbp`` (the Tinfoil EHBP compatibility profile). This package imports only
``teeclient.errors`` and ``cryptography``; transports in ``teeclient.transport`` drive it.
"""
