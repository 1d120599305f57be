"""Streamlit dashboard over the ingest query API."""
