import Foundation

/// Rich Text Format read as text, not markup: control words are interpreted (paragraphs, line
/// breaks, tabs, `\'hh` bytes in the document's Windows code page 1252, `\uN` characters with
/// their `\ucN` fallbacks skipped) and destinations that hold no document text (font, colour and
/// style tables, pictures, embedded objects, field instructions, `\*` destinations) are skipped.
/// No more than the text limit is kept; group nesting is bounded, so a hostile file costs time
/// linear in its size.
public struct RTFExtractor: DocumentProcessor {
    public init() {}

    public func handles(detectedType: String) -> Bool {
        detectedType == "text/rtf" || detectedType == "application/rtf"
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        let (text, isTruncated) = Self.text(of: [UInt8](try document.contents()), maximumTextBytes: document.maximumTextBytes)
        return ExtractedText(text: text, isTruncated: isTruncated)
    }

    /// Destinations whose content is not document text.
    static let skippedDestinations: Set<String> = [
        "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "objdata", "themedata", "colorschememapping", "datastore",
        "latentstyles", "listtable", "listoverridetable", "rsidtbl", "generator", "xmlnstbl", "mmathPr", "fldinst", "filetbl",
        "revtbl", "pgdsctbl", "bkmkstart", "bkmkend", "nonshppict", "shpinst", "template", "userprops", "wgrffmtfilter",
    ]

    /// Deeper groups than this are read as if at this depth.
    static let maximumDepth = 512

    /// The text of RTF `bytes`, at most `maximumTextBytes` UTF-8 bytes; whether there was more.
    static func text(of bytes: [UInt8], maximumTextBytes: Int) -> (String, Bool) {
        struct Group {
            var skipped = false
            var unicodeFallback = 1
        }
        var stack = [Group()]
        var output = ""
        var pendingBytes: [UInt8] = []  // \'hh and plain bytes, decoded together as Windows-1252
        var fallbackToSkip = 0
        var atGroupStart = false
        var index = 0

        func flushBytes() {
            guard !pendingBytes.isEmpty else { return }
            output += String(data: Data(pendingBytes), encoding: .windowsCP1252) ?? String(decoding: pendingBytes, as: UTF8.self)
            pendingBytes.removeAll(keepingCapacity: true)
        }
        func emit(_ text: String) {
            guard !stack[stack.count - 1].skipped else { return }
            flushBytes()
            output += text
        }
        func emitByte(_ byte: UInt8) {
            guard !stack[stack.count - 1].skipped else { return }
            if fallbackToSkip > 0 {
                fallbackToSkip -= 1
                return
            }
            pendingBytes.append(byte)
        }

        while index < bytes.count && output.utf8.count <= maximumTextBytes {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "{"):
                if stack.count < maximumDepth { stack.append(stack[stack.count - 1]) }
                atGroupStart = true
                continue
            case UInt8(ascii: "}"):
                if stack.count > 1 { stack.removeLast() }
            case 0x0D, 0x0A:
                break
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { break }
                let next = bytes[index]
                if (next >= 0x41 && next <= 0x5A) || (next >= 0x61 && next <= 0x7A) {
                    // A control word, its numeric parameter, and one space that ends it.
                    var end = index
                    while end < bytes.count, end - index < 32, (bytes[end] >= 0x41 && bytes[end] <= 0x5A) || (bytes[end] >= 0x61 && bytes[end] <= 0x7A) { end += 1 }
                    let word = String(decoding: bytes[index..<end], as: UTF8.self)
                    var parameterEnd = end
                    if parameterEnd < bytes.count, bytes[parameterEnd] == UInt8(ascii: "-") { parameterEnd += 1 }
                    while parameterEnd < bytes.count, parameterEnd - end < 11, bytes[parameterEnd] >= 0x30 && bytes[parameterEnd] <= 0x39 { parameterEnd += 1 }
                    let parameter = Int(String(decoding: bytes[end..<parameterEnd], as: UTF8.self))
                    index = parameterEnd
                    if index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
                    if atGroupStart && skippedDestinations.contains(word) { stack[stack.count - 1].skipped = true }
                    switch word {
                    case "par", "line", "sect", "page", "row": emit("\n")
                    case "tab", "cell": emit("\t")
                    case "emdash": emit("\u{2014}")
                    case "endash": emit("\u{2013}")
                    case "bullet": emit("\u{2022}")
                    case "lquote": emit("\u{2018}")
                    case "rquote": emit("\u{2019}")
                    case "ldblquote": emit("\u{201C}")
                    case "rdblquote": emit("\u{201D}")
                    case "uc": stack[stack.count - 1].unicodeFallback = max(0, min(parameter ?? 1, 16))
                    case "u":
                        // A signed 16-bit value (negative for the upper half), or out of range: then nothing.
                        let code = parameter.map { $0 < 0 ? $0 + 65536 : $0 } ?? -1
                        if (0...0x10FFFF).contains(code), let scalar = Unicode.Scalar(UInt32(code)) {
                            emit(String(Character(scalar)))
                        }
                        fallbackToSkip = stack[stack.count - 1].unicodeFallback
                    case "bin":
                        // Binary data: skipped whole.
                        index = min(bytes.count, index + max(parameter ?? 0, 0))
                    default: break
                    }
                } else {
                    index += 1
                    switch next {
                    case UInt8(ascii: "'"):
                        if index + 2 <= bytes.count, let value = UInt8(String(decoding: bytes[index..<index + 2], as: UTF8.self), radix: 16) {
                            emitByte(value)
                            index += 2
                        }
                    case UInt8(ascii: "*"):
                        stack[stack.count - 1].skipped = true
                    case UInt8(ascii: "~"): emit(" ")
                    case UInt8(ascii: "_"): emit("-")
                    case UInt8(ascii: "-"): break
                    case 0x0D, 0x0A: emit("\n")
                    default: emitByte(next)  // \\ \{ \} and any other symbol: itself
                    }
                }
            default:
                emitByte(byte)
            }
            atGroupStart = false
        }
        flushBytes()
        let isTruncated = output.utf8.count > maximumTextBytes || index < bytes.count
        let paragraphs = output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return (paragraphs.joined(separator: "\n\n").utf8Prefix(maximumTextBytes), isTruncated)
    }
}
