/// The name of a knowledge base: 1 to 64 ASCII letters, digits, `.`, `_` or `-`. Every place that
/// takes a name from a person or a client (a query parameter, `intake keys create`) checks it
/// with this one rule.
public struct KnowledgeBaseName: Sendable, Hashable, CustomStringConvertible {
    /// The knowledge base of uploads that name none.
    public static let `default` = KnowledgeBaseName(unchecked: "default")
    /// What the rule is, for error messages.
    public static let rule = "1 to 64 letters, digits, '.', '_' or '-'"

    public let value: String
    public var description: String { value }

    /// `value` if it follows the rule, or nil.
    public init?(_ value: String) {
        guard Self.isValid(value) else { return nil }
        self.value = value
    }

    private init(unchecked value: String) {
        self.value = value
    }

    public static func isValid(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 64
            && value.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}
