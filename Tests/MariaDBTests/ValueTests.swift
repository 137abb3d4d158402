import Foundation
import MariaDB
import Testing

@Suite struct ValueTests {
    /// One row of many columns, short and long: the bind buffers fill several arena chunks, and long values
    /// take blocks of their own, every value read back whole.
    @Test func manyColumnsOfMixedLengthsReadBack() throws {
        let db = try freshConnection()
        let lengths = (0..<60).map { $0 * $0 * 3 % 5_000 }  // 0 to 4,998 bytes
        func letter(_ index: Int) -> String { String(UnicodeScalar(UInt8(65 + index % 26))) }
        let select = lengths.enumerated().map { "REPEAT('\(letter($0.offset))', \($0.element)) AS c\($0.offset)" }
        let sql = "SELECT " + select.joined(separator: ", ") + ", 7 AS n, CAST(? AS DATETIME(6)) AS at"
        let rows = try db.query(sql, [.date(Date(timeIntervalSince1970: 86_400.5))])
        let row = try #require(rows.first)
        for (index, length) in lengths.enumerated() {
            #expect(try row.get("c\(index)", as: String.self) == String(repeating: letter(index), count: length))
        }
        #expect(try row.get("n", as: Int64.self) == 7)
        #expect(try row.get("at", as: Date.self) == Date(timeIntervalSince1970: 86_400.5))
    }

    @Test func everyBindableTypeRoundTrips() throws {
        let db = try freshConnection()
        try db.execute(
            """
            CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_INCREMENT, i64 BIGINT, i INT, b BOOL, d DOUBLE,
                            s VARCHAR(100), blob_ VARBINARY(100), at DATETIME(6), u BIGINT UNSIGNED)
            """)
        let date = Date(timeIntervalSince1970: 1_700_000_000 + 0.123456)
        let bytes = Data([0, 1, 2, 0xFF, 0x27, 0x5C])
        let insert = try db.execute(
            "INSERT INTO t (i64, i, b, d, s, blob_, at, u) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .int(Int64.min), .integer(-42), .bool(true), .double(3.25), .string("héllo"), .bytes(bytes), .date(date),
                .uint(UInt64.max)
            ])
        #expect(insert.affectedRows == 1)
        #expect(insert.lastInsertID == 1)

        let rows = try db.query("SELECT i64, i, b, d, s, blob_, at, u FROM t WHERE id = ?", [.int(insert.lastInsertID)])
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(try row.get("i64", as: Int64.self) == Int64.min)
        #expect(try row.get("i", as: Int.self) == -42)
        #expect(try row.get("b", as: Bool.self) == true)
        #expect(try row.get("d", as: Double.self) == 3.25)
        #expect(try row.get("s", as: String.self) == "héllo")
        #expect(try row.get("blob_", as: Data.self) == bytes)
        #expect(try row.get("blob_", as: [UInt8].self) == [0, 1, 2, 0xFF, 0x27, 0x5C])
        #expect(try row.get("u", as: UInt64.self) == UInt64.max)
        let read = try row.get("at", as: Date.self)
        #expect(abs(read.timeIntervalSince(date)) < 0.000_000_5)
        // By position too.
        #expect(try row.get(4, as: String.self) == "héllo")
        #expect(row.columns.names == ["i64", "i", "b", "d", "s", "blob_", "at", "u"])
    }

    /// Columns are found by name in a few ways (a scan for small results, a dictionary for wide ones); both
    /// give the first column of a name, and a missing name is a clear error.
    @Test(arguments: [3, 40])
    func columnsAreFoundByNameFirstWins(width: Int) throws {
        let db = try freshConnection()
        let extra = (0..<width).map { ", \($0) AS c\($0)" }.joined()
        let row = try #require(try db.query("SELECT 1 AS a, 2 AS a, 'x' AS b\(extra)").first)
        #expect(try row.get("a", as: Int64.self) == 1)
        #expect(try row.get("b", as: String.self) == "x")
        #expect(try row.get("c\(width - 1)", as: Int64.self) == Int64(width - 1))
        #expect(throws: DatabaseError.self) { try row.get("missing", as: Int64.self) }
    }

    @Test func microsecondsAndUTCAreKept() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (at DATETIME(6))")
        let date = Date(timeIntervalSince1970: 1_234_567_890 + 0.000_001)
        try db.execute("INSERT INTO t VALUES (?)", [.date(date)])
        // The server sees the same wall-clock time in UTC.
        let text = try db.query("SELECT CAST(at AS CHAR) AS text, @@session.time_zone AS tz FROM t")
        #expect(try text[0].get("text", as: String.self) == "2009-02-13 23:31:30.000001")
        #expect(try text[0].get("tz", as: String.self) == "+00:00")
        let back = try db.query("SELECT at FROM t")[0].get("at", as: Date.self)
        #expect(abs(back.timeIntervalSince(date)) < 0.000_000_5)
    }

    @Test func nullRoundTripsForEveryType() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (i BIGINT NULL, d DOUBLE NULL, s TEXT NULL, b BLOB NULL, at DATETIME(6) NULL)")
        try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [nil, .null, DatabaseValue(String?.none), nil, nil])
        let row = try db.query("SELECT * FROM t")[0]
        #expect(row.values == [.null, .null, .null, .null, .null])
        #expect(try row.get("i", as: Int64?.self) == nil)
        #expect(try row.get("s", as: String?.self) == nil)
        #expect(try row.get("at", as: Date?.self) == nil)
        #expect(throws: DatabaseError.self) { try row.get("i", as: Int64.self) }  // NULL is not an Int64
    }

    @Test func fourByteUnicodeRoundTrips() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (s VARCHAR(50) NOT NULL) DEFAULT CHARSET=utf8mb4")
        let text = "🐦 perch 𝄞 漢字 ñ \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"
        try db.execute("INSERT INTO t VALUES (?)", [.string(text)])
        #expect(try db.query("SELECT s FROM t")[0].get("s", as: String.self) == text)
        #expect(try db.query("SELECT COUNT(*) AS n FROM t WHERE s = ?", [.string(text)])[0].get("n", as: Int.self) == 1)
    }

    @Test func injectionShapedStringsAreStoredVerbatim() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, s TEXT NOT NULL)")
        let nasty = [
            "'; DROP TABLE t; --",
            "\" OR \"1\"=\"1",
            "' OR '1'='1",
            "\\'; SELECT 1; #",
            "Robert'); DROP TABLE Students;--",
            "?", "%s", "\u{0}nul", "`backtick`", "/* comment */"
        ]
        for s in nasty { try db.execute("INSERT INTO t (s) VALUES (?)", [.string(s)]) }
        let stored = try db.query("SELECT s FROM t ORDER BY id").map { try $0.get("s", as: String.self) }
        #expect(stored == nasty)
        // Lookup with the same string matches exactly one row; the table still exists.
        #expect(try db.query("SELECT id FROM t WHERE s = ?", [.string("' OR '1'='1")]).count == 1)
    }

    @Test func aStatementIsPreparedOnceHoweverOftenItRuns() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (n INT)")
        let before = db.prepareCount
        for n in 0..<50 { try db.execute("INSERT INTO t VALUES (?)", [.integer(n)]) }
        for _ in 0..<20 { _ = try db.query("SELECT COUNT(*) AS c FROM t WHERE n >= ?", [.integer(10)]) }
        #expect(db.prepareCount - before == 2)
        #expect(try db.query("SELECT COUNT(*) AS c FROM t WHERE n >= ?", [.integer(10)])[0].get("c", as: Int.self) == 40)
    }

    /// Names are found by length, then by comparison: same-length names, a repeated name (the first wins), a
    /// non-ASCII one and a missing one.
    @Test func columnsAreFoundByName() throws {
        let db = try freshConnection()
        let row = try #require(try db.query("SELECT 1 AS ab, 2 AS cd, 3 AS ab, 4 AS `é`, 5 AS e, 6 AS abc").first)
        #expect(try row.get("ab", as: Int.self) == 1)
        #expect(try row.get("cd", as: Int.self) == 2)
        #expect(try row.get("é", as: Int.self) == 4)
        #expect(try row.get("e", as: Int.self) == 5)
        #expect(try row.get("abc", as: Int.self) == 6)
        #expect(row.columns.index(of: "ac") == nil)
        #expect(throws: DatabaseError.self) { try row.get("zz", as: Int.self) }
    }

    /// The cache hashes the end of the SQL text only: statements of the same length and ending are still told apart.
    @Test func statementsThatDifferOnlyAtTheStartAreCachedApart() throws {
        let db = try freshConnection()
        let tail = ", 'the same forty bytes at the end of both' AS t"
        let before = db.prepareCount
        for _ in 0..<3 {
            #expect(try db.query("SELECT 1 AS n" + tail)[0].get("n", as: Int.self) == 1)
            #expect(try db.query("SELECT 2 AS n" + tail)[0].get("n", as: Int.self) == 2)
        }
        #expect(db.prepareCount - before == 2)
    }

    @Test func aCachedStatementSeesASchemaChange() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (a INT)")
        try db.execute("INSERT INTO t VALUES (1)")
        #expect(try db.query("SELECT * FROM t")[0].columns.names == ["a"])
        try db.execute("ALTER TABLE t ADD COLUMN b VARCHAR(10) NOT NULL DEFAULT 'x'")
        let row = try db.query("SELECT * FROM t")[0]
        #expect(row.columns.names == ["a", "b"])
        #expect(try row.get("b", as: String.self) == "x")
        // Same number of columns, other type.
        try db.execute("ALTER TABLE t MODIFY a VARCHAR(10) NOT NULL")
        try db.execute("UPDATE t SET a = ?", ["ten"])
        #expect(try db.query("SELECT * FROM t")[0].get("a", as: String.self) == "ten")
    }

    @Test func sumOfIntegersReadsAsAnInteger() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (n INT)")
        try db.execute("INSERT INTO t VALUES (?), (?)", [40, 2])
        #expect(try db.query("SELECT SUM(n) AS total FROM t")[0].get("total", as: Int.self) == 42)
    }

    @Test func readingErrorsNameTheColumn() throws {
        let db = try freshConnection()
        let row = try #require(try db.query("SELECT 1 AS one, 'x' AS letter").first)
        #expect(throws: DatabaseError.decoding("no column named 'missing' (columns: one, letter)")) {
            try row.get("missing", as: Int.self)
        }
        #expect(throws: DatabaseError.decoding("column 'letter' holds string, not Int")) {
            try row.get("letter", as: Int.self)
        }
        #expect(throws: DatabaseError.self) { try row.get(7, as: Int.self) }
    }

    @Test func wrongNumberOfBindsIsAClearError() throws {
        let db = try freshConnection()
        #expect(throws: DatabaseError.usage("statement has 2 placeholder(s) but 1 value(s) were bound")) {
            try db.query("SELECT ? + ? AS x", [1])
        }
    }

    @Test func strictModeRejectsBadData() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (s VARCHAR(3) NOT NULL)")
        #expect(throws: DatabaseError.self) { try db.execute("INSERT INTO t VALUES (?)", ["too long"]) }
        #expect(try db.query("SELECT COUNT(*) AS n FROM t")[0].get("n", as: Int.self) == 0)
    }
}
