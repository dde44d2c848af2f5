-- The server's createUser statement. pgbench has no string variables, so the
-- unique username and email are built from a random 62-bit number in SQL
-- (two concatenations, the rest is the same statement).
\set n random(1, 4611686018427387903)
INSERT INTO users (username, email) VALUES ('p' || :n, 'p' || :n || '@bench.example.com') RETURNING id, username, email, created_at, updated_at;
