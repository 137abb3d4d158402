import FoundationEssentials

/// A value bound to a statement parameter or read from a result column.
/// Bool is stored as an integer (0/1); Date is DATETIME(6) in UTC with microseconds.
public enum DatabaseValue: Sendable, Equatable, Hashable {
    case null
    case int(Int64)
    /// Only for unsigned values above Int64.max (BIGINT UNSIGNED); smaller ones read as `.int`.
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes(Data)
    case date(Date)

    /// Wraps any bindable Swift value; nil optionals become `.null`.
    public init<T: DatabaseValueConvertible>(_ value: T) {
        self = value.databaseValue
    }

    public static func bool(_ value: Bool) -> DatabaseValue { .int(value ? 1 : 0) }
    public static func integer(_ value: Int) -> DatabaseValue { .int(Int64(value)) }

    public var isNull: Bool { self == .null }

    /// For error messages: the kind, never the value.
    var kind: String {
        switch self {
        case .null: return "NULL"
        case .int: return "integer"
        case .uint: return "unsigned integer"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .date: return "date"
        }
    }
}

extension DatabaseValue: ExpressibleByNilLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .int(value ? 1 : 0) }
}

/// Swift types that can be bound and read back. `init?(databaseValue:)` returns nil on a type mismatch.
public protocol DatabaseValueConvertible {
    var databaseValue: DatabaseValue { get }
    init?(databaseValue: DatabaseValue)
}

extension Int64: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .int(self) }
    /// Also accepts whole-number DECIMAL text, which SUM() of integers returns.
    public init?(databaseValue: DatabaseValue) {
        switch databaseValue {
        case .int(let v): self = v
        case .string(let s):
            guard let v = Int64(s) else { return nil }
            self = v
        default: return nil
        }
    }
}

extension Int: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .int(Int64(self)) }
    public init?(databaseValue: DatabaseValue) {
        guard let v = Int64(databaseValue: databaseValue), let i = Int(exactly: v) else { return nil }
        self = i
    }
}

extension UInt64: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { self <= UInt64(Int64.max) ? .int(Int64(self)) : .uint(self) }
    public init?(databaseValue: DatabaseValue) {
        switch databaseValue {
        case .int(let v) where v >= 0: self = UInt64(v)
        case .uint(let v): self = v
        default: return nil
        }
    }
}

extension Bool: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .int(self ? 1 : 0) }
    public init?(databaseValue: DatabaseValue) {
        guard case .int(let v) = databaseValue else { return nil }
        self = v != 0
    }
}

extension Double: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .double(self) }
    /// Also accepts integers and DECIMAL text (e.g. AVG()).
    public init?(databaseValue: DatabaseValue) {
        switch databaseValue {
        case .double(let v): self = v
        case .int(let v): self = Double(v)
        case .string(let s):
            guard let v = Double(s) else { return nil }
            self = v
        default: return nil
        }
    }
}

extension String: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .string(self) }
    public init?(databaseValue: DatabaseValue) {
        guard case .string(let v) = databaseValue else { return nil }
        self = v
    }
}

extension Data: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .bytes(self) }
    public init?(databaseValue: DatabaseValue) {
        guard case .bytes(let v) = databaseValue else { return nil }
        self = v
    }
}

extension Array: DatabaseValueConvertible where Element == UInt8 {
    public var databaseValue: DatabaseValue { .bytes(Data(self)) }
    public init?(databaseValue: DatabaseValue) {
        guard case .bytes(let v) = databaseValue else { return nil }
        self = [UInt8](v)
    }
}

extension Date: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .date(self) }
    public init?(databaseValue: DatabaseValue) {
        guard case .date(let v) = databaseValue else { return nil }
        self = v
    }
}

extension DatabaseValue: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { self }
    public init?(databaseValue: DatabaseValue) { self = databaseValue }
}

/// Optionals bind nil as NULL and read NULL as nil.
extension Optional: DatabaseValueConvertible where Wrapped: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { self?.databaseValue ?? .null }
    public init?(databaseValue: DatabaseValue) {
        if databaseValue == .null {
            self = .none
        } else if let v = Wrapped(databaseValue: databaseValue) {
            self = .some(v)
        } else {
            return nil
        }
    }
}
