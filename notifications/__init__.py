"""Notices for alerts and inspection outcomes: who is told at each rung of the escalation ladder.

``recipients`` holds the rule; the outbox, templates and channels follow in the notices issue.
"""
