import Foundation
public import PostgresNIO

/// Where a PostgreSQL database is, from a `postgres://USER:PASSWORD@HOST:PORT/DATABASE` URL
/// (`postgresql://` too; user, password and database percent-decoded; `?sslmode=disable`,
/// `prefer` (the default) or `require`).
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Hashable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// Why a URL is not a PostgreSQL location.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(url text: String) throws(Invalid) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else { throw Invalid(description: "a database URL looks like postgres://USER:PASSWORD@HOST:PORT/DATABASE") }
        guard let host = components.host, !host.isEmpty else { throw Invalid(description: "the database URL names no host") }
        guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw Invalid(description: "the database URL names no user (postgres://USER@HOST/DATABASE)")
        }
        self.host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        port = components.port ?? 5432
        self.user = user
        password = components.percentEncodedPassword?.removingPercentEncoding
        let path = components.percentEncodedPath.dropFirst().removingPercentEncoding ?? ""
        database = path.isEmpty ? user : path
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard let tls = TLSMode(rawValue: mode) else { throw Invalid(description: "sslmode must be disable, prefer or require, not '\(mode)'") }
        self.tls = tls
    }

    /// A postgres-nio client configuration for this location.
    public var clientConfiguration: PostgresClient.Configuration {
        let mode: PostgresClient.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: mode)
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }
}
