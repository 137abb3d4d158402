import CCurl
import FoundationEssentials

/// Delivers one message over SMTP with libcurl: STARTTLS (required unless `PERCH_SMTP_TLS=none`) or SMTPS,
/// authentication when a user is configured, certificates checked against the system's store.
final class SMTPClient {
    private let settings: MailSettings
    private let url: String

    init(settings: MailSettings) throws {
        guard let url = settings.smtpURL else {
            throw AppConfigurationError(problems: ["PERCH_SMTP_URL: required by the mail sender (smtp://host:587 or smtps://host:465)"])
        }
        self.settings = settings
        self.url = url
        _ = Self.globalInit
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// nil when the relay accepted the message, else why not (libcurl's error and the last SMTP reply code;
    /// never the password or the message).
    func send(_ message: [UInt8], to recipient: String) -> String? {
        guard let curl = curl_easy_init() else { return "libcurl: cannot create a handle" }
        defer { curl_easy_cleanup(curl) }
        let recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(recipient)>")
        defer { curl_slist_free_all(recipients) }
        let body = MessageReader(message)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        // libcurl copies string options: the temporary C strings may go after each call.
        _ = perch_curl_set_string(curl, CURLOPT_URL, url)
        _ = perch_curl_set_string(curl, CURLOPT_MAIL_FROM, "<\(settings.fromAddress)>")
        _ = perch_curl_set_pointer(curl, CURLOPT_MAIL_RCPT, recipients)
        if url.hasPrefix("smtp://") && settings.tls == .starttls {
            _ = perch_curl_set_long(curl, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        }
        if let caFile = settings.smtpCAFile { _ = perch_curl_set_string(curl, CURLOPT_CAINFO, caFile) }
        if let user = settings.smtpUser {
            _ = perch_curl_set_string(curl, CURLOPT_USERNAME, user)
            _ = perch_curl_set_string(curl, CURLOPT_PASSWORD, settings.smtpPassword ?? "")
        }
        _ = perch_curl_set_long(curl, CURLOPT_UPLOAD, 1)
        _ = perch_curl_set_long(curl, CURLOPT_INFILESIZE, message.count)
        _ = perch_curl_set_read_function(curl) { buffer, size, count, context in
            Unmanaged<MessageReader>.fromOpaque(context!).takeUnretainedValue().read(into: buffer!, max: size * count)
        }
        let context = Unmanaged.passRetained(body)
        defer { context.release() }
        _ = perch_curl_set_pointer(curl, CURLOPT_READDATA, context.toOpaque())
        _ = perch_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = perch_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT, min(settings.smtpTimeout, 10))
        _ = perch_curl_set_long(curl, CURLOPT_TIMEOUT, settings.smtpTimeout)
        return errorBuffer.withUnsafeMutableBufferPointer { buffer -> String? in
            _ = perch_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            let code = curl_easy_perform(curl)
            _ = perch_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, nil)
            guard code != CURLE_OK else { return nil }
            let detail = String(cString: buffer.baseAddress!)
            let reply = perch_curl_response_code(curl)
            return "\(String(cString: curl_easy_strerror(code)))\(detail.isEmpty ? "" : ": \(detail)")\(reply > 0 ? " (SMTP \(reply))" : "")"
        }
    }
}

/// Hands the message to libcurl's read callback in pieces.
private final class MessageReader {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let count = min(max, bytes.count - offset)
        bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
