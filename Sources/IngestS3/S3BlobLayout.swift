import Ingest
public import S3

/// Where an ``S3BlobStore`` keeps what, under the location's prefix:
///
/// - `blobs/<sha256>`: a blob smaller than a part, sent in one PUT once it was whole.
/// - `streams/<id>`: a larger blob, sent as a multipart upload while it arrived, under a random
///   id because its digest was not known yet;
/// - `links/<sha256>.<id>`: an empty object saying that stream `<id>` holds blob `<sha256>`,
///   written once the stream is complete (a listing, not a read, resolves a digest);
/// - `claims/<id>`: an empty object present while a stream is completed and linked, so a sweep
///   on another node does not take a stream it has not seen linked yet for an orphan.
///
/// Every name is made here from a digest or an id this store drew, never from a client's string.
public struct S3BlobLayout: Sendable, Hashable {
    public let location: S3Location

    public init(location: S3Location) {
        self.location = location
    }

    public var blobsPrefix: String { location.key("blobs/") }
    public var streamsPrefix: String { location.key("streams/") }
    public var linksPrefix: String { location.key("links/") }
    public var claimsPrefix: String { location.key("claims/") }

    public func blob(_ sha256: String) -> String {
        precondition(BlobDigest.isValid(sha256), "a blob key is made from a SHA-256 hex digest only")
        return blobsPrefix + sha256
    }

    public func stream(_ id: String) -> String {
        precondition(Self.isStreamID(id), "a stream key is made from an id this store drew")
        return streamsPrefix + id
    }

    public func claim(_ id: String) -> String {
        precondition(Self.isStreamID(id), "a claim key is made from an id this store drew")
        return claimsPrefix + id
    }

    public func link(_ sha256: String, stream id: String) -> String {
        precondition(BlobDigest.isValid(sha256) && Self.isStreamID(id), "a link key is made from a digest and a stream id")
        return linksPrefix + sha256 + "." + id
    }

    /// The prefix every link of `sha256` starts with.
    public func links(of sha256: String) -> String {
        precondition(BlobDigest.isValid(sha256), "a link prefix is made from a SHA-256 hex digest only")
        return linksPrefix + sha256 + "."
    }

    /// The digest and stream id a link key names, if it is one.
    public func parseLink(_ key: String) -> (sha256: String, id: String)? {
        guard key.hasPrefix(linksPrefix) else { return nil }
        let name = key.dropFirst(linksPrefix.count)
        guard let dot = name.firstIndex(of: ".") else { return nil }
        let sha256 = String(name[..<dot]), id = String(name[name.index(after: dot)...])
        return BlobDigest.isValid(sha256) && Self.isStreamID(id) ? (sha256, id) : nil
    }

    /// The name after `prefix` in `key`, if `key` is under it.
    public func name(of key: String, under prefix: String) -> String? {
        key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : nil
    }

    /// A new stream id: 128 random bits as 32 lowercase hex digits.
    public static func newStreamID() -> String {
        var random = SystemRandomNumberGenerator()
        let high = String(random.next() as UInt64, radix: 16), low = String(random.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }

    public static func isStreamID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
