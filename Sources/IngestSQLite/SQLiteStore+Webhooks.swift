import Foundation
import GRDB
import Ingest

extension SQLiteStore {
    public func webhookCursor(url: String) async throws -> Int64 {
        try await write { db in
            if let cursor = try Int64.fetchOne(db, sql: "SELECT last_event_id FROM webhook_cursors WHERE url = ?", arguments: [url]) {
                return cursor
            }
            let newest = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM status_events") ?? 0
            try db.execute(sql: "INSERT INTO webhook_cursors (url, last_event_id) VALUES (?, ?)", arguments: [url, newest])
            return newest
        }
    }

    public func leaseWebhook(url: String, owner: String, lease: Duration) async throws -> Int64? {
        let now = clock.now.timeIntervalSince1970
        let until = now + lease.timeInterval
        return try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO webhook_cursors (url, last_event_id) SELECT ?, coalesce(max(id), 0) FROM status_events WHERE true
                    ON CONFLICT (url) DO NOTHING
                    """, arguments: [url])
            try db.execute(
                sql: """
                    UPDATE webhook_cursors SET owner = ?, lease_until = ?
                    WHERE url = ? AND (owner IS NULL OR owner = ? OR lease_until < ?)
                    """, arguments: [owner, until, url, owner, now])
            guard db.changesCount == 1 else { return nil }
            return try Int64.fetchOne(db, sql: "SELECT last_event_id FROM webhook_cursors WHERE url = ?", arguments: [url])
        }
    }

    public func advanceWebhookCursor(url: String, to eventID: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE webhook_cursors SET last_event_id = max(last_event_id, ?) WHERE url = ?", arguments: [eventID, url])
        }
    }
}
