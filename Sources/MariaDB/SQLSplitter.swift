/// Splits a migration file into statements at `;`.
///
/// Understands just enough SQL to not split inside text: '...' and "..." strings (with backslash and
/// doubled-quote escapes), `...` identifiers, `-- ` and `#` comments to the end of the line, and
/// /* ... */ comments. It does not understand DELIMITER or compound statements (BEGIN ... END with `;`
/// inside), so migrations must not define stored routines or triggers with bodies.
/// Comment-only pieces are dropped; each statement starts at its first significant character.
public enum SQLSplitter {
    public struct Statement: Equatable, Sendable {
        public var text: String
        /// 1-based line in the file where the statement starts.
        public var line: Int

        public var firstLine: String {
            String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimming(while: \.isWhitespace)
        }
    }

    public static func split(_ sql: String) -> [Statement] {
        let chars = Array(sql)
        var statements: [Statement] = []
        var start: Int?  // index of the current statement's first significant character
        var startLine = 1
        var line = 1
        var i = 0

        func finish(at end: Int) {
            if let s = start {
                let text = String(chars[s..<end]).trimming(while: \.isWhitespace)
                if !text.isEmpty { statements.append(Statement(text: text, line: startLine)) }
            }
            start = nil
        }
        func markStart() {
            if start == nil {
                start = i
                startLine = line
            }
        }

        while i < chars.count {
            let c = chars[i]
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "\n" {
                line += 1
                i += 1
            } else if c == "-" && next == "-" && (i + 2 >= chars.count || chars[i + 2].isWhitespace) || c == "#" {
                while i < chars.count && chars[i] != "\n" { i += 1 }  // line comment; newline handled above
            } else if c == "/" && next == "*" {
                i += 2
                while i < chars.count && !(chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/") {
                    if chars[i] == "\n" { line += 1 }
                    i += 1
                }
                i = min(i + 2, chars.count)
            } else if c == "'" || c == "\"" || c == "`" {
                markStart()
                i += 1
                while i < chars.count {
                    if chars[i] == "\n" { line += 1 }
                    if chars[i] == "\\" && c != "`" {
                        i += 2
                        continue
                    }
                    if chars[i] == c {
                        if i + 1 < chars.count && chars[i + 1] == c {
                            i += 2
                            continue
                        }  // doubled quote
                        break
                    }
                    i += 1
                }
                i += 1
            } else if c == ";" {
                finish(at: i)
                i += 1
            } else {
                if !c.isWhitespace { markStart() }
                i += 1
            }
        }
        finish(at: chars.count)
        return statements
    }
}

extension StringProtocol {
    /// Without the leading and trailing characters that match (FoundationEssentials has no trimmingCharacters).
    func trimming(while matches: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !matches($0) }), let last = lastIndex(where: { !matches($0) }) else { return "" }
        return String(self[first...last])
    }
}
