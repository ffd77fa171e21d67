import BerthDomain
import Foundation
import Testing

@Suite("Log masking")
struct LogMaskerTests {
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    @Test("The secret is masked as written, in base64, base64url and percent-encoded")
    func masksEncodedForms() {
        let masker = LogMasker(secrets: [secret])
        let base64 = Data(secret.utf8).base64EncodedString()
        let urlEncoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        for text in [
            "key=\(secret)", "basic \(base64)", "q=\(urlEncoded)",
            "b64url \(base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))",
        ] {
            let masked = masker.mask(text)
            #expect(masked.contains(LogMasker.mask), "\(text)")
            #expect(!masked.contains(secret))
            #expect(!masked.contains(base64.trimmingCharacters(in: ["="])))
        }
    }

    @Test("Values of three characters or fewer are not masked; longer secrets are replaced whole")
    func shortAndOverlapping() {
        let masker = LogMasker(secrets: ["abc", "token", "token-extended"])
        #expect(masker.mask("abc token-extended token") == "abc ******** ********")
    }

    @Test("Each line of a multi-line secret is masked on its own, as are the lines of its wrapped base64; short lines are not")
    func multiLineSecrets() {
        let pem = """
            -----BEGIN PRIVATE KEY-----
            MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj
              MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu
            ab
            -----END PRIVATE KEY-----
            """
        let masker = LogMasker(secrets: [pem])
        let lines = pem.split(separator: "\n").map(String.init)
        // What `echo "#{Pem}" | sed -n 2p` and friends print, one log entry per line.
        #expect(masker.mask(lines[1]) == LogMasker.mask)
        #expect(masker.mask("key line: \(lines[2].trimmingCharacters(in: .whitespaces))") == "key line: ********")
        #expect(masker.mask(lines[2]) == LogMasker.mask)
        #expect(masker.mask(lines[0]) == LogMasker.mask)
        #expect(masker.mask("ab") == "ab")
        #expect(masker.mask("whole: \(pem)") == "whole: ********")
        let base64 = Data(pem.utf8).base64EncodedString()
        #expect(masker.mask(base64) == LogMasker.mask)
        // `base64` wraps at 76 columns, `openssl base64` at 64: every printed line is masked.
        for width in [64, 76] {
            var rest = Substring(base64)
            while !rest.isEmpty {
                let printed = String(rest.prefix(width))
                #expect(printed.count < LogMasker.minimumLength || masker.mask(printed) == LogMasker.mask, "\(width): \(printed)")
                rest = rest.dropFirst(width)
            }
        }
    }

    @Test("Adding secrets keeps the earlier ones")
    func adding() {
        let masker = LogMasker(secrets: ["first-secret"]).adding(["second-secret"])
        #expect(masker.mask("first-secret second-secret") == "******** ********")
    }
}

@Suite("Names and slugs")
struct NameTests {
    @Test(
        "Slugs are lower-case letters and digits joined by single hyphens",
        arguments: [
            ("Production", "production"), ("EU West / Prod 2", "eu-west-prod-2"), ("  --web__api--  ", "web-api"),
        ])
    func slugs(name: String, slug: String) {
        #expect(Slug.make(name) == slug)
    }

    @Test("Names must be trimmed, non-empty and have a letter or digit")
    func names() {
        for (name, problem) in [("", "is required"), (" x", "spaces"), ("---", "letter or digit")] {
            var errors = ValidationErrors()
            NameRules.validate(name, into: &errors)
            #expect(errors.details.first?.message.contains(problem) == true, "\(name)")
        }
    }
}
