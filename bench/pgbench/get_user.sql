-- The server's getUser statement (svc_stmts[STMT_GET], src/service/users.c).
\set id random(1, :maxid)
SELECT id, username, email, created_at, updated_at FROM users WHERE id = :id;
