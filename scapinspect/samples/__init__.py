"""Synthetic, deterministic sample captures (sysdig 0.29.3 style) built from scenario descriptions.

``python -m scapinspect.samples.generate [OUTDIR]`` writes them (``generate.generate()`` from Python).
Modules: ``sim`` (clock, scheduler, event buffer), ``kernel`` (system calls), ``programs`` (what bash,
curl, sudo ... do), ``machines`` (the processes alive at capture start), ``scenario_*`` (the stories)
and ``generate`` (the command line).
"""
