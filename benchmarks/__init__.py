"""Benchmarks of Switchboard against its anchors, measured in the same run.

``python -m benchmarks.run`` runs them all; each module also runs alone.
They need the ``bench`` extra (``pip install -e '.[bench]'``) and no network.
"""
