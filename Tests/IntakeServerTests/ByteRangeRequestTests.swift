import Testing

@testable import IntakeServer

@Suite struct ByteRangeRequestTests {
    @Test func oneRangeIsServedClampedToTheEnd() {
        #expect(ByteRangeRequest(header: "bytes=0-9", size: 100) == .part(0..<10))
        #expect(ByteRangeRequest(header: "bytes=90-", size: 100) == .part(90..<100))
        #expect(ByteRangeRequest(header: "bytes=90-1000", size: 100) == .part(90..<100))
        #expect(ByteRangeRequest(header: "bytes=-10", size: 100) == .part(90..<100))
        #expect(ByteRangeRequest(header: "bytes=-1000", size: 100) == .part(0..<100))
        #expect(ByteRangeRequest(header: "bytes=99-99999999999999999999999", size: 100) == .part(99..<100))
    }

    @Test func aRangePastTheEndIsUnsatisfiable() {
        #expect(ByteRangeRequest(header: "bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=-0", size: 100) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=99999999999999999999999-", size: 100) == .unsatisfiable)
    }

    @Test func rangesThisServerDoesNotServeAreIgnored() {
        #expect(ByteRangeRequest(header: nil, size: 100) == .whole)
        #expect(ByteRangeRequest(header: "bytes=0-1,5-6", size: 100) == .whole)
        #expect(ByteRangeRequest(header: "items=0-1", size: 100) == .whole)
        #expect(ByteRangeRequest(header: "bytes=5-1", size: 100) == .whole)
        #expect(ByteRangeRequest(header: "bytes=a-b", size: 100) == .whole)
        #expect(ByteRangeRequest(header: "bytes=-", size: 100) == .whole)
        #expect(ByteRangeRequest(header: "bytes=+1-2", size: 100) == .whole)
    }
}
