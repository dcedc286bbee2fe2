import Logging
import PostgresNIO

/// The schema, as numbered migrations applied in order, each once, recorded in
/// `intake_schema_migrations`. Nodes starting at once take turns through a session advisory
/// lock, so each migration runs exactly once. Constraints in the schema are the source of truth.
enum PostgresSchema {
    /// The advisory lock key migrations are applied under ("intake" in ASCII).
    static let migrationLock: Int64 = 0x696E_7461_6B65

    static let migrations: [(version: Int, name: String, sql: [String])] = [
        (
            1, "uploads, documents, jobs, events, keys, idempotency, webhooks, chunks",
            [
                """
                CREATE TABLE uploads (
                    id text PRIMARY KEY,
                    knowledge_base text NOT NULL,
                    created_at double precision NOT NULL
                )
                """,
                """
                CREATE TABLE upload_fields (
                    upload_id text NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
                    position integer NOT NULL,
                    name text NOT NULL,
                    value text NOT NULL,
                    PRIMARY KEY (upload_id, position)
                )
                """,
                """
                CREATE TABLE documents (
                    id text PRIMARY KEY,
                    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                    upload_id text NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
                    position integer NOT NULL,
                    field_name text NOT NULL,
                    filename text,
                    filename_star text,
                    declared_type text,
                    detected_type text NOT NULL,
                    charset text,
                    size bigint NOT NULL CHECK (size >= 0),
                    sha256 text NOT NULL CHECK (length(sha256) = 64),
                    status text NOT NULL CHECK (status IN ('queued', 'processing', 'processed', 'failed', 'dead')),
                    error text,
                    note text,
                    created_at double precision NOT NULL,
                    updated_at double precision NOT NULL
                )
                """,
                "CREATE INDEX documents_by_upload ON documents(upload_id, position)",
                "CREATE INDEX documents_by_sha256 ON documents(sha256)",
                "CREATE INDEX documents_by_status ON documents(status)",
                """
                CREATE TABLE jobs (
                    document_id text PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
                    state text NOT NULL CHECK (state IN ('queued', 'processing', 'processed', 'failed', 'dead')),
                    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    run_after double precision NOT NULL,
                    lease_owner text,
                    lease_until double precision,
                    last_error text,
                    enqueued_at double precision NOT NULL,
                    CHECK ((state = 'processing') = (lease_owner IS NOT NULL AND lease_until IS NOT NULL))
                )
                """,
                "CREATE INDEX jobs_runnable ON jobs(run_after, enqueued_at) WHERE state IN ('queued', 'failed')",
                "CREATE INDEX jobs_leased ON jobs(lease_until) WHERE state = 'processing'",
                // Event ids come from this one row, updated last in each transaction that writes
                // events: its row lock is held to the commit, so ids are handed out in commit order
                // and a reader resuming after an id never misses one committed later.
                """
                CREATE TABLE event_counter (
                    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    last_id bigint NOT NULL CHECK (last_id >= 0)
                )
                """,
                "INSERT INTO event_counter (last_id) VALUES (0)",
                """
                CREATE TABLE status_events (
                    id bigint PRIMARY KEY,
                    document_id text NOT NULL,
                    state text NOT NULL CHECK (state IN ('queued', 'processing', 'processed', 'failed', 'dead')),
                    time double precision NOT NULL
                )
                """,
                """
                CREATE TABLE api_keys (
                    id text PRIMARY KEY,
                    knowledge_base text NOT NULL,
                    secret_sha256 text NOT NULL UNIQUE CHECK (length(secret_sha256) = 64),
                    created_at double precision NOT NULL,
                    revoked_at double precision
                )
                """,
                """
                CREATE TABLE idempotency_keys (
                    knowledge_base text NOT NULL,
                    key text NOT NULL,
                    state text NOT NULL CHECK (state IN ('in_flight', 'done')),
                    fingerprint text,
                    upload_id text,
                    owner text,
                    created_at double precision NOT NULL,
                    PRIMARY KEY (knowledge_base, key)
                )
                """,
                "CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at)",
                """
                CREATE TABLE webhook_cursors (
                    url text PRIMARY KEY,
                    last_event_id bigint NOT NULL CHECK (last_event_id >= 0)
                )
                """,
                // Words as the SQLite index cuts them: the 'simple' configuration lowercases and
                // does not stem.
                """
                CREATE TABLE chunks (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    document_id text NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                    ordinal integer NOT NULL CHECK (ordinal >= 0),
                    start_offset integer NOT NULL CHECK (start_offset >= 0),
                    end_offset integer NOT NULL CHECK (end_offset >= start_offset),
                    text text NOT NULL,
                    words tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
                    UNIQUE (document_id, ordinal)
                )
                """,
                "CREATE INDEX chunks_words ON chunks USING gin (words)",
            ]
        ),
        (
            2, "webhook delivery leases",
            [
                "ALTER TABLE webhook_cursors ADD COLUMN owner text",
                "ALTER TABLE webhook_cursors ADD COLUMN lease_until double precision",
            ]
        ),
        (
            3, "resumable uploads",
            [
                // Uploads sent in pieces (tus, IETF resumable uploads); see the SQLite schema's v9.
                """
                CREATE TABLE resumable_uploads (
                    id text PRIMARY KEY,
                    knowledge_base text NOT NULL,
                    length bigint CHECK (length IS NULL OR length >= 0),
                    offset_bytes bigint NOT NULL CHECK (offset_bytes >= 0 AND (length IS NULL OR offset_bytes <= length)),
                    filename text,
                    declared_type text,
                    fields text NOT NULL,
                    created_at double precision NOT NULL,
                    expires_at double precision NOT NULL,
                    append_node text,
                    append_until double precision
                )
                """,
                "CREATE INDEX resumable_uploads_by_expiry ON resumable_uploads (expires_at)",
            ]
        ),
        (
            4, "the page of a chunk, and where its text came from",
            [
                // See the SQLite schema's v10.
                "ALTER TABLE chunks ADD COLUMN page integer, ADD COLUMN source text"
            ]
        ),
        (
            5, "which documents a filter keeps",
            [
                // A document filter (DocumentFilter) in one place for every query that narrows by
                // it: every (name, value) among its upload's fields, its detected type, its upload
                // time within the bounds; a NULL bound or an empty array keeps everything.
                """
                CREATE FUNCTION intake_filter_keeps(
                    upload text, document_type text, uploaded double precision,
                    names text[], "values" text[], wanted_type text, uploaded_after double precision, uploaded_before double precision
                ) RETURNS boolean LANGUAGE sql STABLE AS $$
                    SELECT NOT EXISTS (
                        SELECT 1 FROM unnest(names, "values") AS wanted(name, value) WHERE NOT EXISTS (
                            SELECT 1 FROM upload_fields
                            WHERE upload_fields.upload_id = upload AND upload_fields.name = wanted.name AND upload_fields.value = wanted.value))
                        AND (wanted_type IS NULL OR document_type = wanted_type)
                        AND (uploaded_after IS NULL OR uploaded >= uploaded_after)
                        AND (uploaded_before IS NULL OR uploaded < uploaded_before)
                $$
                """
            ]
        ),
    ]

    /// Applies the migrations this database lacks, under the advisory lock.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_lock(\(migrationLock))", logger: logger)
        do {
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS intake_schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM intake_schema_migrations", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            for migration in migrations where !applied.contains(migration.version) {
                try await connection.query("BEGIN", logger: logger)
                do {
                    for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                    try await connection.query(
                        "INSERT INTO intake_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
                    try await connection.query("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
                logger.info("database migrated", metadata: ["version": "\(migration.version)", "migration": "\(migration.name)"])
            }
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
            throw error
        }
        try await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
    }
}
