"""HTTP API (FastAPI): thin routes over the engine and the supervision service."""
