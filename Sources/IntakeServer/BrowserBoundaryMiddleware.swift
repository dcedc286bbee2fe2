import HTTPTypes
import Hummingbird

/// What a web page in someone's browser may do with this server. A page on any site can make a
/// browser send a form to `http://127.0.0.1:8080/uploads` (multipart is a "simple" request: no
/// preflight), and a page on a domain rebound to 127.0.0.1 reaches the server with its own name in
/// `Host`. So, before anything else:
/// - a request whose `Host` is not one this server answers to is refused (403 `host_not_allowed`):
///   loopback names and addresses when bound to loopback, plus every `--allowed-host`;
/// - a state-changing request (anything but GET, HEAD, OPTIONS) whose `Origin` is neither the
///   server's own nor a `--cors-origin` is refused (403 `origin_not_allowed`);
/// - a `--cors-origin` gets preflights answered and `Access-Control-Allow-Origin` on its responses.
/// Requests without `Origin` (curl, the CLI, other servers) are unaffected.
struct BrowserBoundaryMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The host names (lowercased, without port) requests may name; nil: any.
    let allowedHosts: Set<String>?
    /// Origins (scheme://host[:port], lowercased) whose pages may use the API.
    let corsOrigins: Set<String>

    init(configuration: ServerConfiguration) {
        let extra = Set(configuration.allowedHosts.map { $0.lowercased() })
        if ServerConfiguration.isLoopback(configuration.host) {
            allowedHosts = extra.union(["localhost", "127.0.0.1", "::1"])
        } else {
            allowedHosts = extra.isEmpty ? nil : extra
        }
        corsOrigins = Set(configuration.corsOrigins.map { Self.normalized(origin: $0) })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority.map(Self.hostName) ?? ""
        if let allowedHosts, !(allowedHosts.contains(host) || (allowedHosts.contains("127.0.0.1") && ServerConfiguration.isLoopback(host))) {
            throw APIError(.forbidden, code: "host_not_allowed", message: "this server does not answer to the host name in this request's Host header (add it with --allowed-host)")
        }
        let origin = request.headers[.origin].map(Self.normalized(origin:))
        let isListed = origin.map(corsOrigins.contains) ?? false
        if request.method == .options, isListed, request.headers[.accessControlRequestMethod] != nil {
            return Response(
                status: .noContent,
                headers: corsHeaders(origin!) + [
                    .accessControlAllowMethods: "GET, POST, DELETE",
                    .accessControlAllowHeaders: "Authorization, Content-Type, Idempotency-Key, Last-Event-ID",
                    .accessControlMaxAge: "600",
                ])
        }
        let changesState = !(request.method == .get || request.method == .head || request.method == .options)
        if changesState, let origin, !isListed, origin != Self.ownOrigin(authority: request.head.authority, scheme: request.head.scheme) {
            throw APIError(.forbidden, code: "origin_not_allowed", message: "requests from web pages of another origin are refused (list the origin with --cors-origin)")
        }
        var response = try await next(request, context)
        if isListed, let origin { response.headers.append(contentsOf: corsHeaders(origin)) }
        return response
    }

    private func corsHeaders(_ origin: String) -> HTTPFields {
        [.accessControlAllowOrigin: origin, .vary: "Origin"]
    }

    /// `authority` without its port, lowercased, brackets of an IPv6 literal removed.
    static func hostName(_ authority: String) -> String {
        var host = Substring(authority.lowercased())
        if host.hasPrefix("[") {
            host = host.dropFirst().prefix { $0 != "]" }
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return String(host.hasSuffix(".") ? host.dropLast() : host)
    }

    /// An origin as browsers send it, lowercased, without a trailing slash or default port.
    static func normalized(origin: String) -> String {
        var value = origin.lowercased()
        while value.hasSuffix("/") { value.removeLast() }
        if value.hasPrefix("http://"), value.hasSuffix(":80") { value.removeLast(3) }
        if value.hasPrefix("https://"), value.hasSuffix(":443") { value.removeLast(4) }
        return value
    }

    /// The origin of pages this server itself serves.
    static func ownOrigin(authority: String?, scheme: String?) -> String? {
        authority.map { normalized(origin: "\(scheme ?? "http")://\($0)") }
    }
}

extension HTTPField.Name {
    static let accessControlRequestMethod = HTTPField.Name("Access-Control-Request-Method")!
    static let accessControlAllowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let accessControlAllowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let accessControlAllowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let accessControlMaxAge = HTTPField.Name("Access-Control-Max-Age")!
}
