import GRDB

/// The schema, as migrations. Constraints in the schema are the source of truth: a row that
/// breaks them cannot be written, whatever the Swift code does.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: uploads, documents, jobs, status events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE uploads (
                        id TEXT PRIMARY KEY NOT NULL,
                        knowledge_base TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE upload_fields (
                        upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        value TEXT NOT NULL,
                        PRIMARY KEY (upload_id, position)
                    );
                    CREATE TABLE documents (
                        id TEXT PRIMARY KEY NOT NULL,
                        upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        field_name TEXT NOT NULL,
                        filename TEXT,
                        filename_star TEXT,
                        declared_type TEXT,
                        detected_type TEXT NOT NULL,
                        charset TEXT,
                        size INTEGER NOT NULL CHECK (size >= 0),
                        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                        status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'processed', 'failed', 'dead')),
                        error TEXT,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX documents_by_upload ON documents(upload_id, position);
                    CREATE INDEX documents_by_sha256 ON documents(sha256);
                    CREATE INDEX documents_by_status ON documents(status);
                    CREATE TABLE jobs (
                        document_id TEXT PRIMARY KEY NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                        state TEXT NOT NULL CHECK (state IN ('queued', 'processing', 'processed', 'failed', 'dead')),
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        run_after REAL NOT NULL,
                        lease_owner TEXT,
                        lease_until REAL,
                        last_error TEXT,
                        enqueued_at REAL NOT NULL,
                        CHECK ((state = 'processing') = (lease_owner IS NOT NULL AND lease_until IS NOT NULL))
                    );
                    CREATE INDEX jobs_runnable ON jobs(state, run_after, enqueued_at);
                    CREATE TABLE status_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        document_id TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('queued', 'processing', 'processed', 'failed', 'dead')),
                        time REAL NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2: api keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY NOT NULL,
                        knowledge_base TEXT NOT NULL,
                        secret_sha256 TEXT NOT NULL UNIQUE CHECK (length(secret_sha256) = 64),
                        created_at REAL NOT NULL,
                        revoked_at REAL
                    );
                    """)
        }
        migrator.registerMigration("v3: idempotency keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE idempotency_keys (
                        knowledge_base TEXT NOT NULL,
                        key TEXT NOT NULL,
                        fingerprint TEXT,
                        state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
                        status INTEGER,
                        location TEXT,
                        body BLOB,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (knowledge_base, key)
                    );
                    """)
        }
        migrator.registerMigration("v4: idempotency keys by age") { db in
            // Each claim first forgets keys older than a day: without this index, a scan of them all.
            try db.execute(sql: "CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at)")
        }
        migrator.registerMigration("v5: chunks and full-text search") { db in
            try db.execute(
                sql: """
                    ALTER TABLE documents ADD COLUMN note TEXT;
                    CREATE TABLE chunks (
                        id INTEGER PRIMARY KEY,
                        document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                        ordinal INTEGER NOT NULL CHECK (ordinal >= 0),
                        start_offset INTEGER NOT NULL CHECK (start_offset >= 0),
                        end_offset INTEGER NOT NULL CHECK (end_offset >= start_offset),
                        text TEXT NOT NULL,
                        UNIQUE (document_id, ordinal)
                    );
                    CREATE VIRTUAL TABLE chunks_fts USING fts5(
                        text, content = 'chunks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
                    );
                    CREATE TRIGGER chunks_indexed AFTER INSERT ON chunks BEGIN
                        INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
                    END;
                    CREATE TRIGGER chunks_unindexed AFTER DELETE ON chunks BEGIN
                        INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
                    END;
                    """)
        }
        migrator.registerMigration("v6: webhook cursors") { db in
            // Per webhook URL, the last status event delivered: delivery resumes after it.
            try db.execute(
                sql: """
                    CREATE TABLE webhook_cursors (
                        url TEXT PRIMARY KEY NOT NULL,
                        last_event_id INTEGER NOT NULL CHECK (last_event_id >= 0)
                    );
                    """)
        }
        migrator.registerMigration("v7: idempotency keys keep their upload's id and their node") { db in
            // A replay is answered from the catalog, from the upload's id: no stored response.
            // Keys completed before this keep their upload's id in their Location.
            try db.execute(
                sql: """
                    ALTER TABLE idempotency_keys ADD COLUMN upload_id TEXT;
                    ALTER TABLE idempotency_keys ADD COLUMN owner TEXT;
                    UPDATE idempotency_keys SET upload_id = substr(location, 10) WHERE state = 'done' AND location LIKE '/uploads/%';
                    DELETE FROM idempotency_keys WHERE state = 'done' AND upload_id IS NULL;
                    ALTER TABLE idempotency_keys DROP COLUMN status;
                    ALTER TABLE idempotency_keys DROP COLUMN location;
                    ALTER TABLE idempotency_keys DROP COLUMN body;
                    """)
        }
        migrator.registerMigration("v8: webhook delivery leases") { db in
            // With nodes sharing the database, one delivers each webhook at a time.
            try db.execute(
                sql: """
                    ALTER TABLE webhook_cursors ADD COLUMN owner TEXT;
                    ALTER TABLE webhook_cursors ADD COLUMN lease_until REAL;
                    """)
        }
        migrator.registerMigration("v9: resumable uploads") { db in
            // Uploads sent in pieces (tus, IETF resumable uploads): their bytes are in a file named
            // by `id`; this is what answers HEAD and takes the next piece. One append at a time
            // holds `append_node` until `append_until`. `fields` is a JSON array of {name, value}.
            try db.execute(
                sql: """
                    CREATE TABLE resumable_uploads (
                        id TEXT PRIMARY KEY NOT NULL,
                        knowledge_base TEXT NOT NULL,
                        length INTEGER CHECK (length IS NULL OR length >= 0),
                        offset_bytes INTEGER NOT NULL CHECK (offset_bytes >= 0 AND (length IS NULL OR offset_bytes <= length)),
                        filename TEXT,
                        declared_type TEXT,
                        fields TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        expires_at REAL NOT NULL,
                        append_node TEXT,
                        append_until REAL
                    );
                    CREATE INDEX resumable_uploads_by_expiry ON resumable_uploads (expires_at);
                    """)
        }
        migrator.registerMigration("v10: the page of a chunk, and where its text came from") { db in
            // `page`: from 1, for formats with pages (PDF); `source`: `ocr` for text read from
            // pictures of it, NULL for the document's own text.
            try db.execute(sql: "ALTER TABLE chunks ADD COLUMN page INTEGER; ALTER TABLE chunks ADD COLUMN source TEXT;")
        }
        return migrator
    }
}
