"""Inbound adapters: AWS event payloads -> neutral observations for the domain."""
