import Foundation
import Ingest
@testable import IntakeServer
import Testing

/// The upload answer's hand-written JSON is the value the API's JSONEncoder makes, whatever a
/// client put in its names and values.
@Suite struct UploadJSONTests {
    static let hostileStrings = [
        "plain.txt", "", "quote \" and backslash \\ and slash /", "<img src=x onerror=alert(1)>.txt", "</script><script>alert(1)</script>",
        "new\nline\r\ttab\u{08}\u{0C}", "nul \u{0} and unit separator \u{1F} and delete \u{7F}", "ünïcødé 文件 😀", "line separators \u{2028}\u{2029}",
        "\\u0041 is not A", "{\"key\": [1, 2]}",
    ]

    private func receipt(filename: String?, filenameStar: String?, field: String, value: String, declaredType: String?, charset: String?) -> UploadReceipt {
        let time = Date(timeIntervalSince1970: 1_796_263_312.125)
        let document = DocumentRecord(
            id: "d-1", uploadID: "u-1", fieldName: field, filename: filename, filenameStar: filenameStar, declaredType: declaredType,
            detectedType: "text/plain", charset: charset, size: 4096, sha256: String(repeating: "ab", count: 32), status: .queued, error: nil,
            createdAt: time, updatedAt: time)
        return UploadReceipt(
            id: "u-1", knowledgeBase: "kb", createdAt: time,
            fields: [UploadField(name: field, value: value), UploadField(name: field, value: "second"), UploadField(name: "title", value: value)],
            documents: [document, document])
    }

    private func parsed(_ bytes: some Collection<UInt8>) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary)
    }

    @Test(arguments: hostileStrings)
    func theHandWrittenAnswerIsTheEncodersValue(_ text: String) throws {
        for (filename, star, declared, charset) in [(text, nil, "text/plain", "utf-8"), (nil, text, nil, nil), (text, text, text, text)] as [(String?, String?, String?, String?)] {
            let upload = APIModels.Upload(receipt(filename: filename, filenameStar: star, field: text, value: text, declaredType: declared, charset: charset))
            let expected = try parsed(try APIModels.encoder.encode(upload))
            let written = try parsed(upload.jsonBytes)
            #expect(written == expected)
        }
    }

    @Test func keysAreWrittenInTheEncodersOrderAndMissingValuesAsNull() throws {
        let upload = APIModels.Upload(receipt(filename: nil, filenameStar: nil, field: "doc", value: "v", declaredType: nil, charset: nil))
        #expect(String(decoding: upload.jsonBytes, as: UTF8.self) == String(decoding: try APIModels.encoder.encode(upload), as: UTF8.self))
    }
}
