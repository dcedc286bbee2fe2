import Ingest
import IntakeClient
import IntakeRuntime
import IntakeServer

/// A local data directory as an upload target: the same `Ingestor` pipeline `intake serve` runs
/// (parse, hash, sniff, policy, fsync, rename, one transaction), without HTTP.
struct LocalTarget: UploadTarget {
    let node: IntakeNode
    let knowledgeBase: String

    func existingDocument(sha256: String) async throws(UploadFailure) -> String? {
        do {
            let page = try await node.store.documents(DocumentQuery(sha256: sha256, knowledgeBase: knowledgeBase, limit: 1))
            return page.documents.first?.id
        } catch {
            throw UploadFailure(code: "catalog_failed", message: "\(error)", isRetryable: false)
        }
    }

    func upload(_ request: UploadRequest, progress: ByteCounter) async throws(UploadFailure) -> String {
        let receipt: UploadReceipt
        do throws(IngestError) {
            receipt = try await node.ingestor.ingest(
                contentType: request.contentType, body: UploadBody(request, progress: progress), knowledgeBase: knowledgeBase)
        } catch {
            if case .cancelled = error { throw UploadFailure(code: "cancelled", message: "interrupted", isRetryable: false) }
            let answer = APIError(error)
            throw UploadFailure(status: answer.statusCode, code: answer.code, message: answer.message, isRetryable: false)
        }
        guard let document = receipt.documents.first else {
            throw UploadFailure(code: "bad_response", message: "the upload made no document", isRetryable: false)
        }
        guard document.sha256 == request.sha256 else {
            throw UploadFailure(code: "file_changed", message: "stored content with SHA-256 \(document.sha256), not \(request.sha256): the file changed while it was being read", isRetryable: false)
        }
        return document.id
    }
}
