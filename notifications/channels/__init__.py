"""Channels a notice goes out on: e-mail, the chat robots, a webhook, an SMS gateway, apprise.

Each channel sends one message and reports what the provider said (``Outcome``): accepted, retry
after a while, or a permanent failure. A channel reads the provider's own answer: an HTTP 200 whose
body says ``errcode`` ≠ 0 is a failure, never a success. No secret leaves a channel: every detail it
reports is redacted (``notifications.redact``).
"""
