import Foundation
import HTTPTypes
import Hummingbird

/// A JSON response in the API's encoding (snake_case keys, ISO 8601 dates).
func jsonResponse(_ status: HTTPResponse.Status, _ value: some Encodable, headers extra: HTTPFields = [:]) throws -> Response {
    jsonResponse(status, bytes: try APIModels.encoder.encode(value), headers: extra)
}

/// A response of JSON already written.
func jsonResponse(_ status: HTTPResponse.Status, bytes data: some Collection<UInt8>, headers extra: HTTPFields = [:]) -> Response {
    var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
    headers.append(contentsOf: extra)
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
