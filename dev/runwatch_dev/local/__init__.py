"""The local stack: DynamoDB Local, an HTTP server in front of the handlers, stream poller, scheduler."""
