"""Origin authenticity: this instance's signing keys and the keys it pins for other sites.

``keys``: the instance's Ed25519 key (made on first start in ``instance/``),
signatures of what it publishes, key rotation, ``/.well-known/asdg.json``.
``pins``: the keys pinned per site (trust on first use of a direct
subscription, an operator-imported network directory, a site's well-known
document, rotations) and the key ring a poll verifies records with.
"""
