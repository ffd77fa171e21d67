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
