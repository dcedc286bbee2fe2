import ArgumentParser
import Foundation

/// A number of bytes on the command line: `1048576`, or with a binary unit, `64MiB`, `64M`,
/// `512KiB`, `2GiB` (K, M, G and KiB, MiB, GiB are all powers of 1024).
struct ByteSize: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    var bytes: Int64

    init(bytes: Int64) {
        self.bytes = bytes
    }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 15, let number = Int64(digits) else { return nil }
        let shift: Int64
        switch text.dropFirst(digits.count).lowercased() {
        case "", "b": shift = 0
        case "k", "kib": shift = 10
        case "m", "mib": shift = 20
        case "g", "gib": shift = 30
        default: return nil
        }
        guard number <= Int64.max >> shift else { return nil }
        bytes = number << shift
    }

    var description: String {
        for (unit, shift) in [("GiB", Int64(30)), ("MiB", 20), ("KiB", 10)] where bytes > 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }

    var defaultValueDescription: String { description }
}
