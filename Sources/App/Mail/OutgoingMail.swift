import FoundationEssentials
import Glibc

/// A mail as the outbox holds it: one recipient, a subject, a plain-text and an HTML body.
public struct OutgoingMail {
    public var recipient: String
    public var subject: String
    public var text: String
    public var html: String

    public init(recipient: String, subject: String, text: String, html: String) {
        self.recipient = recipient
        self.subject = subject
        self.text = text
        self.html = html
    }

    /// The message as sent (RFC 5322, multipart/alternative, CRLF lines). `messageID` stays the same across
    /// retries of one outbox row, so a receiver can tell a repeated delivery. The bodies go as 8bit text, not
    /// base64, so that a developer can read a mail file as it is (lines stay far below SMTP's 998).
    func message(from: String, fromAddress: String, messageID: String, date: Date) -> [UInt8] {
        let boundary = "perch-" + SecureRandomHex.make(12)
        let domain = fromAddress.split(separator: "@").last.map(String.init) ?? "localhost"
        var lines = [
            "Date: \(Self.rfc5322Date(date))",
            "From: \(from)",
            "To: <\(recipient)>",
            "Subject: \(Self.encodedHeader(subject))",
            "Message-ID: <\(messageID)@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            ""
        ]
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            lines += [
                "--\(boundary)",
                "Content-Type: \(type); charset=utf-8",
                "Content-Transfer-Encoding: \(body.utf8.allSatisfy { $0 < 0x80 } ? "7bit" : "8bit")",
                ""
            ]
            lines += body.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.trimming(while: { $0 == "\r" })) }
        }
        lines += ["--\(boundary)--", ""]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// RFC 2047 for a header with other than printable ASCII.
    static func encodedHeader(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 < 0x20 || $0 >= 0x7f }) else { return value }
        return "=?UTF-8?B?\(Data(value.utf8).base64EncodedString())?="
    }

    /// `Sat, 05 Dec 2026 16:46:02 +0000`, whatever the process locale.
    static func rfc5322Date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}

/// Random lowercase hex, for MIME boundaries and message ids (not secrets).
enum SecureRandomHex {
    static func make(_ bytes: Int) -> String {
        (0..<bytes).map { _ in
            let byte = UInt8.random(in: 0...255)
            return String(byte >> 4, radix: 16) + String(byte & 15, radix: 16)
        }.joined()
    }
}
