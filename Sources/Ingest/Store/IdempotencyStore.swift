/// `Idempotency-Key`s (IETF httpapi draft semantics): the first request with a key claims it and
/// completes it in the transaction that records its upload; a retry finds the upload's id and
/// answers from the catalog.
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for a new request of node `owner`, or says what an earlier one left. Keys
    /// older than ``IdempotencyKeys/lifetime`` are forgotten first.
    func claimIdempotency(knowledgeBase: String, key: String, owner: String) async throws -> IdempotencyClaim
    /// Forgets `key` after its request failed, so that a retry can run.
    func releaseIdempotency(knowledgeBase: String, key: String) async throws
    /// Forgets every key node `owner` still holds in flight: at its start-up none of its requests
    /// can be, so these were left by its process that was killed mid-request (a client retrying
    /// them would otherwise get 409 until they expire). Other nodes' claims are theirs. Returns
    /// how many.
    @discardableResult
    func releaseAbandonedIdempotencyClaims(owner: String) async throws -> Int
}

/// What the store knows of an `Idempotency-Key`.
public enum IdempotencyClaim: Sendable, Hashable {
    /// The key is new: the caller now owns it and must complete it (pass an
    /// ``IdempotencyCompletion`` to ``Catalog/record(_:completing:blobIsPresent:)``) or release it.
    case acquired
    /// A request with this key is still being processed.
    case inFlight
    /// A request with this key created upload `uploadID` from a form with this fingerprint.
    case completed(fingerprint: String, uploadID: String)
}

/// An `Idempotency-Key` claimed for an upload, completed in the same transaction that records the
/// upload: a crash can never leave the upload recorded and its key unfinished (a retry would then
/// create it a second time). The store keeps the upload's id and its form's fingerprint
/// (``FormFingerprint/of(_:)``).
public struct IdempotencyCompletion: Sendable, Hashable {
    public var knowledgeBase: String
    public var key: String

    public init(knowledgeBase: String, key: String) {
        self.knowledgeBase = knowledgeBase
        self.key = key
    }
}

/// How long keys are kept.
public enum IdempotencyKeys {
    /// A key is remembered for a day.
    public static let lifetime: Duration = .seconds(24 * 3600)
}
