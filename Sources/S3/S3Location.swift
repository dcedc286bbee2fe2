/// Where blobs go: a bucket and a key prefix, from `s3://BUCKET[/PREFIX]`.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    public var bucket: String
    /// The prefix every key starts with, without slashes at either end; empty for none.
    public var prefix: String

    /// Parses `s3://BUCKET[/PREFIX]`. The bucket follows S3's naming rules (3–63 lowercase
    /// letters, digits, dots and hyphens, a letter or digit at each end); the prefix is made of
    /// letters, digits and `- _ . /`, with no empty, `.` or `..` segment.
    public init(_ text: String) throws(S3Error) {
        guard text.hasPrefix("s3://") else {
            throw S3Error(.invalidConfiguration, "a blob location is s3://BUCKET[/PREFIX], not '\(text)'")
        }
        let rest = text.dropFirst(5)
        let bucket = String(rest.prefix(while: { $0 != "/" }))
        let prefix = String(rest.dropFirst(bucket.count).drop(while: { $0 == "/" }))
        var trimmed = prefix
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        try Self.check(bucket: bucket)
        for segment in trimmed.split(separator: "/", omittingEmptySubsequences: false) where !trimmed.isEmpty {
            let allowed = segment.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
            guard allowed, !segment.isEmpty, segment != ".", segment != ".." else {
                throw S3Error(.invalidConfiguration, "the key prefix '\(trimmed)' may hold letters, digits, '-', '_', '.' and '/' only, with no empty, '.' or '..' part")
            }
        }
        self.bucket = bucket
        self.prefix = trimmed
    }

    public init(bucket: String, prefix: String = "") throws(S3Error) {
        try self.init("s3://\(bucket)/\(prefix)")
    }

    static func check(bucket: String) throws(S3Error) {
        let scalars = Array(bucket.unicodeScalars)
        let valid =
            (3...63).contains(scalars.count)
            && scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
            && scalars.first.map { $0 != "." && $0 != "-" } == true
            && scalars.last.map { $0 != "." && $0 != "-" } == true
            && !bucket.contains("..")
        guard valid else {
            throw S3Error(.invalidConfiguration, "'\(bucket)' is not a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit")
        }
    }

    /// The key of `name` under the prefix.
    public func key(_ name: String) -> String {
        prefix.isEmpty ? name : "\(prefix)/\(name)"
    }

    public var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }
}
