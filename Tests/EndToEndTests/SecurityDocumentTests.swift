import Foundation
import TestSupport
import Testing

/// SECURITY.md's ASVS table names the tests that show each requirement as `Suite/test`: each must exist (a
/// file that declares the suite, or is named after it, with that test function), so a renamed or removed
/// test cannot leave the table pointing at nothing.
@Suite struct SecurityDocumentTests {
    static func references(in document: String) -> [(suite: String, test: String)] {
        let rows = document.components(separatedBy: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| ---") && !$0.hasPrefix("| ASVS") }
        let pattern = try! NSRegularExpression(pattern: "`([A-Z][A-Za-z0-9]*)/([a-z][A-Za-z0-9]*)`")
        return rows.flatMap { row in
            pattern.matches(in: row, range: NSRange(row.startIndex..., in: row)).map { match in
                (String(row[Range(match.range(at: 1), in: row)!]), String(row[Range(match.range(at: 2), in: row)!]))
            }
        }
    }

    @Test func everyTestNamedInTheASVSTableExists() throws {
        let document = try String(contentsOfFile: Paths.packageRoot + "/SECURITY.md", encoding: .utf8)
        let references = Self.references(in: document)
        #expect(references.count >= 50, "the table lost its references: \(references.count)")
        let tests = Paths.packageRoot + "/Tests"
        let files = try #require(FileManager.default.enumerator(atPath: tests)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        let sources = try files.map { ($0, try String(contentsOfFile: tests + "/" + $0, encoding: .utf8)) }
        for (suite, test) in references {
            let homes = sources.filter { path, text in
                path.hasSuffix("/\(suite).swift") || text.contains("struct \(suite) ") || text.contains("struct \(suite): ")
                    || text.contains("extension \(suite) ")
            }
            #expect(homes.contains { $0.1.contains("func \(test)(") }, "SECURITY.md names \(suite)/\(test), which does not exist")
        }
        // Every row shows something: a test, or a reason in words.
        for row in document.components(separatedBy: "\n") where row.hasPrefix("| ") && !row.hasPrefix("| ---") && !row.hasPrefix("| ASVS") {
            #expect(row.split(separator: "|").count >= 3 && (row.split(separator: "|").last?.trimmingCharacters(in: .whitespaces).count ?? 0) > 8, "\(row)")
        }
    }

    @Test func aMissingTestIsCaught() {
        let references = Self.references(in: "| 1.1.1 | x | `NoSuchTests/noSuchTest`, `AuthTests/loginAnswersATokenPairAndNoStore` |")
        #expect(references.map { "\($0.suite)/\($0.test)" } == ["NoSuchTests/noSuchTest", "AuthTests/loginAnswersATokenPairAndNoStore"])
    }
}
