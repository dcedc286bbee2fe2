import Foundation
import Ingest
import Testing

@Suite struct RandomIdentifierTests {
    @Test func aUUIDIsVersion4InLowercaseTextAndParsesAsOne() throws {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = RandomIdentifier.uuid()
            let parsed = try #require(UUID(uuidString: id), "\(id)")
            #expect(parsed.uuidString.lowercased() == id)
            let hex = Array(id.utf8)
            #expect(hex.count == 36 && [8, 13, 18, 23].allSatisfy { hex[$0] == UInt8(ascii: "-") })
            #expect(hex[14] == UInt8(ascii: "4"), "version 4")
            #expect("89ab".utf8.contains(hex[19]), "the RFC 4122 variant")
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }

    @Test func aShortIDIsThatManyLowercaseHexDigits() {
        for count in [1, 8, 16, 17, 40] {
            let id = RandomIdentifier.hex(count)
            #expect(id.count == count)
            #expect(id.utf8.allSatisfy { "0123456789abcdef".utf8.contains($0) })
        }
    }

    @Test func bytesAreWrittenAsTwoLowercaseHexDigitsEach() {
        #expect([UInt8]().lowercaseHex == "")
        #expect([0x00, 0x0F, 0xA0, 0xFF, 0x5C].lowercaseHex == "000fa0ff5c")
        #expect((0...255).map(UInt8.init).lowercaseHex == (0...255).map { String(format: "%02x", $0) }.joined())
    }
}
