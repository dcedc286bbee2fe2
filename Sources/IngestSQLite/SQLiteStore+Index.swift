import Foundation
import GRDB
public import Ingest

/// The search index in SQLite: a `chunks` table and an FTS5 index over it (BM25 ranking), kept
/// in step by triggers; a document's chunks go with it when it is deleted.
extension SQLiteStore {
    public func complete(_ job: ClaimedJob, chunks: [NewChunk], note: String?) async throws {
        let now = clock.now
        try await write { db in
            try Self.takeBack(db, job)
            try db.execute(sql: "DELETE FROM chunks WHERE document_id = ?", arguments: [job.documentID])
            for chunk in chunks {
                try db.execute(
                    sql: """
                        INSERT INTO chunks (document_id, ordinal, start_offset, end_offset, text, page, source) VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [job.documentID, chunk.ordinal, chunk.start, chunk.end, chunk.text, chunk.page, chunk.source])
            }
            try db.execute(sql: "UPDATE documents SET note = ? WHERE id = ?", arguments: [note, job.documentID])
            try Self.markProcessed(db, job, at: now)
        }
    }

    public func chunks(documentID id: String) async throws -> [ChunkRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM chunks WHERE document_id = ? ORDER BY ordinal", arguments: [id]).map { row in
                ChunkRecord(
                    documentID: row["document_id"], ordinal: row["ordinal"], start: row["start_offset"], end: row["end_offset"], text: row["text"],
                    page: row["page"], source: row["source"])
            }
        }
    }

    public func search(_ query: SearchQuery) async throws -> [SearchHit] {
        guard let all = Self.matchExpression(query.words, joinedBy: " "), let any = Self.matchExpression(query.words, joinedBy: " OR ") else {
            return []
        }
        let limit = query.resultCount
        return try await read { db in
            // Passages with every word first (fewer rows to rank, and what a person means), then,
            // if there are not enough of those, passages with any of the words.
            let hits = try Self.search(db, match: all, knowledgeBase: query.knowledgeBase, filter: query.filter, limit: limit)
            guard hits.count < limit, all != any else { return hits }
            return hits.followed(
                by: try Self.search(db, match: any, knowledgeBase: query.knowledgeBase, filter: query.filter, limit: limit), upTo: limit)
        }
    }

    /// The best `limit` passages matching `match`. FTS5 ranks and cuts fastest on its own table:
    /// take the best candidates there, then join and narrow by knowledge base and filter; if that
    /// leaves too few, rank them all.
    private static func search(_ db: Database, match: String, knowledgeBase: String?, filter: DocumentFilter, limit: Int) throws -> [SearchHit] {
        let narrowed = knowledgeBase != nil || !filter.isEmpty
        let candidates = narrowed ? limit * 20 : limit
        let hits = try search(db, match: match, knowledgeBase: knowledgeBase, filter: filter, candidates: candidates, limit: limit)
        if hits.count < limit && narrowed {
            return try search(db, match: match, knowledgeBase: knowledgeBase, filter: filter, candidates: nil, limit: limit)
        }
        return hits
    }

    private static func search(
        _ db: Database, match: String, knowledgeBase: String?, filter: DocumentFilter, candidates: Int?, limit: Int
    ) throws -> [SearchHit] {
        var arguments: StatementArguments = [match]
        var sql = """
            SELECT best.document_id, documents.filename, best.ordinal, best.page, best.rank, best.excerpt FROM (
                SELECT chunks.document_id, chunks.ordinal, chunks.page, matched.rank, matched.excerpt FROM (
                    SELECT rowid, rank, snippet(chunks_fts, 0, '«', '»', '…', 24) AS excerpt
                    FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank \(candidates == nil ? "" : "LIMIT ?")
                ) AS matched JOIN chunks ON chunks.id = matched.rowid
            ) AS best
            JOIN documents ON documents.id = best.document_id
            JOIN uploads ON uploads.id = documents.upload_id
            """
        if let candidates { _ = arguments.append(contentsOf: [candidates]) }
        var conditions: [String] = []
        if let knowledgeBase {
            conditions.append("uploads.knowledge_base = ?")
            _ = arguments.append(contentsOf: [knowledgeBase])
        }
        let narrowing = Self.conditions(filter)
        conditions += narrowing.sql
        _ = arguments.append(contentsOf: narrowing.arguments)
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY best.rank LIMIT ?"
        _ = arguments.append(contentsOf: [limit])
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            SearchHit(
                documentID: row["document_id"], filename: row["filename"], chunk: row["ordinal"],
                score: -(row["rank"] as Double), snippet: row["excerpt"], page: row["page"])
        }
    }

    /// An FTS5 expression of `words` (every one with `" "`, any with `" OR "`), each quoted so
    /// that no character a person types is taken as query syntax (``SearchQuery/words``); any
    /// quote left is doubled, as FTS5 escapes it. Nil when there is no word.
    static func matchExpression(_ words: [String], joinedBy separator: String) -> String? {
        guard !words.isEmpty else { return nil }
        return words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: separator)
    }
}
