import Foundation
public import Ingest
import Logging
import PostgresNIO

extension PostgresStore {
    public func enqueue(documentID: String) async throws -> Bool {
        let now = clock.now
        let seconds = now.timeIntervalSince1970
        return try await transaction { connection in
            let queued = try await connection.execute(
                """
                UPDATE jobs SET state = 'queued', attempts = 0, run_after = \(seconds), enqueued_at = \(seconds), last_error = NULL
                WHERE document_id = \(documentID) AND state != 'processing' RETURNING 1
                """, logger: self.logger)
            guard queued == 1 else { return false }
            try await Self.notifyJobs(connection, logger: self.logger)
            try await Self.changeStatuses(connection, [StatusChange(documentID: documentID, status: .queued)], at: now, logger: self.logger)
            return true
        }
    }

    public func claim(worker: String, lease: Duration) async throws -> ClaimedJob? {
        let now = clock.now
        let leaseUntil = now.addingTimeInterval(lease.timeInterval)
        return try await transaction { connection -> ClaimedJob? in
            // SKIP LOCKED: a job another worker is claiming right now is passed over, not waited for.
            guard
                let row = try await connection.row(
                    """
                    UPDATE jobs SET state = 'processing', attempts = jobs.attempts + 1, lease_owner = \(worker),
                        lease_until = \(leaseUntil.timeIntervalSince1970)
                    FROM (
                        SELECT document_id FROM jobs WHERE state IN ('queued', 'failed') AND run_after <= \(now.timeIntervalSince1970)
                        ORDER BY run_after, enqueued_at LIMIT 1 FOR UPDATE SKIP LOCKED
                    ) AS next
                    WHERE jobs.document_id = next.document_id
                    RETURNING jobs.document_id, jobs.attempts
                    """, logger: self.logger)
            else { return nil }
            let documentID: String = try row.get("document_id")
            try await Self.changeStatuses(connection, [StatusChange(documentID: documentID, status: .processing)], at: now, logger: self.logger)
            return ClaimedJob(documentID: documentID, attempts: try row.get("attempts"), leaseOwner: worker, leaseUntil: leaseUntil)
        }
    }

    public func heartbeat(_ job: ClaimedJob, lease: Duration) async throws -> ClaimedJob {
        let leaseUntil = clock.now.addingTimeInterval(lease.timeInterval)
        let extended = try await transaction { connection in
            try await connection.execute(
                """
                UPDATE jobs SET lease_until = \(leaseUntil.timeIntervalSince1970)
                WHERE document_id = \(job.documentID) AND state = 'processing' AND lease_owner = \(job.leaseOwner) AND attempts = \(job.attempts)
                RETURNING 1
                """, logger: self.logger)
        }
        if extended == 0 { throw QueueError.leaseLost(documentID: job.documentID) }
        var renewed = job
        renewed.leaseUntil = leaseUntil
        return renewed
    }

    public func complete(_ job: ClaimedJob) async throws {
        let now = clock.now
        try await transaction { connection in
            try await Self.takeBack(connection, job, logger: self.logger)
            try await Self.markProcessed(connection, job, at: now, logger: self.logger)
        }
    }

    public func fail(_ job: ClaimedJob, error: String, permanently: Bool) async throws -> DocumentStatus {
        let now = clock.now
        let state: DocumentStatus = permanently || job.attempts >= retry.maximumAttempts ? .dead : .failed
        let runAfter = now.addingTimeInterval(retry.delay(afterAttempt: job.attempts, jitter: jitter()).timeInterval)
        try await transaction { connection in
            try await Self.takeBack(connection, job, logger: self.logger)
            try await connection.execute(
                """
                UPDATE jobs SET state = \(state.rawValue), run_after = \(runAfter.timeIntervalSince1970), lease_owner = NULL, lease_until = NULL,
                    last_error = \(error)
                WHERE document_id = \(job.documentID)
                """, logger: self.logger)
            try await Self.changeStatuses(
                connection, [StatusChange(documentID: job.documentID, status: state)], errors: [job.documentID: error], at: now, logger: self.logger)
        }
        return state
    }

    public func reapExpiredLeases() async throws -> Int {
        let now = clock.now
        let maximumAttempts = retry.maximumAttempts
        return try await transaction { connection in
            // Another node's reaper may be at it too: each takes the rows it can lock.
            let expired = try await connection.rows(
                """
                SELECT document_id, attempts FROM jobs WHERE state = 'processing' AND lease_until < \(now.timeIntervalSince1970)
                ORDER BY document_id FOR UPDATE SKIP LOCKED
                """, logger: self.logger)
            var changes: [StatusChange] = []
            var errors: [String: String] = [:]
            for row in expired {
                let documentID: String = try row.get("document_id")
                let attempts: Int = try row.get("attempts")
                let state: DocumentStatus = attempts >= maximumAttempts ? .dead : .queued
                let error = "the worker's lease ran out (attempt \(attempts))"
                try await connection.execute(
                    """
                    UPDATE jobs SET state = \(state.rawValue), run_after = \(now.timeIntervalSince1970), lease_owner = NULL, lease_until = NULL,
                        last_error = \(error)
                    WHERE document_id = \(documentID)
                    """, logger: self.logger)
                changes.append(StatusChange(documentID: documentID, status: state))
                if state == .dead { errors[documentID] = error }
            }
            if changes.contains(where: { $0.status == .queued }) { try await Self.notifyJobs(connection, logger: self.logger) }
            try await Self.changeStatuses(connection, changes, errors: errors, at: now, logger: self.logger)
            return expired.count
        }
    }

    public func job(documentID: String) async throws -> JobRecord? {
        try await withConnection { connection in
            try await connection.row("SELECT * FROM jobs WHERE document_id = \(documentID)", logger: self.logger).map { row in
                JobRecord(
                    documentID: try row.get("document_id"), state: DocumentStatus(rawValue: try row.get("state")) ?? .queued,
                    attempts: try row.get("attempts"), runAfter: Date(timeIntervalSince1970: try row.get("run_after")),
                    leaseOwner: try row.get("lease_owner"),
                    leaseUntil: (try row.get("lease_until", as: Double?.self)).map(Date.init(timeIntervalSince1970:)),
                    lastError: try row.get("last_error"))
            }
        }
    }

    /// Checks that `job` is still the caller's (processing, same owner and attempt) and locks it
    /// until the commit.
    static func takeBack(_ connection: PostgresConnection, _ job: ClaimedJob, logger: Logger) async throws {
        let owned = try await connection.execute(
            """
            SELECT 1 FROM jobs WHERE document_id = \(job.documentID) AND state = 'processing' AND lease_owner = \(job.leaseOwner)
                AND attempts = \(job.attempts)
            FOR UPDATE
            """, logger: logger)
        if owned == 0 { throw QueueError.leaseLost(documentID: job.documentID) }
    }

    /// Ends `job` as processed (its lease already checked by ``takeBack(_:_:logger:)``).
    static func markProcessed(_ connection: PostgresConnection, _ job: ClaimedJob, at time: Date, logger: Logger) async throws {
        try await connection.execute(
            """
            UPDATE jobs SET state = 'processed', lease_owner = NULL, lease_until = NULL, last_error = NULL WHERE document_id = \(job.documentID)
            """, logger: logger)
        try await changeStatuses(connection, [StatusChange(documentID: job.documentID, status: .processed)], at: time, logger: logger)
    }
}
