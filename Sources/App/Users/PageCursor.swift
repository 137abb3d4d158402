import Foundation
import Sodium
import Web

/// The opaque list cursor: base64url of "created_at_micros:id" of the last item shown.
public struct PageCursor: Equatable {
    public let createdAtMicros: Int64
    public let id: Int64

    public init(createdAt: Date, id: Int64) {
        createdAtMicros = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        self.id = id
    }

    public var createdAt: Date { Date(timeIntervalSince1970: Double(createdAtMicros) / 1_000_000) }

    public var encoded: String { Base64URL.encode(Array("\(createdAtMicros):\(id)".utf8)) }

    /// 422 (as a query validation error) for anything this type did not write.
    public init(decoding text: String) throws {
        let invalid = ValidationError(type: "value_error", loc: ["query", "cursor"], msg: "Value error, invalid cursor", input: .string(text))
        guard text.count <= 64, let bytes = Base64URL.decode(text), let plain = String(bytes: bytes, encoding: .utf8) else { throw invalid }
        let parts = plain.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = Int64(parts[1]), micros >= 0, id > 0 else { throw invalid }
        createdAtMicros = micros
        self.id = id
    }
}
