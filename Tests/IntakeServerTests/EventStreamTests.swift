import Foundation
import HTTPTypes
import HummingbirdTesting
import Ingest
import IntakeServer
import Testing

/// Reads from `descriptor` until `marker` has arrived (true) or the connection ends (false).
func receives(_ descriptor: Int32, _ marker: String) -> Bool {
    text(from: descriptor, until: marker) != nil
}

/// What arrives on `descriptor` up to and with `marker`, or nil if the connection ends first.
func text(from descriptor: Int32, until marker: String) -> String? {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count <= 0 { return nil }
        received += buffer[0..<count]
        let text = String(decoding: received, as: UTF8.self)
        if text.contains(marker) { return text }
    }
}

/// The status line of the response read from `descriptor` (its head read to its end), or nil.
func responseStatusLine(_ descriptor: Int32) -> String? {
    var received: [UInt8] = []
    var byte: UInt8 = 0
    while recv(descriptor, &byte, 1, 0) == 1 {
        received.append(byte)
        if received.count >= 4, Array(received.suffix(4)) == Array("\r\n\r\n".utf8) {
            return String(decoding: received, as: UTF8.self).components(separatedBy: "\r\n").first
        }
    }
    return nil
}

@Suite struct EventStreamTests {
    static let streamRequest = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"

    @Test(.timeLimit(.minutes(1))) func idleStreamsWaitOnOneReaderOfTheLogAndEachGetsTheNewEvent() async throws {
        let live = try LiveService { $0.eventKeepAliveInterval = .milliseconds(200) }
        try await live.test { client in
            let port = try #require(client.port)
            let service = live.service
            let streams = 20
            let (opened, openedContinuation) = AsyncStream<Void>.makeStream()
            let readers = (0..<streams).map { _ in
                Task {
                    await withRawSocket(port: port) { descriptor in
                        guard send(descriptor, Self.streamRequest), receives(descriptor, "retry: 2000") else { return false }
                        openedContinuation.yield()
                        return receives(descriptor, "event: queued")
                    }
                }
            }
            var count = 0
            for await _ in opened {
                count += 1
                if count == streams { break }
            }
            // Every stream has sent what there was and waits on the hub: none polls the database.
            while service.eventStreams.waiting < streams { try await Task.sleep(for: .milliseconds(10)) }
            #expect(service.eventStreams.open == streams)
            let (body, contentType) = uploadBody(file: "a.txt", type: "text/plain", data: try fixture("sample.txt"))
            #expect(try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body).status == .created)
            for reader in readers { #expect(await reader.value) }
        }
    }

    /// `?after=latest` starts at the newest event, and the stream says so first (`id:`), so that a
    /// client that reconnects before any event resumes from there and misses nothing.
    @Test(.timeLimit(.minutes(1))) func aStreamFromTheLatestEventSaysWhereItStartsAndSendsOnlyWhatIsNew() async throws {
        // No workers: the only events are the uploads' own.
        let live = try LiveService { $0.workers = 0 }
        try await live.test { client in
            let port = try #require(client.port)
            let (body, contentType) = uploadBody(file: "old.txt", type: "text/plain", data: try fixture("sample.txt"))
            #expect(try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body).status == .created)
            let newest = try await live.service.database.newestEventID()
            #expect(newest > 0)
            let request = "GET /events?after=latest HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
            let (started, startedContinuation) = AsyncStream<Void>.makeStream()
            let reader = Task {
                await withRawSocket(port: port) { descriptor in
                    guard send(descriptor, request), receives(descriptor, "retry: 2000\nid: \(newest)\n\n") else { return false }
                    startedContinuation.yield()
                    // The first event it sends is the new upload's, not the old one's.
                    return receives(descriptor, "id: \(newest + 1)\nevent: queued")
                }
            }
            for await _ in started { break }
            let (next, nextType) = uploadBody(file: "new.txt", type: "text/plain", data: Array("new\n".utf8))
            #expect(try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: nextType], body: next).status == .created)
            #expect(await reader.value)
        }
    }

    /// Without keys, `?knowledge_base=` narrows a stream to one knowledge base, as it narrows the list.
    @Test(.timeLimit(.minutes(1))) func aStreamForOneKnowledgeBaseCarriesOnlyItsEvents() async throws {
        let live = try LiveService { $0.workers = 0 }
        try await live.test { client in
            let port = try #require(client.port)
            let start = try await live.service.database.newestEventID()
            let request = "GET /events?after=\(start)&knowledge_base=wanted HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
            let (started, startedContinuation) = AsyncStream<Void>.makeStream()
            let reader = Task {
                await withRawSocket(port: port) { descriptor -> String? in
                    guard send(descriptor, request), receives(descriptor, "id: \(start)\n\n") else { return nil }
                    startedContinuation.yield()
                    return text(from: descriptor, until: "id: \(start + 2)\nevent: queued")
                }
            }
            for await _ in started { break }
            for knowledgeBase in ["other", "wanted"] {
                let (body, contentType) = uploadBody(file: "\(knowledgeBase).txt", type: "text/plain", data: Array("\(knowledgeBase)\n".utf8))
                #expect(try await client.execute(uri: "/uploads?knowledge_base=\(knowledgeBase)", method: .post, headers: [.contentType: contentType], body: body).status == .created)
            }
            let received = try #require(await reader.value, "the wanted knowledge base's event never came")
            #expect(!received.contains("id: \(start + 1)\n"), "the other knowledge base's event was sent")
            #expect(try await client.execute(uri: "/events?knowledge_base=Not%20A%20Name", method: .get).status == .badRequest)
        }
    }

    @Test(.timeLimit(.minutes(1))) func streamsPastTheLimitAre503AndAClosedStreamGivesItsPlaceBack() async throws {
        let live = try LiveService { configuration in
            configuration.maximumEventStreams = 2
            configuration.eventKeepAliveInterval = .milliseconds(100)
        }
        try await live.test { client in
            let port = try #require(client.port)
            let service = live.service
            let answers = await onThread { () -> [String?] in
                var sockets: [Int32] = []
                defer { sockets.forEach { close($0) } }
                var answers: [String?] = []
                for _ in 0..<3 {
                    sockets.append(connectedSocket(port: port))
                    answers.append(send(sockets.last!, Self.streamRequest) ? responseStatusLine(sockets.last!) : nil)
                }
                return answers
            }
            #expect(answers == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 503 Service Unavailable"])
            // The two closed streams find out at their next keep-alive and give their places back.
            while service.eventStreams.open > 0 { try await Task.sleep(for: .milliseconds(10)) }
            let again = await withRawSocket(port: port) { send($0, Self.streamRequest) ? responseStatusLine($0) : nil }
            #expect(again == "HTTP/1.1 200 OK")
        }
    }
}
