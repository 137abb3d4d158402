import Glibc
import Logging
import Testing
import Web

@testable import App

/// The log line's exact shape (logfmt), which operators grep and the byte-built writer must keep.
@Suite struct LogLineTests {
    struct Failure: Error, CustomStringConvertible { var description: String { "disk \"full\"" } }

    private func quoted(_ value: String) -> String {
        var out: [UInt8] = []
        LogLine.appendQuoted(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func lineHasTimeLevelMessageAndSortedFields() {
        let line = LogLine.render(
            time: timespec(tv_sec: 1_700_000_000, tv_nsec: 5_999_999), level: .warning,
            message: "worker died", fields: [("pid", "42"), ("status", "1")])
        #expect(String(decoding: line, as: UTF8.self) == "2023-11-14T22:13:20.005Z level=warning msg=\"worker died\" pid=42 status=1\n")
    }

    @Test func timestampsFollowTheClockAcrossSeconds() {
        func stamp(_ seconds: Int, _ nanos: Int) -> String {
            var out: [UInt8] = []
            LogLine.appendTimestamp(timespec(tv_sec: seconds, tv_nsec: nanos), to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(stamp(1_700_000_000, 5_000_000) == "2023-11-14T22:13:20.005Z")
        #expect(stamp(1_700_000_000, 999_000_000) == "2023-11-14T22:13:20.999Z")
        #expect(stamp(1_700_000_001, 0) == "2023-11-14T22:13:21.000Z")
        #expect(stamp(946_684_799, 1_000_000) == "1999-12-31T23:59:59.001Z")
        #expect(stamp(1_700_000_000, 5_000_000) == "2023-11-14T22:13:20.005Z")
    }

    @Test(arguments: [
        ("request", "request"), ("/api/v1/posts/12", "/api/v1/posts/12"), ("[::1]:80", "[::1]:80"), ("user@host", "user@host"),
        ("héllo", "héllo"), ("٣٤", "٣٤"),  // letters and digits beyond ASCII stay plain
        ("", "\"\""), ("a b", "\"a b\""), ("a=b", "\"a=b\""), ("Ω≈", "\"Ω≈\""),
        ("say \"hi\"\\", #""say \"hi\"\\""#), ("l1\nl2\r\tx", #""l1\nl2\r\tx""#), ("bell\u{7}", "\"bell?\"")
    ])
    func valuesAreQuotedOnlyWhenNeeded(value: String, expected: String) {
        #expect(quoted(value) == expected)
    }

    @Test func eventMetadataOverridesTheHandlersAndTheErrorWins() {
        let event = LogEvent(
            level: .error, message: "failed", error: Failure(), metadata: ["b": "event", "error": "shadowed"],
            source: nil, file: #fileID, function: #function, line: #line)
        let fields = LogLine.fields(["b": "handler", "a": "handler", "pid": "7"], event)
        #expect(fields.map(\.key) == ["a", "b", "error", "pid"])
        #expect(fields.map(\.value) == ["handler", "event", "disk \"full\"", "7"])
    }

    @Test(
        arguments: [
            ["request_id": "abc", "pid": "42", "zone": "a b"],
            ["aa": "first", "status": "shadowed", "method": "shadowed", "zz": "last"],  // no pid: ours is added
            [:], ["request_id": "only"], ["pid": "7", "bytes": "shadowed", "path": "shadowed", "request_ie": "x", "request_iz": "y"]
        ] as [Logger.Metadata])
    func accessLinesWrittenDirectlyMatchTheGenericPath(handler: Logger.Metadata) {
        let entry = AccessLogEntry(method: "GET", path: "/api/v1/posts/7", status: 404, durationMicros: 1_234, bytes: 22)
        var line = LogLine(label: "test", level: .info)
        for (key, value) in handler { line[metadataKey: key] = value }
        let event = LogEvent(level: .info, message: "request", metadata: entry.metadata, source: nil, file: #fileID, function: #function, line: #line)
        let time = timespec(tv_sec: 1_795_000_000, tv_nsec: 5_000_000)
        let direct = String(decoding: line.accessLine(entry, time: time), as: UTF8.self)
        #expect(
            direct
                == String(
                    decoding: LogLine.render(
                        time: time, level: .info, message: "request",
                        fields: LogLine.fields(handler, event)), as: UTF8.self))
        #expect(line.metadata == handler)
        if handler["zone"] != nil {
            #expect(
                direct == "2026-11-18T11:06:40.005Z level=info msg=request bytes=22 duration_ms=1.234 method=GET "
                    + "path=/api/v1/posts/7 pid=42 request_id=abc status=404 zone=\"a b\"\n")
        }
    }

    @Test func theRequestIDIsMetadataLikeAnyOther() {
        var line = LogLine(label: "test", level: .info)
        line.metadata = ["request_id": "r1", "pid": "9"]
        #expect(line[metadataKey: "request_id"] == "r1")
        line[metadataKey: "request_id"] = "r2"
        #expect(line.metadata == ["request_id": "r2", "pid": "9"])
        line[metadataKey: "request_id"] = nil
        line.metadata["zone"] = "z"
        #expect(line.metadata == ["pid": "9", "zone": "z"])
    }

    @Test func pidIsAddedWhenTheMetadataHasNone() {
        let event = LogEvent(level: .info, message: "x", metadata: nil, source: nil, file: #fileID, function: #function, line: #line)
        let fields = LogLine.fields([:], event)
        #expect(fields.map(\.key) == ["pid"])
        #expect(fields.first?.value == String(getpid()))
    }
}
