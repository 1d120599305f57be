"""The traffic simulator: simulated clients drive the platform through commands only.

``python -m domain simulate --backfill 7d --rate 20`` (``cli.py``; docs/domain.md, "Simulator").

* options: ``scenario`` (durations, incidents, settings), ``timeline`` (daily curve, incidents)
* the clients: ``views``/``population`` (what they believe), ``pools``, ``amounts``,
  ``clients`` (their own actions), ``followups`` and ``lifecycle`` (what comes after)
* the engine: ``world`` (seeded state, agenda), ``traffic`` (the next command), ``pacing``
  (rate control), ``runner`` (backfill and live loops), ``cache`` (a write-through store),
  ``resume`` (reading a store back), ``stats``, ``session`` (one run)
"""
