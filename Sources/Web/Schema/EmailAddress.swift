// A syntax check for email addresses in the spirit of python-email-validator (which Pydantic's EmailStr
// uses), without DNS: returns the reason an address is invalid, with that library's wording, or nil.
enum EmailAddress {
    private static let localSpecials = Set("!#$%&'*+-/=?^_`{|}~.")

    static func problem(_ address: String) -> String? {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        if parts.count < 2 { return "An email address must have an @-sign." }
        if parts.count > 2 { return "The email address is not valid. It must have exactly one @-sign." }
        let local = parts[0]
        let domain = parts[1]
        if local.isEmpty { return "There must be something before the @-sign." }
        if domain.isEmpty { return "There must be something after the @-sign." }
        if local.unicodeScalars.count > 64 {
            return "The email address is too long before the @-sign (\(local.unicodeScalars.count - 64) characters too many)."
        }
        let badLocal = local.filter { c in !(c.isLetter || c.isNumber || localSpecials.contains(c)) || (c.isASCII == false && c.isWhitespace) }
        if !badLocal.isEmpty { return "The email address contains invalid characters before the @-sign: \(uniqueQuoted(badLocal))." }
        if local.hasPrefix(".") { return "An email address cannot start with a period." }
        if local.hasSuffix(".") { return "An email address cannot have a period immediately before the @-sign." }
        if local.contains("..") { return "An email address cannot have two periods in a row." }
        let badDomain = domain.filter { c in !(c.isLetter || c.isNumber || c == "-" || c == ".") }
        if !badDomain.isEmpty { return "The part after the @-sign contains invalid characters: \(uniqueQuoted(badDomain))." }
        if domain.hasPrefix(".") { return "An email address cannot have a period immediately after the @-sign." }
        if domain.hasSuffix(".") { return "An email address cannot end with a period." }
        if domain.contains("..") { return "An email address cannot have two periods in a row." }
        let labels = domain.split(separator: ".")
        if labels.count < 2 { return "The part after the @-sign is not valid. It should have a period." }
        if labels.contains(where: { $0.hasPrefix("-") || $0.hasSuffix("-") }) {
            return "The part after the @-sign is not valid. A label cannot start or end with a hyphen."
        }
        if labels.contains(where: { $0.unicodeScalars.count > 63 }) {
            return "The part after the @-sign is not valid. A label is too long."
        }
        if let tld = labels.last, tld.allSatisfy(\.isNumber) {
            return "The part after the @-sign is not valid. It is not within a valid top-level domain."
        }
        return nil
    }

    private static func uniqueQuoted(_ s: String) -> String {
        var seen: [Character] = []
        for c in s where !seen.contains(c) { seen.append(c) }
        return seen.map { "'\($0)'" }.joined(separator: ", ")
    }
}
