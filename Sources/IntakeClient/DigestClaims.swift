/// Which file of a run uploads each content: the first file with a digest claims it; a later
/// file with the same digest waits for that one's outcome, and is a duplicate when it succeeded
/// or takes over when it failed.
actor DigestClaims {
    enum Claim: Sendable {
        case owner
        case duplicate(of: String, documentID: String?)
    }

    private enum State {
        case inFlight(waiters: [CheckedContinuation<Void, Never>])
        case stored(path: String, documentID: String?)
        case failed
    }

    private var states: [String: State] = [:]

    func claim(_ sha256: String) async -> Claim {
        while true {
            switch states[sha256] {
            case nil, .failed:
                states[sha256] = .inFlight(waiters: [])
                return .owner
            case .stored(let path, let documentID):
                return .duplicate(of: path, documentID: documentID)
            case .inFlight(let waiters):
                await withCheckedContinuation { continuation in
                    states[sha256] = .inFlight(waiters: waiters + [continuation])
                }
            }
        }
    }

    /// The owner's outcome: stored as document `documentID` from `path`, or failed (`path` nil).
    func finish(_ sha256: String, storedFrom path: String?, documentID: String?) {
        guard case .inFlight(let waiters) = states[sha256] else { return }
        states[sha256] = path.map { .stored(path: $0, documentID: documentID) } ?? .failed
        for waiter in waiters { waiter.resume() }
    }
}
