"""Pure code: identity, failure classes, status merge rules. No I/O here."""
