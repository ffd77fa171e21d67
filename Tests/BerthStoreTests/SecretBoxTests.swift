import BerthDomain
import BerthStore
import Foundation
import Testing

@Suite("Secrets at rest")
struct SecretBoxTests {
    let box = SecretBox(masterKey: MasterKey.generate().key)

    @Test("A sealed secret opens for its own record only, and never contains the clear text")
    func boundToRecord() throws {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let sealed = try box.seal(secret, for: .accountSecretKey(accountID: "acct-1"))
        #expect(!sealed.ciphertext.contains(secret))
        #expect(!sealed.ciphertext.contains(Data(secret.utf8).base64EncodedString()))
        #expect(try box.open(sealed, for: .accountSecretKey(accountID: "acct-1")) == secret)
        #expect(throws: BerthError.self) { try box.open(sealed, for: .accountSecretKey(accountID: "acct-2")) }
        #expect(try box.seal(secret, for: .accountSecretKey(accountID: "acct-1")) != sealed)
    }

    @Test("Another master key cannot open a secret")
    func otherKey() throws {
        let sealed = try box.seal("secret", for: .accountSecretKey(accountID: "a"))
        let other = SecretBox(masterKey: MasterKey.generate().key)
        #expect(throws: BerthError.self) { try other.open(sealed, for: .accountSecretKey(accountID: "a")) }
    }

    @Test("The master key file is created with mode 0600, reused, and refused when others can read it")
    func masterKeyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (first, created) = try MasterKey.loadOrCreate(dataDirectory: directory, environment: [:])
        #expect(created)
        let path = directory.appendingPathComponent(MasterKey.fileName).path
        let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue == 0o600)
        let (second, createdAgain) = try MasterKey.loadOrCreate(dataDirectory: directory, environment: [:])
        #expect(!createdAgain)
        let sealed = try SecretBox(masterKey: first).seal("x1234", for: .accountSecretKey(accountID: "a"))
        #expect(try SecretBox(masterKey: second).open(sealed, for: .accountSecretKey(accountID: "a")) == "x1234")

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: BerthError.self) { _ = try MasterKey.loadOrCreate(dataDirectory: directory, environment: [:]) }
        #expect(throws: BerthError.self) {
            _ = try MasterKey.loadOrCreate(dataDirectory: directory, environment: ["BERTH_MASTER_KEY": "too-short"])
        }
    }
}
