"""The ``chaos`` mark: the long crash and outage tests (the whole crash-point sweep, the outages longer than a
pool's 30 s wait). ``make pytest``, and so CI, leaves them out and runs the rest of the sweep, one case of each
kind of kill point; ``make chaos`` runs them with the chaos run, as the full-size benchmarks run in
``make bench``."""

from __future__ import annotations

import pytest

CHAOS = pytest.mark.chaos
