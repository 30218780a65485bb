"""``celery-lint report``: the audit of every task's result storage (what is stored, read, wasted), and what the
fix and a shorter ``result_expires`` would save.

costs     the measured cost of one stored result, and the arithmetic on it
returns   does a task's function return a value (LibCST, one file at a time)
audit     a Report (from the engine) made into an Audit: per task, totals, configuration, savings
live      an Audit joined with what a real Redis holds (``--redis``)
render    the Audit as a terminal table, Markdown or JSON
"""
