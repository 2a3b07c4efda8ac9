"""Hostile peers: loopback servers that answer adprep's probes with replies no real service sends.

See :mod:`tests.hostile.servers`; the tests are in ``tests/integration/test_hostile_peers.py``.
"""
