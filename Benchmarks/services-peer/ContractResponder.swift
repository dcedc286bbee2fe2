import Foundation
import Hummingbird
import IntakeServer

/// Passes every request to `base`; turns the 201 of `POST /uploads` into the contract's
/// `{"files": [{"filename", "size", "sha256"}]}`, and the 415 for a body that is not
/// multipart/form-data into the contract's 400 (Intake's API answers 415 there, by design).
struct ContractResponder<Base: HTTPResponder<IntakeRequestContext>>: HTTPResponder {
    let base: Base

    func respond(to request: Request, context: IntakeRequestContext) async throws -> Response {
        var response = try await base.respond(to: request, context: context)
        guard request.method == .post, request.uri.path == "/uploads" else { return response }
        guard response.status == .created || response.status == .unsupportedMediaType else { return response }
        let collector = CollectingWriter()
        try await response.body.write(collector)
        if response.status == .unsupportedMediaType {
            // The router has turned the APIError into a response already; keep its body.
            if String(decoding: collector.bytes, as: UTF8.self).contains("\"not_multipart\"") { response.status = .badRequest }
            response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: collector.bytes))
            return response
        }
        let upload = try JSONDecoder().decode(Upload.self, from: collector.bytes)
        let files = Files(files: upload.documents.map { .init(filename: $0.filename, size: $0.size, sha256: $0.sha256) })
        let data = try JSONEncoder().encode(files)
        response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        response.headers[.contentLength] = "\(data.count)"
        return response
    }

    private struct Upload: Decodable {
        struct Document: Decodable { let filename: String?; let size: Int; let sha256: String }
        let documents: [Document]
    }

    private struct Files: Encodable {
        struct File: Encodable { let filename: String?; let size: Int; let sha256: String }
        let files: [File]
    }
}

/// Collects a response body's bytes.
private final class CollectingWriter: ResponseBodyWriter {
    var bytes = Data()
    func write(_ buffer: ByteBuffer) async throws { bytes.append(contentsOf: buffer.readableBytesView) }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
