import Foundation
import HTTPTypes
import Hummingbird

/// A JSON response in the API's encoding (snake_case keys, ISO 8601 dates).
func jsonResponse(_ status: HTTPResponse.Status, _ value: some Encodable, headers extra: HTTPFields = [:]) throws -> Response {
    let data = try APIModels.encoder.encode(value)
    var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
    headers.append(contentsOf: extra)
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
