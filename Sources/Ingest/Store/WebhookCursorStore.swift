/// Where each webhook's delivery stands: the id of the last status event it received, and which
/// node delivers it now. With several nodes on one store, each webhook is delivered by one of
/// them at a time, under a lease: another takes over when it lapses (the node died).
public protocol WebhookCursorStore: Sendable {
    /// The last event delivered to `url`; a new webhook starts at the newest event, so it is sent
    /// what happens from now on.
    func webhookCursor(url: String) async throws -> Int64
    /// Takes or renews the lease on delivering to `url` for node `owner`, for `lease` from now;
    /// returns the cursor, or nil while another node's lease runs.
    func leaseWebhook(url: String, owner: String, lease: Duration) async throws -> Int64?
    /// Records that `url` received every event up to `eventID` (a cursor never moves back).
    func advanceWebhookCursor(url: String, to eventID: Int64) async throws
}
