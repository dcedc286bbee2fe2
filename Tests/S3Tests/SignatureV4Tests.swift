import Crypto
import Foundation
import Testing

@testable import S3

/// Our signer against botocore's (the AWS SDK for Python), on the same requests at the same time:
/// every header both add must be equal.
@Suite struct SignatureV4Tests {
    struct Case: Encodable {
        var method: String
        var path: String
        var query: [[String]]
        var host: String
        var headers: [[String]]
        var body: String
        var signedPayload: Bool
        var time: Int
        var accessKeyID = "AKIDEXAMPLE"
        var secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        var sessionToken: String? = nil
        var region = "us-east-1"
    }

    static let time = 1_796_253_974  // 2026-12-02T23:26:14Z

    static let cases: [Case] = [
        Case(method: "GET", path: "/intake/blobs/ab/cd", query: [], host: "127.0.0.1:8333", headers: [], body: "", signedPayload: true, time: time),
        Case(
            method: "GET", path: "/intake", query: [["list-type", "2"], ["prefix", "docs/a b"], ["continuation-token", "x/y+z=="]],
            host: "127.0.0.1:8333", headers: [], body: "", signedPayload: true, time: time),
        Case(
            method: "GET", path: "/intake", query: [["uploads", ""], ["prefix", "tmp/"]], host: "s3.example.com", headers: [], body: "",
            signedPayload: true, time: time + 86_399, region: "eu-central-1"),
        Case(
            method: "PUT", path: "/intake/blobs/0123", query: [], host: "127.0.0.1:8333",
            headers: [["Content-Type", "application/octet-stream"], ["x-amz-checksum-sha256", "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="]],
            body: "68656c6c6f", signedPayload: true, time: time),
        Case(
            method: "PUT", path: "/intake/blobs/0123", query: [["partNumber", "7"], ["uploadId", "a~b.c_d-e/f"]], host: "bucket.s3.us-west-2.amazonaws.com",
            headers: [["x-amz-checksum-sha256", "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="]], body: "68656c6c6f", signedPayload: false,
            time: time, region: "us-west-2"),
        Case(
            method: "HEAD", path: "/intake/blobs/ff", query: [], host: "127.0.0.1:8333", headers: [["x-amz-checksum-mode", "ENABLED"]], body: "",
            signedPayload: true, time: time, sessionToken: "FQoGZXIvYXdzEJr//////////wEaDK+token="),
        Case(
            method: "DELETE", path: "/intake/key with spaces/ünïcode+plus", query: [["uploadId", "2~abc"]], host: "127.0.0.1:9000",
            headers: [["Range", "  bytes=0-9   "], ["X-Custom", "a   b\tc"]], body: "", signedPayload: true, time: time),
        Case(
            method: "POST", path: "/intake/blobs/x", query: [["uploads", ""]], host: "127.0.0.1:8333",
            headers: [["Content-Type", "application/xml"]], body: "3c612f3e", signedPayload: true, time: time),
    ]

    @Test func signaturesEqualBotocoresForGetPutHeadDeleteQueriesAndPayloads() throws {
        let expected = try Self.botocore(Self.cases)
        #expect(expected.count == Self.cases.count)
        for (testCase, reference) in zip(Self.cases, expected) {
            let signer = SignatureV4(
                credentials: S3Credentials(accessKeyID: testCase.accessKeyID, secretAccessKey: testCase.secretAccessKey, sessionToken: testCase.sessionToken),
                region: testCase.region)
            let body = Self.bytes(hex: testCase.body)
            let payloadHash = testCase.signedPayload ? SignatureV4.hex(SHA256.hash(data: body)) : SignatureV4.unsignedPayload
            let request = SignatureV4.Request(
                method: testCase.method, path: testCase.path, query: testCase.query.map { ($0[0], $0[1]) },
                headers: [("host", testCase.host)] + testCase.headers.map { ($0[0], $0[1]) })
            let ours = Dictionary(uniqueKeysWithValues: signer.signingHeaders(for: request, payloadHash: payloadHash, time: testCase.time).map { ($0.name, $0.value) })
            #expect(ours == reference, "\(testCase.method) \(testCase.path)")
            #expect(reference["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=") == true)
        }
    }

    @Test func timestampsAreUTCInBasicFormat() {
        #expect(SignatureV4.timestamp(Self.time) == "20261202T232614Z")
        #expect(SignatureV4.timestamp(0) == "19700101T000000Z")
    }

    static func botocore(_ cases: [Case]) throws -> [[String: String]] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fixtures/s3/botocore_sign.py").standardized
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONEncoder().encode(cases))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "botocore (pip install botocore) signs the reference requests")
        return try JSONDecoder().decode([[String: String]].self, from: data)
    }

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
