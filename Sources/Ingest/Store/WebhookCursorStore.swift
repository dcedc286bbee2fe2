/// Where each webhook's delivery stands: the id of the last status event it received.
public protocol WebhookCursorStore: Sendable {
    /// The last event delivered to `url`; a new webhook starts at the newest event, so it is sent
    /// what happens from now on.
    func webhookCursor(url: String) async throws -> Int64
    /// Records that `url` received every event up to `eventID` (a cursor never moves back).
    func advanceWebhookCursor(url: String, to eventID: Int64) async throws
}
