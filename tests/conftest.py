import os
import sys

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))

# CI machines are slow and shared: no per-example deadline, a fixed example budget.
settings.register_profile("ci", deadline=None, max_examples=60, derandomize=True)
settings.load_profile("ci")
