/// Column names of one result, shared by all its rows.
public final class Columns: Sendable {
    public let names: [String]
    /// Each name's length in bytes, compared before the name.
    private let lengths: [Int]
    private let indexByName: [String: Int]

    init(names: [String]) {
        self.names = names
        lengths = names.map(\.utf8.count)
        var index: [String: Int] = [:]
        if names.count > 16 {  // below that `index(of:)` compares names and never reads the dictionary
            for (i, name) in names.enumerated() where index[name] == nil { index[name] = i }  // first wins
        }
        self.indexByName = index
    }

    /// The first column of that name. Most results have a handful of columns, and comparing a few names costs
    /// less than hashing one (every value a row decoder reads comes through here).
    public func index(of name: String) -> Int? {
        guard names.count <= 16 else { return indexByName[name] }
        // Lengths first: most names are skipped without a String comparison (a call each).
        let length = name.utf8.count
        for index in lengths.indices where lengths[index] == length && names[index] == name { return index }
        return nil
    }
}

/// One result row. Read by column name or position, typed:
///   let id: Int64 = try row.get("id")
///   let name = try row.get("full_name", as: String?.self)   // NULL → nil
/// A missing column, an index out of range, a NULL read as non-optional or a value of another type
/// throws `DatabaseError.decoding` naming the column.
public struct Row: Sendable {
    public let columns: Columns
    public let values: [DatabaseValue]

    init(columns: Columns, values: [DatabaseValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(name: String) -> DatabaseValue? {
        columns.index(of: name).map { values[$0] }
    }

    public subscript(index: Int) -> DatabaseValue {
        values[index]
    }

    // Inlinable, so that the app's reads are specialized for their types: generic, each value read looked up
    // Optional's metadata at run time, most of a row's decoding cost.
    @inlinable
    public func get<T: DatabaseValueConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let i = columns.index(of: name) else {
            throw DatabaseError.decoding("no column named '\(name)' (columns: \(columns.names.joined(separator: ", ")))")
        }
        return try decode(values[i], column: "'\(name)'", as: type)
    }

    @inlinable
    public func get<T: DatabaseValueConvertible>(_ index: Int, as type: T.Type = T.self) throws -> T {
        guard values.indices.contains(index) else {
            throw DatabaseError.decoding("no column at position \(index) (row has \(values.count))")
        }
        return try decode(values[index], column: "at position \(index)", as: type)
    }

    /// `column` names it in the error only: made for every value read, it cost more than the reading.
    @inlinable
    func decode<T: DatabaseValueConvertible>(_ value: DatabaseValue, column: @autoclosure () -> String, as type: T.Type) throws -> T {
        guard let decoded = T(databaseValue: value) else { throw Self.mismatch(value, column: column(), expected: T.self) }
        return decoded
    }

    @usableFromInline
    static func mismatch(_ value: DatabaseValue, column: String, expected: Any.Type) -> DatabaseError {
        .decoding("column \(column) holds \(value.kind), not \(expected)")
    }
}
