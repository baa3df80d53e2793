"""Outbound AWS adapters (Step Functions, Batch, Secrets Manager, SNS) behind small interfaces."""
