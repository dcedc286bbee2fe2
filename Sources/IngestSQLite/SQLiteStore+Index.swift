import GRDB
public import Ingest

/// The search index in SQLite: a `chunks` table and an FTS5 index over it (BM25 ranking), kept
/// in step by triggers; a document's chunks go with it when it is deleted.
extension SQLiteStore: SearchIndex {
    public func complete(_ job: ClaimedJob, chunks: [NewChunk], note: String?) async throws {
        let now = clock.now
        try await write { db in
            try Self.takeBack(db, job)
            try db.execute(sql: "DELETE FROM chunks WHERE document_id = ?", arguments: [job.documentID])
            for chunk in chunks {
                try db.execute(sql: """
                    INSERT INTO chunks (document_id, ordinal, start_offset, end_offset, text) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [job.documentID, chunk.ordinal, chunk.start, chunk.end, chunk.text])
            }
            try db.execute(sql: "UPDATE jobs SET state = 'processed', lease_owner = NULL, lease_until = NULL, last_error = NULL WHERE document_id = ?",
                           arguments: [job.documentID])
            try db.execute(sql: "UPDATE documents SET note = ? WHERE id = ?", arguments: [note, job.documentID])
            try Self.setDocumentStatus(db, documentID: job.documentID, .processed, error: nil, at: now)
        }
    }

    public func chunks(documentID id: String) async throws -> [ChunkRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM chunks WHERE document_id = ? ORDER BY ordinal", arguments: [id]).map { row in
                ChunkRecord(documentID: row["document_id"], ordinal: row["ordinal"], start: row["start_offset"], end: row["end_offset"], text: row["text"])
            }
        }
    }

    public func search(_ query: SearchQuery) async throws -> [SearchHit] {
        guard let match = Self.matchExpression(query.text) else { return [] }
        let limit = min(max(query.limit, 1), 100)
        return try await read { db in
            var sql = """
                SELECT chunks.document_id, documents.filename, chunks.ordinal, bm25(chunks_fts) AS rank,
                       snippet(chunks_fts, 0, '«', '»', '…', 24) AS excerpt
                FROM chunks_fts
                JOIN chunks ON chunks.id = chunks_fts.rowid
                JOIN documents ON documents.id = chunks.document_id
                JOIN uploads ON uploads.id = documents.upload_id
                WHERE chunks_fts MATCH ?
                """
            var arguments: StatementArguments = [match]
            if let knowledgeBase = query.knowledgeBase {
                sql += " AND uploads.knowledge_base = ?"
                _ = arguments.append(contentsOf: [knowledgeBase])
            }
            sql += " ORDER BY rank LIMIT ?"
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                SearchHit(documentID: row["document_id"], filename: row["filename"], chunk: row["ordinal"],
                          score: -(row["rank"] as Double), snippet: row["excerpt"])
            }
        }
    }

    /// An FTS5 expression matching any of the words of `text`, each quoted so that no character
    /// a person types is taken as query syntax. Nil when there is no word.
    static func matchExpression(_ text: String) -> String? {
        let words = text.split { !($0.isLetter || $0.isNumber) }
        guard !words.isEmpty else { return nil }
        return words.prefix(32).map { "\"\($0)\"" }.joined(separator: " OR ")
    }
}
