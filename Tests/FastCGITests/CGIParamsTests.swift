import Glibc
import Testing

@testable import FastCGI

/// The request's parameters as the worker reads them from libfcgi's `NAME=value` strings.
@Suite struct CGIParamsTests {
    private func params(_ entries: [String]) -> CGIParams {
        // As libfcgi hands them over: C strings, then a nil.
        let environment: [UnsafeMutablePointer<CChar>?] = entries.map { strdup($0) } + [nil]
        defer { environment.forEach { free($0) } }
        return environment.withUnsafeBufferPointer { CGIParams(environment: $0.baseAddress!) }
    }

    @Test func namesEndAtTheFirstEqualsSign() {
        let read = params(["QUERY_STRING=a=1&b=2", "REQUEST_URI=/x?a=1&b=2", "EMPTY=", "=nameless"])
        #expect(read["QUERY_STRING"] == "a=1&b=2")
        #expect(read["REQUEST_URI"] == "/x?a=1&b=2")
        #expect(read["EMPTY"] == "")
        #expect(read[""] == "nameless")
        #expect(read["MISSING"] == nil)
        #expect(read["QUERY"] == nil && read["QUERY_STRING_"] == nil)  // whole names only
    }

    @Test func anEntryWithoutEqualsSignIsSkippedAndTheLastOfTwinsWins() {
        let read = params(["GARBAGE", "HTTP_HOST=a", "HTTP_HOST=b"])
        #expect(read.count == 2)
        #expect(read["GARBAGE"] == nil)
        #expect(read["HTTP_HOST"] == "b")
    }

    @Test func headerFieldsAreTheHTTPParamsUnfoldedInOrder() {
        let read = params(["HTTP_USER_AGENT=curl/8", "SERVER_NAME=_", "HTTP_X_REQUEST_ID=abc", "HTTPS=on", "HTTP_ACCEPT=*/*"])
        #expect(read.headerFields.map(\.name) == ["User-Agent", "X-Request-Id", "Accept"])
        #expect(read.headerFields.map(\.value) == ["curl/8", "abc", "*/*"])
    }

    @Test func nonASCIIBytesSurviveAsUTF8() {
        let read: CGIParams = ["HTTP_X_NAME": "Zoë", "PATH_INFO": "/café"]
        #expect(read["PATH_INFO"] == "/café")
        #expect(read.headerFields.first?.value == "Zoë")
        #expect(read.all.map(\.name) == ["HTTP_X_NAME", "PATH_INFO"])
    }
}
