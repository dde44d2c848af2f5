-- The server's listUsers statement for limit=20 (it asks for limit+1 rows to
-- learn whether a next page exists).
\set after random(0, :maxid - 20)
SELECT id, username, email, created_at, updated_at FROM users WHERE id > :after ORDER BY id LIMIT 21;
