/// Decodes a part's Content-Transfer-Encoding (RFC 2045) as its data streams by, in pieces of any
/// size. Identity data passes through untouched: callers use the parser's ranges directly and
/// need a decoder only when ``MultipartPart/transferEncoding`` is not ``MultipartTransferEncoding/identity``.
public struct MultipartTransferDecoder: Sendable {
    private enum State: Sendable {
        case identity
        /// Sextets gathered, how many, and whether padding has begun.
        case base64(bits: UInt32, count: Int, padded: Bool)
        /// Bytes of an escape after `=`: none yet, one hex digit, or a CR of a soft line break.
        case quotedPrintable(pending: [UInt8])
    }

    private var state: State

    /// Whether data passes through unchanged (no Content-Transfer-Encoding to undo).
    var isIdentity: Bool {
        if case .identity = state { return true }
        return false
    }

    /// A decoder for `encoding`.
    public init(_ encoding: MultipartTransferEncoding) {
        switch encoding {
        case .identity: state = .identity
        case .base64: state = .base64(bits: 0, count: 0, padded: false)
        case .quotedPrintable: state = .quotedPrintable(pending: [])
        }
    }

    /// Decodes `input` (the next wire bytes of the part) and appends the result to `output`.
    ///
    /// - Parameter offset: the body offset of `input`'s first byte, for errors.
    public mutating func decode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], offset: Int) throws(MultipartError) {
        switch state {
        case .identity:
            output.append(contentsOf: input)
        case .base64(var bits, var count, var padded):
            output.reserveCapacity(output.count + input.count * 3 / 4 + 3)
            for (index, byte) in input.enumerated() {
                if byte == 0x0D || byte == 0x0A || byte == 0x20 || byte == 0x09 { continue }
                if byte == UInt8(ascii: "=") {
                    padded = true
                    continue
                }
                let value = Self.base64Values[Int(byte)]
                guard value != 0xFF, !padded else {
                    throw MultipartError(
                        .invalidEncodedData, offset: offset + index,
                        padded
                            ? "base64 data continues after its '=' padding"
                            : "base64 data has byte 0x\(String(byte, radix: 16)), which is not in the base64 alphabet")
                }
                bits = bits << 6 | UInt32(value)
                count += 1
                if count == 4 {
                    output.append(UInt8(truncatingIfNeeded: bits >> 16))
                    output.append(UInt8(truncatingIfNeeded: bits >> 8))
                    output.append(UInt8(truncatingIfNeeded: bits))
                    bits = 0
                    count = 0
                }
            }
            state = .base64(bits: bits, count: count, padded: padded)
        case .quotedPrintable(var pending):
            for byte in input {
                if pending.isEmpty {
                    if byte == UInt8(ascii: "=") { pending.append(byte) } else { output.append(byte) }
                    continue
                }
                pending.append(byte)
                switch (pending.count, pending[1]) {
                case (2, 0x0A):
                    pending.removeAll()  // soft line break "=\n"
                case (2, 0x0D):
                    continue  // wait for the LF of "=\r\n"
                case (3, 0x0D) where byte == 0x0A:
                    pending.removeAll()  // soft line break "=\r\n"
                case (2, _) where ExtendedValue.hexValue(byte) != nil:
                    continue
                case (3, _):
                    if let high = ExtendedValue.hexValue(pending[1]), let low = ExtendedValue.hexValue(byte) {
                        output.append(high << 4 | low)
                    } else {
                        output.append(contentsOf: pending)  // not an escape: kept as sent
                    }
                    pending.removeAll()
                default:
                    // "=" followed by something that is no escape: kept as sent.
                    output.append(contentsOf: pending.dropLast())
                    pending.removeAll()
                    if byte == UInt8(ascii: "=") { pending.append(byte) } else { output.append(byte) }
                }
            }
            state = .quotedPrintable(pending: pending)
        }
    }

    /// Ends the part's data, appending any bytes still held. Throws when base64 data stops in the
    /// middle of a byte.
    public mutating func finish(into output: inout [UInt8], offset: Int) throws(MultipartError) {
        switch state {
        case .identity:
            break
        case .base64(let bits, let count, _):
            switch count {
            case 0: break
            case 2: output.append(UInt8(truncatingIfNeeded: bits >> 4))
            case 3:
                output.append(UInt8(truncatingIfNeeded: bits >> 10))
                output.append(UInt8(truncatingIfNeeded: bits >> 2))
            default:
                throw MultipartError(.invalidEncodedData, offset: offset, "base64 data ends with a single character, which encodes no whole byte")
            }
            state = .base64(bits: 0, count: 0, padded: false)
        case .quotedPrintable(let pending):
            output.append(contentsOf: pending)
            state = .quotedPrintable(pending: [])
        }
    }

    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        return table
    }()
}
