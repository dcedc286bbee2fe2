import Foundation
import Ingest
import Logging
import ServiceLifecycle

extension IntakeService {
    /// Removes the resumable uploads whose expiry has passed and that no append holds: their
    /// state and their files. Returns how many.
    @discardableResult
    public func sweepExpiredResumableUploads() async throws -> Int {
        var removed = 0
        while true {
            let expired = try await database.expiredResumableUploads(before: configuration.clock.now, limit: 100)
            for upload in expired where try await database.removeResumableUpload(id: upload.id) {
                resumableFiles.remove(upload.id)
                removed += 1
            }
            if expired.count < 100 { return removed }
        }
    }
}

/// Sweeps expired resumable uploads every ``interval`` while the service runs.
struct ResumableUploadSweeper: Service {
    let service: IntakeService
    var interval: Duration = .seconds(600)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let removed = try await service.sweepExpiredResumableUploads()
                if removed > 0 { service.configuration.logger.info("expired resumable uploads removed", metadata: ["count": "\(removed)"]) }
            } catch {
                service.configuration.logger.warning("expired resumable uploads not swept", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
