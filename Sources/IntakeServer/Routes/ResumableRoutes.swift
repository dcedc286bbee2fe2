import HTTPTypes
import Hummingbird

/// `/files/`: uploads sent in pieces, in either protocol — tus 1.0 (``TusRoutes``: requests say
/// `Tus-Resumable`) or the IETF resumable-upload draft (``IETFUploadRoutes``: creation says
/// `Upload-Complete`, appends are `application/partial-upload`). Both work on the same uploads
/// (``ResumableUploads``): `HEAD` answers in both protocols' fields, `DELETE` cancels either.
struct ResumableRoutes {
    let uploads: ResumableUploads

    func add(to router: Router<IntakeRequestContext>) {
        let tus = TusRoutes(uploads: uploads)
        let ietf = IETFUploadRoutes(uploads: uploads)
        router.on("files", method: .options) { _, _ in
            var headers = tus.capabilities
            headers.append(contentsOf: ietf.capabilities)
            return Response(status: .noContent, headers: headers)
        }
        router.post("files") { request, context in
            try await Self.refusingUnread(request) {
                // A request in neither protocol is told the tus version (412).
                if !TusRoutes.speaks(request) && IETFUploadRoutes.speaks(request) {
                    return try await ietf.create(request, context)
                }
                return try await tus.create(request, context)
            }
        }
        router.on("files/:id", method: .head) { request, context in
            try await state(request, context)
        }
        router.get("files/:id") { request, context in
            try await state(request, context)
        }
        router.patch("files/:id") { request, context in
            try await Self.refusingUnread(request) {
                if request.headers[.contentType].map(IETFUploadRoutes.isPartialUpload) == true {
                    return try await ietf.append(request, context)
                }
                return try await tus.patch(request, context)
            }
        }
        router.delete("files/:id") { _, context in
            try await uploads.remove(try await uploads.owned(context))
            return Response(status: .noContent, headers: TusRoutes.tusHeaders)
        }
    }

    /// The upload's offset and length, in the fields of both protocols: 200 to a tus client,
    /// 204 otherwise. Never cached.
    private func state(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        let upload = try await uploads.owned(context)
        var headers = TusRoutes.state(of: upload)
        headers.append(contentsOf: IETFUploadRoutes(uploads: uploads).state(of: upload))
        headers[.cacheControl] = "no-store"
        return Response(status: TusRoutes.speaks(request) ? .ok : .noContent, headers: headers)
    }

    /// Runs `body`; a refusal it throws before reading the request's body keeps the connection
    /// open when that body is small and already on its way (read and dropped here), and closes it
    /// otherwise: resumable-upload clients ask HEAD next, on the same connection.
    static func refusingUnread(_ request: Request, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as AfterTheBody {
            throw error.error
        } catch var error as APIError {
            // No Content-Length and no Transfer-Encoding: no body at all.
            let declared = request.headers[.contentLength].flatMap(Int.init) ?? (request.headers[.transferEncoding] == nil ? 0 : nil)
            guard declared != 0 else {
                error.closesConnection = false
                throw error
            }
            // A body left unread would be taken for the next request: it is read and dropped, or
            // the connection closes.
            var request = request
            if request.headers[.expect] == nil, declared ?? 0 <= 1 << 20, (try? await request.collectBody(upTo: 1 << 20)) != nil {
                error.closesConnection = false
            } else {
                error.closesConnection = true
            }
            throw error
        }
    }
}
