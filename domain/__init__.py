"""Command side of the lending platform: aggregates, commands, events, event store, simulator."""
