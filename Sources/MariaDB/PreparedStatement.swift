import CMariaDB
import FoundationEssentials
import Glibc

/// One server-side prepared statement (binary protocol). Owned and cached by its `Connection`.
final class PreparedStatement {
    let handle: UnsafeMutablePointer<MYSQL_STMT>
    let parameterCount: Int
    /// The last result's column names and kinds, reused while the server describes the result the same way:
    /// rebuilding them (a String per name) was a tenth of a one-row read's instructions.
    private var resultShape: (fields: [(type: enum_field_types, charset: UInt32, name: [UInt8])], columns: Columns, kinds: [ColumnKind])?

    /// Prepares `sql` on `mysql`; throws the typed error (the handle is closed on failure).
    init(sql: String, on mysql: UnsafeMutablePointer<MYSQL>) throws {
        guard let stmt = mysql_stmt_init(mysql) else {
            throw DatabaseError.from(code: mysql_errno(mysql), message: String(cString: mysql_error(mysql)))
        }
        let bytes = Array(sql.utf8)
        let rc = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buf.count, 1)) {
                mysql_stmt_prepare(stmt, $0, UInt(buf.count))
            }
        }
        if rc != 0 {
            let error = PreparedStatement.error(of: stmt)
            mysql_stmt_close(stmt)
            throw error
        }
        // Lets store_result compute each column's longest value, so fetch buffers fit exactly.
        var yes: my_bool = 1
        mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &yes)
        self.handle = stmt
        self.parameterCount = Int(mysql_stmt_param_count(stmt))
    }

    /// Frees the statement (after the connection closed, this only frees client memory).
    func close() {
        mysql_stmt_close(handle)
    }

    struct Outcome {
        var rows: [Row] = []
        var affectedRows: UInt64 = 0
        var lastInsertID: UInt64 = 0
    }

    func run(_ binds: [DatabaseValue]) throws -> Outcome {
        guard binds.count == parameterCount else {
            throw DatabaseError.usage("statement has \(parameterCount) placeholder(s) but \(binds.count) value(s) were bound")
        }
        let arena = Arena()
        if parameterCount > 0 {
            let params = arena.binds(parameterCount)
            for (i, value) in binds.enumerated() { bind(value, into: &params[i], arena: arena) }
            if mysql_stmt_bind_param(handle, params) != 0 { throw PreparedStatement.error(of: handle) }
        }
        if mysql_stmt_execute(handle) != 0 { throw PreparedStatement.error(of: handle) }

        var outcome = Outcome()
        if mysql_stmt_field_count(handle) == 0 {
            outcome.affectedRows = mysql_stmt_affected_rows(handle)
            outcome.lastInsertID = mysql_stmt_insert_id(handle)
        } else {
            outcome.rows = try fetchAll(arena: arena)
        }
        return outcome
    }

    // MARK: - Parameters

    private func bind(_ value: DatabaseValue, into b: inout MYSQL_BIND, arena: Arena) {
        switch value {
        case .null:
            b.buffer_type = MYSQL_TYPE_NULL
        case .int(let v):
            b.buffer_type = MYSQL_TYPE_LONGLONG
            b.buffer = arena.copy(v)
        case .uint(let v):
            b.buffer_type = MYSQL_TYPE_LONGLONG
            b.buffer = arena.copy(v)
            b.is_unsigned = 1
        case .double(let v):
            b.buffer_type = MYSQL_TYPE_DOUBLE
            b.buffer = arena.copy(v)
        case .string(let s):
            b.buffer_type = MYSQL_TYPE_STRING
            let (pointer, count) = arena.copy(bytes: Array(s.utf8))
            b.buffer = pointer
            b.buffer_length = UInt(count)
        case .bytes(let d):
            b.buffer_type = MYSQL_TYPE_BLOB
            let (pointer, count) = arena.copy(bytes: [UInt8](d))
            b.buffer = pointer
            b.buffer_length = UInt(count)
        case .date(let d):
            b.buffer_type = MYSQL_TYPE_DATETIME
            b.buffer = arena.copy(MariaTime.make(from: d))
        }
    }

    // MARK: - Results

    private enum ColumnKind { case integer, double, time, string, bytes }

    private func fetchAll(arena: Arena) throws -> [Row] {
        if mysql_stmt_store_result(handle) != 0 { throw PreparedStatement.error(of: handle) }
        defer { mysql_stmt_free_result(handle) }

        let count = Int(handle.pointee.field_count)
        guard let fields = handle.pointee.fields else { throw DatabaseError.usage("result without column metadata") }
        let (columns, kinds) = shape(of: UnsafeBufferPointer(start: fields, count: count))
        let out = arena.binds(count)
        let lengths = arena.array(of: UInt.self, count: count)
        let nulls = arena.array(of: my_bool.self, count: count)
        let errors = arena.array(of: my_bool.self, count: count)
        for i in 0..<count {
            let field = fields[i]
            let kind = kinds[i]
            out[i].length = lengths + i
            out[i].is_null = nulls + i
            out[i].error = errors + i
            switch kind {
            case .integer:
                out[i].buffer_type = MYSQL_TYPE_LONGLONG
                out[i].is_unsigned = (field.flags & UInt32(UNSIGNED_FLAG)) != 0 ? 1 : 0
                out[i].buffer = UnsafeMutableRawPointer(arena.array(of: UInt64.self, count: 1))
                out[i].buffer_length = 8
            case .double:
                out[i].buffer_type = MYSQL_TYPE_DOUBLE
                out[i].buffer = UnsafeMutableRawPointer(arena.array(of: Double.self, count: 1))
                out[i].buffer_length = 8
            case .time:
                out[i].buffer_type = MYSQL_TYPE_DATETIME
                out[i].buffer = UnsafeMutableRawPointer(arena.array(of: MYSQL_TIME.self, count: 1))
                out[i].buffer_length = UInt(MemoryLayout<MYSQL_TIME>.size)
            case .string, .bytes:
                out[i].buffer_type = kind == .string ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB
                let capacity = max(Int(field.max_length), 1)
                out[i].buffer = UnsafeMutableRawPointer(arena.array(of: UInt8.self, count: capacity))
                out[i].buffer_length = UInt(capacity)
            }
        }
        if mysql_stmt_bind_result(handle, out) != 0 { throw PreparedStatement.error(of: handle) }

        var rows: [Row] = []
        rows.reserveCapacity(Int(mysql_stmt_num_rows(handle)))
        while true {
            let rc = mysql_stmt_fetch(handle)
            if rc == MYSQL_NO_DATA { break }
            if rc == 1 { throw PreparedStatement.error(of: handle) }
            if rc == MYSQL_DATA_TRUNCATED, let bad = (0..<count).first(where: { errors[$0] != 0 }) {
                throw DatabaseError.decoding("value of column '\(columns.names[bad])' does not fit its \(kinds[bad]) buffer")
            }
            var values: [DatabaseValue] = []
            values.reserveCapacity(count)
            for i in 0..<count {
                if nulls[i] != 0 {
                    values.append(.null)
                    continue
                }
                let buffer = out[i].buffer!
                switch kinds[i] {
                case .integer:
                    let raw = buffer.load(as: UInt64.self)
                    if out[i].is_unsigned != 0, raw > UInt64(Int64.max) {
                        values.append(.uint(raw))
                    } else {
                        values.append(.int(Int64(bitPattern: raw)))
                    }
                case .double:
                    values.append(.double(buffer.load(as: Double.self)))
                case .time:
                    values.append(.date(MariaTime.date(from: buffer.load(as: MYSQL_TIME.self))))
                case .string:
                    let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(lengths[i]))
                    values.append(.string(String(decoding: bytes, as: UTF8.self)))
                case .bytes:
                    values.append(.bytes(Data(bytes: buffer, count: Int(lengths[i]))))
                }
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    /// The result's column names and kinds: the ones of the last result when every column has the same type,
    /// character set and name (comparing bytes costs far less than making the names again).
    private func shape(of fields: UnsafeBufferPointer<MYSQL_FIELD>) -> (Columns, [ColumnKind]) {
        func nameBytes(_ field: MYSQL_FIELD) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: field.name, count: field.name == nil ? 0 : Int(field.name_length))
        }
        func sameName(_ old: [UInt8], _ field: MYSQL_FIELD) -> Bool {  // memcmp: elementsEqual went byte by byte
            old.count == Int(field.name_length) && (old.isEmpty || old.withUnsafeBytes { memcmp($0.baseAddress!, field.name, old.count) == 0 })
        }
        if let last = resultShape, last.fields.count == fields.count,
            zip(last.fields, fields).allSatisfy({ old, field in
                old.type == field.type && old.charset == field.charsetnr && sameName(old.name, field)
            })
        {
            return (last.columns, last.kinds)
        }
        let described = fields.map { (type: $0.type, charset: $0.charsetnr, name: Array(nameBytes($0))) }
        let columns = Columns(names: described.map { String(decoding: $0.name, as: UTF8.self) })
        let kinds = fields.map(Self.kind(of:))
        resultShape = (described, columns, kinds)
        return (columns, kinds)
    }

    private static func kind(of field: MYSQL_FIELD) -> ColumnKind {
        switch field.type {
        case MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_INT24, MYSQL_TYPE_LONG, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_YEAR:
            return .integer
        case MYSQL_TYPE_FLOAT, MYSQL_TYPE_DOUBLE:
            return .double
        case MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_DATE, MYSQL_TYPE_NEWDATE:
            return .time
        case MYSQL_TYPE_BIT, MYSQL_TYPE_GEOMETRY:
            return .bytes
        case MYSQL_TYPE_STRING, MYSQL_TYPE_VAR_STRING, MYSQL_TYPE_VARCHAR, MYSQL_TYPE_TINY_BLOB,
            MYSQL_TYPE_BLOB, MYSQL_TYPE_MEDIUM_BLOB, MYSQL_TYPE_LONG_BLOB:
            return field.charsetnr == 63 ? .bytes : .string  // 63 = the "binary" character set
        default:
            return .string  // DECIMAL, TIME, ENUM, SET, JSON, NULL: their text form
        }
    }

    static func error(of stmt: UnsafeMutablePointer<MYSQL_STMT>) -> DatabaseError {
        DatabaseError.from(code: mysql_stmt_errno(stmt), message: String(cString: mysql_stmt_error(stmt)))
    }
}

/// Memory for one execution's bind buffers, freed together when the execution ends. Buffers are carved out of
/// 4 KiB chunks (a single-row read's all fit in one); an allocation each cost about 2,000 instructions a read.
private final class Arena {
    private static let chunkSize = 4096
    /// Every execution needs one chunk; only the rare others go in `blocks` (an empty array allocates nothing).
    private let firstChunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
    private var blocks: [UnsafeMutableRawPointer] = []
    /// The unused end of the last chunk.
    private var free: UnsafeMutableRawPointer?
    private var end: UnsafeMutableRawPointer?

    init() {
        free = firstChunk
        end = firstChunk + Self.chunkSize
    }

    deinit {
        firstChunk.deallocate()
        blocks.forEach { $0.deallocate() }
    }

    /// `count` zeroed values of `type`.
    func array<T>(of type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let size = max(MemoryLayout<T>.stride * count, 1)
        let raw = take(size, alignment: max(MemoryLayout<T>.alignment, 8))
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return raw.assumingMemoryBound(to: T.self)
    }

    private func take(_ size: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if let free, let end {
            let start = free.alignedUp(toMultipleOf: alignment)
            if start + size <= end {
                self.free = start + size
                return start
            }
        }
        if size > Self.chunkSize / 2 {  // a long value gets a block of its own and leaves the chunk for the small ones
            let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: alignment)
            blocks.append(block)
            return block
        }
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: Self.chunkSize, alignment: max(alignment, 16))
        blocks.append(chunk)
        free = chunk + size
        end = chunk + Self.chunkSize
        return chunk
    }

    func binds(_ count: Int) -> UnsafeMutablePointer<MYSQL_BIND> {
        array(of: MYSQL_BIND.self, count: count)  // zeroed: a zero MYSQL_BIND is the documented blank
    }

    func copy<T>(_ value: T) -> UnsafeMutableRawPointer {
        let p = array(of: T.self, count: 1)
        p.pointee = value
        return UnsafeMutableRawPointer(p)
    }

    func copy(bytes: [UInt8]) -> (UnsafeMutableRawPointer, Int) {
        let p = array(of: UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { if let base = $0.baseAddress { p.update(from: base, count: bytes.count) } }
        return (UnsafeMutableRawPointer(p), bytes.count)
    }
}
