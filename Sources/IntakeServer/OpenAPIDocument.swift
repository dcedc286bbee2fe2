/// The OpenAPI 3.1 description of the API, served at `GET /openapi.yaml`. A test compares its
/// paths and methods with the router's routes, so it cannot drift from what the server does.
enum OpenAPIDocument {
    static let yaml = """
        openapi: 3.1.0
        info:
          title: Intake
          version: "1"
          description: 'Document uploads for knowledge bases. Errors are {"error": {"code": "…", "message": "…"}}.'
        components:
          securitySchemes:
            apiKey:
              type: http
              scheme: bearer
              description: Needed on every endpoint but /healthz and /metrics once any key exists (intake keys create).
          parameters:
            filter:
              name: filter
              in: query
              description: "filter[FIELD]=VALUE: only documents whose upload was sent with that field and value (repeatable, at most 16; all must match)."
              style: deepObject
              explode: true
              schema: {type: object, additionalProperties: {type: string}}
            type:
              name: type
              in: query
              description: "Only documents of this detected type (application/pdf)."
              schema: {type: string}
            uploadedAfter:
              name: uploaded_after
              in: query
              description: "Only documents uploaded at or after this date (2026-12-01, midnight UTC) or time (ISO 8601)."
              schema: {type: string}
            uploadedBefore:
              name: uploaded_before
              in: query
              description: "Only documents uploaded before this date or time."
              schema: {type: string}
            id:
              name: id
              in: path
              required: true
              schema: {type: string}
          schemas:
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message]
                  properties:
                    code: {type: string, examples: [invalid_body, type_rejected, limit_exceeded, not_found, unauthorized]}
                    message: {type: string}
            Document:
              type: object
              required: [id, upload_id, field, filename, size, sha256, declared_type, detected_type, charset, status, created_at]
              properties:
                id: {type: string}
                upload_id: {type: string}
                field: {type: string}
                filename: {type: [string, "null"]}
                filename_star: {type: string}
                size: {type: integer}
                sha256: {type: string, pattern: "^[0-9a-f]{64}$"}
                declared_type: {type: [string, "null"]}
                detected_type: {type: string}
                charset: {type: [string, "null"]}
                status: {type: string, enum: [queued, processing, processed, failed, dead]}
                created_at: {type: string, format: date-time}
                error: {type: [string, "null"], description: "Only in GET /documents/{id}."}
                note: {type: [string, "null"], description: "Only in GET /documents/{id}: why a processed document has no passages."}
                attempts: {type: integer, description: "Only in GET /documents/{id}."}
                updated_at: {type: string, format: date-time, description: "Only in GET /documents/{id}."}
                fields: {type: object, additionalProperties: {type: array, items: {type: string}}, description: "Only in GET /documents/{id}: its upload's fields, its metadata."}
            Upload:
              type: object
              required: [id, created_at, knowledge_base, fields, documents]
              properties:
                id: {type: string}
                created_at: {type: string, format: date-time}
                knowledge_base: {type: string}
                fields: {type: object, additionalProperties: {type: array, items: {type: string}}}
                documents: {type: array, items: {$ref: "#/components/schemas/Document"}}
          responses:
            Error:
              description: An error.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
        security:
          - {}
          - apiKey: []
        paths:
          /uploads:
            post:
              summary: Upload documents (multipart/form-data), streamed to disk, sniffed, queued.
              parameters:
                - {name: knowledge_base, in: query, schema: {type: string, pattern: "^[A-Za-z0-9._-]{1,64}$"}}
                - {name: Idempotency-Key, in: header, schema: {type: string, maxLength: 255}}
              requestBody:
                required: true
                content:
                  multipart/form-data:
                    schema: {type: object, additionalProperties: true}
              responses:
                "201":
                  description: Durable and queued.
                  headers:
                    Location: {schema: {type: string}}
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Upload"}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
                "413": {$ref: "#/components/responses/Error"}
                "415": {$ref: "#/components/responses/Error"}
                "422": {$ref: "#/components/responses/Error"}
                "507": {$ref: "#/components/responses/Error"}
          /uploads/{id}:
            get:
              summary: An upload and its documents.
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200":
                  description: The upload.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Upload"}
                "404": {$ref: "#/components/responses/Error"}
          /documents:
            get:
              summary: Documents, oldest first (or newest first with order=newest), a page at a time.
              parameters:
                - {name: order, in: query, schema: {type: string, enum: [oldest, newest], default: oldest}}
                - {name: status, in: query, schema: {type: string, enum: [queued, processing, processed, failed, dead]}}
                - {name: sha256, in: query, schema: {type: string}}
                - {name: knowledge_base, in: query, description: "Only this knowledge base's documents (with an API key, its own only).", schema: {type: string, pattern: "^[A-Za-z0-9._-]{1,64}$"}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
                - {name: cursor, in: query, schema: {type: string}}
                - {$ref: "#/components/parameters/filter"}
                - {$ref: "#/components/parameters/type"}
                - {$ref: "#/components/parameters/uploadedAfter"}
                - {$ref: "#/components/parameters/uploadedBefore"}
              responses:
                "200":
                  description: A page.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [documents, next_cursor]
                        properties:
                          documents: {type: array, items: {$ref: "#/components/schemas/Document"}}
                          next_cursor: {type: [string, "null"]}
                "400": {$ref: "#/components/responses/Error"}
          /documents/{id}:
            get:
              summary: A document, with its error, attempts and last update.
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200":
                  description: The document.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Document"}
                "404": {$ref: "#/components/responses/Error"}
            delete:
              summary: Remove a document; its bytes go once no other document has them.
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "204": {description: Removed.}
                "404": {$ref: "#/components/responses/Error"}
          /documents/{id}/content:
            get:
              summary: The stored bytes, labelled with the detected type, as an attachment.
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200":
                  description: The bytes.
                  content:
                    application/octet-stream: {}
                "404": {$ref: "#/components/responses/Error"}
          /documents/{id}/chunks:
            get:
              summary: The passages the document was cut into for search, in order (empty until it is processed).
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200":
                  description: The chunks.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [chunks]
                        properties:
                          chunks:
                            type: array
                            items:
                              type: object
                              required: [ordinal, start, end, text, page, source]
                              properties:
                                ordinal: {type: integer, minimum: 0}
                                start: {type: integer, minimum: 0, description: "Character offset in the extracted text."}
                                end: {type: integer, minimum: 0, description: "Character offset after the passage."}
                                text: {type: string}
                                page: {type: [integer, "null"], minimum: 1, description: "The page the passage is on (PDF, images); null for formats without pages."}
                                source: {type: [string, "null"], enum: [ocr, null], description: "ocr when the text was read from a picture of it."}
                "404": {$ref: "#/components/responses/Error"}
          /search:
            get:
              summary: The passages of processed documents that match some words — those with every word first, then those with any, each by BM25 — a key searching its knowledge base only.
              parameters:
                - {name: q, in: query, required: true, description: "Words to look for (no query syntax).", schema: {type: string, maxLength: 1000}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 10}}
                - {name: knowledge_base, in: query, schema: {type: string, pattern: "^[A-Za-z0-9._-]{1,64}$"}}
                - {$ref: "#/components/parameters/filter"}
                - {$ref: "#/components/parameters/type"}
                - {$ref: "#/components/parameters/uploadedAfter"}
                - {$ref: "#/components/parameters/uploadedBefore"}
              responses:
                "200":
                  description: The results.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [results]
                        properties:
                          results:
                            type: array
                            items:
                              type: object
                              required: [document_id, filename, chunk, score, snippet, page]
                              properties:
                                document_id: {type: string}
                                filename: {type: [string, "null"]}
                                chunk: {type: integer, description: "The passage's ordinal in its document."}
                                score: {type: number, description: "Relevance; higher is better."}
                                snippet: {type: string, description: "An excerpt with each match between « and »."}
                                page: {type: [integer, "null"], minimum: 1, description: "The page the passage is on; null for formats without pages."}
                "400": {$ref: "#/components/responses/Error"}
          /documents/{id}/reprocess:
            post:
              summary: Queue a document again.
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "202":
                  description: Queued.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Document"}
                "404": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
          /events:
            get:
              summary: Document status changes as Server-Sent Events (id, event = state, data = document JSON).
              parameters:
                - {name: Last-Event-ID, in: header, schema: {type: integer}}
                - {name: after, in: query, description: "An event id, or latest: only events from now on.", schema: {oneOf: [{type: integer}, {type: string, enum: [latest]}]}}
                - {name: knowledge_base, in: query, description: "Only this knowledge base's events (with an API key, its own only).", schema: {type: string, pattern: "^[A-Za-z0-9._-]{1,64}$"}}
              responses:
                "200":
                  description: An event stream.
                  content:
                    text/event-stream: {}
          /files:
            options:
              summary: "Resumable uploads: tus 1.0.0's versions, extensions and largest size; the IETF draft's Upload-Limit."
              security: [{}]
              responses:
                "204": {description: "Tus-Version, Tus-Extension, Tus-Max-Size, Upload-Limit (max-size, max-age)."}
            post:
              summary: "Creates a resumable upload. tus (Tus-Resumable: 1.0.0): Upload-Length bytes, or Upload-Defer-Length: 1; Upload-Metadata filename, filetype and fields; creation-with-upload. IETF resumable-upload draft (Upload-Complete: ?1 or ?0, interop versions 10 and 9): the body is the file or its first piece, Content-Type its type, Content-Disposition its name; 104 Upload Resumption Supported with the Location to a client that sends Upload-Draft-Interop-Version: 10 (or 9)."
              parameters:
                - {name: knowledge_base, in: query, schema: {type: string, pattern: "^[A-Za-z0-9._-]{1,64}$"}}
              responses:
                "201": {description: "Location: /files/{id} (tus: Upload-Expires; IETF: Upload-Complete: ?0, Upload-Offset, Upload-Limit); an IETF creation whose body was the whole file answers as POST /uploads does, with Upload-Complete: ?1."}
                "400": {$ref: "#/components/responses/Error"}
                "412": {$ref: "#/components/responses/Error"}
                "413": {$ref: "#/components/responses/Error"}
                "415": {$ref: "#/components/responses/Error"}
          /files/{id}:
            head:
              summary: "The upload's offset (Upload-Offset) and length, in both protocols' fields (Upload-Complete: ?0, Upload-Limit); never cached."
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200": {description: "To a tus client: Upload-Offset, Upload-Length or Upload-Defer-Length."}
                "204": {description: "Otherwise: the same fields."}
                "404": {description: "No such upload (or another key's)."}
            get:
              summary: "The IETF draft's offset retrieval by GET: as HEAD."
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "204": {description: "Upload-Offset, Upload-Complete, Upload-Length, Upload-Limit."}
                "404": {description: "No such upload (or another key's)."}
            patch:
              summary: "Appends at Upload-Offset: tus with application/offset+octet-stream (the last byte completes the upload), the IETF draft with application/partial-upload and Upload-Complete (?1 completes it). Completion sends the file through the upload pipeline."
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "201": {description: "IETF, completed: what POST /uploads answers (Location: /uploads/{id}), with Upload-Complete: ?1."}
                "204": {description: "Upload-Offset (synced); tus: Location: /uploads/{id} when the upload is complete; IETF: Upload-Complete: ?0."}
                "400": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
                "413": {$ref: "#/components/responses/Error"}
                "415": {$ref: "#/components/responses/Error"}
                "460": {$ref: "#/components/responses/Error"}
            delete:
              summary: "tus termination, IETF cancellation: the upload and its bytes go."
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "204": {description: Removed.}
                "404": {$ref: "#/components/responses/Error"}
          /healthz:
            get:
              summary: Liveness.
              security: [{}]
              responses:
                "200": {description: ok}
          /:
            get:
              summary: The page for people (upload, watch, browse, search); asks for an API key when the API needs one.
              security: [{}]
              responses:
                "200":
                  description: The page, under a Content-Security-Policy that allows this origin's own files only.
                  content:
                    text/html: {}
          /app.js:
            get:
              summary: The page's script.
              security: [{}]
              responses:
                "200":
                  description: JavaScript.
                  content:
                    text/javascript: {}
          /app.css:
            get:
              summary: The page's style sheet.
              security: [{}]
              responses:
                "200":
                  description: CSS.
                  content:
                    text/css: {}
          /favicon.svg:
            get:
              summary: The page's icon.
              security: [{}]
              responses:
                "200":
                  description: SVG.
                  content:
                    image/svg+xml: {}
          /metrics:
            get:
              summary: Prometheus metrics.
              security: [{}]
              responses:
                "200":
                  description: Prometheus text format.
                  content:
                    text/plain: {}
          /openapi.yaml:
            get:
              summary: This document.
              responses:
                "200":
                  description: OpenAPI 3.1 YAML.
                  content:
                    application/yaml: {}

        """
}
