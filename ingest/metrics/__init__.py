"""Declarative metrics: definitions from config.yaml, bucketed aggregation, and queries."""
