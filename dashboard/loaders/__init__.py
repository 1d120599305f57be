"""Plain data loaders: small hashable arguments in, dataclasses and DataFrames out.

Nothing here imports Streamlit; ``dashboard.cached`` wraps them with ``st.cache_data``.
"""
