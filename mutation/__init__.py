"""Mutation testing of the modules where a missed bug costs money (``make mutate``; a sample in ``make test``).

Line coverage says a line ran; it does not say a test would notice the line being wrong. mutmut changes one
operator, condition or literal at a time and runs the tests that reach it; a mutant that no test fails on is a
rule nobody checks. This package only drives mutmut (configured in ``[tool.mutmut]`` of pyproject.toml) and
turns its results into a score per module against a goal.

    .venv/bin/python -m mutation            # every mutant of every target, then scores and survivors
    .venv/bin/python -m mutation --sample   # the fixed CI sample; fails below its threshold
"""
