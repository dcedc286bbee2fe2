/// Everything the service, its workers and the command line keep in a database: the seam a
/// backend (the embedded SQLite file, a PostgreSQL server) implements whole. The server, the
/// workers and the commands see only this.
public protocol IntakeStore: Catalog, JobQueue, SearchIndex, AccessKeyStore, IdempotencyStore, WebhookCursorStore, ResumableUploadStore {
    /// Ends the store's connections; it is not used after.
    func close() async throws
}
