import Crypto
import Foundation
import Multipart
import IntakeTesting
import Testing

/// Every case of the public conformance corpus (`Fixtures/conformance`), fed whole, byte by
/// byte, cut between every CR and LF, and in 50 random splits: the results must be identical and
/// match `expected.json`.
@Suite struct ConformanceTests {
    static let cases: [ConformanceCase] = (try? ConformanceCase.all()) ?? []

    @Test func corpusHasEveryCase() {
        #expect(Self.cases.count == 62)
    }

    @Test(arguments: cases)
    func caseMatchesExpectationWhateverTheSplits(_ testCase: ConformanceCase) throws {
        let feeder = BodyFeeder()
        let whole = feeder.parseWhole(testCase.body, contentType: testCase.contentType)
        try check(whole, against: testCase)

        #expect(feeder.parseByteByByte(testCase.body, contentType: testCase.contentType) == whole, "byte by byte")
        let crlfCuts = BodyFeeder.crlfCuts(testCase.body)
        #expect(feeder.parse(testCase.body, contentType: testCase.contentType, cuts: crlfCuts) == whole, "cut at every CRLF")
        for cut in crlfCuts {
            #expect(feeder.parse(testCase.body, contentType: testCase.contentType, cuts: [cut]) == whole, "cut between CR and LF at \(cut)")
        }
        var generator = SeededGenerator(seed: UInt64(truncatingIfNeeded: testCase.description.hashValue & 0) ^ 0x1234_5678)
        for round in 0..<50 {
            let maxChunk = [1, 2, 3, 7, 16, 64, 256, 4096][round % 8]
            let cuts = BodyFeeder.randomCuts(testCase.body.count, maxChunk: maxChunk, using: &generator)
            #expect(feeder.parse(testCase.body, contentType: testCase.contentType, cuts: cuts) == whole, "random split \(round)")
        }
    }

    private func check(_ outcome: ParseOutcome, against testCase: ConformanceCase) throws {
        guard let expected = testCase.expectedParts else {
            #expect(outcome.error != nil, "\(testCase) must be rejected, got \(outcome)")
            return
        }
        if testCase.hasLimits, case .failure(let error, _) = outcome, case .limitExceeded = error.code {
            // A crossed default limit reported as an error is as good as the unlimited result.
            return
        }
        guard let parts = outcome.parts else {
            Issue.record("\(testCase) must parse, got \(outcome)")
            return
        }
        let got = parts.map { collected in
            ConformanceCase.ExpectedPart(
                name: collected.part.name,
                filename: collected.part.filename,
                contentType: collected.part.contentType,
                size: collected.data.count,
                sha256: SHA256.hash(data: collected.data).map { String(format: "%02x", $0) }.joined()
            )
        }
        #expect(got == expected)
    }
}
