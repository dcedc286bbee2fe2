import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// How many connections the server holds at once: past the limit a new connection is closed as
/// soon as it is accepted, so that a flood of connections (slow or not) can never take the last
/// file descriptor, and clients that are already connected are served.
public final class ConnectionBudget: Sendable {
    public let limit: Int
    private let open = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place; false when none is left.
    func acquire() -> Bool {
        if open.add(1, ordering: .relaxed).newValue <= limit { return true }
        open.subtract(1, ordering: .relaxed)
        return false
    }

    func release() { open.subtract(1, ordering: .relaxed) }

    /// Connections held now.
    public var count: Int { open.load(ordering: .relaxed) }
}

/// Per connection: holds a place in the ``ConnectionBudget`` (or closes the connection when there
/// is none), closes a connection whose client sends a request body slower than a minimum rate, and
/// one whose client stopped reading what the server sends (its socket not writable for a whole
/// window: an event stream or download nobody reads would otherwise be held for ever).
/// The rate is measured only over the time the server was waiting for data (a read requested and
/// not yet answered), so a server that holds the client back (writing to a slow disk) never
/// counts against it; each byte of a trickle no longer buys another idle timeout.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let budget: ConnectionBudget
    /// Bytes a second a request body must arrive at, on average over each window.
    private let minimumRate: Int
    private let window: TimeAmount

    private var holdsPlace = false
    private var inRequest = false
    private var bytesThisWindow = 0
    /// Time this window the server waited for data it had asked for.
    private var waitedThisWindow: TimeAmount = .zero
    private var waitingSince: NIODeadline?
    /// Since when the socket has not been writable (the client is not reading).
    private var unwritableSince: NIODeadline?
    private var check: Scheduled<Void>?

    init(budget: ConnectionBudget, minimumRate: Int, window: TimeAmount) {
        self.budget = budget
        self.minimumRate = minimumRate
        self.window = window
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    private func admit(context: ChannelHandlerContext) {
        guard !holdsPlace else { return }
        guard budget.acquire() else {
            context.close(promise: nil)
            return
        }
        holdsPlace = true
        scheduleCheck(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        leave()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        leave()
    }

    private func leave() {
        check?.cancel()
        check = nil
        if holdsPlace {
            holdsPlace = false
            budget.release()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        stopWaiting()
        switch unwrapInboundIn(data) {
        case .head:
            inRequest = true
            bytesThisWindow = 0
            waitedThisWindow = .zero
        case .body(let buffer):
            bytesThisWindow += buffer.readableBytes
        case .end:
            inRequest = false
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        unwritableSince = context.channel.isWritable ? nil : (unwritableSince ?? .now())
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if waitingSince == nil { waitingSince = .now() }
        context.read()
    }

    private func stopWaiting() {
        if let since = waitingSince {
            waitedThisWindow = waitedThisWindow + (.now() - since)
            waitingSince = nil
        }
    }

    private func scheduleCheck(context: ChannelHandlerContext) {
        check = context.eventLoop.assumeIsolated().scheduleTask(in: window) { [self] in
            self.checkRate(context: context)
        }
    }

    private func checkRate(context: ChannelHandlerContext) {
        if let since = unwritableSince, NIODeadline.now() - since >= window {
            context.close(promise: nil)
            return
        }
        var waited = waitedThisWindow
        if let since = waitingSince {
            waited = waited + (.now() - since)
            waitingSince = .now()
        }
        let seconds = Double(waited.nanoseconds) / 1e9
        let windowSeconds = Double(window.nanoseconds) / 1e9
        if minimumRate > 0, inRequest, seconds >= windowSeconds / 2, Double(bytesThisWindow) < Double(minimumRate) * seconds {
            context.close(promise: nil)
            return
        }
        bytesThisWindow = 0
        waitedThisWindow = .zero
        scheduleCheck(context: context)
    }
}
