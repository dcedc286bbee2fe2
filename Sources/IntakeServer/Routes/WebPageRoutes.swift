import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /`: the page for people (upload, watch, browse, search), its script, style sheet and
/// icon. The files are the package's resources (`Resources/web`), read once. They hold no data,
/// so they are served without an API key; the page asks for one when the API answers 401.
///
/// Every answer carries a Content-Security-Policy that allows this origin's own files only (no
/// inline script or style, nothing from another site), may not be framed, and sends no referrer.
struct WebPageRoutes {
    /// The page's paths, and the file each serves.
    static let files: [String: (name: String, contentType: String)] = [
        "/": ("index.html", "text/html; charset=utf-8"),
        "/app.js": ("app.js", "text/javascript; charset=utf-8"),
        "/app.css": ("app.css", "text/css; charset=utf-8"),
        "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    ]

    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The files' bytes, read from the resource bundle once; nil for a file that is missing.
    private static let contents: [String: ByteBuffer] = {
        var contents: [String: ByteBuffer] = [:]
        for (_, file) in files {
            let name = file.name as NSString
            guard let url = Bundle.module.url(forResource: name.deletingPathExtension, withExtension: name.pathExtension, subdirectory: "web"),
                let data = try? Data(contentsOf: url)
            else { continue }
            contents[file.name] = ByteBuffer(bytes: data)
        }
        return contents
    }()

    /// Headers every page answer carries.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: contentSecurityPolicy,
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        .cacheControl: "no-cache",
    ]

    func add(to router: Router<IntakeRequestContext>) {
        for (path, file) in Self.files {
            router.get(RouterPath(path)) { _, _ -> Response in
                guard let body = Self.contents[file.name] else {
                    throw APIError(.serviceUnavailable, code: "page_missing", message: "the page's file \(file.name) is not installed beside this program")
                }
                var headers = Self.securityHeaders
                headers[.contentType] = file.contentType
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
            }
        }
    }
}
