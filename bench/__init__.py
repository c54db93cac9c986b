"""The matter-list benchmark: a data generator (``bench.generate``) and a runner (``bench.run``).

Both need PostgreSQL; see ``bench/README.md``.
"""
