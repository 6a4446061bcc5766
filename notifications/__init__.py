"""Notices: templates, outbox, channels and digests for alerts and inspection outcomes.

The deadlines and notices issues build this package.
"""
