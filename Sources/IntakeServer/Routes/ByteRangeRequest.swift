/// One `Range: bytes=…` request header read against a representation of `size` bytes (RFC 9110
/// §14): a single range is served as 206; a header this server does not serve (several ranges,
/// another unit, bad syntax) is ignored, and the whole representation is sent.
enum ByteRangeRequest: Equatable {
    /// No range, or one to ignore: send everything.
    case whole
    /// Send these bytes.
    case part(Range<Int>)
    /// No byte of the range exists: 416.
    case unsatisfiable

    init(header: String?, size: Int) {
        guard let header, header.hasPrefix("bytes=") else {
            self = .whole
            return
        }
        let spec = header.dropFirst(6).filter { $0 != " " && $0 != "\t" }
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        func number(_ text: Substring) -> Int? {
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int(text) ?? Int.max  // more digits than fit: past any end
        }
        if first.isEmpty {
            guard let suffix = number(last) else {
                self = .whole
                return
            }
            self = suffix == 0 || size == 0 ? .unsatisfiable : .part(max(0, size - suffix)..<size)
            return
        }
        guard let start = number(first) else {
            self = .whole
            return
        }
        let end: Int
        if last.isEmpty {
            end = size - 1
        } else {
            guard let parsed = number(last), parsed >= start else {
                self = .whole
                return
            }
            end = min(parsed, size - 1)
        }
        self = start >= size ? .unsatisfiable : .part(start..<(end + 1))
    }
}
