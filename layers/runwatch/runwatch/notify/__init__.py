"""Notification channels (Slack, signed webhooks, SNS), their delivery, rules and secrets."""
