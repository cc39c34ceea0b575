"""The Textual TUI (``inspect FILE``): ``scapinspect.views.app.make_app`` / ``run``.

Importing this package loads nothing heavy; the app module imports textual, and numpy/pandas/the
capture reader load in the app's first worker, after the window has painted.
"""
