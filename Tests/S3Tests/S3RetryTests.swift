import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import S3

/// The client against a service that fails: a 5xx or `SlowDown` is sent again, up to its
/// attempts, then given up as unavailable; a refusal (4xx) is not retried. A stand-in service
/// on a real socket counts the requests.
@Suite struct S3RetryTests {
    /// Answers the first `failures` requests with `status` and an S3 error body, then 200.
    static func flakyService(failures: Int, status: HTTPResponse.Status, code: String, count: RequestCounter) -> Router<BasicRequestContext> {
        let router = Router()
        router.on("**", method: .put) { request, _ -> Response in
            for try await _ in request.body {}
            let seen = count.next()
            if seen <= failures {
                let xml = "<?xml version=\"1.0\"?><Error><Code>\(code)</Code><Message>try again &amp; again</Message></Error>"
                return Response(status: status, headers: [.contentType: "application/xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
            }
            return Response(status: .ok, headers: [.init("ETag")!: "\"abc\""])
        }
        return router
    }

    static func client(port: Int, attempts: Int) throws -> S3Client {
        var configuration = S3Configuration(
            location: try S3Location(bucket: "bucket"), endpoint: "http://127.0.0.1:\(port)",
            credentials: S3Credentials(accessKeyID: "key", secretAccessKey: "secret"))
        configuration.attempts = attempts
        configuration.firstRetryDelay = .milliseconds(1)
        return try S3Client(configuration)
    }

    static func run(failures: Int, status: HTTPResponse.Status, code: String, attempts: Int) async throws -> (Result<Void, S3Error>, Int) {
        let count = RequestCounter()
        let service = Application(router: flakyService(failures: failures, status: status, code: code, count: count), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await service.test(.live) { (live) async throws -> (Result<Void, S3Error>, Int) in
            let client = try Self.client(port: live.port!, attempts: attempts)
            let outcome = await Result(catching: { () async throws(S3Error) in try await client.putObject(key: "k", payload: .init(Array("hello".utf8))) })
            try await client.shutdown()
            return (outcome, count.value)
        }
    }

    @Test func aServerErrorIsSentAgainUntilItSucceeds() async throws {
        let (outcome, requests) = try await Self.run(failures: 2, status: .internalServerError, code: "InternalError", attempts: 3)
        #expect(throws: Never.self) { try outcome.get() }
        #expect(requests == 3)
    }

    @Test func slowDownIsSentAgainToo() async throws {
        let (outcome, requests) = try await Self.run(failures: 1, status: .serviceUnavailable, code: "SlowDown", attempts: 3)
        #expect(throws: Never.self) { try outcome.get() }
        #expect(requests == 2)
    }

    @Test func serverErrorsPastTheAttemptsAreGivenUpAsAServerError() async throws {
        let (outcome, requests) = try await Self.run(failures: 10, status: .badGateway, code: "InternalError", attempts: 3)
        #expect(requests == 3)
        guard case .failure(let error) = outcome else { Issue.record("a failure"); return }
        #expect(error.kind == .serverError)
        #expect(error.message.contains("try again & again"))
    }

    @Test func aServiceThatNeverAnswersIsUnavailableAtTheRequestDeadline() async throws {
        let count = RequestCounter()
        let router = Router()
        router.on("**", method: .head) { _, _ -> Response in
            _ = count.next()
            while !count.isReleased { try await Task.sleep(for: .milliseconds(10)) }  // no answer until the client gave up
            return Response(status: .ok)
        }
        let service = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await service.test(.live) { (live) async throws in
            var configuration = S3Configuration(
                location: try S3Location(bucket: "bucket"), endpoint: "http://127.0.0.1:\(live.port!)",
                credentials: S3Credentials(accessKeyID: "key", secretAccessKey: "secret"))
            configuration.requestTimeout = .seconds(1)
            configuration.attempts = 2
            configuration.firstRetryDelay = .milliseconds(1)
            let client = try S3Client(configuration)
            var failure: S3Error?
            do throws(S3Error) { _ = try await client.headObject(key: "k") } catch { failure = error }
            count.release()
            try await client.shutdown()
            #expect(failure?.kind == .unavailable)
            #expect(count.value == 2, "sent again once")
        }
    }

    @Test func aClientDroppedWithoutShutdownClosesItself() throws {
        // AsyncHTTPClient stops a debug process when a client goes without shutdown; ours shuts it down.
        var client: S3Client? = try Self.client(port: 9, attempts: 1)
        #expect(client != nil)
        client = nil
    }

    @Test func aRefusalIsNotRetried() async throws {
        let (outcome, requests) = try await Self.run(failures: 10, status: .forbidden, code: "AccessDenied", attempts: 3)
        #expect(requests == 1)
        guard case .failure(let error) = outcome else { Issue.record("a failure"); return }
        #expect(error.kind == .refused)
        #expect(error.code == "AccessDenied")
    }
}

extension Result where Failure == S3Error {
    init(catching body: () async throws(S3Error) -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// Requests seen by the stand-in service.
final class RequestCounter: Sendable {
    private let count = Mutex(0)
    private let released = Mutex(false)

    /// Lets a held request be answered.
    func release() { released.withLock { $0 = true } }
    var isReleased: Bool { released.withLock { $0 } }

    func next() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }

    var value: Int { count.withLock { $0 } }
}
