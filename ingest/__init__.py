"""Query side: tailing processing groups, rolling windows, metrics and alerts."""
