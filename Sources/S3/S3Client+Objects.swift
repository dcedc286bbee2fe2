public import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// What S3 says of a stored object.
public struct S3ObjectInfo: Sendable, Hashable {
    public var key: String
    public var size: Int
    /// Seconds since 1970.
    public var lastModified: Int
    /// The base64 SHA-256 S3 keeps for the object (`…=` for one PUT, `…=-N` for N parts), when
    /// asked for and kept.
    public var checksumSHA256: String?
}

/// An object's bytes on their way: the answer's length and range, and its body.
public struct S3Download: Sendable {
    /// Bytes in ``body``.
    public var length: Int
    /// The object's whole size.
    public var objectSize: Int
    public var body: HTTPClientResponse.Body
}

/// A multipart upload S3 has begun and not yet completed or aborted.
public struct S3PendingUpload: Sendable, Hashable {
    public var key: String
    public var uploadID: String
    /// Seconds since 1970.
    public var initiated: Int
}

/// A part sent with ``S3Client/uploadPart(key:uploadID:number:payload:)``.
public struct S3UploadedPart: Sendable, Hashable {
    public var number: Int
    public var eTag: String
    public var checksumSHA256: String
}

extension S3Client {
    /// Stores `payload` as `key` in one request, with its SHA-256 for the service to check
    /// (`x-amz-checksum-sha256`); a mismatch throws ``S3Error/Kind/checksumMismatch``.
    public func putObject(key: String, payload: Payload, contentType: String = "application/octet-stream") async throws(S3Error) {
        let checksum = Data64.encode(payload.sha256)
        let response = try await send(.PUT, key: key, headers: [("content-type", contentType), ("x-amz-checksum-sha256", checksum)], payload: payload)
        await Self.discardBody(response)
        try Self.expectChecksum(checksum, in: response, what: "PUT \(key)")
    }

    /// Begins a multipart upload of `key` whose parts carry SHA-256 checksums; returns its id.
    public func createMultipartUpload(key: String, contentType: String = "application/octet-stream") async throws(S3Error) -> String {
        let response = try await send(.POST, key: key, query: [("uploads", "")], headers: [("content-type", contentType), ("x-amz-checksum-algorithm", "SHA256")])
        let document = try await Self.document(response, what: "POST \(key)?uploads")
        guard let uploadID = S3XML.text("UploadId", in: document[...]), !uploadID.isEmpty else {
            throw S3Error(.invalidResponse, "the object store began a multipart upload of \(key) without giving its id")
        }
        return uploadID
    }

    /// Sends part `number` (1…10,000) of an upload, checked against its SHA-256.
    public func uploadPart(key: String, uploadID: String, number: Int, payload: Payload) async throws(S3Error) -> S3UploadedPart {
        let checksum = Data64.encode(payload.sha256)
        let response = try await send(
            .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
            headers: [("x-amz-checksum-sha256", checksum)], payload: payload)
        await Self.discardBody(response)
        try Self.expectChecksum(checksum, in: response, what: "part \(number) of \(key)")
        guard let eTag = response.headers.first(name: "etag") else {
            throw S3Error(.invalidResponse, "the object store took part \(number) of \(key) without an ETag")
        }
        return S3UploadedPart(number: number, eTag: eTag, checksumSHA256: checksum)
    }

    /// Completes an upload from its parts, in order; returns the object's composite checksum.
    @discardableResult
    public func completeMultipartUpload(key: String, uploadID: String, parts: [S3UploadedPart]) async throws(S3Error) -> String? {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts.sorted(by: { $0.number < $1.number }) {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(S3XML.escape(part.eTag))</ETag><ChecksumSHA256>\(part.checksumSHA256)</ChecksumSHA256></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let response = try await send(.POST, key: key, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")], payload: Payload(Array(xml.utf8)))
        let document = try await Self.document(response, what: "completing the upload of \(key)")
        // S3 may answer 200 and report a failure in the body.
        if document.contains("<Error>") {
            throw Self.error(status: 200, xml: document[...], what: "completing the upload of \(key)")
        }
        return S3XML.text("ChecksumSHA256", in: document[...])
    }

    /// Aborts an upload; its parts are freed. An upload already gone is not an error.
    public func abortMultipartUpload(key: String, uploadID: String) async throws(S3Error) {
        await Self.discardBody(try await send(.DELETE, key: key, query: [("uploadId", uploadID)], allowingNotFound: true))
    }

    /// The multipart uploads begun under `prefix` and not finished.
    public func pendingUploads(prefix: String) async throws(S3Error) -> [S3PendingUpload] {
        var uploads: [S3PendingUpload] = []
        var markers: [(name: String, value: String)] = []
        while true {
            let response = try await send(.GET, key: nil, query: [("uploads", ""), ("prefix", prefix)] + markers)
            let document = try await Self.document(response, what: "listing multipart uploads")
            for upload in S3XML.elements("Upload", in: document[...]) {
                guard let key = S3XML.text("Key", in: upload), let id = S3XML.text("UploadId", in: upload) else { continue }
                let initiated = S3XML.text("Initiated", in: upload).flatMap(S3XML.seconds(iso8601:)) ?? 0
                uploads.append(S3PendingUpload(key: key, uploadID: id, initiated: initiated))
            }
            guard S3XML.text("IsTruncated", in: document[...]) == "true",
                let key = S3XML.text("NextKeyMarker", in: document[...]), let id = S3XML.text("NextUploadIdMarker", in: document[...])
            else { return uploads }
            markers = [("key-marker", key), ("upload-id-marker", id)]
        }
    }

    /// What S3 keeps of `key`, or nil if there is no such object. With `checksum`, asks for the
    /// stored SHA-256 too (`x-amz-checksum-mode: ENABLED`).
    public func headObject(key: String, checksum: Bool = false) async throws(S3Error) -> S3ObjectInfo? {
        let response = try await send(.HEAD, key: key, headers: checksum ? [("x-amz-checksum-mode", "ENABLED")] : [], allowingNotFound: true)
        if response.status == .notFound { return nil }
        return S3ObjectInfo(
            key: key, size: response.headers.first(name: "content-length").flatMap { Int($0) } ?? 0,
            lastModified: response.headers.first(name: "last-modified").flatMap(S3XML.seconds(httpDate:)) ?? 0,
            checksumSHA256: response.headers.first(name: "x-amz-checksum-sha256"))
    }

    /// The bytes of `key`, streamed as they arrive; `range` (a half-open byte range within the
    /// object) asks for part of them. Nil if there is no such object.
    public func getObject(key: String, range: Range<Int>? = nil) async throws(S3Error) -> S3Download? {
        var headers: [(name: String, value: String)] = []
        if let range { headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")) }
        let response = try await send(.GET, key: key, headers: headers, allowingNotFound: true)
        if response.status == .notFound {
            await Self.discardBody(response)
            return nil
        }
        let length = response.headers.first(name: "content-length").flatMap { Int($0) }
        var objectSize = length
        if let contentRange = response.headers.first(name: "content-range"), let slash = contentRange.lastIndex(of: "/") {
            objectSize = Int(contentRange[contentRange.index(after: slash)...])
        }
        guard let length, let objectSize else {
            throw S3Error(.invalidResponse, "the object store sent \(key) without its length")
        }
        if let range, response.status == .partialContent, length != range.count {
            throw S3Error(.invalidResponse, "the object store sent \(length) bytes of \(key) for a range of \(range.count)")
        }
        return S3Download(length: length, objectSize: objectSize, body: response.body)
    }

    /// Removes `key`; an object already gone is not an error.
    public func deleteObject(key: String) async throws(S3Error) {
        await Self.discardBody(try await send(.DELETE, key: key, allowingNotFound: true))
    }

    /// Every object under `prefix`, a page of up to 1,000 at a time.
    public func listObjects(prefix: String) async throws(S3Error) -> [S3ObjectInfo] {
        var objects: [S3ObjectInfo] = []
        var token: String? = nil
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(.GET, key: nil, query: query)
            let document = try await Self.document(response, what: "listing \(prefix)")
            for entry in S3XML.elements("Contents", in: document[...]) {
                guard let key = S3XML.text("Key", in: entry) else { continue }
                objects.append(
                    S3ObjectInfo(
                        key: key, size: S3XML.text("Size", in: entry).flatMap { Int($0) } ?? 0,
                        lastModified: S3XML.text("LastModified", in: entry).flatMap(S3XML.seconds(iso8601:)) ?? 0,
                        checksumSHA256: nil))
            }
            token = S3XML.text("IsTruncated", in: document[...]) == "true" ? S3XML.text("NextContinuationToken", in: document[...]) : nil
        } while token != nil
        return objects
    }

    /// Creates the bucket (for tests and first runs); one that exists and is ours is not an error.
    public func createBucket() async throws(S3Error) {
        do {
            await Self.discardBody(try await send(.PUT, key: nil))
        } catch  where error.code == "BucketAlreadyOwnedByYou" || error.code == "BucketAlreadyExists" {
            return
        }
    }

    /// Throws if the answer names a SHA-256 other than the one sent.
    static func expectChecksum(_ sent: String, in response: HTTPClientResponse, what: String) throws(S3Error) {
        if let stored = response.headers.first(name: "x-amz-checksum-sha256"), stored != sent {
            throw S3Error(.checksumMismatch, "the object store kept \(what) with SHA-256 \(stored), not \(sent)")
        }
    }
}

/// Base64 (RFC 4648, with padding), as S3's checksum headers carry digests.
enum Data64 {
    static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString()
    }
}
