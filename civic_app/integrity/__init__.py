"""Data integrity under concurrency, shared by every feature.

- ``allocator``: numbers the app hands out (reference codes, queue ranks) from a counter row
  taken with a row lock, so two transactions can never get the same number and a rolled-back
  transaction leaves no gap.
- ``conflicts``: a unique-constraint race (or a deadlock/serialisation failure) becomes the
  user's ordinary outcome, a Korean "already taken / try again" answer, never an HTTP 500.
"""
