"""Alerts declared in config.yaml: rules over the metrics, their states, notifications,
silences, and hot reload of the configuration (docs/metrics.md, "Alerts")."""
