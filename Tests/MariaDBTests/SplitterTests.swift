import MariaDB
import Testing

@Suite struct SplitterTests {
    @Test func splitsOnSemicolonsOutsideQuotesAndComments() {
        let sql = """
            -- leading comment; not a statement
            CREATE TABLE a (s VARCHAR(10) DEFAULT 'x;y');
            /* block; comment */
            INSERT INTO a VALUES ('it''s; fine'), ("dq;"), ('back\\'slash;');  # trailing; comment
            SELECT `we;ird` FROM a;
            ;
            """
        let statements = SQLSplitter.split(sql)
        #expect(
            statements.map(\.text) == [
                "CREATE TABLE a (s VARCHAR(10) DEFAULT 'x;y')",
                "INSERT INTO a VALUES ('it''s; fine'), (\"dq;\"), ('back\\'slash;')",
                "SELECT `we;ird` FROM a"
            ])
        #expect(statements.map(\.line) == [2, 4, 5])
    }

    @Test func lastStatementNeedsNoSemicolonAndCommentOnlyFilesAreEmpty() {
        #expect(SQLSplitter.split("SELECT 1").map(\.text) == ["SELECT 1"])
        #expect(SQLSplitter.split("-- nothing\n/* here */\n").isEmpty)
    }
}
