"""Why a task failed, from its log: reading a log stream's tail (CloudWatch or local files), undoing
Metaflow's line decoration, and finding the exception that ended the task."""
