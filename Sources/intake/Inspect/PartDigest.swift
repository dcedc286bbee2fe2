import Crypto
import Multipart

/// Size and SHA-256 of one part's decoded data, computed as the data streams by.
struct PartDigest {
    let part: MultipartPart
    private var hasher = SHA256()
    private var decoder: MultipartTransferDecoder
    private var scratch: [UInt8] = []
    private(set) var size = 0

    init(part: MultipartPart) {
        self.part = part
        self.decoder = MultipartTransferDecoder(part.transferEncoding)
    }

    /// Adds wire bytes of the part; `offset` is their body offset, for decoding errors.
    mutating func add(_ bytes: UnsafeRawBufferPointer, offset: Int) throws(MultipartError) {
        if part.transferEncoding == .identity {
            hasher.update(bufferPointer: bytes)
            size += bytes.count
            return
        }
        scratch.removeAll(keepingCapacity: true)
        try decoder.decode(bytes, into: &scratch, offset: offset)
        absorbScratch()
    }

    /// Ends the part and returns its JSON line.
    mutating func finish(offset: Int) throws(MultipartError) -> String {
        scratch.removeAll(keepingCapacity: true)
        try decoder.finish(into: &scratch, offset: offset)
        absorbScratch()
        let digest = hasher.finalize().map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
        var members: [(String, String)] = [
            ("name", JSONText.string(part.name)),
            ("filename", JSONText.optionalString(part.filename)),
        ]
        if let star = part.filenameStar {
            members.append(("filename_star", JSONText.string(star)))
        }
        members += [
            ("content_type", JSONText.optionalString(part.contentType)),
            ("headers", "[" + part.headers.map { "[\(JSONText.string($0.name)),\(JSONText.string($0.value))]" }.joined(separator: ",") + "]"),
            ("size", String(size)),
            ("sha256", JSONText.string(digest)),
        ]
        return JSONText.object(members)
    }

    private mutating func absorbScratch() {
        scratch.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        size += scratch.count
    }
}
