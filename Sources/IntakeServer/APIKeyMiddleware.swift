import Foundation
import HTTPTypes
import Ingest
import Hummingbird
import Synchronization

/// Once any API key exists, every endpoint but `/healthz` and the page's files needs `Authorization: Bearer KEY`, and
/// the request sees only the key's knowledge base; `/metrics`, which counts across every
/// knowledge base, is then not served here at all (``ServerConfiguration/metricsAddress`` serves it).
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let database: any AccessKeyStore
    /// Set once a key was seen to exist: keys are revoked, never deleted, so from then on every
    /// request needs one and the store is not asked again. Until then it is asked each time, so
    /// that the first key, made on any node, is enforced at once.
    private let keysExist = KeysExist()

    init(database: any AccessKeyStore) {
        self.database = database
    }

    private final class KeysExist: Sendable {
        private let seen = Atomic(false)
        func check(_ database: any AccessKeyStore) async throws -> Bool {
            if seen.load(ordering: .relaxed) { return true }
            guard try await database.requiresKeys() else { return false }
            seen.store(true, ordering: .relaxed)
            return true
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Liveness, and the page's own files (no data: the page asks for a key when it needs one).
        if request.uri.path == "/healthz" || (request.method == .get && WebPageRoutes.files[request.uri.path] != nil) {
            return try await next(request, context)
        }
        guard try await keysExist.check(database) else { return try await next(request, context) }
        if request.uri.path == "/metrics" {
            throw APIError(.forbidden, code: "forbidden", message: "metrics count every knowledge base's documents: with API keys they are served only on --metrics-address")
        }
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized("this server needs an API key: send Authorization: Bearer KEY", request: request)
        }
        let secret = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let knowledgeBase = try await database.knowledgeBase(forKey: secret) else {
            throw APIError.unauthorized("the API key is not valid (unknown or revoked)", request: request)
        }
        var context = context
        context.knowledgeBase = knowledgeBase
        return try await next(request, context)
    }
}

extension APIError {
    /// 401; the connection is closed when the request has a body, which is not read.
    static func unauthorized(_ message: String, request: Request) -> APIError {
        let hasBody = (request.headers[.contentLength].flatMap(Int.init) ?? 0) > 0 || request.headers[.transferEncoding] != nil
        var error = APIError(.unauthorized, code: "unauthorized", message: message, closesConnection: hasBody)
        error.extraHeaders = [.wwwAuthenticate: "Bearer"]
        return error
    }
}
