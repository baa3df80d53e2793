"""DynamoDB access: the PynamoDB models (the only place that knows keys) and the repository."""
