import Crypto
public import Foundation

/// API keys, each bound to one knowledge base. A key's secret is shown once, when it is made, and
/// stored only as its SHA-256.
public protocol AccessKeyStore: Sendable {
    /// Creates a key for `knowledgeBase`; returns its record and the secret, the only time the
    /// secret exists outside the client.
    func createKey(knowledgeBase: KnowledgeBaseName) async throws -> (record: APIKeyRecord, secret: String)
    /// Every key, revoked ones included, oldest first.
    func keys() async throws -> [APIKeyRecord]
    /// Revokes key `id`; returns whether an active key was revoked.
    func revokeKey(id: String) async throws -> Bool
    /// Whether any key was ever created: from then on, every request needs one.
    func requiresKeys() async throws -> Bool
    /// The knowledge base of the active key whose secret is `secret`, or nil.
    func knowledgeBase(forKey secret: String) async throws -> String?
}

/// An API key as listed: never its secret.
public struct APIKeyRecord: Sendable, Hashable {
    public var id: String
    public var knowledgeBase: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, knowledgeBase: String, createdAt: Date, revokedAt: Date?) {
        self.id = id
        self.knowledgeBase = knowledgeBase
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// A new key's id and secret (`intake_<id>_<random>`), and the digest the store keeps of it.
public struct NewAPIKey: Sendable, Hashable {
    public let id: String
    public let secret: String

    /// A key from the system's random source.
    public init() {
        var generator = SystemRandomNumberGenerator()
        id = String(generator.next() as UInt64, radix: 36)
        let random = (0..<4).map { _ in String(generator.next() as UInt64, radix: 36) }.joined()
        secret = "intake_\(id)_\(random)"
    }

    /// The digest stored for `secret`. Keys are long random strings, so one SHA-256 is the right
    /// hash: there is nothing to brute-force.
    public static func digest(of secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).lowercaseHex
    }
}
