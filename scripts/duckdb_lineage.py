#!/usr/bin/env python3
"""The lineage and follow-timeline queries written in SQL for DuckDB, over
the Parquet files of a trailhound store. Used by bench-lineage.sh to time
DuckDB on the same files as trailhound.

Usage: duckdb_lineage.py STORE KEY lineage|follow

The SQL follows minted keys only (STS credentials and CreateAccessKey);
trailhound's console and inferred edges have no simple SQL form. Prints
the number of result rows; timing is done by the caller.
"""

import sys
import time

import duckdb

store, key, query = sys.argv[1], sys.argv[2], sys.argv[3]
files = f"{store}/events/*/*.parquet"

TREE = f"""
WITH RECURSIVE mints AS (
    SELECT DISTINCT access_key_id AS parent, minted_access_key_id AS child
    FROM read_parquet('{files}')
    WHERE minted_access_key_id IS NOT NULL AND error_code IS NULL
      AND access_key_id IS NOT NULL
),
tree(key, parent, depth) AS (
    SELECT CAST(? AS VARCHAR), CAST(NULL AS VARCHAR), 0
    UNION
    SELECT m.child, m.parent, t.depth + 1 FROM tree t JOIN mints m ON m.parent = t.key
)
"""

LINEAGE = TREE + f"""
SELECT t.key, t.parent, count(DISTINCT e.dedup_key) AS events,
       min(e.event_time) AS first_seen, max(e.event_time) AS last_seen,
       list(DISTINCT e.source_ip) AS source_ips
FROM tree t LEFT JOIN read_parquet('{files}') e ON e.access_key_id = t.key
GROUP BY t.key, t.parent
"""

FOLLOW = TREE + f"""
SELECT t.key AS credential, e.event_time, e.event_id, e.event_source, e.event_name,
       e.aws_region, e.source_ip, e.user_agent, e.error_code, e.error_message,
       e.identity_type, e.principal_arn, e.user_name, e.access_key_id,
       e.recipient_account_id, e.session_issuer_arn, e.minted_access_key_id,
       e.target_user_name, e.target_role_name, e.source_uri
FROM read_parquet('{files}') e JOIN tree t ON e.access_key_id = t.key
QUALIFY row_number() OVER (PARTITION BY e.dedup_key ORDER BY e.event_time) = 1
ORDER BY e.event_time
"""

start = time.perf_counter()
connection = duckdb.connect()
connection.execute("SET threads = 2")
rows = connection.execute(LINEAGE if query == "lineage" else FOLLOW, [key]).fetchall()
elapsed = time.perf_counter() - start
print(f"{len(rows)} rows in {elapsed:.3f} s")
