import Foundation
public import Ingest
import Logging
import PostgresNIO

/// The search index in PostgreSQL: each chunk's words in a generated `tsvector` column under a
/// GIN index, ranked with `ts_rank`, snippets by `ts_headline`.
extension PostgresStore {
    public func complete(_ job: ClaimedJob, chunks: [NewChunk], note: String?) async throws {
        let now = clock.now
        try await transaction { connection in
            try await Self.takeBack(connection, job, logger: self.logger)
            try await connection.execute("DELETE FROM chunks WHERE document_id = \(job.documentID)", logger: self.logger)
            if !chunks.isEmpty {
                // Arrays carry no NULL here: no page is 0 and no source is empty, NULL once stored.
                try await connection.execute(
                    """
                    INSERT INTO chunks (document_id, ordinal, start_offset, end_offset, text, page, source)
                    SELECT \(job.documentID), ordinal, start_offset, end_offset, text, NULLIF(page, 0), NULLIF(source, '')
                    FROM unnest(\(chunks.map(\.ordinal))::integer[], \(chunks.map(\.start))::integer[], \(chunks.map(\.end))::integer[],
                        \(chunks.map(\.text))::text[], \(chunks.map { $0.page ?? 0 })::integer[], \(chunks.map { $0.source ?? "" })::text[])
                        AS c(ordinal, start_offset, end_offset, text, page, source)
                    """, logger: self.logger)
            }
            try await connection.execute("UPDATE documents SET note = \(note) WHERE id = \(job.documentID)", logger: self.logger)
            try await Self.markProcessed(connection, job, at: now, logger: self.logger)
        }
    }

    public func chunks(documentID id: String) async throws -> [ChunkRecord] {
        try await withConnection { connection in
            try await connection.rows("SELECT * FROM chunks WHERE document_id = \(id) ORDER BY ordinal", logger: self.logger).map { row in
                ChunkRecord(
                    documentID: try row.get("document_id"), ordinal: try row.get("ordinal"), start: try row.get("start_offset"),
                    end: try row.get("end_offset"), text: try row.get("text"), page: try row.get("page"), source: try row.get("source"))
            }
        }
    }

    public func search(_ query: SearchQuery) async throws -> [SearchHit] {
        let words = SearchWords(query)
        guard !words.isEmpty else { return [] }
        let limit = query.resultCount
        let knowledgeBase = query.knowledgeBase
        let filter = query.filter
        return try await withConnection { connection in
            // Passages with every word first, then, if there are not enough of those, passages
            // with any of the words.
            let hits = try await Self.search(connection, words: words.all, knowledgeBase: knowledgeBase, filter: filter, limit: limit, logger: self.logger)
            guard hits.count < limit, words.count > 1 else { return hits }
            let more = try await Self.search(connection, words: words.any, knowledgeBase: knowledgeBase, filter: filter, limit: limit, logger: self.logger)
            return hits.followed(by: more, upTo: limit)
        }
    }

    /// The best `limit` passages matching `words` (a `tsquery` made of quoted words only), with
    /// a snippet of each marked `«…»`.
    private static func search(
        _ connection: PostgresConnection, words: String, knowledgeBase: String?, filter: DocumentFilter, limit: Int, logger: Logger
    ) async throws -> [SearchHit] {
        let (names, values, type, after, before) = parameters(filter)
        return try await connection.rows(
            """
            WITH wanted AS (SELECT to_tsquery('simple', \(words)) AS query),
            best AS (
                SELECT chunks.document_id, documents.filename, chunks.ordinal, chunks.page, chunks.text, ts_rank(chunks.words, wanted.query, 1) AS score
                FROM chunks
                JOIN documents ON documents.id = chunks.document_id
                JOIN uploads ON uploads.id = documents.upload_id, wanted
                WHERE chunks.words @@ wanted.query AND (\(knowledgeBase)::text IS NULL OR uploads.knowledge_base = \(knowledgeBase))
                    AND intake_filter_keeps(
                        uploads.id, documents.detected_type, uploads.created_at, \(names)::text[], \(values)::text[], \(type)::text,
                        \(after)::double precision, \(before)::double precision)
                ORDER BY score DESC, chunks.id
                LIMIT \(limit)
            )
            SELECT document_id, filename, ordinal, page, score::double precision AS score,
                ts_headline('simple', text, wanted.query,
                    'StartSel=«, StopSel=», MaxWords=24, MinWords=12, ShortWord=0, MaxFragments=1, FragmentDelimiter=…') AS snippet
            FROM best, wanted
            ORDER BY score DESC
            """, logger: logger
        ).map { row in
            SearchHit(
                documentID: try row.get("document_id"), filename: try row.get("filename"), chunk: try row.get("ordinal"),
                score: try row.get("score"), snippet: try row.get("snippet"), page: try row.get("page"))
        }
    }
}

/// The words of what a person typed (``SearchQuery/words``) as `tsquery` text: each word
/// quoted as a lexeme (no operator, prefix or weight a person types is taken as query syntax),
/// joined with `&` (all) or `|` (any).
struct SearchWords {
    let words: [String]

    init(_ query: SearchQuery) {
        words = query.words
    }

    var isEmpty: Bool { words.isEmpty }
    var count: Int { words.count }
    var all: String { joined(by: " & ") }
    var any: String { joined(by: " | ") }

    private func joined(by separator: String) -> String {
        // In tsquery text a lexeme in single quotes is taken literally; a quote in it is doubled
        // and a backslash escaped.
        words.map { "'" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'" }
            .joined(separator: separator)
    }
}
