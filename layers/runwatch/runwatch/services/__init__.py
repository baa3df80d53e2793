"""Orchestration of parsing, domain rules and storage: ingest, queries, notify, sweep."""
