public import KnowledgeBase
public import ServiceLifecycle

/// A ``ProcessingWorker`` as a swift-service-lifecycle service: it works until graceful shutdown,
/// then stops between jobs (a job in progress is cancelled and left to its lease).
public struct WorkerService: Service {
    public let worker: ProcessingWorker

    public init(worker: ProcessingWorker) {
        self.worker = worker
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await worker.run()
        }
    }
}
