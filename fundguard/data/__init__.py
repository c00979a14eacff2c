"""Claims data in the national platform's own form: schemas, readers, validation, the workspace store.

Owns: the canonical tables (``schema``), reading CSV (UTF-8/GBK/GB18030), Excel, Parquet and JSON lines as
streams, header and code normalisation, row validation with bad rows kept aside (quarantine), and the
workspace store (partitioned Parquet with DuckDB views over it) with atomic, idempotent imports.

May import: ``fundguard.core`` and third-party libraries. Knows nothing of rules, engines or the web.
"""
