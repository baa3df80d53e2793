"""Development and operator tools beside the Lambda layer: the local stack and the backfill command.

Never shipped to Lambda (it needs PyYAML and starts processes); it imports the layer's `runwatch` package.
"""
