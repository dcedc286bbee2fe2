import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on loopback that nothing listens on: bound, read and released.
public enum LoopbackPort {
    public static func unused() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(descriptor, raw, length) == 0, getsockname(descriptor, raw, &length) == 0 else { throw POSIXError(.EADDRINUSE) }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A TCP port on loopback that refuses connections for as long as the returned reservation
    /// lives: bound and not listening, so that no other test (binding port 0 meanwhile) can take
    /// it, as it could a port that ``unused()`` released.
    public static func refusing() throws -> Reservation {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        return Reservation(descriptor: descriptor, port: Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A bound, not listening socket; closed when this goes.
    public final class Reservation: Sendable {
        private let descriptor: Int32
        public let port: Int

        init(descriptor: Int32, port: Int) {
            self.descriptor = descriptor
            self.port = port
        }

        deinit { close(descriptor) }
    }
}
