"""runwatch: status of Metaflow runs on AWS Batch and Step Functions, kept from the events AWS emits."""
