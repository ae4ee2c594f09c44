import Crypto
import EHRSecurity
import Foundation
import Testing

@Suite("KeyProvider")
struct KeyProviderTests {
    @Test func wrapUnwrapRoundTrip() throws {
        let provider = try LocalKeyProvider(base64: LocalKeyProvider.generateMasterKeyBase64())
        let dataKey = LocalKeyProvider.generateDataKey()
        let ctx = KeyWrapContext.data(tenantID: "t1", keyVersion: 3)
        let wrapped = try provider.wrap(dataKey, context: ctx)
        let back = try provider.unwrap(wrapped, context: ctx)
        #expect(back == dataKey)
        #expect(!wrapped.contains(dataKey.withUnsafeBytes { Data($0) }))
        #expect(provider.keyID.hasPrefix("local-"))
    }

    @Test func wrongMasterKeyFailsToUnwrap() throws {
        let a = try LocalKeyProvider(base64: LocalKeyProvider.generateMasterKeyBase64())
        let b = try LocalKeyProvider(base64: LocalKeyProvider.generateMasterKeyBase64())
        #expect(a.keyID != b.keyID)
        let ctx = KeyWrapContext.data(tenantID: "t1", keyVersion: 1)
        let wrapped = try a.wrap(LocalKeyProvider.generateDataKey(), context: ctx)
        #expect(throws: KeyProviderError.unwrapFailed) { try b.unwrap(wrapped, context: ctx) }
    }

    @Test(arguments: [("t2", UInt32(1)), ("t1", UInt32(2))])
    func wrongContextFailsToUnwrap(tenant: String, version: UInt32) throws {
        let p = try LocalKeyProvider(masterKeyBytes: Data(repeating: 7, count: 32))
        let wrapped = try p.wrap(LocalKeyProvider.generateDataKey(), context: KeyWrapContext.data(tenantID: "t1", keyVersion: 1))
        #expect(throws: KeyProviderError.unwrapFailed) {
            try p.unwrap(wrapped, context: KeyWrapContext.data(tenantID: tenant, keyVersion: version))
        }
    }

    @Test(arguments: [
        "", "not base64!", Data(repeating: 1, count: 16).base64EncodedString(),
        Data(repeating: 1, count: 33).base64EncodedString(),
    ])
    func invalidMasterKeyRejected(text: String) {
        #expect(throws: KeyProviderError.invalidMasterKey) { try LocalKeyProvider(base64: text) }
    }

    @Test func malformedWrappedKey() throws {
        let p = try LocalKeyProvider(masterKeyBytes: Data(repeating: 7, count: 32))
        #expect(throws: KeyProviderError.malformedWrappedKey) { try p.unwrap(Data([1, 2, 3]), context: Data()) }
    }

    @Test func keyringWrapsAndRestores() throws {
        let p = try LocalKeyProvider(base64: LocalKeyProvider.generateMasterKeyBase64())
        var ring = TenantKeyring.generate(tenantID: "t1")
        ring.rotate()
        let stored = try ring.wrapped(using: p)
        let restored = try TenantKeyring.unwrap(tenantID: "t1", wrapped: stored, currentVersion: 2, using: p)
        #expect(restored.versions == [1, 2])
        #expect(restored.key(version: 1) == ring.key(version: 1))
        #expect(restored.currentKey == ring.currentKey)
        // Wrapped keys of one tenant cannot be loaded as another tenant's.
        #expect(throws: KeyProviderError.unwrapFailed) {
            try TenantKeyring.unwrap(tenantID: "t2", wrapped: stored, currentVersion: 2, using: p)
        }
        #expect(throws: TenantKeyringError.missingCurrentVersion(9)) {
            try TenantKeyring(tenantID: "t1", keys: [1: SymmetricKey(size: .bits256)], currentVersion: 9)
        }
    }
}
