"""Every foreign key has an index: lookups by the referencing column (the supervisor of an
account, an agency's staff) and RESTRICT checks never read a whole table."""

from tortoise import connections

UNINDEXED = """
SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1
  AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                  AND i.indkey[0] = c.conkey[1])"""


async def test_every_foreign_key_is_indexed() -> None:
    rows = await connections.get("default").execute_query_dict(UNINDEXED)
    assert rows == []
