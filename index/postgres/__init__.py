"""The PostgreSQL + pgvector index backend: its schema (``schema``) and a local server for
development and tests (``server``)."""
